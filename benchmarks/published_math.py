"""The ``math`` verifier on published model generations, against the authors' own per-sample verdicts.

Every row is a real generation nobody here wrote, published with the verdict its authors' grader gave it. Each row is
scored by the real engine (``rlvr.score("math", ...)``) and by plain Math-Verify (the registered ``math_verify``
verifier, parse + verify as its README uses it), and both are compared with the published verdict. Every row where
rlvr and the published verdict disagree was read by hand; so were the rows where they agree but plain math-verify
disagrees with both. Each such row has one line in ``benchmarks/results/published_math_labels.tsv`` (row key, class,
reason), and ``--write-md`` turns them into the table ``benchmarks/results/published_math.md``. Classes:

==========================  ===========================================================================================
``theirs wrong``            the published verdict is wrong (rlvr agrees with a careful human grader)
``judgement call``          both readings defensible (an equal value not in the form the problem asks, an
                            unevaluated expression that equals the answer, an answer stated only inside the working)
``rlvr wrong``              rlvr is wrong and it is not fixed (the reason says why)
``rlvr wrong (fixed)``      rlvr disagreed at d8fb47e and was wrong; fixed, the row now agrees
``both wrong``              rlvr and the published verdict agree and both are wrong (rlvr not fixed)
==========================  ===========================================================================================

The hand-checked truth of a row is the published verdict, overruled where the reading found it wrong; judgement calls
have none and are reported apart. Rows where both graders agree and math-verify agrees too were not read.

Sources (read from local mirrors of the public repositories, ``git show HEAD:<path>``; no data is committed):

==================  =============================================================  ==================================
source              where (licence)                                                rows
==================  =============================================================  ==================================
``labre``           labrem/neus2026-labre ``results/experiment_*.md`` (MIT):       MATH-500; Gemma-2 2B/9B (ollama
                    66 runs (baseline and ontology-prompted, greedy and            ``gemma2:2b``/``9b``) and
                    best-of-5), each problem's shown response with ``Answer:``     Qwen2.5-Math-7B; every distinct
                    (their extraction) and ``Is Correct:`` (their verdict)         (response, gold) pair once: 10,635
``sb``              JingyangYi/ShorterBetter ``eval_data/outputs/sample/<model>/   AIME 2024 (30), AMC (83), MATH-500,
                    verified_<bench>_results.json`` (no licence file: read from    Minerva (272), OlympiadBench (675);
                    the mirror only): one sampled generation per problem with      DeepSeek-R1-Distill-Qwen-1.5B/7B
                    ``pass_or_fail`` (their grader: a box, then an LLM judge)      and ShorterBetter-1.5B/7B: 2,671
==================  =============================================================  ==================================

The labre verdict comes from the paper's own extractor (last ``\\boxed{}`` with at most one level of nested braces,
else answer sentences) and comparator (exact, numeric, fraction, set, sympy, normalised string). In best-of-n runs the
shown response is the first correct attempt, else the last one, and the verdict is that response's. The sb verdict
comes from the paper's grader: the last ``\\boxed{}`` without nested braces (else with one level, else the first box),
then Qwen2.5-7B asked whether it equals the gold; no box is wrong. The R1-distill completions hold the reasoning and
``</think>``; some Minerva golds are a list of accepted forms (a row is correct if one matches). The search for sources
is recorded in ``benchmarks/results/published_math.txt``; a new source is a function yielding :class:`Row` added to
:data:`SOURCES`.

    python benchmarks/published_math.py [--mirrors /work/.mirror] [--math-verify-cache FILE] [--write-md FILE]
        [--show] [--dump FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import rlvr

THEIRS_WRONG, RLVR_WRONG, JUDGEMENT = "theirs wrong", "rlvr wrong", "judgement call"
BOTH = "both wrong"  # rlvr and the published verdict agree, and both are wrong (rlvr not fixed)


@dataclass(frozen=True)
class Row:
    source: str  # e.g. "labre"
    run: str  # model / condition, e.g. "gemma2-2b baseline greedy"
    key: str  # stable id: source, problem id and a hash of the completion
    completion: str
    reference: str
    their_answer: str  # the published extraction ("" when none)
    their_verdict: bool
    alternatives: tuple[str, ...] = ()  # further accepted forms of the reference (correct if any one matches)
    bench: str = "math500"  # the benchmark, for the per-benchmark totals


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode()).hexdigest()[:10]


# ---------------------------------------------------------------------------------------------------------- labre

_LABRE_RUN = re.compile(r"experiment_(?P<model>[^_]+)_(?P<cond>baseline|openmath)_(?P<mode>greedy|best-of-n)")
_LABRE_BLOCK = re.compile(r"^## Problem (math_\d+)\n", re.MULTILINE)
_LABRE_FIELD = re.compile(r"^  (Ground Truth|Answer|Is Correct): ?(.*)$", re.MULTILINE)
_RESPONSE_OPEN, _RESPONSE_CLOSE = "--- LLM Response ---\n", "\n--- End LLM Response ---"


def labre(root: Path) -> Iterator[Row]:
    """The 66 result files of labrem/neus2026-labre, every distinct (response, gold) pair once (the first run's
    verdict kept; the same response under two runs got the same verdict from their deterministic grader)."""
    repo = root / "labrem+neus2026-labre" / "repo"
    files = [f for f in _git(repo, "ls-tree", "-r", "--name-only", "HEAD", "results").split() if f.endswith(".md")]
    seen: set[tuple[str, str]] = set()
    for name in sorted(files):
        m = _LABRE_RUN.search(name)
        if not m:
            continue
        run = f"{m['model']} {m['cond']} {m['mode']}"
        text = _git(repo, "show", f"HEAD:{name}")
        starts = [(b.group(1), b.end()) for b in _LABRE_BLOCK.finditer(text)] + [("", len(text))]
        for (pid, begin), (_, end) in zip(starts, starts[1:]):
            block = text[begin:end]
            fields = dict(f.groups() for f in _LABRE_FIELD.finditer(block[: block.find(_RESPONSE_OPEN)]))
            at, stop = block.find(_RESPONSE_OPEN), block.rfind(_RESPONSE_CLOSE)
            if "Ground Truth" not in fields or "Is Correct" not in fields or not 0 <= at < stop:
                continue
            completion, reference = block[at + len(_RESPONSE_OPEN) : stop], fields["Ground Truth"].strip()
            if completion.startswith("ERROR: ") or (completion, reference) in seen:
                continue  # a failed request, not a generation; or a response already taken from another run
            seen.add((completion, reference))
            yield Row(
                source="labre",
                run=run,
                key=f"labre:{pid}:{_digest(completion)}",
                completion=completion,
                reference=reference,
                their_answer=fields.get("Answer", "").strip(),
                their_verdict=fields["Is Correct"].strip() == "True",
            )


# ---------------------------------------------------------------------------------------------------- shorterbetter

_SB_RUNS = {  # folder under eval_data/outputs/sample -> model name in the report
    "DeepSeek-R1-Distill-Qwen-1.5B": "r1-distill-qwen-1.5b",
    "DeepSeek-R1-Distill-Qwen-7B": "r1-distill-qwen-7b",
    "SB_1.5B_alpha2": "shorterbetter-1.5b",
    "SB_7B_alpha2": "shorterbetter-7b",
}
_SB_BENCH = {"aime": "aime24", "amc": "amc", "math": "math500", "minerva": "minerva", "olympiad_bench": "olympiad"}
_SB_FLAT_BOX = re.compile(r"\\boxed\{([^{}]+)\}")
_SB_NESTED_BOX = re.compile(r"\\boxed\{([^{}]*(?:\{[^{}]*\}[^{}]*)+)\}")


def _sb_boxed(text: str) -> str:
    """Their extraction (scripts/eval/math/verifier.py), restated: the last box with no braces inside, else the last
    with one level of braces inside, else the first box by brace matching; "" when there is none."""
    for pattern in (_SB_FLAT_BOX, _SB_NESTED_BOX):
        found = pattern.findall(text)
        if found:
            return found[-1]
    at = text.find("\\boxed{")
    depth, i = 1, at + 7
    while at >= 0 and i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[at + 7 : i - 1] if at >= 0 and not depth else ""


def shorterbetter(root: Path) -> Iterator[Row]:
    """JingyangYi/ShorterBetter ``eval_data/outputs/sample/<model>/verified_<bench>_results.json``: one sampled
    generation per problem (AIME 2024, AMC 2023, MATH-500, Minerva, OlympiadBench) of DeepSeek-R1-Distill-Qwen 1.5B/7B
    and the paper's ShorterBetter 1.5B/7B, with ``pass_or_fail`` from their grader (last box, then an LLM judge asked
    whether it equals the gold). Files the snapshot lacks (4 MiB and over) are skipped."""
    repo = root / "JingyangYi+ShorterBetter" / "repo"
    names = _git(repo, "ls-tree", "-r", "--name-only", "HEAD", "eval_data/outputs/sample").split()
    for name in sorted(names):
        folder, _, file = name.removeprefix("eval_data/outputs/sample/").partition("/")
        bench = file.removeprefix("verified_").removesuffix("_results.json")
        if folder not in _SB_RUNS or bench not in _SB_BENCH:
            continue
        try:
            items = json.loads(_git(repo, "show", f"HEAD:{name}"))
        except subprocess.CalledProcessError:
            continue  # the blob is not in the snapshot
        for i, item in enumerate(items):
            gold = item["target_answer"]
            golds = [str(g).strip() for g in (gold if isinstance(gold, list) else [gold])]
            completion = item["completion"]
            yield Row(
                source="sb",
                run=f"{_SB_RUNS[folder]} {_SB_BENCH[bench]}",
                key=f"sb:{_SB_RUNS[folder]}:{_SB_BENCH[bench]}:{i:03d}:{_digest(completion)}",
                completion=completion,
                reference=golds[0],
                their_answer=_sb_boxed(completion),
                their_verdict=bool(item["pass_or_fail"]),
                alternatives=tuple(dict.fromkeys(g for g in golds[1:] if g != golds[0])),
                bench=_SB_BENCH[bench],
            )


# ------------------------------------------------------------------------------------------------------------ qwen

_QWEN_FILE = "evaluation/data/eval_rm_maj_example/math_cot_100.jsonl"


def qwen_maj(root: Path) -> Iterator[Row]:
    """QwenLM/Qwen2.5-Math ``evaluation/data/eval_rm_maj_example/math_cot_100.jsonl`` (MIT): the harness's own output
    for 100 MATH test problems, 8 sampled Qwen2.5-Math-Instruct CoT responses each (``code``), with the harness's
    extraction (``pred``) and verdict (``score``): 800 rows."""
    repo = root / "QwenLM+Qwen2.5-Math" / "repo"
    for line in _git(repo, "show", f"HEAD:{_QWEN_FILE}").splitlines():
        item = json.loads(line)
        for k, (completion, pred, score) in enumerate(zip(item["code"], item["pred"], item["score"])):
            yield Row(
                source="qwen",
                run="qwen2.5-math-instruct cot x8",
                key=f"qwen:{item['idx']:03d}:{k}:{_digest(completion)}",
                completion=completion,
                reference=str(item["gt"]),
                their_answer=str(pred),
                their_verdict=bool(score),
                bench="math",
            )


SOURCES = {"labre": labre, "sb": shorterbetter, "qwen": qwen_maj}


# ------------------------------------------------------------------------------------------------------ classified

# row key -> (class, why), one row per disagreement read by hand (rows fixed in rlvr stay, as "rlvr wrong (fixed)").
LABELS = Path(__file__).resolve().parent / "results" / "published_math_labels.tsv"
FIXED = "rlvr wrong (fixed)"


def load_labels(path: Path = LABELS) -> dict[str, tuple[str, str]]:
    if not path.exists():
        return {}
    rows = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {key: (label, why) for key, label, why in rows}


CLASSIFIED: dict[str, tuple[str, str]] = load_labels()


# ----------------------------------------------------------------------------------------------------------- score


def grade(rows: list[Row], verifier: str, workers: int | None) -> list[tuple[bool, str, str]]:
    """(correct, extracted, status) per row, from the real scoring engine."""
    verdicts = rlvr.score(verifier, [r.completion for r in rows], [r.reference for r in rows], workers=workers)
    out = [(v.reward > 0, str(v.extracted) if v.extracted is not None else "", v.status) for v in verdicts]
    extra = [(i, alt) for i, r in enumerate(rows) if not out[i][0] for alt in r.alternatives]
    if extra:  # a row with several accepted forms of its reference is correct if any one matches
        again = rlvr.score(verifier, [rows[i].completion for i, _ in extra], [a for _, a in extra], workers=workers)
        for (i, _), v in zip(extra, again):
            if v.reward > 0 and not out[i][0]:
                out[i] = (True, str(v.extracted) if v.extracted is not None else "", v.status)
    return out


def cached_math_verify(rows: list[Row], workers: int | None, cache: Path | None) -> list[tuple[bool, str, str]]:
    """Plain math-verify's verdicts (they do not depend on rlvr, so a cache of them stays valid across rlvr changes)."""
    known = json.loads(cache.read_text()) if cache and cache.exists() else {}
    todo = [r for r in rows if r.key not in known]
    if todo:
        known.update({r.key: v for r, v in zip(todo, grade(todo, "math_verify", workers))})
        if cache:
            cache.write_text(json.dumps(known))
    return [tuple(known[r.key]) for r in rows]


