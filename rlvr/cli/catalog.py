"""``rlvr verifiers`` and ``rlvr tasks``: what is registered (built in and from plugins), one line each."""

from __future__ import annotations

import argparse


def verifiers(argv: list[str]) -> int:
    from rlvr.registry import first_line
    from rlvr.verifiers import VERIFIERS

    argparse.ArgumentParser(prog="rlvr verifiers", description="List registered verifiers.").parse_args(argv)
    for name, cls in VERIFIERS.items():
        print(f"{name:<12} {first_line(cls)}")
    return 0


def tasks(argv: list[str]) -> int:
    from rlvr.registry import first_line
    from rlvr.tasks import TASKS

    argparse.ArgumentParser(prog="rlvr tasks", description="List registered tasks.").parse_args(argv)
    for name, cls in TASKS.items():
        print(f"{name:<16} {first_line(cls)}")
    return 0
