"""Start-up of ``rlvr eval --completions`` (no model at all): a baseline commit against the working tree, same run.

Before the house was split (issue 12), ``rlvr eval`` imported ``rlvr.cli`` and ``transformers``'s ``TrainerCallback`` at
module level, so grading a file of saved generations paid for torch. This times the whole command as a user runs it
(interpreter start, imports, grader workers, grading 8 rows, writing the outputs) ``--runs`` times per tree,
alternating the two trees so that machine load hits both alike, and reports median / min / max and the ratio of the
medians. It also says whether ``torch`` ends up in ``sys.modules`` after importing the command.

The baseline tree is extracted with ``git archive REF`` into a temporary folder and put first on PYTHONPATH.

    python benchmarks/bench_startup.py [--baseline b143b8e] [--runs 5] [--out benchmarks/results/startup.txt]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = [
    {"id": "half", "reference": "0.5", "completions": ["so \\boxed{\\frac{1}{2}}", "\\boxed{0.5}"]},
    {"id": "four", "reference": "4", "completions": ["\\boxed{4}", "\\boxed{5}"]},
    {"id": "pi", "reference": "\\pi", "completions": ["\\boxed{\\pi}", "about 3.14"]},
    {"id": "set", "reference": "(1,2]", "completions": ["\\boxed{(1, 2]}", "\\boxed{[1,2]}"]},
]


def extract(ref: str, folder: Path) -> Path:
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def env_for(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def time_command(tree: Path, rows: Path, out: Path) -> float:
    cmd = [sys.executable, "-m", "rlvr.cli", "eval", "--completions", str(rows), "--output-dir", str(out)]
    cmd += ["--no-progress", "--no-plot", "--workers", "1"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tree, env=env_for(tree), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return seconds


def imports_torch(tree: Path) -> bool:
    probe = (
        "import importlib, sys\n"
        "try:\n    importlib.import_module('rlvr.cli.eval')\n"
        "except ImportError:\n    importlib.import_module('rlvr.eval')\n"
        "print('torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tree, env=env_for(tree), capture_output=True, text=True)
    return proc.stdout.strip() == "True"


def stats(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.2f}s  min {min(xs):.2f}s  max {max(xs):.2f}s  (n={len(xs)})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", default="b143b8e", help="git ref of the tree before the split")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--out", default=None, help="also write the report here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = extract(args.baseline, Path(tmp) / "base")
        rows = Path(tmp) / "rows.jsonl"
        rows.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
        trees = {"baseline": base, "now": ROOT}
        times: dict[str, list[float]] = {name: [] for name in trees}
        for i in range(args.runs):
            for name, tree in trees.items():
                times[name].append(time_command(tree, rows, Path(tmp) / f"out-{name}-{i}"))
        torch_seen = {name: imports_torch(tree) for name, tree in trees.items()}
    ratio = statistics.median(times["baseline"]) / statistics.median(times["now"])
    lines = [
        f"rlvr eval --completions (4 problems x 2 samples, --workers 1), whole process, {args.runs} runs each, alternating",
        f"baseline {args.baseline}: {stats(times['baseline'])}  imports torch: {torch_seen['baseline']}",
        f"working tree:     {stats(times['now'])}  imports torch: {torch_seen['now']}",
        f"speed-up (median baseline / median now): {ratio:.2f}x",
        f"load average at the end (1/5/15 min, 2 cores shared): {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n")


if __name__ == "__main__":
    main()
