"""The ``math`` verifier (first cut; being replaced by the full extractor + equivalence rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rlvr.verifiers.base import Verdict, Verifier, correct, register_verifier, wrong


def _last_boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i, depth = start + len("\\boxed{"), 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


@register_verifier("math")
@dataclass(frozen=True)
class MathVerifier(Verifier):
    """Final-answer equivalence for math (math-verify + sympy, with rlvr's own rules)."""

    def extract(self, completion: str) -> str | None:
        return _last_boxed(completion)

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        from math_verify import parse, verify

        gold = parse(f"${reference}$", parsing_timeout=None)
        pred = parse(f"${extracted}$", parsing_timeout=None)
        ok = verify(gold, pred, timeout_seconds=None)
        return correct(extracted) if ok else wrong(extracted)
