"""GRPO-shaped math scoring: ``rlvr score --verifier math`` (whole process) vs a plain math-verify loop.

The batch: 256 MATH-500 problems x 16 completions (4,096 rows), built from the shared offline copy. Inside a group
the answers repeat, as they do in RL (about 60% the gold in a few equivalent spellings, the rest two or three
recurring wrong answers and an occasional truncation), and every completion carries a realistic ~1 KB of reasoning.

- rlvr: ``python -m rlvr.cli score --verifier math`` as a subprocess, timed as a whole process (interpreter start,
  imports, worker start-up, extraction, cache, grading, writing the output).
- baseline: one process, in-process loop, per row ``parse(gold)`` + ``parse(completion)`` + ``verify`` -- what a
  typical TRL / open-r1 reward function does.

It prints both wall times, the ratio, and how often the two rewards agree. Bar: >= 4x on 2 cores.

``--real FILE`` measures real generations instead: any JSONL with ``completion`` and ``reference``, or (``--real
gsm8k-openai``) OpenAI's 5,276 published GSM8K model solutions, read from a local mirror of openai/grade-school-math
(MIT), or (``--real published-mix``) 6,900 published generations on MATH-500, OlympiadBench, Minerva, AMC and AIME
(see :func:`published_mix`), or (``--real labre-math500``) 3,000 MATH-500 generations of Gemma-2 2B/9B and
Qwen2.5-Math-7B published with a NeuS 2026 paper (labrem/neus2026-labre, MIT). ``--runs N`` repeats both sides N times and reports the ratio's median,
min and max.

    python benchmarks/bench_math_scoring.py [--problems 256] [--group 16] [--workers 2] [--runs 3] [--out FILE]
    python benchmarks/bench_math_scoring.py --real gsm8k-openai --runs 5
    python benchmarks/bench_math_scoring.py --real labre-math500 --runs 5 --breakdown
    python benchmarks/bench_math_scoring.py --real published-mix --runs 5
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATH500 = ROOT.parent / "shared" / "data" / "math500" / "test.jsonl"
GSM8K_MIRROR = Path("/work/.mirror/openai+grade-school-math/repo")

STEPS = [
    "First, let's restate the problem in our own words and identify what is being asked.",
    "We can set up an equation using the given information and simplify both sides.",
    "Expanding the product and collecting like terms gives a simpler expression.",
    "Let me double-check this step: substituting back into the original condition confirms it.",
    "Now we consider the remaining case separately, which follows the same reasoning.",
    "Simplifying the fraction, we divide numerator and denominator by their greatest common divisor.",
    "Using the identity $\\sin^2 x + \\cos^2 x = 1$ we can rewrite the expression as shown.",
    "So $a + b = 12$ and $ab = 35$, which means $a$ and $b$ are roots of $t^2 - 12t + 35 = 0$.",
]


def _spellings(gold: str) -> list[str]:
    """Equivalent ways a model writes the gold answer (all still correct)."""
    out = [gold, f"{gold}", gold.replace("\\frac", "\\dfrac")]
    if gold.lstrip("-").isdigit():
        out.append(f"{int(gold):,}" if abs(int(gold)) >= 1000 else f"{gold}.0")
    return out


def _wrong(gold: str, rng: random.Random) -> str:
    """A near miss in the gold's own form (one digit off, as most wrong RL answers are), sometimes a stray value."""
    if gold.lstrip("-").isdigit():
        return str(int(gold) + rng.choice([-2, -1, 1, 2, 10]))
    digits = [i for i, ch in enumerate(gold) if ch.isdigit()]
    if digits and rng.random() < 0.8:
        i = rng.choice(digits)
        return gold[:i] + rng.choice([d for d in "123456789" if d != gold[i]]) + gold[i + 1 :]
    return rng.choice([f"{gold}+1", f"2\\left({gold}\\right)", "0", "\\frac{1}{2}", "-1"])


