"""Benchmark metrics over k graded samples per problem: avg@k, unbiased pass@k, maj@k, bootstrap intervals.

One definition serves ``rlvr eval`` and the in-training ``EvalCallback``, so a number logged during training and a
number in ``results.json`` mean the same thing. Inputs are plain per-sample records (reward, correct, extracted
answer), never model objects, so the same code grades a checkpoint or an API model's saved generations.

Definitions (n = samples drawn for a problem, c = how many of them are correct):

- **avg@k** (``accuracy``): the mean reward over a problem's samples, then the mean over problems. With a 0/1
  verifier it is the expected pass@1, estimated from all k samples (lower variance than one greedy sample).
- **pass@k** (unbiased; Chen et al. 2021, "Evaluating Large Language Models Trained on Code", eq. 1):
  ``1 - C(n - c, k) / C(n, k)`` per problem, averaged over problems; computed as a running product so that large n
  never overflows. With k = n it is the fraction of problems with at least one correct sample.
- **maj@k**: majority vote over the *extracted* answers of the k samples. Samples with no extracted answer do not
  vote. Votes are grouped into equivalence classes: every answer the grader judged correct is equivalent to the
  reference and so to every other correct answer (one class), and the remaining answers are grouped by a light
  textual normalisation (``normalize_answer``: spacing, ``\\left``/``\\right``, ``\\dfrac``, ``$``, a trailing
  period, ``\\text{}`` wrappers...). The largest class wins; a tie goes to the class whose first member appears
  earliest in sample order (the behaviour of ``collections.Counter.most_common`` over answers in sample order, which
  common evaluation scripts use). The problem counts as solved when the winning class is the correct class. No
  answer at all from any sample: not solved.
- **ci95**: a percentile bootstrap over problems (problems are resampled with replacement; samples stay with their
  problem), 2,000 resamples with a fixed seed. The interval is widened, if ever needed, to contain the point estimate
  (percentile intervals of a skewed statistic on a handful of problems can otherwise exclude it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000


STATUSES = ("correct", "wrong", "no_answer", "timeout", "error")  # rlvr.verifiers.base.STATUSES


@dataclass(frozen=True)
class Sample:
    """One graded completion: its reward, whether the grader called it correct, the extracted answer and, when known,
    the verdict status (correct, wrong, no_answer, timeout, error)."""

    reward: float
    correct: bool
    extracted: str | None
    status: str | None = None


# ------------------------------------------------------------------------------------------------------ per problem


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with ``n`` samples of which ``c`` are correct (Chen et al. 2021, eq. 1)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n; got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    # 1 - prod_{i = n-c+1}^{n} (1 - k / i): the ratio C(n-c, k) / C(n, k) without huge binomials.
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


_NORMALIZE_DROP = re.compile(r"\\left|\\right|\\!|\\,|\\;|\\:|\\ |\$|\s+")
_TEXT_WRAP = re.compile(r"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}")
_DEGREES = re.compile(r"\^\{?\\circ\}?")


def normalize_answer(answer: str) -> str:
    """A cheap canonical form used to group equal-looking wrong answers for maj@k (never used to grade)."""
    s = _TEXT_WRAP.sub(r"\1", answer)
    s = _NORMALIZE_DROP.sub("", s)
    s = _DEGREES.sub("", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").rstrip(".")
    return s


def majority_vote(samples: Sequence[Sample]) -> tuple[str | None, bool]:
    """The winning answer of a maj@k vote and whether it is correct (see the module docstring for the rules)."""
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    shown: dict[str, str] = {}
    for i, s in enumerate(samples):
        if s.extracted is None:
            continue
        key = "\x00correct" if s.correct else normalize_answer(s.extracted)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, i)
        shown.setdefault(key, s.extracted)
    if not counts:
        return None, False
    winner = min(counts, key=lambda key: (-counts[key], first[key]))
    return shown[winner], winner == "\x00correct"


@dataclass(frozen=True)
class ProblemScore:
    """Per-problem figures; ``summarize`` averages these over problems."""

    accuracy: float
    pass_at_k: float
    maj_at_k: float
    majority_answer: str | None


def score_problem(samples: Sequence[Sample], k: int) -> ProblemScore:
    if not samples:
        raise ValueError("a problem needs at least one sample")
    n = len(samples)
    c = sum(1 for s in samples if s.correct)
    answer, maj_ok = majority_vote(samples)
    return ProblemScore(
        accuracy=sum(s.reward for s in samples) / n,
        pass_at_k=pass_at_k(n, c, min(k, n)),
        maj_at_k=1.0 if maj_ok else 0.0,
        majority_answer=answer,
    )


# ------------------------------------------------------------------------------------------------------ over problems


def bootstrap_ci(
    values: Sequence[float], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (one value per problem), widened to hold the mean."""
    x = np.asarray(values, dtype=float)  # (P,)
    if x.size == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(resamples, x.size))  # (R, P)
    means = x[idx].mean(axis=1)  # (R,)
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(means, [tail, 100.0 - tail])
    mean = float(x.mean())
    return float(min(lo, mean)), float(max(hi, mean))


def summarize(problems: Sequence[Sequence[Sample]], k: int | None = None, *, seed: int = 0) -> dict:
    """Benchmark figures over problems, each a list of its graded samples. ``k`` defaults to the fewest samples."""
    if not problems:
        raise ValueError("no problems to summarize")
    sizes = [len(p) for p in problems]
    k = k or min(sizes)
    scores = [score_problem(p, k) for p in problems]
    acc = [s.accuracy for s in scores]
    pak = [s.pass_at_k for s in scores]
    maj = [s.maj_at_k for s in scores]
    n_min = min(sizes)
    ks = sorted({2**j for j in range(n_min.bit_length()) if 2**j <= n_min} | {n_min})
    return {
        "problems": len(problems),
        "samples_per_problem": k,
        "samples_total": sum(sizes),
        "accuracy": float(np.mean(acc)),
        "pass_at_k": float(np.mean(pak)),
        "maj_at_k": float(np.mean(maj)),
        "ci95": list(bootstrap_ci(acc, seed=seed)),
        "pass_at_k_ci95": list(bootstrap_ci(pak, seed=seed)),
        "maj_at_k_ci95": list(bootstrap_ci(maj, seed=seed)),
        "pass_at": {str(j): float(np.mean([pass_at_k(len(p), _correct(p), j) for p in problems])) for j in ks},
        "no_answer_rate": sum(1 for p in problems for s in p if s.extracted is None) / sum(sizes),
        **_status_fractions(problems),
    }


def _status_fractions(problems: Sequence[Sequence[Sample]]) -> dict:
    """{"status_fractions": {status: fraction of samples}} when every sample carries its status (the same statuses
    training logs as rewards/<verifier>/status/*), else nothing."""
    statuses = [s.status for p in problems for s in p]
    if any(status is None for status in statuses):
        return {}
    return {"status_fractions": {name: statuses.count(name) / len(statuses) for name in STATUSES}}


def _correct(samples: Sequence[Sample]) -> int:
    return sum(1 for s in samples if s.correct)
