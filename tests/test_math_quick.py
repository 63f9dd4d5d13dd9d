"""The host shortcut of the ``math`` verifier (``MathVerifier.quick_judge``): the worker's verdict or none, always fast.

The scoring engine takes a verdict from ``quick_judge`` in the calling process, with no worker and so no time limit.
Two promises are checked here:

- **Same verdict.** Wherever it answers, it answers what ``judge`` (the worker's code) answers: on every row of the
  hand-labelled tables, on OpenAI's published GSM8K solutions when the local mirror is there, on hostile numbers
  (``nan``, ``1e999``, unicode digits, 10^100000 written out) and on random answers (hypothesis).
- **Bounded time on hostile text.** Answers and references longer than ``HOST_MAX_CHARS`` are never judged on the host;
  up to that length the worst constructions we know (quadratic set matching, long digit runs, nested brackets,
  chains, hedges) and random token soup take under 50 ms.

And through the engine: a batch decided entirely on the host starts no worker process, while a row that needs sympy
still goes to a killable worker.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlvr.scoring import Scorer
from rlvr.verifiers.math import HEDGE_SEP, HOST_MAX_CHARS, MathVerifier
from rlvr.verifiers.math.equivalence import _parse, _shape, _sympy_verdict
from rlvr.verifiers.math.normalize import normalize
from rlvr.verifiers.math.numeric import _point
from rlvr.verifiers.math.quick import (
    _AMBIGUOUS,
    LEXER_NAMES,
    MAX_CHARS,
    REAL_POINT,
    _constant,
    _function_value,
    _real_point,
    _symbol_name,
    certainly_different,
    certainly_equal,
    read,
)

DATA = Path(__file__).parent / "data"
GSM8K_MIRROR = Path("/work/.mirror/openai+grade-school-math/repo")
LIMIT_S = 0.050
VERIFIERS = [MathVerifier(), MathVerifier(rel_tol=0.01), MathVerifier(format="gsm8k")]


def _agrees(verifier: MathVerifier, extracted: str, reference: str) -> bool:
    """True when the host gives no verdict, or the same verdict as ``judge``."""
    quick = verifier.quick_judge(extracted, reference)
    return quick is None or quick == verifier.judge(extracted, reference)


def _best_of_three(verifier: MathVerifier, extracted: str, reference: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        verifier.quick_judge(extracted, reference)
        best = min(best, time.perf_counter() - start)
        if best < LIMIT_S:
            break
    return best


def _table_pairs() -> list[tuple[str, str]]:
    pairs = []
    for path in sorted(DATA.glob("math_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "completion" in row and "reference" in row:
                pairs.append((row["completion"], str(row["reference"])))
    return pairs


def test_same_verdict_as_the_worker_on_every_labelled_table_row():
    pairs = _table_pairs()
    assert len(pairs) > 1000, "the hand-labelled tables are missing"
    decided = 0
    for verifier in VERIFIERS:
        for completion, reference in pairs:
            extracted = verifier.extract(completion)
            if extracted is None:
                continue
            quick = verifier.quick_judge(extracted, reference)
            if quick is not None:
                decided += 1
                assert quick == verifier.judge(extracted, reference), (verifier, extracted, reference)
    assert decided > len(pairs), "the host shortcut decided almost nothing; the test checks nothing"


@pytest.mark.skipif(not GSM8K_MIRROR.exists(), reason="no local mirror of openai/grade-school-math")
def test_same_verdict_on_openai_published_gsm8k_solutions():
    path = "grade_school_math/data/example_model_solutions.jsonl"
    text = subprocess.run(["git", "-C", str(GSM8K_MIRROR), "show", f"HEAD:{path}"], capture_output=True, text=True)
    verifier, decided = MathVerifier(), 0
    for line in text.stdout.splitlines():
        row = json.loads(line)
        gold = row["ground_truth"].rsplit("A:", 1)[1].strip()
        for sample in (v for v in row.values() if isinstance(v, dict)):
            extracted = verifier.extract(sample["solution"])
            if extracted is not None and (quick := verifier.quick_judge(extracted, gold)) is not None:
                decided += 1
                assert quick == verifier.judge(extracted, gold), (extracted, gold)
    assert decided > 4000


LABRE_MIRROR = Path("/work/.mirror/labrem+neus2026-labre/repo")


@pytest.mark.skipif(not LABRE_MIRROR.exists(), reason="no local mirror of labrem/neus2026-labre")
def test_same_verdict_on_published_math500_generations():
    """3,000 MATH-500 generations of three models (benchmarks/bench_math_scoring.py --real labre-math500)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench", Path(__file__).parents[1] / "benchmarks/bench_math_scoring.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    verifier, decided, rows = MathVerifier(), 0, bench.labre_rows()[1]
    for row in rows:
        extracted = verifier.extract(row["completion"])
        if extracted is not None and (quick := verifier.quick_judge(extracted, row["reference"])) is not None:
            decided += 1
            assert quick == verifier.judge(extracted, row["reference"]), (extracted, row["reference"])
    assert decided > 2000
    pairs, texts = _normalised([(row["completion"], row["reference"]) for row in rows])
    assert _sound(pairs) > 50  # and the disproofs that decided some of them are sympy's verdicts
    assert _reads_alike(texts) > 500


