"""The ``math`` verifier: find a completion's final answer, then decide whether it equals the reference.

Two halves that run in two places, as the :class:`~rlvr.verifiers.base.Verifier` contract asks:

- ``extract.py`` (host, linear time, no sympy): where the answer is (boxes, answer lines, a concluding sentence);
- ``normalize.py`` (string rules, linear) and ``equivalence.py`` (worker, may be slow): whether it equals the
  reference, in a killable worker process;
- ``quick.py`` (string and float work, bounded): disproofs that sympy would confirm, tried right before sympy, so
  that most wrong answers are decided on the host (``quick_judge``) with the worker's own verdict.

Several answers (the rule, decided by the reference's shape)
-----------------------------------------------------------
A completion may box more than one distinct answer (``\\boxed{-2} and \\boxed{1}``), or give several on its answer
line (``$x=2$ or $x=3$``). What that means depends on the reference:

- the reference is **one value** (a number, an expression, a tuple, an interval): several distinct answers are a
  hedge, correct only if every one of them is equivalent to the reference;
- the reference is a **list or set of k values** (``1,-2``; ``(2, 2), (6, 2)``; ``\\{1, 3\\}``; ``\\pm 2021``):
  exactly k distinct boxes are read together as the list, in any order (a box per root or per sub-question), and
  labelled parts (``a = 3``, ``(b) 5``, ``Subproblem 2: 5``) are read by their values; any other number of boxes is
  graded as a hedge;
- a completion that walks through a Minerva prompt's sub-problems from the start (``Subproblem 0: ... \\boxed{7e37}
  ... Subproblem 1: ... \\boxed{8.7e8}``) is read from its last answered sub-problem, the one asked; one that answers
  and then invents the next sub-problem is read up to it (``extract.py``).

Options (each validated, with a message that says what to do): ``format`` (where the answer is: ``auto``, ``boxed``,
``gsm8k`` for ``#### N`` / ``The answer is N`` / ``A: N``, ``minerva`` for ``Final Answer: The final answer is X. I
hope it is correct.``), ``answer_pattern`` (a regular expression with one group, last match wins), ``rel_tol`` (a
relative tolerance for decimal references) and ``prose_fallback`` (read an unboxed answer line or concluding sentence
when the format's own place holds nothing). From the command line: ``rlvr score --verifier math --option
format=gsm8k --option rel_tol=0.01``; on a task: ``verifier_options = {"math": {"format": "boxed"}}``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from rlvr.verifiers.base import Verdict, Verifier, correct, no_answer, register_verifier, wrong
from rlvr.verifiers.math.equivalence import _LABEL, NeedsWorker, _parse, _quiet, _shape, equivalent, host_only
from rlvr.verifiers.math.extract import FORMATS, HEDGE_SEP, extract_answer
from rlvr.verifiers.math.normalize import normalize

MAX_HEDGE = 8  # distinct answers graded one by one; more than this is wrong outright
HOST_MAX_CHARS = 400  # answers and references longer than this are always judged in a worker, never on the host


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.MULTILINE)


@register_verifier("math")
@dataclass(frozen=True)
class MathVerifier(Verifier):
    """Final-answer equivalence for math: last \\boxed{} or answer line; math-verify + sympy with rlvr's own rules."""

    format: str = "auto"
    answer_pattern: str | None = None
    rel_tol: float = 0.0
    prose_fallback: bool = True

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"math verifier: format must be one of {', '.join(FORMATS)}; got {self.format!r}")
        if self.answer_pattern is not None:
            self._check_pattern(self.answer_pattern)
        if isinstance(self.rel_tol, bool) or not isinstance(self.rel_tol, (int, float)) or not 0 <= self.rel_tol < 1:
            raise ValueError(
                f"math verifier: rel_tol must be a number in [0, 1), e.g. 0.01 for 1%; got {self.rel_tol!r}"
            )
        if not isinstance(self.prose_fallback, bool):
            raise ValueError(f"math verifier: prose_fallback must be true or false; got {self.prose_fallback!r}")

    def _check_pattern(self, pattern: Any) -> None:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"math verifier: answer_pattern must be a non-empty regular expression; got {pattern!r}")
        if self.format != "auto":
            raise ValueError("math verifier: give either format or answer_pattern, not both")
        try:
            groups = _compiled(pattern).groups
        except re.error as exc:
            raise ValueError(f"math verifier: answer_pattern {pattern!r} is not a regular expression: {exc}") from None
        if groups != 1:
            raise ValueError(
                f"math verifier: answer_pattern must have exactly one capturing group (the answer), got {groups}; "
                "write other groups as (?:...)"
            )

    def extract(self, completion: str) -> str | None:
        pattern = _compiled(self.answer_pattern) if self.answer_pattern else None
        return extract_answer(completion, format=self.format, pattern=pattern, prose_fallback=self.prose_fallback)

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        _quiet()
        return self._decide(extracted, reference)

    def quick_judge(self, extracted: Any, reference: Any) -> Verdict | None:
        """``judge``'s own verdict, reached on the host when no step needs sympy (plain numbers, equal spellings,
        shapes, words, letters, a numeric disproof), else None and the row goes to a worker.

        Safe on hostile text because both sides are short (:data:`HOST_MAX_CHARS`): everything before sympy is string
        work, linear or at worst quadratic in that length. Any exception also sends the row to a worker, which gives
        the verdict it always gave (``error``, ``wrong`` for a RecursionError, ...).
        """
        if not isinstance(extracted, str) or len(extracted) > HOST_MAX_CHARS or len(str(reference)) > HOST_MAX_CHARS:
            return None
        try:
            with host_only():
                return self._decide(extracted, reference)
        except NeedsWorker:
            return None
        except Exception:  # the worker's handling decides what a failure means
            return None

    def _decide(self, extracted: str | None, reference: Any) -> Verdict:
        if extracted is None or not str(extracted).strip():
            return no_answer()
        gold = str(reference)
        candidates = [c for c in str(extracted).split(HEDGE_SEP) if c.strip()]
        if len(candidates) > 1:
            return self._judge_several(extracted, candidates, gold)
        ok, detail = equivalent(candidates[0], gold, self.rel_tol)
        return correct(extracted, detail) if ok else wrong(extracted, detail or "not equivalent")

    def _judge_several(self, extracted: str, candidates: list[str], gold: str) -> Verdict:
        """Several distinct answers: the parts of a list reference, or else a hedge (see the module docstring)."""
        parts = [_LABEL.sub("", c.strip()) for c in candidates]
        reference = _shape(normalize(gold))
        single = all(_shape(normalize(part)).kind not in ("list", "set") for part in parts)  # "{1,3}" twice: no list
        if reference.kind in ("list", "set") and len(parts) == len(reference.items) and single:
            ok, detail = equivalent(", ".join(parts), gold, self.rel_tol)
            return correct(extracted, "one box per part") if ok else wrong(extracted, detail or "not equivalent")
        shown = " and ".join(candidates[:4])
        if len(candidates) > MAX_HEDGE:
            return wrong(extracted, f"hedged between {len(candidates)} different answers")
        results = [equivalent(c, gold, self.rel_tol)[0] for c in candidates]
        if all(results):
            return correct(extracted, "repeated boxed answers agree")
        if any(results):
            return wrong(extracted, f"hedged between {shown}")
        return wrong(extracted, f"hedged between {shown}; none is equivalent")

    @classmethod
    def warm_up(cls) -> None:
        """Import math-verify, sympy and the LaTeX grammar once, in the forkserver (see scoring.py).

        A worker forked after this, a replacement for a killed one too, needs no imports. Deliberately minimal:
        ANTLR learns each new answer shape in the worker that meets it, and parsing a list of shapes here would delay
        the start of every one-shot `rlvr score` more than it saves (measured with benchmarks/bench_math_scoring.py).
        Two imports that each worker would otherwise pay on its first answer are done here: ``sympy.physics.units``,
        which ``sympy.simplify`` imports on every call (0.1 s of CPU the first time), and the disproofs before sympy.
        """
        _quiet()
        import sympy.physics.units  # noqa: F401
        from math_verify import verify

        import rlvr.verifiers.math.quick  # noqa: F401

        verify(_parse("\\frac{1}{2}"), _parse("x"), timeout_seconds=None)
        _parse.cache_clear()

    def check_reference(self, reference: Any) -> str | None:
        if reference is None or not str(reference).strip():
            return "the math verifier needs a non-empty reference answer"
        return None


__all__ = ["HEDGE_SEP", "MathVerifier", "extract_answer"]
