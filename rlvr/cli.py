"""The ``rlvr`` command: ``rlvr verifiers | tasks | score | sandbox | train | eval``.

``score``, ``verifiers`` and ``tasks`` live here; ``sandbox``, ``train`` and ``eval`` own their flags in their modules
(each exposes ``main(argv) -> int``) and are imported only when used, so ``rlvr score`` never pays for torch.
Exit status: 0 on success, 2 on bad input (a malformed row, a missing field, an unknown name), 1 on other failures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from rlvr.sandbox import SandboxUnavailable  # standard library only at import time (docker is imported lazily)

DELEGATED = {
    "sandbox": ("rlvr.sandbox", "build or check the Docker sandbox image"),
    "train": ("rlvr.train", "train a policy with RLVRTrainer (no config: the embedded CPU demo)"),
    "eval": ("rlvr.eval", "evaluate a checkpoint or existing generations on benchmarks"),
}


class InputError(Exception):
    """Bad user input: reported on stderr, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        module = importlib.import_module(DELEGATED[argv[0]][0])
        return int(module.main(argv[1:]) or 0)
    args = _parser().parse_args(argv)
    if not getattr(args, "command", None):
        _parser().print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"rlvr {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rlvr {args.command}: interrupted", file=sys.stderr)
        return 130
    except SandboxUnavailable as exc:  # no Docker daemon or image: say what to do, not a traceback
        print(f"rlvr {args.command}: error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    from rlvr import __version__

    p = argparse.ArgumentParser(prog="rlvr", description="Reinforcement learning with verifiable rewards.")
    p.add_argument("--version", action="version", version=f"rlvr {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("verifiers", help="list registered verifiers").set_defaults(func=cmd_verifiers)
    sub.add_parser("tasks", help="list registered tasks").set_defaults(func=cmd_tasks)
    s = sub.add_parser("score", help="grade a JSONL file of completions with a verifier")
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
    s.set_defaults(func=cmd_score)
    for name, (_, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    return p


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def cmd_verifiers(args: argparse.Namespace) -> int:
    from rlvr.registry import first_line
    from rlvr.verifiers import VERIFIERS

    for name, cls in VERIFIERS.items():
        print(f"{name:<12} {first_line(cls)}")
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from rlvr.registry import first_line
    from rlvr.tasks import TASKS

    for name, cls in TASKS.items():
        print(f"{name:<16} {first_line(cls)}")
    return 0


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--option {pair!r}: expected KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def read_jsonl(path: str, required: Sequence[str]) -> list[dict[str, Any]]:
    """Read every row first, so that a bad line 9,000 fails before any work (and names its line)."""
    if not os.path.isfile(path):
        raise InputError(f"input file not found: {path}")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(row, dict):
                raise InputError(f"{path}:{n}: expected a JSON object, got {type(row).__name__}")
            missing = [k for k in required if k not in row]
            if missing:
                raise InputError(f"{path}:{n}: missing field {', '.join(repr(k) for k in missing)}")
            row["__line__"] = n
            rows.append(row)
    return rows


def _json_line(row: dict[str, Any]) -> str:
    """UTF-8 JSON, except for a row holding a lone surrogate (valid JSON input, not encodable): escaped instead."""
    line = json.dumps(row, ensure_ascii=False) + "\n"
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(row) + "\n"
    return line


def write_jsonl_atomic(path: str, rows: Sequence[dict[str, Any]]) -> None:
    """Write to a temporary file beside ``path`` and rename: a crash never leaves half an output."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".rlvr-", suffix=".jsonl.part", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(_json_line(row))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def cmd_score(args: argparse.Namespace) -> int:
    from rlvr.registry import RegistryError
    from rlvr.scoring import Scorer
    from rlvr.verifiers import get_verifier

    try:
        verifier = get_verifier(args.verifier, **parse_options(args.option))
    except (RegistryError, TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    scorer = Scorer(verifier, workers=args.workers, timeout=args.timeout)
    try:
        return _score_file(args, verifier, scorer.start())
    finally:
        scorer.close()


def _score_file(args: argparse.Namespace, verifier: Any, scorer: Any) -> int:
    rows = read_jsonl(args.input, required=("completion", "reference"))
    for row in rows:
        if not isinstance(row["completion"], str):
            raise InputError(f"{args.input}:{row['__line__']}: 'completion' must be a string")
        problem = verifier.check_reference(row["reference"])
        if problem:
            raise InputError(f"{args.input}:{row['__line__']}: bad reference: {problem}")
    verdicts = scorer.score(
        [r["completion"] for r in rows], [r["reference"] for r in rows], progress=not args.no_progress
    )
    out = []
    for row, verdict in zip(rows, verdicts):
        row.pop("__line__")
        out.append({**row, **verdict.to_dict()})
    write_jsonl_atomic(args.output, out)
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


if __name__ == "__main__":
    sys.exit(main())