def _completion(answer: str | None, rng: random.Random) -> str:
    body = " ".join(rng.choice(STEPS) for _ in range(rng.randint(6, 12)))
    if answer is None:  # cut off by the length limit
        return body + " Therefore, continuing the computation, we find that the value of"
    ending = rng.choice(
        [
            "Therefore, the final answer is $\\boxed{%s}$.",
            "**Final Answer**\n\\[\n\\boxed{%s}\n\\]",
            "So the answer is \\(\\boxed{%s}\\).",
        ]
    )
    return body + "\n\n" + ending % answer


def build_batch(problems: int, group: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = [json.loads(line) for line in MATH500.read_text(encoding="utf-8").splitlines() if line.strip()]
    batch = []
    for p in rng.sample(rows, problems):
        gold = p["answer"]
        wrongs = [_wrong(gold, rng) for _ in range(rng.randint(1, 3))]
        for _ in range(group):
            u = rng.random()
            answer = rng.choice(_spellings(gold)) if u < 0.6 else None if u > 0.95 else rng.choice(wrongs)
            batch.append({"id": p["unique_id"], "completion": _completion(answer, rng), "reference": gold})
    return batch


LABRE_MIRROR = Path("/work/.mirror/labrem+neus2026-labre/repo")
_LABRE_PROBLEM = re.compile(r"^## Problem (math_\d+)\n", re.MULTILINE)
_LABRE_GOLD = re.compile(r"^  Ground Truth: (.*)$", re.MULTILINE)


def labre_rows() -> tuple[str, list[dict]]:
    """MATH-500 generations of Gemma-2 2B, Gemma-2 9B and Qwen2.5-Math-7B, published with the NeuS 2026 paper
    "Ontology-Guided Neuro-Symbolic Inference" (labrem/neus2026-labre, MIT): its six ``baseline`` runs, greedy and
    best-of-n (the last attempt's response), 500 problems each, read from a local mirror of the repository."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(LABRE_MIRROR), *args], capture_output=True, text=True).stdout

    files = [f for f in git("ls-tree", "-r", "--name-only", "HEAD", "results").split() if "_baseline_" in f]
    rows = []
    for name in sorted(files):
        text = git("show", f"HEAD:{name}")
        starts = [m.end() for m in _LABRE_PROBLEM.finditer(text)] + [len(text)]
        for begin, end in zip(starts, starts[1:]):
            block = text[begin:end]
            gold = _LABRE_GOLD.search(block)
            answer_at, answer_end = block.find("--- LLM Response ---\n"), block.rfind("\n--- End LLM Response ---")
            if gold and 0 <= answer_at < answer_end:
                completion = block[answer_at + len("--- LLM Response ---\n") : answer_end]
                rows.append({"completion": completion, "reference": gold.group(1).strip()})
    what = f"labrem/neus2026-labre results/*_baseline_*.md ({len(files)} runs of 3 models on MATH-500)"
    return what, rows


MIX_MIRRORS = ("JingyangYi+ShorterBetter", "QwenLM+Qwen2.5-Math", "labrem+neus2026-labre")


def published_mix() -> tuple[str, list[dict]]:
    """6,900 published generations on all five benchmarks, the size and spread of issue 9's held-out set: the 2,671
    R1-distill / ShorterBetter rows (AIME 2024, AMC, MATH-500, Minerva, OlympiadBench; JingyangYi/ShorterBetter),
    Qwen2.5-Math's 800-row MATH sample, and 3,429 of the 10,635 labre MATH-500 rows (Gemma-2, Qwen2.5-Math; drawn with
    seed 1), read by ``published_math.py`` from local mirrors."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import published_math

    mirrors = LABRE_MIRROR.parents[1]
    missing = [m for m in MIX_MIRRORS if not (mirrors / m / "repo").is_dir()]
    if missing:
        raise SystemExit(f"--real published-mix: no local mirror of {', '.join(missing)} under {mirrors}")
    sb, qwen, labre = (list(published_math.SOURCES[name](mirrors)) for name in ("sb", "qwen", "labre"))
    rows = [
        {"completion": r.completion, "reference": r.reference}
        for r in sb + qwen + random.Random(1).sample(labre, 3429)
    ]
    return "ShorterBetter 2,671 + Qwen2.5-Math 800 + labre 3,429 (seed 1) published generations", rows