def _truth(r: Row, rlvr_correct: bool) -> bool | None:
    """The hand-checked verdict of a row, None for a judgement call: the published verdict, unless reading the row
    overruled it. Rows where rlvr and the published verdict agree were read only where plain math-verify disagreed
    with both (labelled "both wrong" or "judgement call" when that reading found something)."""
    label = CLASSIFIED.get(r.key, ("", ""))[0]
    if label == JUDGEMENT:
        return None
    if label == BOTH or (label == THEIRS_WRONG and rlvr_correct != r.their_verdict):
        return not r.their_verdict
    return r.their_verdict


def _cell(t: str) -> str:
    return "`" + " ".join(t.split()).replace("|", "\\|").replace("`", "'")[:70] + "`" if t.strip() else ""


def write_md(path: Path, rows: list[Row], ours: list, before: str) -> None:
    """The table of every disagreement read by hand (benchmarks/results/published_math.md)."""
    lines = [
        "# Published generations (MATH-500, AIME, AMC, Minerva, OlympiadBench): every disagreement between rlvr and the "
        "published verdict, read by hand",
        "",
        "Written by `python benchmarks/published_math.py --write-md` from the labels in "
        "`benchmarks/results/published_math_labels.tsv` (one line each: row key, class, reason). Sources: "
        "labrem/neus2026-labre (MIT, key `labre:`), JingyangYi/ShorterBetter (key `sb:`) and QwenLM/Qwen2.5-Math (MIT, "
        "key `qwen:`), see `benchmarks/results/published_math.txt` for the figures. Columns: the row key "
        "(problem id and a hash of the response), the run, the reference, what rlvr reads now, what their extractor "
        "read, the published verdict, rlvr's verdict now, the class and the reason.",
        "",
        f"Classes: **theirs wrong** (the published verdict is wrong), **judgement call** (both defensible), **rlvr "
        f"wrong** (rlvr is wrong, not fixed), **{FIXED}** (rlvr disagreed at {before} (the qwen and sb rows: at 4b12e64) and "
        "was wrong; fixed, the row "
        f"now agrees), **{BOTH}** (rlvr and the published verdict agree and both are wrong; found where plain "
        "math-verify disagreed with both).",
        "",
        "Rows per class: "
        + ", ".join(f"{k} {v}" for k, v in sorted(Counter(c for c, _ in CLASSIFIED.values()).items()))
        + ".",
        "",
        "| row | run | reference | rlvr reads | they read | published | rlvr | class | why |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    order = {RLVR_WRONG: 0, BOTH: 1, FIXED: 2, JUDGEMENT: 3, THEIRS_WRONG: 4}
    picked = [(i, r) for i, r in enumerate(rows) if r.key in CLASSIFIED]
    for i, r in sorted(picked, key=lambda p: (order.get(CLASSIFIED[p[1].key][0], 9), p[1].key)):
        label, why = CLASSIFIED[r.key]
        lines.append(
            f"| {r.key} | {r.run} | {_cell(r.reference)} | {_cell(ours[i][1])} | {_cell(r.their_answer)} | "
            f"{'correct' if r.their_verdict else 'wrong'} | {ours[i][2]} | {label} | {why.replace('|', '/')} |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _rate(n: int, d: int) -> str:
    return f"{n}/{d} {100 * n / d:.2f}%" if d else "-"


def report(rows: list[Row], ours: list, plain: list | None, show: bool) -> list[str]:
    """Agreement per source and run; every disagreement with its class."""
    out = []
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[f"{r.source}: {r.run}"].append(i)
        groups[f"{r.source}: all"].append(i)
        groups[f"~ {r.bench} (all sources)"].append(i)
    truth = [_truth(r, ours[i][0]) for i, r in enumerate(rows)]
    head = (
        f"{'source: run':42} {'rows':>6}  {'rlvr = published':>18} {'m-v = published':>18}  {'rlvr = truth':>18} "
        f"{'m-v = truth':>18}  timeouts"
    )
    out += [head, "-" * len(head)]
    for name in sorted(groups, key=lambda g: (g.split(":")[0], g.endswith(": all"), g)):
        idx = groups[name]
        known = [i for i in idx if truth[i] is not None]
        pub = _rate(sum(ours[i][0] == rows[i].their_verdict for i in idx), len(idx))
        mv = _rate(sum(plain[i][0] == rows[i].their_verdict for i in idx), len(idx)) if plain else "not run"
        t_rlvr = _rate(sum(ours[i][0] == truth[i] for i in known), len(known))
        t_mv = _rate(sum(plain[i][0] == truth[i] for i in known), len(known)) if plain else "not run"
        tout = sum(ours[i][2] == "timeout" for i in idx)
        out.append(f"{name:42} {len(idx):>6}  {pub:>18} {mv:>18}  {t_rlvr:>18} {t_mv:>18}  {tout:>8}")
    classes: Counter = Counter()
    unclassified, fixed, both = [], 0, 0
    for i, r in enumerate(rows):
        label = CLASSIFIED.get(r.key, ("unclassified", ""))[0]
        if ours[i][0] == r.their_verdict:
            fixed += label == FIXED
            both += label == BOTH
            continue
        classes[label] += 1
        if label in ("unclassified", FIXED, BOTH) or show:
            unclassified.append(i)  # a fixed row that disagrees again is a regression: printed
    n = len(rows)
    decided = [i for i in range(n) if truth[i] is not None]
    ok = sum(ours[i][0] == truth[i] for i in decided)
    out += [
        "",
        f"disagreements rlvr vs published now: {sum(classes.values())} of {n}; every one read by hand: "
        + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())),
        f"rows where rlvr was wrong and is fixed (now agree with the published verdict): {fixed}",
        f"rows where both are wrong (found where plain math-verify disagreed with both; rlvr not fixed): {both}",
        f"rlvr against the hand-checked truth: {_rate(ok + n - len(decided), n)} counting judgement calls as "
        f"agreement; {_rate(ok, len(decided))} on the rows that are not judgement calls",
    ]
    if plain:
        mv_ok = sum(plain[i][0] == truth[i] for i in decided)
        out.append(
            f"plain math-verify against the same truth: {_rate(mv_ok, len(decided))} (judgement calls left out)"
        )
    for i in unclassified:
        r, (_, ext, status) = rows[i], ours[i]
        label, why = CLASSIFIED.get(r.key, ("unclassified", ""))
        out += [
            "",
            f"[{label}] {r.key} ({r.run}) published={r.their_verdict} rlvr={status} "
            f"extracted={ext[:120]!r} theirs={r.their_answer[:120]!r}",
            f"  reference: {r.reference!r}",
            f"  completion tail: {r.completion[-300:]!r}",
        ]
        if why:
            out.append(f"  why: {why}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--sources", default=",".join(SOURCES))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--no-math-verify", action="store_true", help="skip the plain math-verify column (slow)")
    ap.add_argument(
        "--math-verify-cache",
        type=Path,
        help="JSON file of plain math-verify verdicts by row key (read, then updated)",
    )
    ap.add_argument("--show", action="store_true", help="print classified disagreements too")
    ap.add_argument("--write-md", type=Path, help="write the table of labelled disagreements (markdown)")
    ap.add_argument("--dump", type=Path, help="write every row's verdicts as JSONL (for reading by hand)")
    args = ap.parse_args()
    rows = [r for s in args.sources.split(",") for r in SOURCES[s](args.mirrors)]
    start = time.perf_counter()
    ours = grade(rows, "math", args.workers)
    t_ours = time.perf_counter() - start
    plain = None if args.no_math_verify else cached_math_verify(rows, args.workers, args.math_verify_cache)
    t_all = time.perf_counter() - start
    print(
        f"{len(rows)} published generations; rlvr {t_ours:.1f} s, math-verify {t_all - t_ours:.1f} s (rlvr {rlvr.__version__})"
    )
    print(
        "m-v: plain math-verify; truth: the published verdict, overruled where read by hand (judgement calls left out)"
    )
    print("\n".join(report(rows, ours, plain, args.show)))
    if args.write_md:
        write_md(args.write_md, rows, ours, "d8fb47e")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as f:
            for i, r in enumerate(rows):
                d = {**r.__dict__, "rlvr": ours[i], "math_verify": plain[i] if plain else None}
                f.write(json.dumps(d) + "\n")


if __name__ == "__main__":
    main()
