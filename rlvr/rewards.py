"""Verifiers -> TRL reward functions, and overlong reward shaping.

``VerifierReward`` is what ``Task.reward_funcs()`` returns: a callable class, not a closure, because TRL (and
``accelerate``'s multi-process launch) pickle reward functions. Its ``__name__`` is the metric name TRL logs
(``rewards/math/mean``). Rows the grader could not grade (status ``error``) return None, which TRL leaves out of the
group statistics instead of teaching the model that an outage is a wrong answer.
"""

from __future__ import annotations

import json
import time
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


_MAX_PENDING = 2  # prefetched grading jobs a VerifierReward keeps: this round's and a speculative next round's


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
        self.last_seconds = 0.0  # grading time of the last batch (the scorer's own clock)
        self.last_wait = 0.0  # how long the last call blocked on it
        self.last_prefetched = False  # did the last call collect a prefetched grading job?
        self._pending: list[tuple[list[str], list[Any], Any]] = []  # prefetched jobs not yet collected, oldest first

    def prefetch(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any) -> None:
        """Start grading these completions in the background (``Scorer.submit``); a later call with the same
        completions and references collects the result instead of grading again. The trainer calls this as soon as
        completions are decoded, so grading overlaps the log-prob passes (and, with speculative resampling, the next
        round's batch is prefetched while this one is still pending: two jobs at most are kept)."""
        texts, raw = self._inputs(completions, kwargs)
        future = self._scorer().submit(texts, [self._decode(r) for r in raw])
        self._pending = [*self._pending[-(_MAX_PENDING - 1) :], (texts, raw, future)]

    def grading(self) -> bool:
        """Is a prefetched grading job still running?"""
        return any(not job[2].done() for job in self._pending)

    def discard(self, completions: Sequence[Any], **kwargs: Any) -> None:
        """Forget a prefetched job that will never be collected (a speculative round the trainer threw away); its
        grading is cancelled if it has not started."""
        texts, raw = self._inputs(completions, kwargs)
        for job in [j for j in self._pending if j[0] == texts and j[1] == raw]:
            job[2].cancel()
            self._pending.remove(job)

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any):
        texts, raw = self._inputs(completions, kwargs)
        pending = next((job for job in self._pending if job[0] == texts and job[1] == raw), None)
        self._pending = [job for job in self._pending if job is not pending]
        start = time.perf_counter()
        self.last_prefetched = pending is not None
        if pending is not None:
            future = pending[2]
        else:  # nothing prefetched (or other rows): grade now
            future = self._scorer().submit(texts, [self._decode(r) for r in raw])
        verdicts = future.result()
        self.last_wait = time.perf_counter() - start
        self.last_seconds = future.stats.seconds if future.stats is not None else self.last_wait
        self.last_verdicts = verdicts
        return [None if v.status == "error" else float(v.reward) for v in verdicts]

    def _inputs(self, completions: Sequence[Any], kwargs: dict[str, Any]) -> tuple[list[str], list[Any]]:
        if self.reference_field not in kwargs:
            raise KeyError(
                f"reward {self.__name__!r}: the dataset has no {self.reference_field!r} column "
                f"(columns passed: {sorted(kwargs)})"
            )
        return [completion_text(c) for c in completions], list(kwargs[self.reference_field])

    def _scorer(self):
        return get_scorer(self._verifier, workers=self.workers, timeout=self.timeout)

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
        state["_pending"] = []  # a Future does not pickle, and belongs to this process
        return state


# --------------------------------------------------------------------------------------------------------------------
# Overlong reward shaping (DAPO, Yu et al. 2025, sec. 3.4)


def overlong_penalty(length: Any, *, max_length: int, buffer: int, factor: float = 1.0) -> Any:
    """DAPO's soft overlong punishment (eq. 13) for a completion of ``length`` tokens; an int/float or a tensor.

    0 while length <= max_length - buffer; then linear, (max_length - buffer - length) / buffer * factor, down to
    -factor at max_length; -factor beyond. ``buffer`` = 0 gives a hard cliff: 0 up to max_length, -factor beyond.
    """
    if buffer < 0 or buffer > max_length:
        raise ValueError(f"overlong buffer must be in [0, max_length={max_length}]; got {buffer}")
    start = max_length - buffer
    if hasattr(length, "clamp"):  # a torch tensor: the same formula, elementwise
        excess = (length.to(dtype=_float_dtype(length)) - start).clamp(min=0.0)
        if buffer == 0:
            return -factor * (excess > 0).to(excess.dtype)
        return -factor * (excess / buffer).clamp(max=1.0)
    excess = max(float(length) - start, 0.0)
    if buffer == 0:
        return -float(factor) if excess > 0 else 0.0
    return -float(factor) * min(excess / buffer, 1.0)


def _float_dtype(tensor: Any) -> Any:
    import torch  # lazily: verifier-only users of this module need no torch

    return tensor.dtype if tensor.is_floating_point() else torch.float32


class OverlongPenalty:
    """A TRL reward function: ``overlong_penalty`` of each completion's token count (TRL passes ``completion_ids``).

    The trainer adds it (weight 1) when ``overlong_buffer`` > 0, so it is logged as ``rewards/overlong_penalty/mean``
    and summed into the reward before the group advantages are computed. A callable class so that it pickles.
    """

    __name__ = "overlong_penalty"

    def __init__(self, *, max_length: int, buffer: int, factor: float = 1.0) -> None:
        overlong_penalty(0, max_length=max_length, buffer=buffer, factor=factor)  # validate now, not mid-training
        self.max_length, self.buffer, self.factor = max_length, buffer, factor

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any):
        completion_ids = kwargs.get("completion_ids")
        if completion_ids is None:
            raise KeyError("overlong_penalty needs the completion token ids (TRL passes them as completion_ids=)")
        return [
            overlong_penalty(len(ids), max_length=self.max_length, buffer=self.buffer, factor=self.factor)
            for ids in completion_ids
        ]


# --------------------------------------------------------------------------------------------------------------------
# Step rewards (process supervision)


class StepRewards(float):
    """A reward with per-step parts, for ``RLVRConfig(advantage="process")``: ``steps`` is a list of
    (end token offset, reward) pairs, the step ending before completion token ``end`` (exclusive). Its float value,
    the sum of the step rewards, is what TRL logs; the trainer reads ``steps``. A reward function returns these
    where it has step rewards, plain floats (one step ending at the last token) or None (ungraded) elsewhere."""

    steps: list[tuple[int, float]]

    def __new__(cls, steps: Sequence[tuple[int, float]]) -> StepRewards:
        parts = [(int(end), float(reward)) for end, reward in steps]
        if not parts:
            raise ValueError("StepRewards needs at least one (end offset, reward) step")
        if any(end <= 0 for end, _ in parts):
            raise ValueError(f"step end offsets must be positive token counts; got {[e for e, _ in parts]}")
        value = super().__new__(cls, sum(r for _, r in parts))
        value.steps = parts
        return value

    def __reduce__(self):
        return (StepRewards, (self.steps,))


class StepCapture:
    """Wraps a synchronous reward function and keeps its raw return values, so that the trainer can read the
    ``StepRewards`` that TRL turns into plain floats. Picklable; keeps the wrapped function's ``__name__``."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.__name__ = getattr(func, "__name__", type(func).__name__)
        self.last: list[Any] = []

    def __call__(self, *args: Any, **kwargs: Any) -> list[Any]:
        self.last = list(self.func(*args, **kwargs))
        return self.last

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "last": []}