def real_rows(source: str) -> tuple[str, list[dict]]:
    """Real generations: OpenAI's published GSM8K solutions (``gsm8k-openai``), MATH-500 generations of three
    models (``labre-math500``), the five-benchmark mix (``published-mix``), or a JSONL file of rows."""
    if source == "labre-math500":
        return labre_rows()
    if source == "published-mix":
        return published_mix()
    if source != "gsm8k-openai":
        rows = [json.loads(line) for line in Path(source).read_text(encoding="utf-8").splitlines() if line.strip()]
        return source, [{"completion": r["completion"], "reference": str(r["reference"])} for r in rows]
    path = "grade_school_math/data/example_model_solutions.jsonl"
    text = subprocess.run(["git", "-C", str(GSM8K_MIRROR), "show", f"HEAD:{path}"], capture_output=True, text=True)
    rows = []
    for line in text.stdout.splitlines():
        row = json.loads(line)
        gold = row["ground_truth"].rsplit("A:", 1)[1].strip()
        rows += [{"completion": v["solution"], "reference": gold} for v in row.values() if isinstance(v, dict)]
    return f"openai/grade-school-math {path} ({len(rows)} published solutions of 4 models)", rows


def time_rlvr(path: Path, workers: int) -> tuple[float, list[float]]:
    out = path.with_suffix(".scored.jsonl")
    cmd = [
        sys.executable,
        "-m",
        "rlvr.cli",
        "score",
        "--verifier",
        "math",
        "--input",
        str(path),
        "--output",
        str(out),
        "--workers",
        str(workers),
        "--no-progress",
    ]
    start = time.perf_counter()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # cwd: not a source tree, which `-m` would put before PYTHONPATH
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=path.parent)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"rlvr score failed:\n{proc.stderr}")
    print(proc.stderr.strip().splitlines()[-1])
    return seconds, [json.loads(line)["reward"] for line in out.read_text(encoding="utf-8").splitlines()]


def time_plain_math_verify(rows: list[dict]) -> tuple[float, list[float]]:
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    start = time.perf_counter()
    rewards = []
    for r in rows:
        gold = parse(f"${r['reference']}$")
        pred = parse(r["completion"])
        rewards.append(float(verify(gold, pred)))
    return time.perf_counter() - start, rewards