# ------------------------------------------------- the disproofs before sympy (quick.py) against sympy itself


def _normalised(pairs: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], set[str]]:
    """The (answer, reference) pairs as ``_sympy_equal`` sees them (normalised, and item by item), and every side."""
    verifier, out = MathVerifier(), []
    for completion, reference in pairs:
        extracted = verifier.extract(completion)
        for part in (extracted or "").split(HEDGE_SEP):
            if part.strip():
                p, g = normalize(part), normalize(reference)
                out.append((p, g))
                out += list(zip(_shape(p).items, _shape(g).items))
    return out, {side for pair in out for side in pair}


def _sound(pairs: list[tuple[str, str]]) -> int:
    """Every pair the disproofs call different is different to sympy too, and every pair called equal is equal to it;
    returns how many they decided."""
    decided = 0
    for p, g in dict.fromkeys(pairs):
        if certainly_different(p, g):
            decided += 1
            assert not _sympy_verdict(p, g)[0], (p, g)
        elif certainly_equal(p, g):
            decided += 1
            assert _sympy_verdict(p, g) == (True, ""), (p, g)
    return decided


@pytest.mark.parametrize(
    "pred, gold, equal",
    [
        ("3\\sqrt{5}", "3 \\sqrt{5}", True), ("288\\pi", "288 \\pi", True), ("3+2\\sqrt{2}", "3 + 2 \\sqrt{2}", True),
        ("\\frac{5\\pi^2}{4}", "\\frac{5 \\pi^2}{4}", True), ("103", "10 3", False), ("xy", "x y", False),
        ("2.5", "2 .5", False), ("\\frac{1}{0}", "\\frac{1}{ 0}", False), ("3 m", "3m", False),
    ],
)  # fmt: skip
def test_the_same_latex_but_for_spaces_is_equal_only_where_spaces_do_not_matter(pred, gold, equal):
    assert certainly_equal(pred, gold) is equal
    if equal:
        assert _sympy_verdict(pred, gold) == (True, "")


def test_disproofs_are_sympys_verdict_on_every_table_pair():
    pairs, _ = _normalised(_table_pairs())
    assert _sound(pairs) > 50, "the disproofs decided almost nothing; the test checks nothing"


def _sympy_value(text: str, point: int = 0) -> complex | None:
    """latex2sympy's reading of ``text`` (the worker's own parse), evaluated at the reader's substitution point
    ``point``: its symbols at the reader's values, its undefined functions (``u(t)``) as the reader's functions."""
    import sympy
    from sympy.core.function import AppliedUndef

    expr = _parse(text)
    if not isinstance(expr, sympy.Basic):
        return None
    names = {s: _symbol_name(s.name) for s in expr.free_symbols}
    value = _real_point if point == REAL_POINT else lambda n: _point(n, point)
    subs = {s: sympy.E if n == "e" else sympy.I if n == "i" else complex(value(n)) for s, n in names.items()}
    try:
        expr = expr.subs(subs)
        calls = sorted(expr.atoms(AppliedUndef), key=sympy.count_ops)  # inner calls first
        for call in calls:
            arg = complex(sympy.N(call.args[0], 30)) if len(call.args) == 1 else None
            if arg is None:
                return None
            expr = expr.subs(call, sympy.sympify(_function_value(_symbol_name(call.func.__name__), arg)))
        return complex(sympy.N(expr, 30))
    except (TypeError, ValueError, ArithmeticError):
        return None


