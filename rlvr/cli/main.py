"""``rlvr COMMAND ...``: finds the command's module, runs it, and turns the errors a user can cause into exit statuses.

Each command module is imported only when used, so ``rlvr score`` and ``rlvr eval --completions`` never pay for
torch. Every command parses its own flags (``run(argv) -> int``).

Exit status: 0 on success, 2 on bad input (``rlvr.files.UsageError``: a malformed row, a missing field, an unknown
name; or a flag argparse refuses), 1 on other failures (no Docker sandbox, a failed check), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from rlvr.files import UsageError
from rlvr.sandbox import SandboxUnavailable  # standard library only at import time (docker is imported lazily)


@dataclass(frozen=True)
class Command:
    module: str  # imported only when the command runs
    function: str  # function(argv: list[str]) -> int in that module
    help: str


COMMANDS: dict[str, Command] = {
    "verifiers": Command("rlvr.cli.catalog", "verifiers", "list registered verifiers"),
    "tasks": Command("rlvr.cli.catalog", "tasks", "list registered tasks"),
    "score": Command("rlvr.cli.score", "run", "grade a JSONL file of completions with a verifier"),
    "sandbox": Command("rlvr.cli.sandbox", "run", "build or check the Docker sandbox image"),
    "train": Command("rlvr.cli.train", "run", "train a policy with RLVRTrainer (no config: the embedded CPU demo)"),
    "eval": Command("rlvr.cli.eval", "run", "evaluate a checkpoint or existing generations on benchmarks"),
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        return _top_level(argv)
    name, command = argv[0], COMMANDS[argv[0]]
    try:
        run = getattr(importlib.import_module(command.module), command.function)
        return int(run(argv[1:]) or 0)
    except UsageError as exc:  # the one place bad input becomes a message and exit status 2
        print(f"rlvr {name}: error: {exc}", file=sys.stderr)
        return 2
    except SandboxUnavailable as exc:  # no Docker daemon or image: say what to do, not a traceback
        print(f"rlvr {name}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"rlvr {name}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # argparse has printed the usage and the offending flag (or --help)
        return _status(exc)


def _top_level(argv: list[str]) -> int:
    """``rlvr``, ``rlvr --help``, ``rlvr --version`` or an unknown command: argparse's own messages."""
    try:
        _parser().parse_args(argv)
    except SystemExit as exc:
        return _status(exc)
    _parser().print_help()
    return 2


def _status(exc: SystemExit) -> int:
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)
    return 1


def _parser() -> argparse.ArgumentParser:
    from rlvr import __version__

    p = argparse.ArgumentParser(prog="rlvr", description="Reinforcement learning with verifiable rewards.")
    p.add_argument("--version", action="version", version=f"rlvr {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub.add_parser(name, help=command.help, add_help=False)
    return p
