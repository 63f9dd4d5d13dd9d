"""How often each grader agrees with the hand-labelled table tests/data/math_cases.jsonl.

Runs every row through rlvr's ``math`` verifier and through plain math-verify (``parse`` on the gold and on the
completion, then ``verify``, defaults as its README shows) and prints both agreement rates, per category too.
A row agrees when the grader's reward is 1 exactly when the expected verdict is ``correct``.

    python benchmarks/math_agreement.py [--out benchmarks/results/math_agreement.txt]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "data" / "math_cases.jsonl"


def ours(rows: list[dict]) -> list[bool]:
    from rlvr.verifiers.math import MathVerifier

    verifier = MathVerifier()
    return [verifier(r["completion"], r["reference"]).reward == 1.0 for r in rows]


def plain_math_verify(rows: list[dict]) -> list[bool]:
    from math_verify import parse, verify

    out = []
    for r in rows:
        try:  # math-verify's own SIGALRM timeouts work here: this loop runs on the main thread
            out.append(bool(verify(parse(f"${r['reference']}$"), parse(r["completion"]))))
        except Exception:
            out.append(False)
    return out


def report(rows: list[dict], results: dict[str, list[bool]], seconds: dict[str, float]) -> str:
    want = [r["expected"] == "correct" for r in rows]
    lines = [f"rows: {len(rows)} ({sum(want)} expected correct) from {TABLE.relative_to(ROOT)}"]
    for name, got in results.items():
        agree = sum(g == w for g, w in zip(got, want))
        fp = sum(g and not w for g, w in zip(got, want))
        fn = sum(w and not g for g, w in zip(got, want))
        lines.append(
            f"{name:<18} agreement {agree / len(rows):.4f} ({agree}/{len(rows)})  false positives {fp}  "
            f"false negatives {fn}  time {seconds[name]:.1f}s"
        )
    lines.append("per category (rlvr / math-verify agreement):")
    by_cat: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_cat[r["category"]].append(i)
    names = list(results)
    for cat, idx in sorted(by_cat.items()):
        rates = [sum(results[n][i] == want[i] for i in idx) / len(idx) for n in names]
        lines.append(f"  {cat:<14} n={len(idx):<3} " + "  ".join(f"{x:.2f}" for x in rates))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    rows = [json.loads(line) for line in TABLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    results, seconds = {}, {}
    for name, fn in (("rlvr math", ours), ("plain math-verify", plain_math_verify)):
        start = time.perf_counter()
        results[name] = fn(rows)
        seconds[name] = time.perf_counter() - start
    text = report(rows, results, seconds)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
