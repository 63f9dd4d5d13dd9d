"""``rlvr eval``: benchmark a checkpoint, or grade saved generations, with one protocol.

The protocol (shared with ``EvalCallback``, which runs it inside ``rlvr train``): a registered ``Task`` gives the
problems, prompt template and reference; a generator samples k completions per problem; the task's first verifier
grades them through the one scoring engine (``rlvr.scoring``); ``rlvr.metrics`` turns the verdicts into avg@k,
unbiased pass@k, maj@k and bootstrap intervals. Everything needed to reproduce a number (template, sampling settings,
max tokens, grader name and versions, model, seed, data source) is written next to it.

    rlvr eval --model Qwen/Qwen2.5-Math-1.5B-Instruct --benchmarks math500,aime24 --samples 8 --temperature 0.6
    rlvr eval --completions api_outputs.jsonl            # rows: id, reference, completions (a list)

Outputs, under ``--output-dir``: ``results.json`` ({benchmark: figures + settings}), ``<benchmark>/samples.jsonl``
(every completion with its extracted answer and verdict), ``<benchmark>/settings.json``, ``results.png``, and a table
on stdout.

Generation: vLLM when it is installed and a CUDA GPU is present (``--backend auto``), otherwise batched
``transformers`` generation (chat template when the tokenizer has one, left padding, sampling seeded per batch,
greedy at temperature 0). The vLLM path is a thin optional layer that the test suite does not exercise.

Resuming: samples are appended to ``samples.jsonl`` one whole batch of problems at a time, so an interrupted run
re-run with the same command skips the problems already there. A run whose settings differ from those recorded in
``settings.json`` is refused rather than mixed into the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rlvr.cli import InputError, positive_int, read_jsonl
from rlvr.metrics import Sample, summarize

DEFAULT_BENCHMARKS = "math500,aime24,aime25,amc23,gsm8k"


class EvalError(InputError):
    """Bad input to ``rlvr eval`` (unknown benchmark, missing file, unloadable model...): exit status 2."""


@dataclass(frozen=True)
class Sampling:
    """How completions are drawn. ``temperature == 0`` is greedy decoding."""

    samples: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0


@dataclass(frozen=True)
class Generation:
    text: str
    tokens: int  # generated tokens, the end-of-sequence token excluded
    truncated: bool  # stopped by max_tokens rather than by the model


# --------------------------------------------------------------------------------------------------------- generators


class _Generator:
    """What both back ends share: prompts rendered with the tokenizer's chat template when it has one."""

    tokenizer: Any

    @property
    def chat_template(self) -> str | None:
        return getattr(self.tokenizer, "chat_template", None) or None

    def render(self, prompt: Any) -> str:
        return render_prompt(self.tokenizer, prompt)