def _reads_alike(texts: set[str]) -> int:
    """Wherever the reader reads a text, latex2sympy reads the same value (at a complex point and at the real one);
    returns how many were compared."""
    compared = 0
    for text in sorted(texts):
        for point in (0, REAL_POINT):
            mine = read(text, point) if len(text) <= MAX_CHARS and not _AMBIGUOUS.search(text) else None
            if mine is None or (theirs := _sympy_value(text, point)) is None:
                continue
            compared += 1
            assert abs(theirs - mine[0]) <= 1e-9 * max(1.0, mine[1], abs(theirs)), (text, point, mine[0], theirs)
    return compared


def test_the_reader_reads_every_table_answer_as_latex2sympy_does():
    _, texts = _normalised(_table_pairs())
    assert _reads_alike(texts) > 300


SOUP = [
    "1", "2", "3", "10", "12", "0", "5", "0.5", "x", "y", "N", "n", "E", "e", "i", "I", "a_1", "a_{1}", "\\pi", "+",
    "-", "*", "/", "^", "(", ")", "{", "}", "[", "]", " ", "^2", "\\frac", "\\sqrt", "\\cdot", "\\sin", "\\cos",
    "\\tan", "\\cot", "\\sec", "\\csc", "\\ln", "\\log", "\\log_2", "\\arctan", "\\arcsin", "\\sin^2", "\\exp",
    "\\infty", "-\\infty", "12_8", "3x", "2\\pi", "\\frac{1}{2}", "\\sqrt{2}", "e^{2}", "2e", "x^2", "(x+1)", "(2)",
    "[3]", "(x)", "{2}",
]  # fmt: skip
# Greek letters, hyperbolic functions, calls of undefined functions, complex exponents (the second reading of the soup)
GREEK_SOUP = [
    "\\omega", "\\omega_n", "\\omega_{d}", "\\Omega", "\\theta", "\\Theta_w", "\\Delta", "\\delta", "\\lambda",
    "\\lambda_{red}", "\\rho_0", "\\zeta", "\\tau", "\\alpha", "\\mu", "\\sigma", "\\phi", "\\varphi", "\\epsilon",
    "\\gamma", "\\Gamma", "\\Pi", "\\sinh", "\\cosh", "\\tanh", "\\coth", "\\sinh^2", "u(t)", "I(0)", "(t)", "[t]",
    "x(2)", "\\pi(x)", "e^{2it}", "e^{-t}", "2^{x}", "^{2}", "^{n}", "e", "3e", "2E", "(x)", "(x+1)", "(2x)", "\\ln",
    "\\sqrt{", "}", "t", "x", "2", "1.5", " ", "+", "-", "^", "_", "\\frac{1}{2}", "\\sin", "(", ")", "\\cdot",
    "\\log_{10}", "\\log_{b}", "y_n", "value of", "ab",
]  # fmt: skip


def test_the_reader_reads_random_token_soup_as_latex2sympy_does():
    """Each place where the two readings part was found this way (mixed numbers, subscripts, function arguments)."""
    rng = random.Random(0)
    texts = {"".join(rng.choice(SOUP) for _ in range(rng.randint(1, 9))).strip() for _ in range(4000)}
    assert _reads_alike(texts) > 150
    constants = [t for t in texts if _constant(t)][:100]
    pairs = [(p, g) for p in sorted(texts)[:300] for g in constants[:10]]
    assert _sound(pairs) > 100


def test_the_reader_reads_greek_letters_calls_and_hyperbolic_functions_as_latex2sympy_does():
    """Greek letters (symbols, but not \\gamma), \\sinh-\\tanh, ``u(t)`` calls against products, ``e^{2it}``: the
    same token soup test, and pairs of soup texts that the disproofs call different are different to sympy too."""
    rng = random.Random(2)
    texts = {"".join(rng.choice(GREEK_SOUP) for _ in range(rng.randint(1, 7))).strip() for _ in range(1200)}
    assert _reads_alike(texts) > 250
    readable = sorted(t for t in texts if read(t, REAL_POINT) is not None)
    pairs = [(rng.choice(readable), rng.choice(readable)) for _ in range(250)]
    assert _sound(pairs) > 60


