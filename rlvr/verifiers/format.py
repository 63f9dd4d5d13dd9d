"""The ``format`` verifier: does the completion have the shape the prompt asked for?

Default shape (the R1-style template): a ``<think>...</think>`` block, then an answer that contains ``\\boxed{...}``.
Reward 1.0 when the regex matches, else 0.0 with the reason. Pass ``pattern=`` for another shape; the pattern is
matched with ``re.search`` and ``re.DOTALL`` unless ``fullmatch=True``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rlvr.verifiers.base import Verdict, Verifier, correct, register_verifier, wrong

DEFAULT_PATTERN = r"^\s*<think>(?:(?!</?think>).)+</think>(?:(?!</?think>).)*\\boxed\{.+\}(?:(?!</?think>).)*$"


@lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error as exc:
        raise ValueError(f"format verifier: bad regex {pattern!r}: {exc}") from None


@register_verifier("format")
@dataclass(frozen=True)
class FormatVerifier(Verifier):
    """Regex format check (default: <think>...</think> then an answer in \\boxed{}); reward 1 or 0."""

    pattern: str = DEFAULT_PATTERN
    fullmatch: bool = False

    def __post_init__(self) -> None:
        _compile(self.pattern)  # a bad pattern fails when the verifier is built, not on the first row

    def extract(self, completion: str) -> str | None:
        return completion

    def judge(self, extracted: str | None, reference: Any = None) -> Verdict:
        text = extracted or ""
        regex = _compile(self.pattern)
        found = regex.fullmatch(text) if self.fullmatch else regex.search(text)
        if found:
            return correct(None, "format ok")
        return wrong(None, self._reason(text))

    def _reason(self, text: str) -> str:
        if self.pattern != DEFAULT_PATTERN:
            return f"does not match {self.pattern!r}"
        opens, closes = text.count("<think>"), text.count("</think>")
        if opens == 0 or closes == 0:
            return "no <think>...</think> block"
        if opens > 1 or closes > 1:
            return f"expected one <think> block, found {opens} opening and {closes} closing tags"
        if not text.lstrip().startswith("<think>"):
            return "text before <think>"
        if "\\boxed{" not in text.split("</think>", 1)[1]:
            return "no \\boxed{} answer after </think>"
        return "empty <think> block or malformed answer"
