"""The verifier contract: ``(completion, reference) -> Verdict``, in two halves.

A verifier is a small frozen dataclass (pure, picklable, its fields are its options) with two methods:

- ``extract(completion) -> str | None``: find the answer (the last ``\\boxed{}``, the last python block...). Cheap and
  linear-time: the scoring engine runs it in the calling process to build the cache key.
- ``judge(extracted, reference) -> Verdict``: decide. This may be slow or hang on hostile input, so the scoring engine
  runs it in a killable worker process (``isolation = "process"``) or, for verifiers that bring their own isolation
  such as the Docker code runner, in a thread (``isolation = "thread"``).
- optionally ``quick_judge(extracted, reference) -> Verdict | None``: the same verdict, decided on the host when that is
  certain to be cheap (a plain number against a plain number); the engine then needs no worker for that row.

Three-way outcomes matter: ``error`` means the grader or the infrastructure failed, not the model, and training turns
it into a reward of None so an outage is never taught to the model as a wrong answer.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rlvr.registry import Registry

Status = Literal["correct", "wrong", "no_answer", "timeout", "error"]
STATUSES: tuple[str, ...] = ("correct", "wrong", "no_answer", "timeout", "error")


@dataclass(frozen=True)
class Verdict:
    """One graded completion. ``reward`` is in [0, 1] for built-in verifiers; ``detail`` says why."""

    reward: float
    status: Status
    extracted: str | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"Verdict.status must be one of {STATUSES}, got {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"reward": self.reward, "status": self.status, "extracted": self.extracted, "detail": self.detail}

    def with_extracted(self, extracted: str | None) -> Verdict:
        return self if self.extracted is not None else dataclasses.replace(self, extracted=extracted)


def correct(extracted: str | None, detail: str = "", reward: float = 1.0) -> Verdict:
    return Verdict(reward, "correct", extracted, detail)


def wrong(extracted: str | None, detail: str = "", reward: float = 0.0) -> Verdict:
    return Verdict(reward, "wrong", extracted, detail)


def no_answer(detail: str = "no final answer found") -> Verdict:
    return Verdict(0.0, "no_answer", None, detail)


def error(detail: str, extracted: str | None = None) -> Verdict:
    return Verdict(0.0, "error", extracted, detail)


class Verifier:
    """Base class. Subclasses are ``@dataclass(frozen=True)``; their fields are the verifier's options."""

    name: ClassVar[str] = ""
    isolation: ClassVar[Literal["process", "thread"]] = "process"
    # "json": references are objects; when they arrive as JSON text (a datasets column) they are decoded first.
    reference_kind: ClassVar[Literal["text", "json"]] = "text"

    def extract(self, completion: str) -> str | None:
        return completion

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        raise NotImplementedError

    def __call__(self, completion: str, reference: Any) -> Verdict:
        """Grade in this process, with no time limit. Use ``rlvr.scoring`` for many rows or untrusted answers."""
        extracted = self.extract(completion)
        if extracted is None:
            return no_answer()
        return self.judge(extracted, reference).with_extracted(extracted)

    def quick_judge(self, extracted: Any, reference: Any) -> Verdict | None:
        """The verdict of ``judge``, decided in the calling process where that is certain to be cheap, else None.

        The scoring engine tries this on the host before it sends a row to a worker process; a verdict returned here is
        taken as final, so it must equal what ``judge`` returns, and the call must take bounded time on any input
        (model text is hostile: no sympy, no unbounded work). None, the default, always sends the row to a worker.
        """
        return None

    def options(self) -> dict[str, Any]:
        return dataclasses.asdict(self) if dataclasses.is_dataclass(self) else {}

    def cache_key(self) -> str:
        """Identifies the verifier and its options in the scoring cache."""
        return f"{self.name}:{type(self).__qualname__}:{json.dumps(self.options(), sort_keys=True, default=repr)}"

    def check_reference(self, reference: Any) -> str | None:
        """Return a message when ``reference`` is malformed for this verifier, else None (used to fail fast on input)."""
        return None

    @classmethod
    def warm_up(cls) -> None:
        """Pay one-off costs (imports, parser tables) once, in the forkserver every grader process is forked from."""

    def concurrency(self) -> int | None:
        """For ``isolation = "thread"`` verifiers: how many rows to judge at once (None: the engine's worker count)."""
        return None


VERIFIERS: Registry[type[Verifier]] = Registry("verifier", "rlvr.verifiers")


def register_verifier(name: str, *, replace: bool = False):
    """Class decorator: ``@rlvr.register_verifier("my_checker")`` on a ``Verifier`` subclass.

    A plain function ``f(completion, reference) -> Verdict | float | bool`` is accepted too and wrapped; it must live at
    module level so that worker processes can import it.
    """

    def add(obj):
        cls = obj if isinstance(obj, type) else _function_verifier(name, obj)
        if not issubclass(cls, Verifier):
            raise TypeError(f"verifier {name!r} must subclass rlvr.Verifier or be a plain function")
        cls.name = name
        VERIFIERS.register(name, cls, replace=replace)
        return obj

    return add


def get_verifier(name: str, **options: Any) -> Verifier:
    """Instantiate a registered verifier with its options, e.g. ``get_verifier("format", pattern=r"...")``."""
    cls = VERIFIERS.get(name)
    try:
        return cls(**options)
    except TypeError as exc:
        fields = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []
        raise TypeError(
            f"bad options for verifier {name!r}: {exc}; it takes: {', '.join(fields) or 'no options'}"
        ) from None


def _function_verifier(name: str, fn) -> type[Verifier]:
    @dataclass(frozen=True)
    class FunctionVerifier(Verifier):
        __doc__ = fn.__doc__

        def judge(self, extracted: str | None, reference: Any) -> Verdict:
            return as_verdict(fn(extracted, reference), extracted)

    FunctionVerifier.__qualname__ = FunctionVerifier.__name__ = f"FunctionVerifier_{name}"
    FunctionVerifier.__module__ = fn.__module__
    FunctionVerifier._fn = staticmethod(fn)  # type: ignore[attr-defined]
    # Picklable by reference: the wrapper is reachable as an attribute of the function's module.
    import sys

    setattr(sys.modules[fn.__module__], FunctionVerifier.__qualname__, FunctionVerifier)
    return FunctionVerifier


def as_verdict(value: Verdict | float | bool, extracted: str | None) -> Verdict:
    if isinstance(value, Verdict):
        return value.with_extracted(extracted)
    reward = float(value)
    return Verdict(reward, "correct" if reward >= 1.0 else "wrong", extracted)
