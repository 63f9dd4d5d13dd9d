"""The cheap numeric disproof of the ``math`` verifier is sound: it never calls a true identity "different".

A disproof that is wrong is a false negative no later stage can repair, so the evaluator refuses whatever has a
branch choice (roots and non-integer powers of negative or complex values), functions, and names it does not know.
Here: true identities with constants (``i``, ``e``, ``\\pi``), roots, powers, subscripted names and equations must
never be disproved, while plainly different expressions must be, so that the test can fail both ways.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.verifiers.math.equivalence import _equations_same, _surely_different
from rlvr.verifiers.math.normalize import normalize

IDENTITIES = [
    ("\\frac{1}{2}", "0.5"),
    ("i^2", "-1"),
    ("i^{4}", "1"),
    ("e^{i\\pi}", "-1"),  # a complex exponent: not evaluated, left to sympy
    ("2\\pi", "\\pi+\\pi"),
    ("(-8)^{1/3}", "-2"),  # the real cube root is a branch choice: never disproved
    ("\\sqrt[3]{-8}", "-2"),
    ("\\sqrt{-4}", "2i"),
    ("(x^3)^{1/3}", "x"),
    ("(x^{1/2})^2", "x"),
    ("\\sqrt{x^2}", "x"),  # false for x < 0, but not the cheap check's to decide
    ("x^{2/2}", "x"),
    ("\\frac{x^2-1}{x-1}", "x+1"),
    ("(a+b)^2", "a^2+2ab+b^2"),
    ("\\frac{L_{\\odot}}{4\\pi d^2}", "\\frac{L_{\\odot}}{4 \\pi d^{2}}"),
    ("E_1 + E_2", "E_2 + E_1"),
    ("\\sin 30^\\circ", "\\frac{1}{2}"),
    ("e^{2}", "e\\cdot e"),
    ("2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}"),
    ("(x+10^{8})^2-10^{16}-2\\cdot 10^{8}x", "x^2"),  # doubles lose all of x^2 in the cancellation
    ("(x+10^{20})^2-10^{40}-2\\cdot 10^{20}x=y", "y=x^2"),
    ("(10^{8}+0.5)^2-10^{16}-10^{8}", "0.25"),
]
DIFFERENT = [
    ("x^2+2x+1", "x^3+2x+1"),
    ("\\frac{1}{2^{9}}", "\\frac{1}{2^{8}}"),
    ("a \\cdot b", "a+b"),
    ("E_1 - E_2", "E_2 - E_1"),
    ("2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{5}{4}"),
    ("3i", "-3i"),
]


@pytest.mark.parametrize(("a", "b"), IDENTITIES)
def test_true_identities_are_never_disproved(a: str, b: str) -> None:
    p, g = normalize(a), normalize(b)
    assert not _surely_different(p, g) and not _surely_different(g, p)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_expressions_are_disproved(a: str, b: str) -> None:
    assert _surely_different(normalize(a), normalize(b))


def test_equations_are_the_same_up_to_a_factor() -> None:
    assert _equations_same("2x+4y-3=0", normalize("y=-\\frac{1}{2}x+\\frac{3}{4}"))
    assert _equations_same("x+y=1", "2x+2y=2")
    assert _equations_same("x+y=1", "x-y=1") is False


terms = st.sampled_from(["x", "y", "2", "3", "\\pi", "i", "e", "(x+1)", "\\frac{1}{2}", "x^2", "\\sqrt{2}"])


@settings(max_examples=200, deadline=None)
@given(st.lists(terms, min_size=1, max_size=5), st.lists(terms, min_size=1, max_size=5))
def test_reordered_sums_and_products_are_never_disproved(left: list[str], right: list[str]) -> None:
    """a + b + c and c + b + a (and the products) are one value: the evaluator must agree at every point."""
    for op in ("+", "\\cdot "):
        a = op.join(left + right)
        b = op.join(right[::-1] + left[::-1])
        assert not _surely_different(normalize(a), normalize(b)), (a, b)
