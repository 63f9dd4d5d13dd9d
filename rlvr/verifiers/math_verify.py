"""The ``math_verify`` verifier: plain Math-Verify, as its README uses it, for a second opinion beside ``math``.

``parse(completion)`` with Math-Verify's default extraction (LaTeX, then plain expressions, anywhere in the text),
``parse("$reference$")`` for the gold answer, then ``verify(gold, answer)``; nothing of rlvr's own rules (hedges,
answer lines, list references, tolerances). It exists to audit the ``math`` verifier during training
(``RLVRConfig(audit_fraction=0.1, audit_verifier="math_verify")``, or ``--audit_verifier math_verify``): the
disagreement rate between the two is logged per step, with the disagreeing rows in the completions table.

Pure and picklable. Math-Verify's own time limits use SIGALRM, which silently does nothing off the main thread, so
they are switched off here and the scoring engine's per-row timeout (a killable worker process) bounds every row.
``extract`` only trims the completion: Math-Verify's parser is not linear-time, so all parsing runs in the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rlvr.verifiers.base import Verdict, Verifier, correct, no_answer, register_verifier, wrong


def _quiet() -> None:
    """Math-Verify logs a warning on every call whose timeout is off; in the scoring engine's workers that is
    deliberate (the engine kills a row that runs past its limit)."""
    import logging

    for name in ("math_verify", "latex2sympy2_extended"):
        logging.getLogger(name).setLevel(logging.ERROR)


@register_verifier("math_verify")
@dataclass(frozen=True)
class PlainMathVerify(Verifier):
    """Plain Math-Verify: parse(completion) with its defaults, verify against parse("$reference$")."""

    def extract(self, completion: str) -> str | None:
        return completion if completion.strip() else None

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        from math_verify import parse, verify

        _quiet()
        if extracted is None:
            return no_answer()
        answer = parse(extracted, parsing_timeout=None)
        if not answer:
            return no_answer("math-verify found no answer")
        shown = str(answer[-1])  # Math-Verify's answer string (the text it parsed), for the logs
        gold = parse(f"${reference}$", parsing_timeout=None)
        if not gold:
            return wrong(shown, f"math-verify cannot parse the reference {str(reference)[:80]!r}")
        ok = verify(gold, answer, timeout_seconds=None)
        return correct(shown, "math-verify: equivalent") if ok else wrong(shown, "math-verify: not equivalent")

    def check_reference(self, reference: Any) -> str | None:
        if reference is None or not str(reference).strip():
            return "the math_verify verifier needs a non-empty reference answer"
        return None

    @classmethod
    def warm_up(cls) -> None:
        """Import Math-Verify and its LaTeX grammar once, in the forkserver the grader workers fork from."""
        _quiet()
        from math_verify import parse, verify

        verify(parse("$1/2$", parsing_timeout=None), parse("$0.5$", parsing_timeout=None), timeout_seconds=None)
