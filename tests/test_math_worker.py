"""The worker's sympy stage, held against text nobody here wrote (the Minerva and MATH-500 answers and worked
solutions in ``../shared/data``) and against math-verify itself:

- two-stage parsing (ANTLR's SLL prediction, then LL on an error) builds exactly the trees latex2sympy builds with
  LL alone;
- the disproofs on parsed expressions (values at a generic point; a solution of one equation that the other does not
  share) fire only where math-verify, given all the time it wants, does not call the pair equal, and they do fire;
- a differential equation divided by one of its parameters is the same equation (a Minerva equation of motion
  divided by the mass), and equations of other solutions are not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rlvr.verifiers.math import MathVerifier, equivalence
from rlvr.verifiers.math.normalize import normalize


def _boxed(text: str) -> str | None:
    """The last ``\\boxed{...}`` of a worked solution (balanced braces), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1 : j]
    return None


@pytest.fixture(scope="module")
def minerva(shared_data: str) -> list[dict]:
    rows = json.loads((Path(shared_data) / "minerva_math" / "test.json").read_text(encoding="utf-8"))
    return [{**row, "answer": str(row["answer"][0]).strip()} for row in rows]  # a list of one spelling each


@pytest.fixture(scope="module")
def math500(shared_data: str) -> list[dict]:
    lines = (Path(shared_data) / "math500" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _srepr(expr: Any) -> str:
    import sympy

    try:
        return sympy.srepr(expr)
    except Exception:  # a list or a string math-verify returns as is
        return repr(expr)


def test_two_stage_parsing_builds_the_trees_of_ll_alone(minerva: list[dict], math500: list[dict]) -> None:
    from latex2sympy2_extended import latex2sympy2
    from math_verify.parser import parse_latex_cached

    texts = [row["answer"] for row in minerva] + [_boxed(row["solution"]) or "" for row in minerva]
    texts += [row["answer"] for row in math500[::4]]
    strings = sorted({normalize(t) for t in texts if t.strip()})
    equivalence._two_stage_parsing()
    converter = latex2sympy2._Latex2Sympy
    two_stage = converter.create_parser
    assert getattr(two_stage, "two_stage", False), "the two-stage parser factory is not installed"

    def trees() -> list[str]:
        parse_latex_cached.cache_clear()  # math-verify's own cache would hand back the first mode's trees
        return [_srepr(equivalence._parse.__wrapped__(s)) for s in strings]

    fast = trees()
    converter.create_parser = two_stage.full_ll
    try:
        slow = trees()
    finally:
        converter.create_parser = two_stage
        parse_latex_cached.cache_clear()
    assert len(strings) > 400
    assert sum(tree != repr(None) for tree in fast) > 0.8 * len(strings)  # real answers parse
    assert [s for s, a, b in zip(strings, fast, slow) if a != b] == []


def _parsed(pred: str, gold: str) -> tuple[Any, Any] | None:
    a, b = equivalence._parse(normalize(pred)), equivalence._parse(normalize(gold, reference=True))
    if a is None or b is None:
        return None
    return equivalence._imaginary_unit(*equivalence._one_symbol_per_name(a, b))


def _math_verify_says_equal(pred: Any, gold: Any) -> bool:
    from math_verify import verify

    return bool(equivalence._within(20.0, lambda: verify(gold, pred, timeout_seconds=None)))


def test_disproofs_on_parsed_answers_never_contradict_math_verify(minerva: list[dict]) -> None:
    """Pairs of real answers: each Minerva solution's own box against its reference (mostly equal forms written
    apart) and each reference against the next problem's (mostly different). Wherever a disproof fires, math-verify
    (unbounded but for 20 s) does not call the pair equal; and it stays silent on the many pairs math-verify does call
    equal (so that this test can fail both ways)."""
    own = [(_boxed(row["solution"]), row["answer"]) for row in minerva]
    other = [(minerva[k + 1]["answer"], minerva[k]["answer"]) for k in range(0, len(minerva) - 1, 4)]
    fired, silent_on_equal = 0, 0
    for pred, gold in own + other:
        if not pred or (parsed := _parsed(pred, gold)) is None:
            continue
        a, b = parsed
        if equivalence._differ_at_a_point(a, b) or equivalence._equations_differ(a, b):
            fired += 1
            assert not _math_verify_says_equal(a, b), (pred, gold)
        elif (pred, gold) in own and _math_verify_says_equal(a, b):
            silent_on_equal += 1
    assert fired >= 40 and silent_on_equal >= 100, (fired, silent_on_equal)


# Minerva equations of motion as published models wrote them (ShorterBetter and R1-distill generations), with the
# reference they were graded against.
EQUATION_OF_MOTION = "ml\\ddot{\\theta}(t)-mg\\sin\\theta(t)=f(t)\\cos\\theta(t)"
SAME_EQUATION = [
    ("\\frac{dv}{dt}+\\frac{b}{m}v=\\frac{f}{m}", "m \\frac{d v}{d t}+b v=f"),  # divided by the mass
    ("\\frac{d\\omega}{dt}=\\frac{T}{I}-\\frac{2B}{I}\\omega", "I \\frac{d \\omega}{d t}+2 B \\omega=T"),
    ("-20x+28y-44z-16=0", "5x-7y+11z+4=0"),
    ("2k=6", "k=3"),
    ("\\frac{F}{m}=a", "F=ma"),
    ("xy=1", "y=\\frac{1}{x}"),
]
OTHER_EQUATION = [
    ("\\frac{d^2\\theta}{dt^2}=\\frac{f(t)\\sin\\theta}{m l}", EQUATION_OF_MOTION),
    ("\\ddot{\\theta}=\\frac{f(t)-mg \\sin\\theta}{ml}", EQUATION_OF_MOTION),
    ("\\frac{dx}{dt}+\\frac{r}{V+\\alpha t}x=cr", "x'+\\frac{r}{V}x-rc=0"),
    ("y'+\\frac{r}{V}y=\\frac{r}{V}x(t)", "y^{\\prime}+ry-rx(t)=0"),
    ("The equation of the line is y=mx+b", "y=-2x"),
    ("x(x-1)=0", "x-1=0"),  # a solution of its own
    ("k^2=9", "k=3"),
    ("x(F-ma)=0", "F=ma"),  # a factor of a name the reference does not have
    ("y(y-2x-3)=0", "y=2x+3"),  # a factor of a name it has: y = 0 solves it too
    ("F=ma+1", "F=ma"),
    ("2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{5}{4}"),
    ("x+y=1", "x-y=1"),
    ("x+2y=4", "x+2y=5"),
    ("3x-y=2", "y=3x+2"),
    ("v\\frac{dv}{dt}+\\frac{b}{m}v^2=\\frac{f}{m}v", "m \\frac{d v}{d t}+b v=f"),  # times the unknown v
]


@pytest.mark.parametrize(("pred", "gold"), SAME_EQUATION)
def test_the_same_equation_in_other_forms(pred: str, gold: str) -> None:
    assert MathVerifier().judge(pred, gold).status == "correct"


@pytest.mark.parametrize(("pred", "gold"), OTHER_EQUATION)
def test_equations_with_other_solutions(pred: str, gold: str) -> None:
    verdict = MathVerifier().judge(pred, gold)
    assert verdict.status == "wrong", verdict
    assert "too long" not in verdict.detail  # decided, not cut off: these took sympy's solve 2-12 s


def test_names_latex2sympy_makes_not_real_get_points_off_the_real_line() -> None:
    """``v_{i}`` makes latex2sympy read the whole answer as complex: its names are 'not real', and a disproof must
    evaluate them at non-real points (a real point is no value such a name takes)."""
    parsed = _parsed(
        "LC \\frac{d^2 v_o}{dt^2}+v_o=v_i(t)", "\\frac{d^{2}v_{o}}{d t^{2}}+\\frac{v_{o}}{L C}=\\frac{v_{i}}{L C}"
    )
    assert parsed is not None
    a, b = parsed
    kinds = {s.name: equivalence._symbol_kind(s) for s in a.free_symbols | b.free_symbols}
    assert kinds["v_i"] == "nonreal" and kinds["t"] == "real"
    sides = equivalence._equation_sides(a, b)
    assert sides is not None
    point = equivalence._generic_point(sides[0] + sides[1], opaque=True)
    assert point is not None
    for name, value in point.items():
        assert (complex(value).imag != 0) == (equivalence._symbol_kind(name) == "nonreal"), name


def test_the_host_reads_equations_as_the_worker_does() -> None:
    """Where the host's numeric reader disproves two equations, the worker's parsed-expression rule does too."""
    compared = 0
    for pred, gold in SAME_EQUATION + OTHER_EQUATION:
        p, g = normalize(pred), normalize(gold, reference=True)
        if p.count("=") != 1 or g.count("=") != 1 or not equivalence._host_equations_differ(p, g):
            continue
        parsed = _parsed(pred, gold)
        assert parsed is not None
        assert equivalence._equations_differ(*parsed) and not equivalence._equations_agree(*parsed), (pred, gold)
        compared += 1
    assert compared >= 4


CANCELLATION = "(x+10^{20})^2-10^{40}-2\\cdot 10^{20}x"  # x^2, through intermediates of 10^{40}


def test_a_cancellation_never_fakes_a_disproof() -> None:
    """Values substituted into sympy by ``xreplace`` are rounded at each step (30 digits leave nothing of ``x^2``
    next to 10^{40}); the disproofs evaluate with ``evalf(subs=...)``, which follows the cancellation."""
    same, other = _parsed(CANCELLATION, "x^2"), _parsed(CANCELLATION, "x^2+1")
    assert same is not None and other is not None
    assert not equivalence._differ_at_a_point(*same) and equivalence._differ_at_a_point(*other)
    assert MathVerifier().judge(CANCELLATION, "x^2").status == "correct"
    assert MathVerifier().judge(CANCELLATION + "=y", "y=x^2").status == "correct"
    assert MathVerifier().judge(CANCELLATION, "x^2+1").status == "wrong"


def _bench() -> Any:
    """benchmarks/bench_math_scoring.py, which builds the published mix from local mirrors."""
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "bench_math_scoring.py"
    spec = importlib.util.spec_from_file_location("bench_math_scoring", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    return bench


BENCH = _bench()


@pytest.mark.skipif(
    not all((BENCH.LABRE_MIRROR.parents[1] / m / "repo").is_dir() for m in BENCH.MIX_MIRRORS),
    reason="no local mirrors of the published generations",
)
def test_few_published_answers_need_a_worker() -> None:
    """The speed of ``rlvr score`` on real rows is mostly how few distinct answers need sympy: on the 6,900 published
    generations of ``bench_math_scoring.py --real published-mix`` 192 of 2,599 did when this was written (261 before
    the host read Greek letters and calls), a count that does not depend on the machine's load."""
    from rlvr.scoring import _key

    verifier, pairs = MathVerifier(), {}
    for row in BENCH.published_mix()[1]:
        if (extracted := verifier.extract(row["completion"][-16000:])) is not None:
            pairs[(extracted, _key(row["reference"]))] = (extracted, row["reference"])
    to_workers = sum(verifier.quick_judge(e, g) is None for e, g in pairs.values())
    assert len(pairs) > 2500 and to_workers <= 215, (len(pairs), to_workers)
