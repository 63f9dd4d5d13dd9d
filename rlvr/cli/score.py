"""``rlvr score --verifier NAME --input IN.jsonl --output OUT.jsonl``: grade a file of completions.

Input rows carry ``completion`` and ``reference``; output rows keep every input field, in input order, and add
``reward``, ``status``, ``extracted``, ``detail``. Every row is checked before any grading; a summary line goes to
stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from rlvr.cli.flags import positive_float, positive_int
from rlvr.files import UsageError, read_jsonl, write_jsonl


def parser() -> argparse.ArgumentParser:
    s = argparse.ArgumentParser(prog="rlvr score", description="Grade a JSONL file of completions with a verifier.")
    s.add_argument("--verifier", required=True, help="registered verifier name (see `rlvr verifiers`)")
    s.add_argument("--input", required=True, help="JSONL rows with `completion` and `reference`")
    s.add_argument("--output", required=True, help="JSONL: every input field plus reward, status, extracted, detail")
    s.add_argument("--workers", type=positive_int, default=None, help="grader processes (default: one per core)")
    s.add_argument("--timeout", type=positive_float, default=10.0, help="hard wall-clock limit per answer, seconds")
    s.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="verifier option (value parsed as JSON when it parses), repeatable",
    )
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    return s


def run(argv: list[str]) -> int:
    from rlvr.registry import RegistryError
    from rlvr.scoring import Scorer, stop_forkserver
    from rlvr.verifiers import get_verifier

    args = parser().parse_args(argv)
    try:
        verifier = get_verifier(args.verifier, **parse_options(args.option))
    except (RegistryError, TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    scorer = Scorer(verifier, workers=args.workers, timeout=args.timeout)
    try:
        return _score_file(args, verifier, scorer.start())  # workers start importing while the input is read
    finally:
        scorer.close()
        stop_forkserver()  # one-shot: the workers are closed (or were never needed); see stop_forkserver


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--option {pair!r}: expected KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def _score_file(args: argparse.Namespace, verifier: Any, scorer: Any) -> int:
    rows = read_jsonl(args.input, required=("completion", "reference"))
    for row in rows:
        if not isinstance(row["completion"], str):
            raise UsageError(f"{args.input}:{row['__line__']}: 'completion' must be a string")
        problem = verifier.check_reference(row["reference"])
        if problem:
            raise UsageError(f"{args.input}:{row['__line__']}: bad reference: {problem}")
    verdicts = scorer.score(
        [r["completion"] for r in rows], [r["reference"] for r in rows], progress=not args.no_progress
    )
    out = []
    for row, verdict in zip(rows, verdicts):
        row.pop("__line__")
        out.append({**row, **verdict.to_dict()})
    write_jsonl(args.output, out)
    print(summary_line(verifier.name, verdicts, scorer.last.seconds, scorer.last.graded), file=sys.stderr)
    return 0


def summary_line(name: str, verdicts: Sequence[Any], seconds: float, graded: int) -> str:
    n = len(verdicts)
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.status] = counts.get(v.status, 0) + 1
    accuracy = sum(v.reward for v in verdicts) / n if n else 0.0
    parts = " ".join(f"{k}={counts[k]}" for k in ("correct", "wrong", "no_answer", "timeout", "error") if k in counts)
    rate = n / seconds if seconds > 0 else float("inf")
    return (
        f"rlvr score [{name}]: rows={n} accuracy={accuracy:.4f} {parts} "
        f"graded={graded} time={seconds:.2f}s rows/s={rate:.1f}"
    )
