"""The ``demo`` task: procedurally generated small-number arithmetic, the workload of the CPU demo (``rlvr train``).

One row: ``{"a": 37, "op": "+", "b": 48, "answer": "85"}``; the prompt is ``37+48=`` and a correct completion is
``\\boxed{85}``, graded by the real ``math`` verifier like any benchmark answer. Problems need no download, so the demo
runs offline, and they are split by a hash of the problem (not by position), so the ``test`` split is held out from
``train`` for every ``seed`` and ``size``: a gain measured on ``test`` is generalisation, not memorisation.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, ClassVar

from rlvr.tasks import Task, TaskDataError, register_task

_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def _held_out(a: int, op: str, b: int, test_fraction: float) -> bool:
    """Stable across Python runs (``hash()`` is salted per process; md5 is not)."""
    digest = hashlib.md5(f"{a}{op}{b}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < test_fraction


@register_task("demo")
class Demo(Task):
    """Procedurally generated arithmetic (a+b, answers as \\boxed{N}); held-out test split; the CPU demo's task."""

    dataset = None
    split = "train"
    verifiers = {"math": 1.0}
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    # Options (``load_task("demo", size=500, max_operand=20, ops="+-")``).
    size: int = 2000
    max_operand: int = 99
    ops: str = "+"
    seed: int = 0
    test_fraction: float = 0.2

    def load_rows(self) -> list[dict[str, Any]]:
        if self.split not in self.splits:
            raise TaskDataError(f"task 'demo' has splits {self.splits}, not {self.split!r}")
        bad = sorted(set(self.ops) - set(_OPS))
        if bad or not self.ops:
            raise TaskDataError(f"task 'demo': ops={self.ops!r}; use any of {''.join(_OPS)}")
        pool = [
            (a, op, b)
            for op in self.ops
            for a in range(self.max_operand + 1)
            for b in range(self.max_operand + 1)
            if _held_out(a, op, b, self.test_fraction) == (self.split == "test")
        ]
        random.Random(self.seed).shuffle(pool)
        rows = pool[: self.size]
        return [{"id": f"{a}{op}{b}", "a": a, "op": op, "b": b, "answer": str(_OPS[op](a, b))} for a, op, b in rows]

    def prompt(self, row: dict[str, Any]) -> str:
        return f"{row['a']}{row['op']}{row['b']}="

    @staticmethod
    def solution(row: dict[str, Any]) -> str:
        """The gold completion (used by the demo's supervised warm start and by the task's tests)."""
        return f"\\boxed{{{row['answer']}}}"
