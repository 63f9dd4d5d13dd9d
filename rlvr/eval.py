"""The evaluation protocol behind ``rlvr eval`` and ``EvalCallback``: generate -> score -> metrics, with resume.

A registered ``Task`` gives the problems, prompt template and reference; a generator (``rlvr.generation``) samples k
completions per problem; the task's first verifier grades them through the one scoring engine (``rlvr.scoring``);
``rlvr.metrics`` turns the verdicts into avg@k, unbiased pass@k, maj@k and bootstrap intervals. Everything needed to
reproduce a number (template, sampling settings, max tokens, grader name and versions, model, seed, data source) is
written next to it. The same ``evaluate`` runs inside training (``rlvr.callbacks.EvalCallback``).

Outputs, under an output folder: ``results.json`` ({benchmark: figures + settings}), ``<benchmark>/samples.jsonl``
(every completion with its extracted answer and verdict), ``<benchmark>/settings.json`` and ``results.png``.

Resuming: samples are appended to ``samples.jsonl`` one whole batch of problems at a time, so an interrupted run
re-run with the same command skips the problems already there. A run whose settings differ from those recorded in
``settings.json`` is refused rather than mixed into the same file.

Nothing here imports torch: grading saved generations (``run_completions``) needs no model.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rlvr.files import UsageError, append_jsonl, read_jsonl, write_json, write_jsonl
from rlvr.generation import Generation, Sampling, make_generator, resolve_backend
from rlvr.metrics import Sample, summarize


@dataclass
class Problem:
    id: str
    reference: Any
    prompt: Any


def evaluate(
    problems: Sequence[Problem],
    generator: Any,
    grade: Callable[[list[str], list[Any]], list[Any]],
    sampling: Sampling,
    *,
    samples_path: str | None = None,
    progress: bool = True,
    desc: str = "",
) -> list[list[dict[str, Any]]]:
    """Generate and grade every problem; returns per-problem sample records in problem order.

    With ``samples_path``, records already in that file are reused (resume) and new ones are appended as each batch
    of problems finishes, so an interruption loses at most one batch.
    """
    done = _read_done(samples_path, sampling.samples) if samples_path else {}
    todo = [p for p in problems if p.id not in done]
    step = max(1, generator.problems_per_call(sampling))
    bar = _bar(len(problems), len(problems) - len(todo), progress, desc)
    try:
        for start in range(0, len(todo), step):
            chunk = todo[start : start + step]
            seed = _batch_seed(sampling.seed, chunk[0].id)
            rendered = [generator.render(p.prompt) for p in chunk]
            gens = generator.generate(rendered, sampling, seed)
            records = _grade_chunk(chunk, gens, grade, rendered)
            if samples_path:
                append_jsonl(samples_path, [r for rs in records for r in rs])
            done.update({p.id: rs for p, rs in zip(chunk, records)})
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    return [done[p.id] for p in problems]


def _grade_chunk(
    chunk: Sequence[Problem],
    gens: Sequence[Sequence[Generation]],
    grade: Callable[..., list[Any]],
    rendered: Sequence[str],
) -> list[list[dict[str, Any]]]:
    texts = [g.text for gs in gens for g in gs]
    refs = [p.reference for p, gs in zip(chunk, gens) for _ in gs]
    verdicts = iter(grade(texts, refs))
    out = []
    for p, gs, prompt in zip(chunk, gens, rendered):
        records = [
            _record(p.id, p.reference, j, g.text, next(verdicts), g.tokens, g.truncated) for j, g in enumerate(gs)
        ]
        out.append([{**r, "prompt": prompt} for r in records])  # the text the model saw, chat template applied
    return out


def _record(pid: str, reference: Any, j: int, text: str, verdict: Any, tokens: int | None, truncated: bool | None):
    return {
        "id": pid,
        "sample": j,
        "reference": reference,
        "completion": text,
        "extracted": verdict.extracted,
        "reward": verdict.reward,
        "status": verdict.status,
        "detail": verdict.detail,
        "tokens": tokens,
        "truncated": truncated,
    }


def to_samples(records: Sequence[dict[str, Any]]) -> list[Sample]:
    return [Sample(float(r["reward"]), r["status"] == "correct", r["extracted"], r["status"]) for r in records]


def summarize_records(per_problem: Sequence[Sequence[dict[str, Any]]], k: int | None = None, seed: int = 0) -> dict:
    """``rlvr.metrics.summarize`` plus generation statistics (mean tokens, truncation and grader-error rates)."""
    summary = summarize([to_samples(rs) for rs in per_problem], k, seed=seed)
    flat = [r for rs in per_problem for r in rs]
    lengths = [r["tokens"] for r in flat if r.get("tokens") is not None]
    summary["mean_tokens"] = sum(lengths) / len(lengths) if lengths else None
    summary["truncated_rate"] = sum(1 for r in flat if r.get("truncated")) / len(flat)
    summary["grader_error_rate"] = sum(1 for r in flat if r["status"] in ("error", "timeout")) / len(flat)
    return summary


# --------------------------------------------------------------------------------------------------- resume + files


def _read_done(path: str, samples: int) -> dict[str, list[dict[str, Any]]]:
    """Complete problems already in ``path``; a torn last line or a half-written problem is dropped (and rewritten)."""
    if not os.path.isfile(path):
        return {}
    rows: dict[str, list[dict[str, Any]]] = {}
    torn = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                torn = True  # the run died mid-write
                continue
            rows.setdefault(str(row["id"]), []).append(row)
    done = {pid: sorted(rs, key=lambda r: r["sample"]) for pid, rs in rows.items() if len(rs) == samples}
    if torn or len(done) != len(rows):
        write_jsonl(path, [r for rs in done.values() for r in rs])
    return done


def check_settings(folder: str, settings: dict[str, Any]) -> None:
    """Record the settings of a run in ``folder``; refuse to resume a run made with different ones."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "settings.json")
    if os.path.isfile(path) and os.path.isfile(os.path.join(folder, "samples.jsonl")):
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
        diff = {k: (old.get(k), v) for k, v in settings.items() if old.get(k) != v}
        if diff:
            shown = "; ".join(f"{k}: {a!r} before, {b!r} now" for k, (a, b) in diff.items())
            raise UsageError(
                f"{folder} holds samples made with other settings ({shown}); "
                f"pass another --output-dir or delete {folder} to start over"
            )
    write_json(path, settings)


