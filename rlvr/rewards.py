"""Verifiers -> TRL reward functions, and overlong reward shaping.

``VerifierReward`` is what ``Task.reward_funcs()`` returns: a callable class, not a closure, because TRL (and
``accelerate``'s multi-process launch) pickle reward functions. Its ``__name__`` is the metric name TRL logs
(``rewards/math/mean``). Rows the grader could not grade (status ``error``) return None, which TRL leaves out of the
group statistics instead of teaching the model that an outage is a wrong answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rlvr.scoring import DEFAULT_TIMEOUT, get_scorer
from rlvr.verifiers.base import get_verifier


def completion_text(completion: Any) -> str:
    """TRL hands completions as strings, or as chat messages [{"role": "assistant", "content": ...}]."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) if isinstance(m, dict) else str(m) for m in completion)
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    raise TypeError(f"cannot read a completion of type {type(completion).__name__}")


class VerifierReward:
    """A TRL reward function backed by a registered verifier and the shared scoring engine."""

    def __init__(
        self,
        verifier: str,
        *,
        reference_field: str = "reference",
        timeout: float = DEFAULT_TIMEOUT,
        workers: int | None = None,
        **options: Any,
    ) -> None:
        self.verifier_name = verifier
        self.options = options
        self.reference_field = reference_field
        self.timeout = timeout
        self.workers = workers
        self.__name__ = verifier
        self._verifier = get_verifier(verifier, **options)  # fail now on a bad name or option, not mid-training
        self.last_verdicts: list = []

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any):
        if self.reference_field not in kwargs:
            raise KeyError(
                f"reward {self.__name__!r}: the dataset has no {self.reference_field!r} column "
                f"(columns passed: {sorted(kwargs)})"
            )
        references = [self._decode(r) for r in kwargs[self.reference_field]]
        texts = [completion_text(c) for c in completions]
        scorer = get_scorer(self._verifier, workers=self.workers, timeout=self.timeout)
        verdicts = scorer.score(texts, references)
        self.last_verdicts = verdicts
        return [None if v.status == "error" else float(v.reward) for v in verdicts]

    def _decode(self, reference: Any) -> Any:
        if self._verifier.reference_kind == "json" and isinstance(reference, str):
            try:
                return json.loads(reference)
            except json.JSONDecodeError:
                return reference  # the verifier's own check reports it
        return reference

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["last_verdicts"] = []
        return state
