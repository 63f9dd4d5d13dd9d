"""A/B of the whole ``rlvr score`` process between two source trees, alternated, on the same input.

On a shared machine whose load drifts, only runs taken in the same period, alternated, compare: each pair runs A and
B back to back (the order flips every pair), and the script prints both medians, their ratio and the per-pair ratios.
It also checks that both trees write byte-identical output rows (a speed change must not change a verdict).

    python benchmarks/bench_score_ab.py --a /work/main --b . --input rows.jsonl [--pairs 6] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(tree: Path, source: Path, out: Path, workers: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "rlvr.cli", "score", "--verifier", "math", "--input", str(source)]
    cmd += ["--output", str(out), "--workers", str(workers), "--no-progress"]
    start = time.perf_counter()
    # cwd=tree: `python -m` puts the working directory first on sys.path, ahead of PYTHONPATH
    done = subprocess.run(
        cmd, env=env, cwd=tree, capture_output=True, text=True
    )  # waits for every holder of its pipes
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"rlvr score from {tree} failed:\n{done.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="source tree A (e.g. the main branch)")
    parser.add_argument("--b", required=True, help="source tree B (e.g. this branch)")
    parser.add_argument("--input", required=True, help="JSONL rows with completion and reference")
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    trees = {"A": Path(args.a).resolve(), "B": Path(args.b).resolve()}
    times: dict[str, list[float]] = {"A": [], "B": []}
    with tempfile.TemporaryDirectory(prefix="rlvr-ab-") as tmp:
        outs = {name: Path(tmp) / f"{name}.jsonl" for name in trees}
        for pair in range(args.pairs):
            for name in ("A", "B") if pair % 2 == 0 else ("B", "A"):
                times[name].append(run_once(trees[name], Path(args.input).resolve(), outs[name], args.workers))
        identical = outs["A"].read_bytes() == outs["B"].read_bytes()
    a, b = statistics.median(times["A"]), statistics.median(times["B"])
    print(f"A = {trees['A']}: median {a:.2f}s  runs {', '.join(f'{t:.2f}' for t in times['A'])}")
    print(f"B = {trees['B']}: median {b:.2f}s  runs {', '.join(f'{t:.2f}' for t in times['B'])}")
    ratios = ", ".join(f"{x / y:.2f}" for x, y in zip(times["A"], times["B"]))
    print(f"A/B (B faster when > 1): {a / b:.2f}x; per pair {ratios}")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"output rows byte-identical: {identical}; load average at the end (1/5/15 min): {load}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