class HFGenerator(_Generator):
    """Batched ``transformers`` generation for a loaded model and tokenizer (also used by ``EvalCallback``)."""

    backend = "hf"

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 32) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size  # sequences (prompts x samples) per generate() call
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

    @classmethod
    def load(cls, model_id: str, *, batch_size: int = 32, dtype: str = "auto") -> HFGenerator:
        import torch
        from transformers import AutoModelForCausalLM

        from rlvr.tiny import load_tokenizer

        try:
            tokenizer = load_tokenizer(model_id)
            model = AutoModelForCausalLM.from_pretrained(model_id, dtype=_torch_dtype(dtype))
        except Exception as exc:  # OSError, ValueError, EnvironmentError...: all mean "cannot use this model"
            raise EvalError(f"could not load model {model_id!r}: {_first_line(exc)}{_model_hint(model_id)}") from None
        model.to("cuda" if torch.cuda.is_available() else "cpu")
        model.eval()
        return cls(model, tokenizer, batch_size=batch_size)

    def problems_per_call(self, sampling: Sampling) -> int:
        per_prompt = sampling.samples if sampling.temperature > 0 else 1
        return max(1, self.batch_size // per_prompt)

    def generate(self, prompts: Sequence[str], sampling: Sampling, seed: int) -> list[list[Generation]]:
        """``sampling.samples`` generations for each prompt; greedy decoding runs once and is repeated."""
        import torch

        tok = self.tokenizer
        side, tok.padding_side = tok.padding_side, "left"  # decoder-only models continue from the right edge
        try:
            enc = tok(list(prompts), return_tensors="pt", padding=True, add_special_tokens=self.chat_template is None)
        finally:
            tok.padding_side = side
        enc = {k: v.to(self.model.device) for k, v in enc.items()}
        greedy = sampling.temperature <= 0
        n = 1 if greedy else sampling.samples
        options: dict[str, Any] = (
            {"do_sample": False}
            if greedy
            else {
                "do_sample": True,
                "temperature": sampling.temperature,
                "top_p": sampling.top_p,
                "top_k": 0,
            }
        )
        torch.manual_seed(seed)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                out = self.model.generate(
                    **enc,
                    max_new_tokens=sampling.max_tokens,
                    num_return_sequences=n,
                    use_cache=True,
                    pad_token_id=tok.pad_token_id,
                    **options,
                )  # (B * n, T_prompt + T_new)
        finally:
            self.model.train(was_training)
        new = out[:, enc["input_ids"].shape[1] :]  # (B * n, T_new)
        stops = _stop_ids(self.model, tok)
        gens = [self._decode(row.tolist(), stops, sampling.max_tokens) for row in new]
        grouped = [gens[i * n : (i + 1) * n] for i in range(len(prompts))]
        return [g * sampling.samples if greedy else g for g in grouped]

    def _decode(self, ids: list[int], stops: set[int], max_tokens: int) -> Generation:
        end = next((i for i, t in enumerate(ids) if t in stops), None)
        kept = ids if end is None else ids[:end]
        text = self.tokenizer.decode(kept, skip_special_tokens=True)
        return Generation(text, len(kept), end is None and len(ids) >= max_tokens)


class VLLMGenerator(_Generator):
    """vLLM generation (needs ``pip install 'rlvr[vllm]'`` and a CUDA GPU). Not exercised by the test suite."""

    backend = "vllm"

    def __init__(self, model_id: str, *, seed: int = 0, batch_size: int = 256) -> None:
        try:
            from vllm import LLM

            self.llm = LLM(model=model_id, seed=seed)
        except Exception as exc:
            raise EvalError(f"could not load model {model_id!r} with vLLM: {_first_line(exc)}") from None
        self.tokenizer = self.llm.get_tokenizer()
        self.batch_size = batch_size  # problems per call: the resume granularity

    def problems_per_call(self, sampling: Sampling) -> int:
        return self.batch_size

    def generate(self, prompts: Sequence[str], sampling: Sampling, seed: int) -> list[list[Generation]]:
        from vllm import SamplingParams

        params = SamplingParams(
            n=sampling.samples,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            seed=seed,
        )
        outputs = self.llm.generate(list(prompts), params, use_tqdm=False)
        return [
            [Generation(o.text, len(o.token_ids), o.finish_reason == "length") for o in out.outputs] for out in outputs
        ]


def render_prompt(tokenizer: Any, prompt: Any) -> str:
    """Chat messages through the tokenizer's chat template; without one, the messages' text joined (the raw prompt)."""
    if isinstance(prompt, str):
        return prompt
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    return "\n\n".join(str(m["content"]) for m in prompt) + "\n"


def resolve_backend(backend: str) -> str:
    """``auto`` -> ``vllm`` when it is installed and a CUDA GPU is present, else ``hf``; a bad explicit choice fails."""
    if backend == "auto":
        return "vllm" if _vllm_usable() else "hf"
    if backend == "vllm" and not _vllm_usable():
        raise EvalError(
            "--backend vllm needs the vllm package and a CUDA GPU; install 'rlvr[vllm]' or use --backend hf"
        )
    return backend


def make_generator(model: str, backend: str, *, seed: int, batch_size: int | None) -> HFGenerator | VLLMGenerator:
    if resolve_backend(backend) == "vllm":
        return VLLMGenerator(model, seed=seed, batch_size=batch_size or 256)
    return HFGenerator.load(model, batch_size=batch_size or 32)


def _vllm_usable() -> bool:
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


# ----------------------------------------------------------------------------------------------------- the protocol


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
                _append(samples_path, [r for rs in records for r in rs])
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
    return [Sample(float(r["reward"]), r["status"] == "correct", r["extracted"]) for r in records]


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
        _write_jsonl(path, [r for rs in done.values() for r in rs])
    return done


def _append(path: str, rows: Sequence[dict[str, Any]]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        f.flush()
        os.fsync(f.fileno())


def _write_jsonl(path: str, rows: Sequence[dict[str, Any]]) -> None:
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    os.replace(tmp, path)


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
            raise EvalError(
                f"{folder} holds samples made with other settings ({shown}); "
                f"pass another --output-dir or delete {folder} to start over"
            )
    with open(path, "w", encoding="utf-8") as f:
        json.dump(settings, f, indent=2)


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
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(merged, f, indent=2, ensure_ascii=False)
    os.replace(tmp, path)
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


# ------------------------------------------------------------------------------------------------------------ CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rlvr eval",
        description="Evaluate a checkpoint on benchmarks (--model) or grade existing generations (--completions).",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="local checkpoint folder or hub id")
    src.add_argument("--completions", help="JSONL rows with id, reference, completions (a list); no model needed")
    p.add_argument(
        "--benchmarks", default=DEFAULT_BENCHMARKS, help=f"comma-separated task names (default: {DEFAULT_BENCHMARKS})"
    )
    p.add_argument("--samples", type=positive_int, default=1, help="completions per problem, k (default 1)")
    p.add_argument("--temperature", type=_non_negative, default=0.0, help="0 = greedy (default)")
    p.add_argument("--top-p", type=_probability, default=1.0)
    p.add_argument("--max-tokens", type=positive_int, default=1024, help="new tokens per completion")
    p.add_argument("--limit", type=positive_int, default=None, help="first N problems of each benchmark")
    p.add_argument("--data-dir", default=None, help="local benchmark folder laid out like shared/data (default: hub)")
    p.add_argument("--output-dir", default="runs/eval", help="where results.json and samples go (default runs/eval)")
    p.add_argument("--backend", choices=("auto", "vllm", "hf"), default="auto", help="auto: vLLM when usable, else hf")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="hf: sequences per generate() call (default 32); vllm: problems per call (default 256)",
    )
    p.add_argument("--verifier", default=None, help="grader for --completions (default math); tasks use their own")
    p.add_argument("--name", default=None, help="benchmark name for --completions (default: the file's stem)")
    p.add_argument("--workers", type=positive_int, default=None, help="grader processes (default: one per core)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--no-plot", action="store_true", help="skip results.png")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        results = run_completions(args) if args.completions else run_model(args)
    except EvalError as exc:
        print(f"rlvr eval: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"rlvr eval: interrupted; finished problems are saved under {args.output_dir}; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    print(format_table(results))
    os.makedirs(args.output_dir, exist_ok=True)
    path = write_results(args.output_dir, results)
    print(f"results: {path}", file=sys.stderr)
    if not args.no_plot:
        with open(path, encoding="utf-8") as f:
            everything = json.load(f)
        title = f"rlvr eval: {args.model or os.path.basename(args.completions)}"
        print(
            f"chart: {plot_results(everything, os.path.join(args.output_dir, 'results.png'), title)}", file=sys.stderr
        )
    return 0


def run_model(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from rlvr.scoring import Scorer

    if args.verifier or args.name:
        raise EvalError("--verifier and --name go with --completions; with --model each task grades with its own")
    backend = resolve_backend(args.backend)
    tasks = [_load_task(name, args.data_dir, args.limit) for name in _names(args.benchmarks)]
    loaded = {t.name: _problems(t) for t in tasks}  # read every data file before loading a model
    sampling = Sampling(args.samples, args.temperature, args.top_p, args.max_tokens, args.seed)
    generator = make_generator(args.model, backend, seed=args.seed, batch_size=args.batch_size)
    scorers: dict[str, Scorer] = {}  # one per verifier: its workers start once for all benchmarks
    results = {}
    try:
        for task in tasks:
            verifier = _task_verifier(task)
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


def _run_meta(task: Any, generator: Any, verifier: Any, sampling: Sampling, args: argparse.Namespace) -> dict:
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


def run_completions(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from rlvr.registry import RegistryError
    from rlvr.scoring import Scorer
    from rlvr.verifiers import get_verifier

    name = args.name or os.path.splitext(os.path.basename(args.completions))[0]
    try:
        verifier = get_verifier(args.verifier or "math")
    except (RegistryError, TypeError, ValueError) as exc:
        raise EvalError(str(exc)) from None
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
    _write_jsonl(os.path.join(folder, "samples.jsonl"), [r for rs in per_problem for r in rs])
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
        raise EvalError(f"completions file not found: {path}")
    try:
        rows = read_jsonl(path, required=("id", "reference", "completions"))
    except InputError as exc:
        raise EvalError(f"{exc} (rows need id, reference, completions)") from None
    seen: set[str] = set()
    for row in rows:
        n = row.pop("__line__")
        problem = _completions_row_problem(row, verifier)
        if problem:
            raise EvalError(f"{path}:{n}: {problem}")
        if str(row["id"]) in seen:
            raise EvalError(f"{path}:{n}: id {row['id']!r} appears twice; ids must be unique")
        seen.add(str(row["id"]))
    if not rows:
        raise EvalError(f"{path}: no rows")
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
        raise EvalError("--benchmarks is empty; give comma-separated task names (see `rlvr tasks`)")
    return list(dict.fromkeys(names))


def _load_task(name: str, data_dir: str | None, limit: int | None) -> Any:
    from rlvr.registry import UnknownNameError
    from rlvr.tasks import load_task

    if data_dir and not os.path.isdir(data_dir):
        raise EvalError(f"--data-dir {data_dir} is not a folder")
    try:
        return load_task(name, data_dir=data_dir, limit=limit)
    except UnknownNameError as exc:
        raise EvalError(f"unknown benchmark {name!r}: {str(exc).split('; ', 1)[-1]}") from None


def _problems(task: Any) -> list[Problem]:
    from rlvr.tasks import TaskDataError

    try:
        examples = task.examples()
    except TaskDataError as exc:
        raise EvalError(str(exc)) from None
    if not examples:
        raise EvalError(f"benchmark {task.name!r} has no problems")
    ids = [str(e["id"]) for e in examples]
    if len(set(ids)) != len(ids):  # resume keys on ids; fall back to positions
        ids = [f"row{i}" for i in range(len(ids))]
    return [Problem(i, e["reference"], e["prompt"]) for i, e in zip(ids, examples)]


def _task_verifier(task: Any) -> Any:
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


def _stop_ids(model: Any, tokenizer: Any) -> set[int]:
    stops = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    stops.update(eos if isinstance(eos, list) else [eos])
    return {s for s in stops if s is not None}


def _torch_dtype(name: str) -> Any:
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:400]


def _model_hint(model_id: str) -> str:
    if os.path.isdir(model_id):
        return " (the folder exists; does it hold config.json, the weights and the tokenizer files?)"
    if model_id.startswith((".", "/", "~")) or os.sep in model_id.strip("/").split("/", 1)[-1]:
        return f" (no folder {model_id} exists)"
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    return " (offline: HF_HUB_OFFLINE=1 and no cached copy)" if offline else " (not a local folder; tried the hub)"


def _bar(total: int, initial: int, enabled: bool, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc or "problems", unit="problem", dynamic_ncols=True)


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


# ------------------------------------------------------------------------------------------------ training callback

try:
    from transformers import TrainerCallback as _CallbackBase
except ImportError:  # pragma: no cover - transformers is a dependency; keep `rlvr eval --completions` importable
    _CallbackBase = object  # type: ignore[assignment,misc]


class EvalCallback(_CallbackBase):  # type: ignore[misc,valid-type]
    """Runs the ``rlvr eval`` protocol on a held-out task every ``every_n_steps`` optimizer steps during training.

        cb = EvalCallback("math500", tokenizer, every_n_steps=50, samples=4, temperature=0.6, limit=100,
                          data_dir="../shared/data")
        trainer = RLVRTrainer(..., callbacks=[cb]); cb.bind(trainer); trainer.train()

    Same task, same template, same grader and same metrics as ``rlvr eval``; generation uses the model being trained
    (``transformers`` generate, on the main process only; not for ZeRO-3/FSDP-sharded models). Metrics are logged
    as ``eval/<task>/accuracy`` (avg@k), ``.../pass_at_k``, ``.../maj_at_k``, ``.../ci95_low``, ``.../ci95_high``:
    appended to ``state.log_history`` and, once ``bind(trainer)`` was called, sent to the trainer's reporters
    (``on_log``). ``history`` keeps every full summary (with its step) for the caller.
    """

    def __init__(
        self,
        task: Any,
        tokenizer: Any = None,
        *,
        every_n_steps: int = 50,
        samples: int = 1,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_tokens: int = 512,
        limit: int | None = None,
        data_dir: str | None = None,
        batch_size: int = 32,
        seed: int = 0,
        at_start: bool = True,
        at_end: bool = True,
        prefix: str = "eval",
    ) -> None:
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be at least 1, got {every_n_steps}")
        if isinstance(task, str):
            from rlvr.tasks import load_task

            task = load_task(task, data_dir=data_dir, limit=limit)
        elif limit is not None:
            task.limit = limit
        self.task = task
        self.tokenizer = tokenizer
        self.every_n_steps = every_n_steps
        self.sampling = Sampling(samples, temperature, top_p, max_tokens, seed)
        self.batch_size = batch_size
        self.at_start, self.at_end = at_start, at_end
        self.prefix = prefix
        self.problems = _problems(task)  # read the data now: a missing file fails before training starts
        self.verifier = _task_verifier(task)
        self.history: list[dict[str, Any]] = []
        self._trainer: Any = None
        self._last_step: int | None = None

    def bind(self, trainer: Any) -> EvalCallback:
        """Let the callback send its metrics through ``trainer.callback_handler.on_log`` (TensorBoard, W&B...)."""
        self._trainer = trainer
        return self

    def run(self, model: Any, tokenizer: Any = None, step: int = 0) -> dict[str, Any]:
        """Evaluate ``model`` now and return the summary (also usable outside a trainer)."""
        from rlvr.scoring import get_scorer

        tokenizer = tokenizer or self.tokenizer
        if tokenizer is None:
            raise ValueError("EvalCallback needs a tokenizer (pass one, or let the trainer hand its processing_class)")
        generator = HFGenerator(model, tokenizer, batch_size=self.batch_size)
        scorer = get_scorer(self.verifier)  # shared with the training rewards: warm workers, shared cache
        per_problem = evaluate(self.problems, generator, scorer.score, self.sampling, progress=False)
        summary = {"step": step, "task": self.task.name, **summarize_records(per_problem, seed=self.sampling.seed)}
        self.history.append(summary)
        self._last_step = step
        return summary

    def metrics(self, summary: dict[str, Any]) -> dict[str, float]:
        base = f"{self.prefix}/{self.task.name}"
        return {
            f"{base}/accuracy": summary["accuracy"],
            f"{base}/pass_at_k": summary["pass_at_k"],
            f"{base}/maj_at_k": summary["maj_at_k"],
            f"{base}/ci95_low": summary["ci95"][0],
            f"{base}/ci95_high": summary["ci95"][1],
        }

    def _evaluate_and_log(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero or self._last_step == state.global_step:
            return
        model = kwargs.get("model")
        summary = self.run(model, self.tokenizer or kwargs.get("processing_class"), step=state.global_step)
        logs = self.metrics(summary)
        state.log_history.append({**logs, "step": state.global_step})
        if self._trainer is not None:
            # CallbackHandler.on_log clears control.should_log: the trainer's own log of this step (loss, reward)
            # would be silently dropped whenever eval_steps is a multiple of logging_steps.
            should_log = control.should_log
            self._trainer.callback_handler.on_log(args, state, control, logs)
            control.should_log = should_log

    def on_train_begin(self, args, state, control, **kwargs):
        if self.at_start:
            self._evaluate_and_log(args, state, control, **kwargs)

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.every_n_steps == 0:
            self._evaluate_and_log(args, state, control, **kwargs)

    def on_train_end(self, args, state, control, **kwargs):
        if self.at_end:
            self._evaluate_and_log(args, state, control, **kwargs)
