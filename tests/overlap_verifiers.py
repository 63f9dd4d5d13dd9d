"""Module-level verifiers for the reward-overlap tests and benchmark (grader worker processes import them by name)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rlvr.verifiers.base import Verdict, Verifier, correct, register_verifier, wrong


@register_verifier("test_shares_chars", replace=True)
@dataclass(frozen=True)
class SharesChars(Verifier):
    """Correct when the completion shares a character with the reference: random text from a tiny model gets a mix
    of rewards. ``delay`` seconds of work per graded answer stand in for an expensive grader; ``fail`` raises (a
    grader bug, graded ``error``)."""

    delay: float = 0.0
    fail: bool = False

    def extract(self, completion: str) -> str | None:
        return completion.strip() or None

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        if self.fail:
            raise RuntimeError("grader bug")
        if self.delay:
            time.sleep(self.delay)
        return correct(extracted) if set(extracted or "") & set(str(reference)) else wrong(extracted)


@register_verifier("test_long_answer", replace=True)
@dataclass(frozen=True)
class LongAnswer(Verifier):
    """A second opinion for the audit: correct when the stripped completion has at least ``reference`` characters."""

    def extract(self, completion: str) -> str | None:
        return completion.strip() or None

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        return correct(extracted) if len(extracted or "") >= len(str(reference)) else wrong(extracted)