def breakdown(rows: list[dict]) -> list[str]:
    """Where the time of one ``rlvr score`` goes, part by part, each measured alone in a fresh process (CPU-bound
    parts; on 2 cores the whole process takes about (host + forkserver + workers) / 2 once the workers are busy)."""
    code = r"""
import json, sys, time
t0 = time.perf_counter()
import rlvr.cli.score, rlvr.scoring
from rlvr.verifiers.math import MathVerifier
from rlvr.scoring import _key
t1 = time.perf_counter()
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
t2 = time.perf_counter()
v = MathVerifier()
extracted = [v.extract(r["completion"][-16000:]) for r in rows]
t3 = time.perf_counter()
seen, jobs = set(), []
for e, r in zip(extracted, rows):
    key = (e, _key(r["reference"]))
    if e is None or key in seen:
        continue
    seen.add(key)
    if v.quick_judge(e, r["reference"]) is None:
        jobs.append(key)
t4 = time.perf_counter()
heavy = sorted(m for m in ("sympy", "math_verify", "torch", "transformers") if m in sys.modules)
print(json.dumps({"imports": t1 - t0, "read": t2 - t1, "extract": t3 - t2, "host_judge": t4 - t3,
                  "distinct": len(seen), "jobs": jobs, "heavy_imports_on_host": heavy}))
"""
    worker = r"""
import json, sys, time
t0 = time.perf_counter()
import rlvr.verifiers._preload
t1 = time.perf_counter()
from rlvr.verifiers.math import MathVerifier
v = MathVerifier()
jobs = json.loads(sys.stdin.read())
t2 = time.perf_counter()
for e, g in jobs:
    v.judge(e, g)
print(json.dumps({"preload": t1 - t0, "judge": time.perf_counter() - t2}))
"""
    with tempfile.TemporaryDirectory(prefix="rlvr-bench-") as tmp:
        path = Path(tmp) / "batch.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        interpreter = time.perf_counter() - start
        run = functools.partial(subprocess.run, capture_output=True, text=True, check=True, cwd=tmp)  # see time_rlvr
        host = json.loads(run([sys.executable, "-c", code, str(path)]).stdout)
        out = run([sys.executable, "-c", worker], input=json.dumps(host["jobs"]))
    work = json.loads(out.stdout)
    return [
        f"breakdown (each part alone, seconds): interpreter start {interpreter:.2f}, host imports "
        f"{host['imports']:.2f} (heavy modules on the host: {host['heavy_imports_on_host'] or 'none'}), "
        f"read {host['read']:.2f}, extract {host['extract']:.2f}, host judge {host['host_judge']:.2f}",
        f"  distinct answers {host['distinct']}, decided on the host {host['distinct'] - len(host['jobs'])}, "
        f"sent to workers {len(host['jobs'])}",
        f"  forkserver preload (sympy, math-verify, warm-up) {work['preload']:.2f}, worker judging of those "
        f"{len(host['jobs'])} in one cold process {work['judge']:.2f}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=256)
    parser.add_argument("--group", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--real", default=None, help="a JSONL of real rows, 'gsm8k-openai', 'labre-math500' or 'published-mix'"
    )
    parser.add_argument("--runs", type=int, default=1, help="repeat both sides; report the ratio's median/min/max")
    parser.add_argument("--out", default=None, help="also write the report to this file")
    parser.add_argument("--breakdown", action="store_true", help="also time each part of rlvr score on its own")
    args = parser.parse_args(argv)
    if args.real:
        what, rows = real_rows(args.real)
    else:
        what, rows = f"{args.problems} MATH-500 problems x {args.group} completions (synthetic)", None
        rows = build_batch(args.problems, args.group)
    runs, loads = [], [os.getloadavg()[0]]
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="rlvr-bench-") as tmp:
            path = Path(tmp) / "batch.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            rlvr_s, rlvr_rewards = time_rlvr(path, args.workers)
        base_s, base_rewards = time_plain_math_verify(rows)
        runs.append((rlvr_s, base_s))
        loads.append(os.getloadavg()[0])
    ratios = sorted(b / r for r, b in runs)
    agree = sum(a == b for a, b in zip(rlvr_rewards, base_rewards)) / len(rows)
    rlvr_s, base_s = (statistics.median(x) for x in zip(*runs))
    lines = [
        f"rows: {what} = {len(rows)} rows",
        f"cores available: {len(os.sched_getaffinity(0))}  rlvr workers: {args.workers}  runs: {args.runs}",
        f"rlvr score --verifier math (whole process), median: {rlvr_s:.2f}s  ({len(rows) / rlvr_s:.0f} rows/s)",
        f"plain math-verify loop (in-process), median:        {base_s:.2f}s  ({len(rows) / base_s:.0f} rows/s)",
        f"speed-up per run: median {statistics.median(ratios):.1f}x, min {ratios[0]:.1f}x, max {ratios[-1]:.1f}x "
        f"(each run: {', '.join(f'{b / r:.1f}x' for r, b in runs)})",
        f"reward agreement between the two: {agree:.4f}; mean reward rlvr {sum(rlvr_rewards) / len(rows):.4f}, "
        f"math-verify {sum(base_rewards) / len(rows):.4f}",
        f"1-minute load average before and after each run: {', '.join(f'{x:.1f}' for x in loads)}",
    ]
    if args.breakdown:
        lines += breakdown(rows)
    print("\n".join(lines))
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