@pytest.mark.parametrize(
    "pred, gold",
    [
        ("x_{531}+x_{753}+x_{975}", "898"), ("Probability", "\\frac{13}{18}"),
        ("Jim walks 200 feet less than Martha", "200"), ("\\sec^2 10+\\csc^2 20+\\csc^2 40", "12"),
        ("\\log_7 8", "3"), ("\\frac{48}{z}+\\frac{z}{2}+z", "22"),
        ("\\arccos(\\frac{-19}{\\sqrt{14}\\sqrt{53}})", "90"), ("\\frac{b-c}{a}", "\\frac{8}{15}"),
        ("a common fraction", "\\frac{3}{2}"), ("2316_8", "2516_8"), ("10+John's age", "50"), ("4", "x+y=5"),
        ("DE=4.9", "\\sqrt{51}"), ("3", "-\\infty"), ("-\\infty", "\\infty"),
        ("It's difficult to find a closed-form expression", "2"), ("product of y-values", "1736"),
        ("I will provide the final answer inside", "144"), ('8-Area of square "e"', "2"), ("S=3G", "3"),
        ("(2+\\sqrt{2}-(3+3\\sqrt{2})i,2-3i)", "6-5i"), ("[calculate x^3-2x+1]", "2"),
        ("\\frac{1}{2}\\times(value of b)\\times(value of h)", "15"), ("infinitely many", "8"),
        ("It's not possible to determine the number of boxes based on the given information", "3"),
        # Minerva (physics, signals), from published generations: Greek letters, calls, e^{...}, roots of names
        ("\\frac{2 \\pi c^{2}}{\\lambda^{5}(e^{\\frac{h c}{\\lambda k T}}-1)}",
         "\\frac{2 \\pi c^{2}R^{2}}{d^{2}\\lambda^{5}(e^{\\frac{hc}{\\lambda kT}}-1)}"),
        ("(\\sqrt{2}-1)\\lambda_{red}", "\\frac{1}{\\sqrt{2}}c"),
        ("\\arcsin(1.3 \\sin \\theta_w)", "\\arcsin{\\frac{1}{1.3}}"),
        ("\\frac{s}{(s+\\sigma)^{2}+\\omega_{d}^{2}}", "\\frac{s+\\sigma}{(s+\\sigma)^{2}+\\omega_{d}^{2}}"),
        ("2\\pi r_0 \\sqrt{\\rho_0 G}", "\\sqrt{4 \\pi G \\rho_{0}r_{0}^{2}}"), ("-\\tau \\ln 0.9", "-\\tau \\ln \\Delta"),
        ("\\frac{1}{2}\\cosh(ut)", "\\frac{1}{2}(e^{at}+e^{-at})"),
        ("C e^{-2t}+\\frac{1-i}{4}e^{2(1+i)t}", "\\frac{e^{2it}}{2+2i}+Ce^{-2t}"),
        ("u(t)(1+3 e^{-2t}+2 e^{-5t})", "(1-3e^{-2t}+2e^{-5t})u(t)"), ("I_0 e^{-t/(RC)}", "I(0)e^{-\\frac{t}{RC}}"),
        ("b \\delta(t)+(1-e^{-at})u(t)", "b \\delta(t)+1-e^{-at}"), ("2^n-\\frac{1}{2}", "\\frac{N}{2}"),
        ("\\frac{4(a^2-(b-c)^2)}{bc(b^2+c^2-a^2)}", "\\frac{8}{15}"), ("x(3)", "3x"), ("\\omega(t)", "\\omega t"),
    ],
)  # fmt: skip
def test_real_wrong_answers_are_disproved_without_sympy(pred, gold):
    """From published MATH-500 and Minerva generations: each cost sympy 30-500 ms, and is wrong."""
    assert certainly_different(pred, gold)
    assert not _sympy_verdict(pred, gold)[0]


