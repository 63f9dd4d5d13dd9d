"""Module-level verifiers used by the scoring tests (worker processes import them by name)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from rlvr.verifiers.base import Verdict, Verifier, correct, register_verifier, wrong


@register_verifier("test_sleepy", replace=True)
@dataclass(frozen=True)
class Sleepy(Verifier):
    """Sleeps for the number of seconds in the answer, then says correct (a stand-in for a grader that hangs)."""

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        time.sleep(float(extracted or 0))
        return correct(extracted, f"pid {os.getpid()}")


@register_verifier("test_crashy", replace=True)
@dataclass(frozen=True)
class Crashy(Verifier):
    """Kills its own process on 'die', raises on 'raise', else compares with the reference."""

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        if extracted == "die":
            os._exit(3)
        if extracted == "raise":
            raise RuntimeError("grader bug")
        if extracted == "hog":
            _ = bytearray(8 * 1024**3)
        return correct(extracted) if extracted == reference else wrong(extracted)


@register_verifier("test_counting", replace=True)
@dataclass(frozen=True)
class Counting(Verifier):
    """Appends one line per judged answer to the file named in `path` (to count what reached a grader)."""

    path: str = ""

    def extract(self, completion: str) -> str | None:
        return completion.strip() or None

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        with open(self.path, "a") as f:
            f.write(f"{extracted}\n")
        return correct(extracted) if extracted == reference else wrong(extracted)


def length_checker(completion: str, reference: Any) -> float:
    """A plain-function verifier: 1.0 when the completion has the reference's length."""
    return float(len(completion) == int(reference))


register_verifier("test_length", replace=True)(length_checker)
