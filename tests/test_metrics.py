"""avg@k, unbiased pass@k, maj@k and bootstrap intervals, checked against brute force and hand-computed values."""

from __future__ import annotations

import itertools
import math

import pytest

from rlvr.metrics import Sample, bootstrap_ci, majority_vote, normalize_answer, pass_at_k, summarize


def _brute_pass_at_k(n: int, c: int, k: int) -> float:
    """Fraction of all k-subsets of n samples (c of them correct) that hold at least one correct sample."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_equals_enumeration_over_subsets(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(_brute_pass_at_k(n, c, k), abs=1e-12), (n, c, k)


def test_pass_at_k_matches_the_binomial_formula_for_large_n() -> None:
    n, c, k = 200, 13, 16
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), rel=1e-10)


def test_pass_at_1_is_the_fraction_correct_and_pass_at_n_is_any_correct() -> None:
    assert pass_at_k(8, 3, 1) == pytest.approx(3 / 8)
    assert pass_at_k(8, 1, 8) == 1.0
    assert pass_at_k(8, 0, 8) == 0.0


@pytest.mark.parametrize("n, c, k", [(4, 5, 1), (4, -1, 1), (4, 2, 0), (4, 2, 5)])
def test_pass_at_k_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="pass@k"):
        pass_at_k(n, c, k)


def S(answer: str | None, correct: bool = False) -> Sample:
    return Sample(1.0 if correct else 0.0, correct, answer)


MAJORITY_CASES = [
    # (samples, expected winning answer, expected correctness)
    pytest.param([S("3"), S("3"), S("4", True)], "3", False, id="plain-majority-wrong"),
    pytest.param([S("4", True), S("3"), S("4", True)], "4", True, id="plain-majority-correct"),
    pytest.param([S("0.5", True), S("\\frac{1}{2}", True), S("3"), S("3")], "0.5", True, id="tie-first-seen-wins"),
    pytest.param(
        [S("3"), S("0.5", True), S("\\frac{1}{2}", True), S("3")], "3", False, id="tie-first-seen-wins-wrong"
    ),
    pytest.param(
        [S("0.5", True), S("\\frac12", True), S("3"), S(None), S(None), S(None)],
        "0.5",
        True,
        id="no-answer-does-not-vote",
    ),
    pytest.param(
        [S("\\dfrac{1}{3}"), S("\\frac{1}{3}"), S("1/2", True)],
        "\\dfrac{1}{3}",
        False,
        id="wrong-answers-grouped-by-normal-form",
    ),
    pytest.param([S("5", True), S("7"), S("8")], "5", True, id="all-distinct-first-wins"),
    pytest.param([S(None), S(None)], None, False, id="no-answers-at-all"),
]


@pytest.mark.parametrize("samples, answer, ok", MAJORITY_CASES)
def test_majority_vote(samples: list[Sample], answer: str | None, ok: bool) -> None:
    assert majority_vote(samples) == (answer, ok)


@pytest.mark.parametrize(
    "a, b",
    [
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"),
        ("90^\\circ", "90"),
        ("\\text{Evelyn}", "Evelyn"),
        ("$5$.", "5"),
        ("\\tfrac{1}{2}", "\\frac{1}{2}"),
    ],
)
def test_normalize_answer_groups_spellings(a: str, b: str) -> None:
    assert normalize_answer(a) == normalize_answer(b)


def test_normalize_answer_keeps_different_answers_apart() -> None:
    assert normalize_answer("12") != normalize_answer("1.2")
    assert normalize_answer("-3") != normalize_answer("3")


def test_bootstrap_interval_holds_the_mean_narrows_with_more_problems_and_is_seeded() -> None:
    few = [1.0, 0.0, 0.5, 1.0, 0.0, 0.0, 1.0, 0.25]
    lo, hi = bootstrap_ci(few)
    assert 0.0 <= lo <= sum(few) / len(few) <= hi <= 1.0
    many = few * 50
    lo2, hi2 = bootstrap_ci(many)
    assert hi2 - lo2 < (hi - lo) / 4  # width ~ 1/sqrt(P): 50x the problems, ~7x narrower
    assert bootstrap_ci(few, seed=3) == bootstrap_ci(few, seed=3)
    assert bootstrap_ci([1.0] * 5) == (1.0, 1.0)


def test_bootstrap_interval_of_a_binomial_mean_is_close_to_the_normal_approximation() -> None:
    values = [1.0] * 300 + [0.0] * 200  # p = 0.6, P = 500
    lo, hi = bootstrap_ci(values)
    half = 1.96 * math.sqrt(0.6 * 0.4 / 500)
    assert lo == pytest.approx(0.6 - half, abs=0.01) and hi == pytest.approx(0.6 + half, abs=0.01)


def test_summarize_hand_computed() -> None:
    problems = [
        [S("2", True), S("3"), S("2", True), S("2", True)],  # avg 3/4, pass@4 1, maj correct
        [S("7"), S("7"), S("5", True), S(None)],  # avg 1/4, pass@4 1, maj wrong
        [S("1"), S("0"), S(None), S(None)],  # avg 0, pass 0, maj wrong
    ]
    r = summarize(problems)
    assert r["problems"] == 3 and r["samples_per_problem"] == 4 and r["samples_total"] == 12
    assert r["accuracy"] == pytest.approx((0.75 + 0.25 + 0.0) / 3)
    assert r["pass_at_k"] == pytest.approx(2 / 3)
    assert r["maj_at_k"] == pytest.approx(1 / 3)
    assert r["pass_at"]["1"] == pytest.approx(r["accuracy"])
    assert r["pass_at"]["2"] == pytest.approx((1 + 0.5 + 0) / 3)  # 1 - C(1,2)/C(4,2) = 1; 1 - C(3,2)/C(4,2) = 1/2
    assert r["no_answer_rate"] == pytest.approx(3 / 12)
    lo, hi = r["ci95"]
    assert lo <= r["accuracy"] <= hi


def test_summarize_refuses_nothing() -> None:
    with pytest.raises(ValueError):
        summarize([])
