"""Held-out agreement of rlvr's ``math`` verifier with hand labels it was never tuned on.

``tests/data/math_heldout.jsonl`` was written and labelled (correct / wrong / no_answer) before anyone looked at
``rlvr/verifiers/math/``, so unlike ``math_agreement.py`` (which measures the table the verifier was tuned on) this
is an honest estimate of how often the verifier agrees with a careful human grader. The gold answers are real
MATH-500 / AIME 2024 / AMC 2023 / GSM8K answers; the completions are model-style reasoning ending in a final answer.

Two graders, two figures each:

- ``rlvr math`` runs through the real command, ``rlvr score --verifier math`` (worker processes, timeouts, cache).
- ``plain math-verify``: ``verify(parse("$gold$"), parse(completion))`` with defaults, as its README shows; its status is
  ``no_answer`` when ``parse`` finds nothing in the completion, else ``correct`` / ``wrong``.
- *status-level*: the grader's status equals the label; *reward-level*: reward 1 exactly when the label is
  ``correct`` (so ``wrong`` and ``no_answer`` count as the same, reward 0).

    python benchmarks/math_heldout.py [--input FILE] [--out benchmarks/results/math_heldout.txt]

``--input`` takes any JSONL with ``completion``, ``reference`` and ``expected`` (e.g. a converted third-party log).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "data" / "math_heldout.jsonl"


def ours(path: Path) -> list[dict]:
    """Grade with the real CLI; returns the output rows (status, reward, extracted, detail) in input order."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        cmd = [sys.executable, "-m", "rlvr", "score", "--verifier", "math", "--input", str(path), "--output", str(out)]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"`{' '.join(cmd)}` failed ({done.returncode}): {done.stderr[-2000:]}")
        return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]


def plain_math_verify(rows: list[dict]) -> list[dict]:
    from math_verify import parse, verify

    graded = []
    for r in rows:
        try:  # math-verify's own SIGALRM timeouts work here: this loop runs on the main thread
            pred = parse(r["completion"])
            if not pred:
                graded.append({"status": "no_answer", "reward": 0.0})
                continue
            ok = bool(verify(parse(f"${r['reference']}$"), pred))
        except Exception:
            ok = False
        graded.append({"status": "correct" if ok else "wrong", "reward": 1.0 if ok else 0.0})
    return graded


def agreement(rows: list[dict], graded: list[dict]) -> dict[str, float | int]:
    status = sum(g["status"] == r["expected"] for r, g in zip(rows, graded))
    reward = sum((g["reward"] == 1.0) == (r["expected"] == "correct") for r, g in zip(rows, graded))
    fp = sum(g["reward"] == 1.0 and r["expected"] != "correct" for r, g in zip(rows, graded))
    fn = sum(g["reward"] != 1.0 and r["expected"] == "correct" for r, g in zip(rows, graded))
    return {"status": status, "reward": reward, "fp": fp, "fn": fn}


def report(path: Path, rows: list[dict], results: dict[str, list[dict]], seconds: dict[str, float]) -> str:
    n = len(rows)
    counts = defaultdict(int)
    for r in rows:
        counts[r["expected"]] += 1
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    lines = [f"rows: {n} from {shown} (" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")"]
    for name, graded in results.items():
        a = agreement(rows, graded)
        lines.append(
            f"{name:<18} status-level {a['status'] / n:.4f} ({a['status']}/{n})  "
            f"reward-level {a['reward'] / n:.4f} ({a['reward']}/{n})  "
            f"false positives {a['fp']}  false negatives {a['fn']}  time {seconds[name]:.1f}s"
        )
    lines.append("per category, reward-level (" + " / ".join(results) + "):")
    by_cat: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_cat[r.get("category", "-")].append(i)
    for cat, idx in sorted(by_cat.items()):
        rates = [agreement([rows[i] for i in idx], [g[i] for i in idx])["reward"] / len(idx) for g in results.values()]
        lines.append(f"  {cat:<14} n={len(idx):<3} " + "  ".join(f"{x:.2f}" for x in rates))
    first = next(iter(results))
    lines.append(f"{first} disagreements (status-level):")
    for r, g in zip(rows, results[first]):
        if g["status"] != r["expected"]:
            lines.append(
                f"  {r.get('id', '?')}: expected {r['expected']}, got {g['status']}; reference {r['reference']!r}, "
                f"extracted {g.get('extracted')!r}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=TABLE, help="labelled JSONL (completion, reference, expected)")
    parser.add_argument("--out", default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    path = args.input.resolve()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    results, seconds = {}, {}
    for name, grade in (("rlvr math", lambda: ours(path)), ("plain math-verify", lambda: plain_math_verify(rows))):
        start = time.perf_counter()
        results[name] = grade()
        seconds[name] = time.perf_counter() - start
    text = report(path, rows, results, seconds)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
