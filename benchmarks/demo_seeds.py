"""Spread of the default demo over seeds, thread counts and CPU instruction sets: is the gain the recipe's, or luck?

Runs the README's main job (``rlvr train --output_dir D``, the embedded demo) once per (seed, threads, isa) triple,
each in its own process, and reports held-out greedy accuracy before and after RL, the gain and the wall time, then
min / median / max of the gain and of the wall time. Two perturbations stand in for "another machine":
- ``OMP_NUM_THREADS`` (1 vs 2) may change how torch splits its reductions (here it did not: the demo's matrices are
  too small to be split, and both thread counts gave identical runs);
- ``--isa avx2`` (or ``default``) makes this CPU run the kernels another CPU would: ``ATEN_CPU_CAPABILITY`` picks
  torch's vectorised kernels, ``ONEDNN_MAX_CPU_ISA`` / ``MKL_ENABLE_INSTRUCTIONS`` cap the matrix libraries. Other
  vector widths sum in another order, so the floats round differently from the first step on, as on an older CPU.
A recipe whose gain survives several seeds under both is not a property of one machine's rounding.

    python benchmarks/demo_seeds.py                          # seeds 0-4, threads 1 and 2, one run at a time
    python benchmarks/demo_seeds.py --seeds 0 1 2 --threads 1 --isa native avx2 --parallel 2
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


ISA_ENV = {  # what each --isa value sets in the run's environment ("native": nothing, this CPU's best kernels)
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "default": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}


def run_one(seed: int, threads: int, isa: str, extra: list[str], root: str) -> dict:
    out = os.path.join(root, f"seed{seed}_threads{threads}_{isa}")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(threads), **ISA_ENV[isa]}
    cmd = [sys.executable, "-m", "rlvr", "train", "--output_dir", out, "--seed", str(seed), *extra]
    started = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.time() - started
    if proc.returncode != 0:
        return {"seed": seed, "threads": threads, "isa": isa, "error": proc.stderr[-2000:], "wall_s": round(wall, 1)}
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        s = json.load(f)
    row = {
        "seed": seed,
        "threads": threads,
        "isa": isa,
        "accuracy_before": s["accuracy_before"],
        "accuracy_after": s["accuracy_after"],
        "gain": round(s["accuracy_after"] - s["accuracy_before"], 3),
        "eval_history": [(e["step"], e["accuracy"]) for e in s.get("eval_history", [])],
        "warm_start_steps": s.get("warm_start_steps"),
        "wall_s": round(wall, 1),
    }
    print(
        f"seed {seed} threads {threads} isa {isa}: {row['accuracy_before']:.3f} -> {row['accuracy_after']:.3f} "
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
    parser.add_argument("--isa", nargs="+", default=["native"], choices=sorted(ISA_ENV), help="CPU kernels to use")
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (wall times are comparable only at 1)")
    parser.add_argument("--output", default=str(RESULTS))
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    runs = [(s, t, i) for i in args.isa for t in args.threads for s in args.seeds]
    with tempfile.TemporaryDirectory() as root, ThreadPoolExecutor(args.parallel) as pool:
        rows = list(pool.map(lambda r: run_one(*r, extra, root), runs))
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