@pytest.mark.parametrize(
    "pred, gold",
    [
        ("2(3)", "5"), ("(2)3", "5"), ("10 3", "13"),
        ("12E1", "120"), ("a_1310", "a_1 310"), ("N-n", "0"), ("E", "e"), ("\\sin x\\sqrt{2}", "\\sqrt{2}\\sin x"),
        ("1/2x", "\\frac{1}{2x}"), ("x^23", "3x^2"), ("\\sin^2 x+\\cos^2 x", "1"), ("0 apples", "0"),
        ("percent students", "\\frac{1}{100}"), ("infinity", "\\infty"), ("and", "1"),
        ("2\\frac{1}{2}", "\\frac{5}{2}"), ("\\pi^{2}(x)", "\\pi(x)\\pi(x)"), ("x^{2}(y)\\cdot x^{1}(y)", "x^{3}(y)"),
        ("\\alpha", "alpha"), ("\\gamma", "0.5772156649015329"), ("\\gamma^{2}-1", "-1"), ("\\Theta_w", "\\theta_{w}"),
        ("\\coth x", "\\cot(hx)"), ("\\tanh x", "\\frac{\\sinh x}{\\cosh x}"), ("(e^{x})^{y}", "e^{xy}"),
        ("e^{\\ln x}", "x"), ("u(t)+u(t)", "2u(t)"), ("\\sin u(t)", "\\sin(u(t))"), ("3E2", "300"),
        ("\\sinh(2x)", "2\\sinh x\\cosh x"), ("2^{x}2^{y}", "2^{x+y}"), ("x^a_1", "x_1^a"), ("x_1.5", "x_{1.5}"), ("\\phi^\\omega_n", "\\phi_n^\\omega"), ("12_8", "12_{10}"), ("5", "x+y=5"), ("2=2", "2"),
        ("x=y", "y"), ("ab-ab", "0"), ("(9+1)", "10"), ("012_8", "12"), ("+\\infty", "\\infty"),
        ("\\infty", "x"), ("ab-ba", "0"), ("ie-ei", "0"), ("tones", "1"), ("a_bc", "a_{bc}"), ("[3,3]", "3"),
        ("(3,\\frac{6}{2})", "3"), ("\\{3,4\\}", "3"), ("dx", "x"), ("\\frac{dy}{dx}", "2"), ("d \\pi", "\\pi"),
        ("\\pir", "\\pi"), ("x and y", "1"), ("a simplified expression", "8n^2+4n+1"), ("infe", "1"), ("inf a-inf a", "0"),
    ],
)  # fmt: skip
def test_where_latex2sympy_reads_otherwise_nothing_is_claimed(pred, gold):
    """Each pair is equal to latex2sympy, or read by it otherwise than arithmetic would: never called different."""
    assert not certainly_different(pred, gold)


HUGE = "1" * 100_000
HOSTILE = [
    ("nan", "12"), ("NaN", "nan"), ("1e999", "1e999"), ("1e999", "12"), ("-1e999", "\\infty"), ("inf", "\\infty"),
    ("\\infty", "\\infty"), ("12", "1e999"), ("1E400", "10^{400}"), ("10^{100000}", "10^{100000}"),
    ("10^{100000}", "12"), ("9^{9^{9^9}}", "1"), ("(10^{10})!", "3"), ("\\frac{1}{0}", "\\infty"), ("0/0", "1"),
    ("١٢", "12"), ("１２", "12"), ("12", "١٢"), ("\u00b2", "2"), ("3\u00b2", "9"), ("\U0001d7cf\U0001d7d0", "12"),
    ("1" * 399, "1" * 399), ("1" * 399, "1" * 398 + "2"), ("9" * 5000, "9" * 5000), ("0." + "3" * 390, "\\frac13"),
    (HUGE, HUGE), (HUGE, "1"), ("1", HUGE), ("1.5\\times10^{999}", "1.5\\times10^{999}"), ("1e-999", "0"),
    ("0.1\\overline{" + "6" * 380 + "}", "\\frac16"), ("12", "12\\%"), ("1,2", "1,2,2"), ("\\{1,1\\}", "\\{1\\}"),
    ("\x00", "0"), ("12\x00", "12"), ("12" + "\u200b", "12"), ("-0", "0"), ("+12", "12"), ("012", "12"),
    ("12.", "12"), (".5", "\\frac12"), ("1/3", "0.333"), ("2\\frac{1}{2}", "2.5"), ("x=12", "12"), ("12=13", "12"),
]  # fmt: skip