def write_results(output_dir: str, results: dict[str, dict[str, Any]]) -> str:
    """Merge into ``results.json`` (benchmarks from earlier runs in the same folder are kept)."""
    path = os.path.join(output_dir, "results.json")
    merged: dict[str, Any] = {}
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as f:
                merged = json.load(f)
        except json.JSONDecodeError:
            merged = {}
    merged.update(results)
    write_json(path, merged)
    return path


# ------------------------------------------------------------------------------------------------------- reporting


def format_table(results: dict[str, dict[str, Any]]) -> str:
    head = f"{'benchmark':<16} {'problems':>8} {'k':>3} {'avg@k':>7} {'95% CI':>15} {'pass@k':>7} {'maj@k':>7}"
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        lo, hi = r["ci95"]
        ci = f"[{100 * lo:5.1f}, {100 * hi:5.1f}]"
        lines.append(
            f"{name:<16} {r['problems']:>8} {r['samples_per_problem']:>3} {100 * r['accuracy']:>7.1f} {ci:>15} "
            f"{100 * r['pass_at_k']:>7.1f} {100 * r['maj_at_k']:>7.1f}"
        )
    return "\n".join(lines)


def plot_results(results: dict[str, dict[str, Any]], path: str, title: str = "") -> str:
    """Grouped bars per benchmark: avg@k (with its 95% interval), pass@k and maj@k, in percent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(results)
    x = np.arange(len(names))
    acc = np.array([results[n]["accuracy"] for n in names]) * 100
    err = (
        np.array(
            [
                [results[n]["accuracy"] - results[n]["ci95"][0], results[n]["ci95"][1] - results[n]["accuracy"]]
                for n in names
            ]
        ).T
        * 100
    )  # (2, B)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(names) + 2), 4))
    ax.bar(x - 0.27, acc, 0.27, yerr=err, capsize=3, label="avg@k (95% CI)")
    ax.bar(x, [results[n]["pass_at_k"] * 100 for n in names], 0.27, label="pass@k")
    ax.bar(x + 0.27, [results[n]["maj_at_k"] * 100 for n in names], 0.27, label="maj@k")
    ax.set_xticks(x, [f"{n}\n(k={results[n]['samples_per_problem']})" for n in names])
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def grader_info(verifier: Any) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    import rlvr

    try:
        mv = version("math-verify")
    except PackageNotFoundError:
        mv = None
    return {"verifier": verifier.name, "options": verifier.options(), "rlvr": rlvr.__version__, "math_verify": mv}


# ----------------------------------------------------------------------------------------------------- the runs
# ``args`` below: the settings of a run, as the flags of ``rlvr eval`` name them (``rlvr.cli.eval`` parses them).


def run_model(args: Any) -> dict[str, dict[str, Any]]:
    """Generate with ``args.model`` on every benchmark in ``args.benchmarks`` and grade; {benchmark: summary}."""
    from rlvr.scoring import Scorer

    if args.verifier or args.name:
        raise UsageError("--verifier and --name go with --completions; with --model each task grades with its own")
    backend = resolve_backend(args.backend)
    tasks = [_load_task(name, args.data_dir, args.limit) for name in _names(args.benchmarks)]
    loaded = {t.name: problems_of(t) for t in tasks}  # read every data file before loading a model
    sampling = Sampling(args.samples, args.temperature, args.top_p, args.max_tokens, args.seed)
    generator = make_generator(args.model, backend, seed=args.seed, batch_size=args.batch_size)
    scorers: dict[str, Scorer] = {}  # one per verifier: its workers start once for all benchmarks
    results = {}
    try:
        for task in tasks:
            verifier = task_verifier(task)
            scorer = scorers.setdefault(verifier.cache_key(), Scorer(verifier, workers=args.workers))
            results[task.name] = run_task(task, loaded[task.name], generator, scorer, sampling, args)
    finally:
        for scorer in scorers.values():
            scorer.close()
    return results


def run_task(task: Any, problems: list[Problem], generator: Any, scorer: Any, sampling: Sampling, args) -> dict:
    folder = os.path.join(args.output_dir, task.name)
    meta = _run_meta(task, generator, scorer.verifier, sampling, args)
    fixed = {k: meta[k] for k in ("model", "backend", "template", "sampling", "max_tokens", "seed", "grader")}
    check_settings(folder, {**fixed, "data": meta["data"]["source"]})  # --limit may change between runs
    start = time.perf_counter()
    per_problem = evaluate(
        problems,
        generator,
        scorer.score,
        sampling,
        samples_path=os.path.join(folder, "samples.jsonl"),
        progress=not args.no_progress,
        desc=task.name,
    )
    summary = summarize_records(per_problem, sampling.samples, seed=sampling.seed)
    return {**summary, **meta, "seconds": round(time.perf_counter() - start, 2)}


def _run_meta(task: Any, generator: Any, verifier: Any, sampling: Sampling, args: Any) -> dict:
    chat = generator.chat_template
    return {
        "model": args.model,
        "backend": generator.backend,
        "template": {
            "prompt": _template_text(task),
            "system_prompt": task.system_prompt,
            "chat_template": "tokenizer" if chat else "none (raw prompt text)",
            "chat_template_sha256": hashlib.sha256(chat.encode()).hexdigest()[:16] if chat else None,
        },
        "sampling": {"temperature": sampling.temperature, "top_p": sampling.top_p, "samples": sampling.samples},
        "max_tokens": sampling.max_tokens,
        "seed": sampling.seed,
        "grader": grader_info(verifier),
        "data": {"source": _data_source(task), "split": task.split, "limit": task.limit},
    }


def run_completions(args: Any) -> dict[str, dict[str, Any]]:
    """Grade the saved generations in ``args.completions`` (no model); {name: summary}."""
    from rlvr.registry import RegistryError
    from rlvr.scoring import Scorer
    from rlvr.verifiers import get_verifier

    name = args.name or os.path.splitext(os.path.basename(args.completions))[0]
    try:
        verifier = get_verifier(args.verifier or "math")
    except (RegistryError, TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    rows = read_completions(args.completions, verifier)
    texts = [c for r in rows for c in r["completions"]]
    refs = [r["reference"] for r in rows for _ in r["completions"]]
    scorer = Scorer(verifier, workers=args.workers)
    try:
        verdicts = iter(scorer.score(texts, refs, progress=not args.no_progress))
    finally:
        scorer.close()
    per_problem = [
        [
            _record(str(r["id"]), r["reference"], j, c, next(verdicts), None, None)
            for j, c in enumerate(r["completions"])
        ]
        for r in rows
    ]
    folder = os.path.join(args.output_dir, name)
    os.makedirs(folder, exist_ok=True)
    write_jsonl(os.path.join(folder, "samples.jsonl"), [r for rs in per_problem for r in rs])
    summary = summarize_records(per_problem, seed=args.seed)
    return {
        name: {
            **summary,
            "completions_file": os.path.abspath(args.completions),
            "model": None,
            "grader": grader_info(verifier),
            "seed": args.seed,
        }
    }


def read_completions(path: str, verifier: Any) -> list[dict[str, Any]]:
    """Rows ``{"id", "reference", "completions": [str, ...]}``; every problem is checked before any grading."""
    if not os.path.isfile(path):
        raise UsageError(f"completions file not found: {path}")
    try:
        rows = read_jsonl(path, required=("id", "reference", "completions"))
    except UsageError as exc:
        raise UsageError(f"{exc} (rows need id, reference, completions)") from None
    seen: set[str] = set()
    for row in rows:
        n = row.pop("__line__")
        problem = _completions_row_problem(row, verifier)
        if problem:
            raise UsageError(f"{path}:{n}: {problem}")
        if str(row["id"]) in seen:
            raise UsageError(f"{path}:{n}: id {row['id']!r} appears twice; ids must be unique")
        seen.add(str(row["id"]))
    if not rows:
        raise UsageError(f"{path}: no rows")
    return rows


def _completions_row_problem(row: dict[str, Any], verifier: Any) -> str | None:
    comps = row["completions"]
    if not isinstance(comps, list) or not comps or not all(isinstance(c, str) for c in comps):
        return "'completions' must be a non-empty list of strings"
    bad = verifier.check_reference(row["reference"])
    return f"bad reference: {bad}" if bad else None


# ------------------------------------------------------------------------------------------------------ helpers


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError("--benchmarks is empty; give comma-separated task names (see `rlvr tasks`)")
    return list(dict.fromkeys(names))


def _load_task(name: str, data_dir: str | None, limit: int | None) -> Any:
    from rlvr.registry import UnknownNameError
    from rlvr.tasks import load_task

    if data_dir and not os.path.isdir(data_dir):
        raise UsageError(f"--data-dir {data_dir} is not a folder")
    try:
        return load_task(name, data_dir=data_dir, limit=limit)
    except UnknownNameError as exc:
        raise UsageError(f"unknown benchmark {name!r}: {str(exc).split('; ', 1)[-1]}") from None


def problems_of(task: Any) -> list[Problem]:
    from rlvr.tasks import TaskDataError

    try:
        examples = task.examples()
    except TaskDataError as exc:
        raise UsageError(str(exc)) from None
    if not examples:
        raise UsageError(f"benchmark {task.name!r} has no problems")
    ids = [str(e["id"]) for e in examples]
    if len(set(ids)) != len(ids):  # resume keys on ids; fall back to positions
        ids = [f"row{i}" for i in range(len(ids))]
    return [Problem(i, e["reference"], e["prompt"]) for i, e in zip(ids, examples)]


def task_verifier(task: Any) -> Any:
    """A task is graded by its first verifier (``math`` for every built-in benchmark), with the task's options."""
    from rlvr.verifiers import get_verifier

    name = next(iter(task.verifiers))
    return get_verifier(name, **task.verifier_options.get(name, {}))


def _template_text(task: Any) -> str:
    template = getattr(task, "prompt_template", None)
    if template:
        return template.format(problem="{problem}")
    return f"{type(task).__module__}.{type(task).__qualname__}.prompt()"


def _data_source(task: Any) -> str:
    if task.data_files:
        return ",".join(os.path.abspath(p) for p in task.data_files)
    if task.data_dir:
        return os.path.abspath(os.path.join(task.data_dir, task.local_name or task.name))
    return f"hub:{task.dataset_id}" + (f"/{task.dataset_config}" if task.dataset_config else "")


def _batch_seed(seed: int, first_id: str) -> int:
    """Seed per batch from the run seed and the batch's first problem: a re-run draws the same samples."""
    return zlib.crc32(f"{seed}:{first_id}".encode()) & 0x7FFFFFFF


def _bar(total: int, initial: int, enabled: bool, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc or "problems", unit="problem", dynamic_ncols=True)
