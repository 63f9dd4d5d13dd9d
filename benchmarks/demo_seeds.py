"""Spread of the default demo over seeds and thread counts: is the main job's gain a property of the recipe, or luck?

Runs the README's main job (``rlvr train --output_dir D``, the embedded demo) once per (seed, threads) pair, each in
its own process, and reports held-out greedy accuracy before and after RL, the gain and the wall time, then
min / median / max of the gain and of the wall time. ``OMP_NUM_THREADS`` (1 vs 2) changes how torch splits its
reductions, which perturbs the floats the way another CPU does: a recipe whose gain survives both thread counts and
several seeds does not depend on the machine's rounding.

    python benchmarks/demo_seeds.py                          # seeds 0-4, threads 1 and 2, one run at a time
    python benchmarks/demo_seeds.py --seeds 0 1 2 --threads 2 --parallel 1 -- --max_steps 800

Extra arguments after ``--`` go to ``rlvr train``. Results: benchmarks/results/demo_seeds.json (one row per run plus
the summary). Wall times are only comparable between runs made on an otherwise idle machine (``--parallel 1``); the
gains do not depend on load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "demo_seeds.json"


def run_one(seed: int, threads: int, extra: list[str], root: str) -> dict:
    out = os.path.join(root, f"seed{seed}_threads{threads}")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "rlvr", "train", "--output_dir", out, "--seed", str(seed), *extra]
    started = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.time() - started
    if proc.returncode != 0:
        return {"seed": seed, "threads": threads, "error": proc.stderr[-2000:], "wall_s": round(wall, 1)}
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        s = json.load(f)
    row = {
        "seed": seed,
        "threads": threads,
        "accuracy_before": s["accuracy_before"],
        "accuracy_after": s["accuracy_after"],
        "gain": round(s["accuracy_after"] - s["accuracy_before"], 3),
        "eval_history": [(e["step"], e["accuracy"]) for e in s.get("eval_history", [])],
        "warm_start_steps": s.get("warm_start_steps"),
        "wall_s": round(wall, 1),
    }
    print(
        f"seed {seed} threads {threads}: {row['accuracy_before']:.3f} -> {row['accuracy_after']:.3f} "
        f"(gain {row['gain']:+.3f}) in {wall:.0f}s",
        flush=True,
    )
    return row


def spread(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)} if values else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (wall times are comparable only at 1)")
    parser.add_argument("--output", default=str(RESULTS))
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    pairs = [(s, t) for t in args.threads for s in args.seeds]
    with tempfile.TemporaryDirectory() as root, ThreadPoolExecutor(args.parallel) as pool:
        rows = list(pool.map(lambda p: run_one(p[0], p[1], extra, root), pairs))
    ok = [r for r in rows if "error" not in r]
    summary = {
        "command": "python benchmarks/demo_seeds.py " + " ".join(sys.argv[1:]),
        "runs": len(rows),
        "failed": len(rows) - len(ok),
        "parallel": args.parallel,
        "load_average_after": os.getloadavg(),
        "gain": spread([r["gain"] for r in ok]),
        "accuracy_before": spread([r["accuracy_before"] for r in ok]),
        "accuracy_after": spread([r["accuracy_after"] for r in ok]),
        "wall_s": spread([r["wall_s"] for r in ok]),
    }
    print(json.dumps(summary, indent=2))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump({"summary": summary, "rows": rows}, f, indent=2)
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