@pytest.mark.parametrize("extracted, reference", HOSTILE)
def test_hostile_numbers_get_the_worker_verdict_quickly(extracted, reference):
    for verifier in VERIFIERS:
        assert _agrees(verifier, extracted, reference), (verifier, extracted[:50], reference[:50])
        assert _best_of_three(verifier, extracted, reference) < LIMIT_S, (extracted[:50], reference[:50])


def test_long_answers_are_never_judged_on_the_host():
    verifier = MathVerifier()
    over = HOST_MAX_CHARS + 1
    assert verifier.quick_judge("1" * over, "1" * over) is None
    assert verifier.quick_judge("1", "1" * over) is None
    assert verifier.quick_judge("1" * HOST_MAX_CHARS, "1" * HOST_MAX_CHARS) is not None


def _worst_cases(n: int) -> dict[str, tuple[str, str]]:
    k = n // 2 - 1
    return {
        "set matching": (",".join(str(i % 10) for i in range(k)), ",".join(str(7 * i % 10) for i in range(k))),
        "set of fractions": (",".join(["\\frac{1}{3}"] * (n // 12)), ",".join(["\\frac{2}{3}"] * (n // 12))),
        "plus-minus list": (",".join(["1\\pm 2"] * (n // 7)), ",".join(["3\\pm 2"] * (n // 7))),
        "labelled parts": (" ".join(f"({'abcdefgh'[i % 8]}) {i}" for i in range(n // 7)), ",".join(map(str, range(n // 7)))),
        "inequalities": (" or ".join(["x<2"] * (n // 8)), "(-\\infty,2)"),
        "equation chain": ("=".join(["1"] * k), "1"),
        "nesting": ("(" * k + "1" + ")" * k, "1"),
        "powers": ("+".join(["x^{999}"] * (n // 8)), "+".join(["y^{999}"] * (n // 8))),
        "hedge": (" or ".join(["1"] * (n // 5)), " or ".join(["2"] * (n // 5))),
        "digits": ("9" * n, "9" * (n - 1) + "8"),
    }  # fmt: skip


@pytest.mark.parametrize("name", list(_worst_cases(HOST_MAX_CHARS)))
def test_worst_constructions_at_the_length_bound_are_fast(name):
    extracted, reference = (s[:HOST_MAX_CHARS] for s in _worst_cases(HOST_MAX_CHARS)[name])
    verifier = MathVerifier()
    assert _best_of_three(verifier, extracted, reference) < LIMIT_S, name
    assert _agrees(verifier, extracted, reference), name


TOKENS = [
    "1", "2", "12", "0", "3.5", ".5", "1,000", "-", "+", "*", "/", "^", "{", "}", "(", ")", "[", "]", "\\{", "\\}", ",",
    ";", "=", "<", "\\le ", "\\frac", "\\sqrt", "\\pi", "\\infty", "\\cup", "\\pm", "x", "y", "i", "e", "%", "^\\circ",
    " ", "\\text{ cm}", " km", " or ", " and ", "(a) ", "(b) ", "\\approx ", "\\ne ", "\\binom", "\\overline", "!",
    "\\begin{pmatrix}", "&", "\\\\", "\\end{pmatrix}", "_{8}", "A", "(C)", "nan", "1e999", "\u00b2", "\u2212", "١",
]  # fmt: skip
answers = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers, st.one_of(answers, st.sampled_from(["12", "\\frac{1}{2}", "(1,2)", "1,2", "[0,1)", "3\\sqrt{2}"])))
def test_random_answers_get_the_worker_verdict_or_none(extracted, reference):
    for verifier in VERIFIERS[:2]:
        assert _best_of_three(verifier, extracted, reference) < LIMIT_S, (extracted, reference)
        assert _agrees(verifier, extracted, reference), (verifier, extracted, reference)


def test_a_batch_decided_on_the_host_starts_no_worker():
    scorer = Scorer(MathVerifier(), workers=1, timeout=30)  # generous: a cold worker on a loaded machine
    try:
        verdicts = scorer.score(
            ["\\boxed{12}", "so \\boxed{\\frac{1}{2}}", "#### 13", "\\boxed{(1, 2)}", "\\boxed{12 km}"],
            ["12", "0.5", "12", "(1,2)", "12 m"],
        )
        assert [v.status for v in verdicts] == ["correct", "correct", "wrong", "correct", "wrong"]
        assert scorer.last.on_host == scorer.last.graded == 5
        assert scorer._pool is None, "a worker pool was started for rows decided on the host"
        # a row that needs sympy still goes to a worker, with the worker's time limit
        verdicts = scorer.score(["\\boxed{\\sin^2 x + \\cos^2 x}", "\\boxed{12}"], ["1", "12"])
        assert [v.status for v in verdicts] == ["correct", "correct"]
        assert scorer.last.graded == 1 and scorer.last.cache_hits == 1 and scorer.last.on_host == 0
        assert scorer._pool is not None
    finally:
        scorer.close()


def test_close_does_not_wait_for_a_pool_that_was_never_needed():
    scorer = Scorer(MathVerifier(), workers=1, timeout=5).start()  # the workers begin importing sympy now
    try:
        assert scorer.score(["\\boxed{12}"], ["12"])[0].status == "correct"
        assert scorer.last.on_host == 1
    finally:
        start = time.perf_counter()
        scorer.close()
        closed_in = time.perf_counter() - start
    assert closed_in < 1.0, f"close() waited {closed_in:.2f}s for workers nobody needed"


def test_rlvr_score_on_a_batch_decided_on_the_host_ends_cleanly(tmp_path):
    rows = [{"completion": f"so \\boxed{{{i}}}", "reference": str(i % 7)} for i in range(50)]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cmd = [sys.executable, "-m", "rlvr", "score", "--verifier", "math", "--input", str(source), "--output", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)  # waits for every holder of its pipes
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr, done.stderr
    graded = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [g["status"] for g in graded] == ["correct" if i < 7 else "wrong" for i in range(50)]


@pytest.mark.parametrize(
    "pred, gold", [("3 m", "3"), ("\\frac{37}{4}m", "\\frac{37}{4}"), ("\\pi r^2 h", "\\pi r^2"), ("12 cm", "12")]
)
def test_a_trailing_letter_is_a_name_for_sympy_too(pred, gold):
    """``_parse`` turns math-verify's unit stripping off, so the reader may read a trailing letter as the name it is."""
    assert certainly_different(pred, gold)
    assert not _sympy_verdict(pred, gold)[0]


def test_every_bare_function_name_of_the_installed_lexer_is_refused_in_words():
    """latex2sympy's lexer reads these words (``floor``, ``ones``...) as function names, inside longer words too."""
    from latex2sympy2_extended.gen.antlr4_13_2.PSLexer import PSLexer

    words = {name.strip("'") for name in PSLexer.literalNames if re.fullmatch(r"'[a-z]{2,}'", name)}
    uncovered = {word for word in words if not any(name in word for name in LEXER_NAMES)}  # "matrix" in "pmatrix"
    assert words and not uncovered, uncovered


WORDS = [
    "a", "I", "It's", "value", "of", "the", "sum", "x", "e", "ie", "product", "and", "answer", "5", "12", "area",
    "B", "AB", "ba", "ab", "\"e\"", "cm", "t", "info", "ones", "add", "d", "dx", "Eat", "y", "2x", "f(x)", "0",
    "infinite", "Inf", "infe", "information",
]  # fmt: skip


def test_random_prose_is_disproved_only_where_sympy_agrees():
    """Words, quotes, sums and differences of them against numbers: every claim is sympy's verdict too."""
    rng = random.Random(1)
    texts = set()
    for _ in range(1500):
        text = rng.choice(WORDS)
        for _ in range(rng.randint(0, 4)):
            text += rng.choice([" ", " ", "-", "+", "*", "^2 ", "\\cdot "]) + rng.choice(WORDS)
        texts.add(f"({text})" if rng.random() < 0.1 else text)
    golds = ["2", "0", "\\frac{1}{2}", "\\pi", "1+\\sqrt{2}", "x", "ab"]
    pairs = [(t, rng.choice(golds)) for t in sorted(texts)]
    assert _sound(pairs) > 300
    assert _reads_alike(texts) > 150
