"""Worker half of the ``math`` verifier: decide whether an extracted answer equals the reference.

Runs in a killable worker process (``rlvr.scoring``): sympy may be slow, and the worker's time limit is for sympy
alone (every string step before it is linear, see ``extract.py`` and ``normalize.py``). In order:

1. both sides are normalised (``normalize.py``); a unit given on both sides must agree (``12 km`` is not ``12 m``);
2. relations and estimates that the reference does not have are refused (``\\ne 12``, ``\\approx 12``, ``x \\ge 5``),
   and so is an unevaluated ``\\binom``, ``\\int``, ``\\lim``, ``\\sum``, ``\\gcd`` or derivative against a number
   (the question echoed, not answered); a chain whose arithmetic does not give its value (``3\\cdot5=12``) is false;
   values named on both sides (``y=3,x=2``) are compared by name;
3. multiple-choice letters (a reference may add the option's text, ``C Cecile``), words and placeholders are
   compared as such; a decimal comma (``1000,99``) is read against a decimal with a point; a reference of labelled
   solutions (``p=5,q=2;p=7,q=2``) is the list of tuples ``(5,2),(7,2)``;
4. the answer's *shape* is compared with the reference's (:func:`compare_shapes`): intervals with their open/closed
   ends, ordered tuples, unordered lists and sets, matrices, unions; see the rule for several answers in
   ``__init__.py``;
5. plain numbers are compared exactly (:class:`fractions.Fraction`); a decimal reference given to limited precision
   accepts an exact answer that rounds to it (``\\sqrt{17}`` for ``4.123105625617661``), never a different
   terminating decimal (``251/100`` is not ``2.5``); ``rel_tol`` widens this for scientific references;
6. a cheap numeric disproof (evaluation at generic complex points) rejects most wrong expressions before sympy; it
   only ever says "different" where the values differ on a branch-free evaluation, so a true identity is never
   disproved (no roots or non-integer powers of non-positive or complex values, no functions, no degrees);
7. the rest is parsed by latex2sympy (through math-verify; its ANTLR parser tries SLL prediction first, LL on an
   error: the same trees, a third of the time) and, on the parsed expressions, disproved where it can be cheaply
   and soundly: values that differ at a generic point that obeys each name's assumptions, or a solution of one
   equation that does not solve the other (math-verify's ``solve`` took seconds on such Minerva equations); a
   differential equation equals another that is it times a factor of its parameters (divided by the mass ``m``);
8. the rest goes to math-verify, whose answer is audited: it rounds floats and chops tiny differences, and rlvr does
   not reward an answer that is right only to limited precision.

Hostile answers (``9^{9^{9^9}}``, ``(10^{10})!``, 400 nested braces) are refused before sympy touches them where a
cheap size estimate can tell; anything slower is the scoring engine's hard timeout to catch. math-verify's own
SIGALRM timeout is switched off (``parsing_timeout=None, timeout_seconds=None``): it does nothing off the main
thread and the worker process is the real limit.
"""

from __future__ import annotations

import cmath
import contextlib
import contextvars
import functools
import logging
import math
import re
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rlvr.verifiers.math.normalize import MAX_ANSWER_CHARS, normalize, unit_of
from rlvr.verifiers.math.numeric import _N_POINTS, _TOKEN, _FloatReader, _NotNumeric, _point

MAX_NESTING = 60  # bracket depth beyond which an answer is refused (latex2sympy takes seconds on 400 levels)
MAX_DIGITS = 100_000  # numbers whose size estimate passes this many digits are refused
MAX_NODES = 4000  # sympy tree size beyond which an answer is refused

_LHS = re.compile(
    r"^ ?(\((?:[A-Za-z]|\\[A-Za-z]+)(?:,(?:[A-Za-z]|\\[A-Za-z]+))*\)|[A-Za-z](?:_\{?\\?\w+\}?)?(?:\([^()=]*\))?|\\[A-Za-z]+"
    r"|[A-Za-z]{2,6}_\{?\w+\}? ?(?:[A-Za-z]|\([A-Za-z]\))"
    # a derivative named: \frac{dM}{dt}, \frac{d^2x}{dt^2}, x', y''(t), x^{\prime}, \dot{x}
    r"|\\frac\{d(?:\^\{?\d\}?)? ?[A-Za-z](?:_\{?\w+\}?)?\}\{d ?[A-Za-z](?:\^\{?\d\}?)?\}"
    r"|(?:[A-Za-z](?:'{1,3}|\^\{(?:\\prime){1,3}\})|\\d?dot\{[A-Za-z]\})(?:\([^()=]*\))?"
    r") ?(?:=|\\in\b) ?(?!=)"
)
_RELATION = re.compile(r"[<>]|\\[lg]e\b|\\[lg]eq\b")
_OR = re.compile(r" ?(?<![A-Za-z\\])(?:or|and)(?![A-Za-z]) ?|\\lor|\\vee")  # spaces around brackets are gone

# ------------------------------------------------------------------------------------------------- exact numbers


@dataclass(frozen=True)
class _Num:
    value: Fraction
    decimals: int | None  # digits after the point when written as a decimal
    percent: bool


_DECIMAL = r"(?:\d+(?:\.\d*)?|\.\d+)"  # unambiguous: no two repeats can share a digit
_INT_OR_DEC = re.compile(r"^([-+]?)(" + _DECIMAL + r")$")
_FRAC = re.compile(r"^([-+]?)\\frac\{([-+]?\d+)\}\{([-+]?\d+)\}$")
_SLASH = re.compile(r"^([-+]?)(\d+)/(\d+)$")
_MIXED = re.compile(r"^([-+]?)(\d+) ?\\frac\{(\d+)\}\{(\d+)\}$")
_SCI = re.compile(
    r"^([-+]?"
    + _DECIMAL
    + r") ?(?:\\times|\\cdot|\*|x) ?10\^\{?([-+]?\d{1,3})\}?$|^([-+]?"
    + _DECIMAL
    + r")[eE]([-+]?\d{1,3})$"
)


def _exact_number(s: str) -> _Num | None:
    """Parse a plain number exactly: 12, -0.5, .35, 3/4, \\frac{3}{4}, 2\\frac{1}{2}, 25%, 2.5\\times10^{3}."""
    percent = s.endswith("%")
    body = s[:-1].strip() if percent else s
    num = _plain_number(body)
    return None if num is None else _Num(num[0], num[1], percent)


_REPEAT = re.compile(r"^([-+]?)(\d*)\.(\d*)\\(?:overline|bar)\{(\d+)\}$")


def _plain_number(s: str) -> tuple[Fraction, int | None] | None:
    if m := _INT_OR_DEC.match(s):
        sign = -1 if m.group(1) == "-" else 1
        digits = m.group(2)
        value = Fraction(digits.rstrip(".")) if digits.endswith(".") else Fraction(digits)
        return sign * value, (len(digits) - digits.index(".") - 1) if "." in digits else None
    if (m := _FRAC.match(s)) or (m := _SLASH.match(s)):
        if int(m.group(3)) == 0:
            return None
        value = Fraction(int(m.group(2)), int(m.group(3)))
        return (-value if m.group(1) == "-" else value), None
    if m := _MIXED.match(s):
        if int(m.group(4)) == 0:
            return None
        value = int(m.group(2)) + Fraction(int(m.group(3)), int(m.group(4)))
        return (-value if m.group(1) == "-" else value), None
    if m := _REPEAT.match(s):  # 0.1\overline{6} = 1/6 exactly
        head, rep = m.group(3), m.group(4)
        value = int(m.group(2) or 0) + Fraction(int(head or 0), 10 ** len(head))
        value += Fraction(int(rep), 10 ** len(head) * (10 ** len(rep) - 1))
        return (-value if m.group(1) == "-" else value), None
    if m := _SCI.match(s):
        mantissa, exponent = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        digits = mantissa.lstrip("+-")
        places = len(digits) - digits.index(".") - 1 - int(exponent) if "." in digits else -int(exponent)
        return Fraction(mantissa) * Fraction(10) ** int(exponent), places if "." in digits else None
    return None


FULL_PRECISION = 15  # significant digits from which a decimal is the exact value as a double prints it (15-17)


def _significant_digits(n: _Num) -> int:
    """Digits written after the leading zeros: 15 for ``0.0833333333333333``."""
    whole = abs(n.value.numerator) // n.value.denominator
    digits = len(str(whole)) if whole else 0
    if digits == 0 and n.decimals:  # 0.0833...: the zeros after the point do not count
        first = next((k for k in range(1, n.decimals + 1) if abs(n.value) * 10**k >= 1), n.decimals)
        return n.decimals - first + 1
    return digits + (n.decimals or 0)


def _terminates(x: Fraction) -> bool:
    """Whether ``x`` has a finite decimal expansion (its denominator has no prime but 2 and 5)."""
    q = x.denominator
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    return q == 1


def _within_tolerance(p: float | Fraction, g: _Num) -> bool:
    rel_tol = _REL_TOL.get()
    return g.decimals is not None and rel_tol > 0 and abs(p - g.value) <= rel_tol * abs(g.value)


def _compare_numbers(p: _Num, g: _Num) -> tuple[bool, str]:
    golds = [g.value] if not g.percent else [g.value, g.value / 100]
    preds = [p.value] if not p.percent else [p.value, p.value / 100]
    if p.percent and g.percent:
        golds, preds = [g.value], [p.value]
    if any(a == b for a in preds for b in golds):
        return True, ""
    if _within_tolerance(p.value, g):
        return True, "within the relative tolerance"
    if (
        g.decimals is not None and p.decimals is None and not _terminates(p.value)
    ):  # 1/3 for 0.333, not 251/100 for 2.5
        if g.decimals >= 0 and round(p.value, g.decimals) == g.value:
            return True, "equal at the reference's precision"
    if p.decimals is not None and g.decimals is None and g.value and abs(p.value - g.value) < abs(g.value) / 100:
        digits = _significant_digits(p)
        if digits >= FULL_PRECISION and p.decimals >= 0 and abs(p.value - g.value) < Fraction(1, 10**p.decimals):
            return True, "equal to machine precision"  # 0.0833333333333333 for 1/12, as a float prints it
        return False, f"equal only to limited precision ({float(p.value):g} vs {g.value})"
    return False, "not equivalent"


# --------------------------------------------------------------------------------------------------------- structure

_MATRIX = re.compile(r"^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.DOTALL)
_OPENERS, _CLOSERS = "([{", ")]}"


def _depth_ok(s: str) -> bool:
    depth = 0
    for ch in s:
        if ch in _OPENERS:
            depth += 1
            if depth > MAX_NESTING:
                return False
        elif ch in _CLOSERS:
            depth -= 1
    return True


def _split_top(s: str, sep: str) -> list[str]:
    """Split at ``sep`` where no bracket is open (intervals such as ``(3,4]`` count as brackets too)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        ch = s[i]
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            parts.append(s[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    parts.append(s[start:])
    return [p.strip() for p in parts]


def _encloses(s: str) -> bool:
    """True when the first character's bracket closes only at the last character."""
    depth = 0
    for i, ch in enumerate(s):
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
            if depth == 0 and i < len(s) - 1:
                return False
    return depth == 0


@dataclass(frozen=True)
class _Shape:
    kind: str  # "scalar" | "list" (bare, unordered) | "set" | "tuple" (bracketed, ordered) | "matrix" | "union"
    items: tuple[str, ...]
    brackets: str = ""  # for tuples: the opening and closing bracket, e.g. "(]"; "{}" for a set in plain braces
    rows: int = 0


def _shape(s: str) -> _Shape:
    if len(s) > 2 and s[0] in "([" and s[1:].startswith("\\begin") and _encloses(s):
        s = s[1:-1]  # "\\left[\\begin{array}..\\end{array}\\right]": brackets around a matrix
    if (m := _MATRIX.match(s)) and "\\begin" not in m.group(2):  # one matrix, not "A + B"
        rows = [r for r in re.split(r"\\\\", m.group(2)) if r.strip()]
        cells = [c.strip() for r in rows for c in r.split("&")]
        return _Shape("matrix", tuple(cells), rows=len(rows))
    if len(union := _split_top(s, "\\cup")) > 1:
        return _Shape("union", tuple(union))
    if s.startswith("\\{") and s.endswith("\\}"):
        return _Shape("set", tuple(x for x in _split_top(s[2:-2], ",") if x))
    if len(s) > 2 and s[0] == "{" and s[-1] == "}" and _encloses(s) and len(items := _split_top(s[1:-1], ",")) > 1:
        return _Shape("set", tuple(x for x in items if x), "{}")  # "{1,3}": models drop the backslashes of a set
    if len(s) > 1 and s[0] in "([" and s[-1] in ")]" and _encloses(s):
        inner = _split_top(s[1:-1], ",")
        if len(inner) > 1:
            return _Shape("tuple", tuple(inner), s[0] + s[-1])
    items = [x for part in _split_top(s, ",") for x in _split_top(part, ";")]
    items = [y for x in items for y in _split_or(x)]
    if len(items) == 1 and (s.count("\\pm") == 1 or s.count("\\mp") == 1):
        items = _expand_pm((s,))  # 1 \pm \sqrt{19} is the list of two roots
    if len(items) > 1:
        return _Shape("list", tuple(x for x in items if x))
    return _Shape("scalar", (s,))


def _split_or(s: str) -> list[str]:
    return [p.strip() for p in _OR.split(s) if p.strip()] if _OR.search(s) else [s]


def _expand_pm(items: tuple[str, ...]) -> list[str]:
    out = []
    for item in items:
        if item.count("\\pm") == 1 or item.count("\\mp") == 1:
            sign = "\\pm" if "\\pm" in item else "\\mp"
            plus = item.replace(sign, "+").lstrip("+")
            out += [plus, item.replace(sign, "-")]
        else:
            out.append(item)
    return out


def _strip_lhs(s: str) -> str:
    """``x=5`` -> ``5``; ``x \\in [1,2]`` -> ``[1,2]``: the value, when the left side is a bare name."""
    m = _LHS.match(s)
    return s[m.end() :].strip() if m and "=" not in s[m.end() :] else s


_ORDER = re.compile(r"\\frac\{d\^\{?(\d)|\\(d?)dot\{|('{1,3})|((?:\\prime){1,3})|\\frac\{d")


def _derivative_order(s: str) -> int:
    """The order of the derivative a left side names (``\\frac{d^2x}{dt^2} =``, ``\\ddot{x} =``, ``x'' =``: 2;
    ``\\frac{dx}{dt} =``, ``\\dot{x} =``: 1), 0 for a plain name."""
    m = _LHS.match(s)
    found = _ORDER.search(m.group(1)) if m else None
    if found is None:
        return 0
    power, dots, quotes, primes = found.groups()
    if power:
        return int(power)
    if dots is not None:
        return 2 if dots else 1  # \\ddot, \\dot
    if quotes:
        return len(quotes)
    if primes:
        return primes.count("\\prime")
    return 1  # \\frac{dx}{dt}


# ------------------------------------------------------------------------------------------------------------ judge


_REL_TOL: contextvars.ContextVar[float] = contextvars.ContextVar("rel_tol", default=0.0)
# Marks in an answer that say it is not an equality, unless the reference has the same mark.
ONLY_IF_REFERENCE_HAS = (
    ("\\approx", "an estimate, not a value"),
    ("\\ne", "a relation, not a value"),
    ("\\sim", "an estimate, not a value"),
    ("\\binom", "an unevaluated binomial coefficient"),
    ("\\choose", "an unevaluated binomial coefficient"),
    ("\\int", "an unevaluated integral"),
    ("\\lim", "an unevaluated limit"),
    ("\\sum", "an unevaluated sum"),
    ("\\prod", "an unevaluated product"),
    ("\\gcd", "an unevaluated gcd"),
    ("\\text{lcm}", "an unevaluated lcm"),
    ("\\text{gcd}", "an unevaluated gcd"),
    ("\\frac{d}{dx}", "an unevaluated derivative"),
    ("\\frac{d}{dt}", "an unevaluated derivative"),
)
# Marks of a question restated ("\\int_0^1 2x\\,dx" for 1): passed when the answer computes them ("... = 1")
UNEVALUATED_MARKS = ("binom", "choose", "int", "lim", "sum", "prod", "gcd", "lcm", "{d}{d")
_LABEL = re.compile(r"^(?:\(?[a-zA-Z0-9]\)|(?:part|subproblem) ?\(?[a-zA-Z0-9]+\)?:?) ?", re.IGNORECASE)


def equivalent(pred: str, gold: str, rel_tol: float = 0.0) -> tuple[bool, str]:
    """Whether the answer ``pred`` equals the reference ``gold``, and why not (see the module docstring)."""
    token = _REL_TOL.set(rel_tol)
    try:
        return _equivalent(pred, gold)
    finally:
        _REL_TOL.reset(token)


Judgement = tuple[bool, str]  # (equal, why not)
_OPEN_END = re.compile(r"\\[lc]?dots[ \t]*\}?[ \t]*$")  # a LaTeX ellipsis ends the answer: it goes on


def _equivalent(pred: str, gold: str) -> Judgement:
    p, g = normalize(pred), normalize(gold, reference=True)
    if not p:
        return False, "empty answer"
    if len(p) > MAX_ANSWER_CHARS or not _depth_ok(p):
        return False, "answer too long or too deeply nested to grade"
    if _OPEN_END.search(pred) and not _OPEN_END.search(gold):
        return False, "an unfinished value: it ends in \\ldots"  # \boxed{12\ldots} for 12
    if (unit_p := unit_of(pred)) and (unit_g := unit_of(gold)) and unit_p != unit_g:
        return False, f"different units: {unit_p} vs {unit_g}"
    if p == g:
        return True, ""
    for rule in FORM_RULES:
        if (verdict := rule(p, g, gold)) is not None:
            return verdict
    g_value = _strip_lhs(g)
    # x=5 vs 5 and 5 vs x=5 are the same answer; an equation such as 2x+3y=6 is compared whole
    p_value = _strip_lhs(p) if g_value != g or "=" not in g else p
    if g_value != g and p_value != p and _derivative_order(p) != _derivative_order(g):
        return False, "the left side names another derivative"  # x'' = -kx for x' = -kx
    if _RELATION.search(p_value) and not _RELATION.search(g_value) and _shape(g_value).kind == "scalar":
        return False, "a relation, not a value"  # x \ge 5 for 5
    return compare_shapes(_shape(p_value), _shape(g_value))


def _estimate(p: str, g: str, gold: str) -> Judgement | None:
    """``\\frac{\\sqrt3}{3} \\approx 0.577``: the exact value before the estimate is the answer; ``x \\approx 12`` has none."""
    if "\\approx" not in p or "\\approx" in g:
        return None
    exact = p.split("\\approx", 1)[0].strip()
    if not exact or re.fullmatch(r"[A-Za-z]|\\[A-Za-z]+", exact.rstrip("=")):
        return False, "an estimate, not a value"
    return _equivalent(exact, gold)


def _marks(p: str, g: str, gold: str) -> Judgement | None:
    for mark, why in ONLY_IF_REFERENCE_HAS:
        computed = any(word in mark for word in UNEVALUATED_MARKS)
        value = p.rsplit("=", 1)[-1] if computed else p  # "\binom{10}{3}=120" computed it
        if re.search(re.escape(mark) + r"(?![A-Za-z])", value) and mark not in g:
            return False, why
    return None


# A factorial left for the reader to evaluate ("31!"; "10,\\!080" is a thin space, not a factorial)
_UNEVALUATED = re.compile(r"[\d})]!")


def _unevaluated(p: str, g: str, gold: str) -> Judgement | None:
    """``\\binom{31}{28} = \\frac{31!}{28!3!}`` for 4495: the question restated, not answered (like an echoed
    ``\\binom``), even though it evaluates to it. Only factorials count: ``\\sin 30^\\circ`` for 1/2 and ``\\sqrt[3]{8}``
    for 2 pass (tests/data/math_cases.jsonl, math_heldout2.jsonl)."""
    value = p.rsplit("=", 1)[-1]
    if _UNEVALUATED.search(value) and not _UNEVALUATED.search(g) and _exact_number(g) is not None:
        return False, "an unevaluated factorial for a number"
    return None


def _choice(p: str, g: str, gold: str) -> Judgement | None:
    letter = _choice_letter(g) or _reference_option(g)
    if letter is not None:
        got = _choice_letter(p)
        return got == letter, "" if got == letter else f"chose {got or p!r}, expected {letter}"
    if (labelled := re.fullmatch(r"\(([A-E])\)\s*(.+)", p)) is not None:  # "(C) 12" against the value 12
        return _equivalent(labelled.group(2), gold)
    return None


def _union_of_inequalities(p: str, g: str, gold: str) -> Judgement | None:
    union = _inequalities_as_union(p)  # "x<2 or x>3" against (-\infty,2)\cup(3,\infty)
    return None if union is None else _equivalent(union, gold)


def _placeholder_or_words(p: str, g: str, gold: str) -> Judgement | None:
    if _is_placeholder(p, g):
        return False, f"bare variable or placeholder {p!r}"
    if _is_words(g):
        same = _words(p) == _words(g)
        return same, "" if same else "not the same word"
    return None


_EQUATION_LIST = re.compile(r"[,;](?:\s|\\[ ,;:!])*[A-Za-z]\w*\s*=")  # ", r=4": a second equation in a list


def _chain(p: str, g: str, gold: str) -> Judgement | None:
    """``\\binom{10}{3} = 120`` or ``2 + 3 = 5`` for a number: the value after the last "="; ``13 = 12`` is false."""
    if "=" not in p or "=" in g or _exact_number(g) is None or _EQUATION_LIST.search(p):
        return None  # "r=\\frac{7}{2}, r=4" lists two values; its last side is not the answer
    numbers = [_exact_number(part) for part in p.split("=")]
    if all(n is not None for n in numbers) and len({n.value for n in numbers}) > 1:
        return False, "a false equation"
    last = p.rsplit("=", 1)[-1]
    if _false_arithmetic(p.split("=")[:-1], last):
        return False, "a false equation"  # "3\\cdot5=12": the working before the value does not give it
    return None if last == p else _equivalent(last, gold)


_ARITHMETIC = re.compile(r"[\d+\-*/^(){}. ]|\\(?:cdot|times|frac|div)(?![A-Za-z])")


def _false_arithmetic(sides: list[str], last: str) -> bool:
    """Whether a side of a chain made only of numbers and operations differs from its value."""
    for side in sides:
        if side and not _ARITHMETIC.sub("", side) and re.search(r"\d", side):
            a, b = _float_value(side), _float_value(last)
            if a is not None and b is not None:  # plain arithmetic: the reader's value, no sympy ("1+2=3" on the host)
                if not _close(a, b):
                    return True
            elif not _equivalent(side, last)[0]:
                return True
    return False


_NAMED = re.compile(r"([A-Za-z](?:_\{?\w+\}?)?)=([^=]+)")


def _named_values(p: str, g: str, gold: str) -> Judgement | None:
    """``y=3,x=2`` for ``x=2,y=3``: values named on both sides are compared by name, not by position."""
    if g.count("=") < 2 or p.count("=") != g.count("="):
        return None
    named = []
    for side in (g, p):  # the reference first: only one that names each value once decides
        pairs = [_NAMED.fullmatch(part) for part in _split_top(side, ",")]
        if not all(pairs):
            return None
        named.append({m.group(1): m.group(2) for m in pairs})
        if len(named[-1]) != len(pairs):  # a name given twice: "x=2,x=3" for "x=2,y=3"
            return (False, "a name given two values") if side is p else None
    gold_named, pred_named = named
    if set(pred_named) != set(gold_named):
        return (False, "different names") if set(pred_named) & set(gold_named) else None
    for name, value in gold_named.items():
        same, why = _equivalent(pred_named[name], value)
        if not same:
            return False, f"{name}: {why or 'not equivalent'}"
    return True, ""


def _equations(p: str, g: str, gold: str) -> Judgement | None:
    if p.count("=") == 1 and g.count("=") == 1 and (_strip_lhs(g) == g or _strip_lhs(p) == p):
        return _compare_equations(p, g)  # two equations: 2x+4y-3=0 and y=-x/2+3/4
    return None


_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")  # one comma between digits, no space: "1000,99", "0,111", "1,22"
_POINT_DECIMAL = re.compile(r"-?\d*\.\d+")
_THOUSANDS_GROUPS = re.compile(r"-?[1-9]\d{0,2}(?:,\d{3})+")  # "1,000", "12,000": a thousands separator


def _decimal_comma(p: str, g: str, gold: str) -> Judgement | None:
    """``1000,99`` for ``1000.99`` (or a reference ``0,111`` for ``0.111``): a decimal comma, when the other side is a
    decimal with a point. Not where the comma can be a thousands separator (``1,000`` is never ``1.000``)."""
    for comma, point in ((p, g), (g, p)):
        if (
            _DECIMAL_COMMA.fullmatch(comma)
            and _POINT_DECIMAL.fullmatch(point)
            and not _THOUSANDS_GROUPS.fullmatch(comma)
        ):
            same = Fraction(comma.replace(",", ".")) == Fraction(point)
            return same, "" if same else "not equivalent (read as a decimal comma)"
    return None


_SOLUTION_GROUP = re.compile(r"([A-Za-z])=([^=,;]+)")


def _labelled_solutions(p: str, g: str, gold: str) -> Judgement | None:
    """A reference of labelled solutions ``p=5,q=2;p=7,q=2`` is the list of tuples ``(5,2),(7,2)``: every group
    names the same variables in the same order; the answer's tuples are read in that order."""
    groups = g.split(";")
    if len(groups) < 2 or "=" not in g:
        return None
    names, tuples = None, []
    for group in groups:
        pairs = [_SOLUTION_GROUP.fullmatch(part) for part in group.split(",")]
        if len(pairs) < 2 or not all(pairs):
            return None
        these = [m.group(1) for m in pairs]
        if names is not None and these != names:
            return None
        names = these
        tuples.append("(" + ",".join(m.group(2) for m in pairs) + ")")
    return _equivalent(p, ",".join(tuples))


def _labelled(p: str, g: str, gold: str) -> Judgement | None:
    if (parts := _labelled_parts(p)) is not None and _shape(g).kind in ("list", "set"):
        return _equivalent(", ".join(parts), gold)  # "(a) 3 (b) 5" for the list "3, 5"
    return None


# The rules tried, in order, before the shapes are compared; each gives a verdict or passes (None).
FORM_RULES = (
    _estimate,
    _marks,
    _unevaluated,
    _choice,
    _decimal_comma,
    _labelled_solutions,
    _named_values,
    _union_of_inequalities,
    _placeholder_or_words,
    _chain,
    _equations,
    _labelled,
)


_INLINE_LABEL = re.compile(
    r"(?:^|(?<=[ ,;0-9}.]))\((?:[a-h]|i{1,3}|iv)\) ?|(?:^|(?<=[ ,;]))(?:part|subproblem) ?\w+: ?", re.I
)


def _labelled_parts(p: str) -> list[str] | None:
    """``(a) 3, (b) 5`` -> ``["3", "5"]``: the values of two or more labelled sub-answers, in order."""
    labels = list(_INLINE_LABEL.finditer(p))
    if len(labels) < 2 or labels[0].start() != 0:
        return None
    ends = [m.start() for m in labels[1:]] + [len(p)]
    parts = [p[m.end() : end].strip(" ,;") for m, end in zip(labels, ends)]
    return parts if all(parts) else None


def _compare_equations(p: str, g: str) -> tuple[bool, str]:
    """Two equations are the same when one is a constant times the other (decided on the host where the reader can
    read them), when math-verify finds the same solutions, or, for differential equations, when the factor between
    them is one of their parameters (the worker's :func:`_equations_agree`); a solution of one that does not solve
    the other disproves it, on the host or in the worker."""
    if _equations_same(p, g):
        return True, ""
    if _host_equations_differ(p, g):
        return False, "not the same equation"
    return _sympy_equal(p, g)


_ONE_SIDED = re.compile(r"^([a-zA-Z])\s*(<|>|\\le|\\ge)\s*([^<>]+?)$")
_TWO_SIDED = re.compile(r"^([^<>]+?)\s*(<|\\le)\s*([a-zA-Z])\s*(<|\\le)\s*([^<>]+?)$")
_UNION_OF_CASES = re.compile(r"\s+or\s+|\\lor|\\vee|\\cup")


def _inequalities_as_union(p: str) -> str | None:
    """``x<2 or x>3`` -> ``(-\\infty,2)\\cup(3,\\infty)``: a disjunction of inequalities in one variable is a union of
    intervals. None unless every part is such an inequality (and there are at least two parts)."""
    parts = [part.strip() for part in _UNION_OF_CASES.split(p)]
    if len(parts) < 2:
        return None
    intervals, variables = [], set()
    for part in parts:
        if m := _ONE_SIDED.match(part):
            var, op, bound = m.groups()
            closed = op.startswith("\\")
            below = op in ("<", "\\le")
            intervals.append(
                f"(-\\infty,{bound}{']' if closed else ')'}" if below else f"{'[' if closed else '('}{bound},\\infty)"
            )
        elif m := _TWO_SIDED.match(part):
            low, op1, var, op2, high = m.groups()
            intervals.append(f"{'[' if op1 != '<' else '('}{low},{high}{']' if op2 != '<' else ')'}")
        else:
            return None
        variables.add(var)
    return "\\cup".join(intervals) if len(variables) == 1 else None


# Words before a letter that only insist on it ("The answer is for sure D"); never a hedge ("probably D" is none).
CHOICE_INSISTING = ("for sure", "surely", "definitely", "certainly", "clearly", "obviously")
# A clause after the letter that rules the other options out ("D. it can't be A or B") names no second choice.
_RULES_OUT = re.compile(
    r"[ ,.;:]*(?:it|that|this|the answer)? ?(?:can't|cannot|can not|isn't|is not|couldn't|could not|must not) be\b"
    r"|[ ,.;:]*(?:it )?(?:doesn't|does not) make sense\b",
    re.IGNORECASE,
)


def _choice_letter(s: str) -> str | None:
    """``C``, ``(C)``, ``(C) 15``, ``C: 15``, ``for sure D`` -> ``C``; None when ``s`` is not a choice.

    Another letter after the choice is a hedge (``(C) or (D)`` chooses nothing) unless the clause rules it out
    (``D. it can't be A or B``) and says nothing more (``D. it can't be A, so B`` is none).
    """
    s = s.strip()
    low = s.lower()
    for word in CHOICE_INSISTING:
        if low.startswith(word) and s[len(word) : len(word) + 1] in (" ", "("):  # "definitely(C)" once normalised
            s = s[len(word) :].strip()
            break
    m = re.fullmatch(r"\(([A-E])\)(.*)|([A-E])(?:(?:[.)]|: )(.*))?", s)
    if m is None:
        return None
    rest = m.group(2) or m.group(4) or ""
    if (ruled := _RULES_OUT.match(rest)) is not None:
        others = rest[ruled.end() :]
        if not re.fullmatch(r"[ A-E,]*(?:(?:or|and|nor) [A-E])?[ .!]*", others):
            return None  # "D. it can't be A, so B": more than the options ruled out
        if (m.group(1) or m.group(3)) in re.findall(r"\b[A-E]\b", others):
            return None  # "A. it can't be A or B" contradicts itself
        rest = ""
    if re.search(r"\([A-E]\)|\b(?:or|and)\b|\\lor|\\vee", rest):
        return None
    return m.group(1) or m.group(3)


def _reference_option(g: str) -> str | None:
    """A reference that gives the letter and then the option's text (``C Cecile``, ``A Peter Celina``): the letter."""
    m = re.fullmatch(r"([A-E]) [A-Z][a-z][^=<>]*", g)
    return m.group(1) if m else None


_PLACEHOLDERS = {"?", "...", "\\ldots", "\\cdots", "n/a", "none", "answer", "unknown", "x", "\\dots", ""}


def _is_placeholder(p: str, g: str) -> bool:
    if p.lower() in _PLACEHOLDERS and p.lower() != g.lower():
        return True
    return bool(re.fullmatch(r"[A-Za-z]|\\[a-zA-Z]+", p)) and not re.search(r"[A-Za-z]", g) and p not in ("e", "\\pi")


def _is_words(g: str) -> bool:
    """A reference such as ``east``, ``Evelyn`` or ``even``: compared as words, case-insensitively."""
    return bool(re.fullmatch(r"[A-Za-z]{3,}(?: [A-Za-z]{2,})*", g))


def _words(s: str) -> str:
    return " ".join(re.findall(r"[a-z]+", s.lower()))


def compare_shapes(p: _Shape, g: _Shape) -> tuple[bool, str]:
    if g.kind == "scalar" and p.kind in ("list", "set") and len(p.items) > 1:
        shown = " and ".join(p.items[:3])
        return False, f"hedged between {shown}" if p.kind == "list" else f"a set of {len(p.items)} where one is asked"
    if g.kind == "scalar" and p.kind == "set" and len(p.items) == 1:
        p = _Shape("scalar", p.items)
    if g.kind == "scalar" and p.kind == "scalar":
        return _scalar_equal(p.items[0], g.items[0])
    if g.kind == "matrix" and p.kind == "scalar" and p.items[0].count("\\begin") >= 1:
        return _sympy_equal(p.items[0], _render_matrix(g))  # "A + B", "-A", "2A": matrix arithmetic is sympy's
    if g.kind == "matrix":
        return _compare_matrix(p, g)
    if g.kind in ("tuple", "union") and p.kind == "scalar" and _RELATION.search(p.items[0]):
        return _sympy_equal(p.items[0], _render(g))  # x > 2 for (2, \infty)
    if g.kind == "tuple":
        return _compare_tuple(p, g)
    if g.kind in ("list", "set") and p.kind == "tuple" and p.brackets == "()":
        p = _Shape("list", p.items)  # "(1, 2, 3)" for the list "1,2,3": the question asked for a, b and c
    if g.kind in ("list", "set", "union"):
        if p.kind not in ("list", "set", "union", "scalar") or (g.kind == "union") != (p.kind == "union"):
            return False, f"expected a {g.kind}, got a {p.kind}"
        return _compare_unordered(list(p.items), list(g.items), g.kind)
    if g.kind == "scalar" and p.kind in ("tuple", "matrix", "union"):
        return _scalar_equal(_render(p), g.items[0])
    return False, "not equivalent"


def _render_matrix(s: _Shape) -> str:
    cols = len(s.items) // max(s.rows, 1)
    rows = [" & ".join(s.items[r * cols : (r + 1) * cols]) for r in range(s.rows)]
    return "\\begin{pmatrix}" + " \\\\ ".join(rows) + "\\end{pmatrix}"


def _render(s: _Shape) -> str:
    return s.brackets[:1] + ",".join(s.items) + s.brackets[1:] if s.kind == "tuple" else "\\cup".join(s.items)


def _compare_tuple(p: _Shape, g: _Shape) -> tuple[bool, str]:
    if (p.kind == "list" or p.brackets == "{}") and g.brackets == "()":
        p = _Shape("tuple", p.items, "()")  # "1,3" or "{1,3}" (plain braces, which LaTeX does not print) for (1,3)
    if p.kind == "matrix" and len(p.items) == len(g.items):
        p = _Shape("tuple", p.items, "()")
    if p.kind != "tuple" or len(p.items) != len(g.items):
        return False, f"expected {len(g.items)} ordered entries"
    is_interval = len(g.items) == 2 and (g.brackets != "()" or p.brackets != "()" or "\\infty" in "".join(g.items))
    if p.brackets != g.brackets and (is_interval or p.brackets in ("[)", "(]") or g.brackets in ("[)", "(]")):
        return False, f"interval ends differ: {p.brackets} vs {g.brackets}"
    for a, b in zip(p.items, g.items):
        ok, _ = _scalar_equal(a, b)
        if not ok:
            return False, "interval endpoints differ" if is_interval else "entries differ (order matters)"
    return True, ""


def _compare_matrix(p: _Shape, g: _Shape) -> tuple[bool, str]:
    is_vector = g.rows == len(g.items) or g.rows == 1
    if p.kind == "matrix" and (p.rows != g.rows or len(p.items) != len(g.items)):
        return False, "matrix shapes differ"
    if p.kind != "matrix" and not (is_vector and p.kind in ("tuple", "list") and len(p.items) == len(g.items)):
        return False, "expected a matrix or vector of the same size"
    for a, b in zip(p.items, g.items):
        ok, _ = _scalar_equal(a, b)
        if not ok:
            return False, "matrix entries differ"
    return True, ""


def _compare_unordered(p_items: list[str], g_items: list[str], kind: str) -> tuple[bool, str]:
    if kind == "union":
        p_norm, g_norm = [_shape(x) for x in p_items], [_shape(x) for x in g_items]
        equal = lambda a, b: compare_shapes(a, b)[0]  # noqa: E731
    else:
        p_norm, g_norm = _expand_pm(tuple(map(_strip_lhs, p_items))), _expand_pm(tuple(g_items))
        equal = lambda a, b: _scalar_equal(a, b)[0]  # noqa: E731
        if len(set(g_norm)) == len(g_norm):
            p_norm = list(dict.fromkeys(p_norm))  # a value written twice is one member of the set
    if len(p_norm) != len(g_norm):
        return False, f"{len(p_norm)} values given, {len(g_norm)} expected"
    unused = list(range(len(p_norm)))
    for b in g_norm:
        hit = next((i for i in unused if equal(p_norm[i], b)), None)
        if hit is None:
            return False, "the sets differ"
        unused.remove(hit)
    return True, ""


def _scalar_equal(p: str, g: str) -> tuple[bool, str]:
    if p == g:
        return True, ""
    if _split_or(p) != [p] and _split_or(g) == [g]:
        return False, "hedged between " + " and ".join(_split_or(p)[:3])
    p, g = _strip_lhs(p), _strip_lhs(g)
    pn, gn = _exact_number(p), _exact_number(g)
    if pn is not None and gn is not None:
        return _compare_numbers(pn, gn)
    if gn is not None and gn.decimals is not None and not gn.percent and (v := _float_value(p)) is not None:
        return _compare_to_decimal(v, gn)
    if _base_digits(g) is not None and _base_digits(g) == _base_digits(p):
        return True, "base subscript omitted"
    if "=" not in g and _names(g) and not _names(p) and _float_value(p) is not None:
        return False, f"the reference has {', '.join(sorted(_names(g)))}; the answer is a number"  # 37/4 for 37/4 m
    return _sympy_equal(p, g)


def _compare_to_decimal(v: complex, g: _Num) -> tuple[bool, str]:
    """An expression (``\\sqrt{17}``) against a decimal reference given to limited precision (``4.123105625617661``)."""
    if abs(v.imag) > 1e-12:
        return False, "not equivalent"
    if _within_tolerance(v.real, g):
        return True, "within the relative tolerance"
    slack = 0.5 * 10.0**-g.decimals + 4e-16 * abs(float(g.value))
    if abs(v.real - float(g.value)) > 4e-16 * abs(float(g.value)) and _terminating_float(v.real):
        return False, "a different terminating decimal"  # "\\frac{5}{2}+\\frac{1}{1000}" is 2.501, not 2.5
    if abs(v.real - float(g.value)) <= slack:
        return True, "equal at the reference's precision"
    return False, "not equivalent"


def _terminating_float(x: float) -> bool:
    """Whether ``x`` is (to double precision) a decimal of at most 12 places: the value of an exact expression that a
    reference rounded from an irrational value cannot be (``2.501`` for 2.5; ``\\sqrt{17}`` is not one)."""
    if not math.isfinite(x) or abs(x) >= 1e6:
        return False
    for places in range(13):
        scaled = x * 10**places
        if abs(scaled) < 1e14 and abs(scaled - round(scaled)) <= 1e-6:  # an irrational value lands this close rarely
            return True
    return False


def _base_digits(s: str) -> str | None:
    m = re.fullmatch(r"([0-9A-Fa-f]+)(?:_\{?(\d+)\}?)?", s)
    return m.group(1) if m else None


# ----------------------------------------------------------------------------------------------- numeric disproof


def _float_value(s: str, point: int | None = None) -> complex | None:
    return _precise(_FloatReader, s, point)


# A value whose intermediates were this many times larger has lost too much to rounding to disprove anything:
# (x+10^{8})^2-10^{16}-2\cdot 10^{8}x is x^2, and doubles make it 0 (200 operations lose at most ~1e-14 of the scale).
_CANCELLATION = 1e6


def _read(reader: Callable[..., _FloatReader], *args: Any) -> tuple[complex, _FloatReader] | None:
    """The value read and the reader that read it (its magnitudes), or None where it cannot be read."""
    try:
        r = reader(*args)
        return r.value(), r
    except (_NotNumeric, ZeroDivisionError, OverflowError, ValueError, RecursionError):
        return None


def _well_scaled(s: str, point: int) -> complex | None:
    """The value, where every magnitude met (numbers and intermediates) lies between 1e-6 and 1e6."""
    if (read := _read(_FloatReader, s, point)) is None:
        return None
    v, r = read
    return v if 1e-6 <= r.smallest and r.largest <= 1e6 and abs(v) <= 1e6 else None


def _precise(reader: Callable[..., _FloatReader], *args: Any) -> complex | None:
    """The value read, or None where it cannot be read or a cancellation has eaten its precision."""
    if (read := _read(reader, *args)) is None:
        return None
    v, r = read
    return v if r.largest <= _CANCELLATION * max(1.0, abs(v)) else None


def _equations_same(p: str, g: str) -> bool | None:
    """``L1 = R1`` and ``L2 = R2`` are the same equation when L1 - R1 is a constant multiple of L2 - R2; decided at
    generic points (None when either side cannot be read, or holds a magnitude far from the points' own: the ratio
    of ``x+y-10^{12}`` to ``x+y-10^{12}-1`` moves by 1e-12 from point to point, below what doubles can tell)."""
    ratios = []
    for n in range(_N_POINTS):
        sides = [_well_scaled(side, n) for eq in (p, g) for side in eq.split("=")]
        if any(v is None for v in sides):
            return None
        fp, fg = sides[0] - sides[1], sides[2] - sides[3]
        if abs(fg) < 1e-9 or abs(fp) < 1e-9:
            return None
        ratios.append(fp / fg)
    return all(abs(r - ratios[0]) <= 1e-9 * max(1.0, abs(r), abs(ratios[0])) for r in ratios)


def _names(s: str) -> set[str]:
    return {t for t in _TOKEN.findall(s) if t[0].isalpha() and len(t) < 30} - {"e", "i"}


def _values(
    p: str, g: str, read: Callable[[str, int], complex | None] = _float_value
) -> list[tuple[complex, complex]] | None:
    """Both sides evaluated at every substitution point; None if either cannot be read or they name other variables
    (a letter on one side only may be a unit, "12 m", or a name: sympy and the rules decide)."""
    if _names(p) != _names(g):
        return None
    pairs = []
    for n in range(_N_POINTS):
        a, b = read(p, n), read(g, n)
        if a is None or b is None:
            return None
        pairs.append((a, b))
    return pairs


def _close(a: complex, b: complex) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


class _PinnedReader(_FloatReader):
    """The numeric reader with some names pinned to given values (a name solved for)."""

    def __init__(self, text: str, point: int, pinned: dict[str, complex]) -> None:
        super().__init__(text, point)
        self.pinned = pinned

    def atom(self) -> complex:
        if (tok := self.peek()) in self.pinned:
            self.take()
            return self.pinned[tok]
        return super().atom()


def _residue(sides: list[str], n: int, pinned: dict[str, complex]) -> tuple[complex, float] | None:
    """``L - R`` of an equation's two sides at point ``n`` with ``pinned`` names, and the larger side's size."""
    left, right = (_precise(_PinnedReader, side, n, pinned) for side in sides)
    if left is None or right is None:
        return None
    return left - right, max(1.0, abs(left), abs(right))


def _holds_where_solved(solved: list[str], other: list[str], n: int) -> bool | None:
    """The host's :func:`_shares_solution`: at point ``n``, with the first name in which ``solved`` is linear solved
    for (linearity checked at two more values, one of them complex), whether ``other`` holds there too; None where
    no such name is found."""
    for name in sorted(_names("=".join(solved))):
        at = [_residue(solved, n, {name: complex(z)}) for z in (0, 1, 2, 0.5 + 0.7j)]
        if any(r is None for r in at):
            continue
        (f0, _), (f1, scale), (f2, _), (fz, _) = at  # type: ignore[misc]
        slope = f1 - f0
        if abs(slope) < 1e-6 * scale or abs(f2 - (f0 + 2 * slope)) > 1e-9 * scale:
            continue
        if abs(fz - (f0 + (0.5 + 0.7j) * slope)) > 1e-9 * scale:
            continue  # not linear in this name
        root = {name: -f0 / slope}
        check, held = _residue(solved, n, root), _residue(other, n, root)
        if check is None or held is None or abs(check[0]) > 1e-9 * check[1]:
            continue
        return abs(held[0]) <= 1e-6 * held[1]
    return None


def _host_equations_differ(p: str, g: str) -> bool:
    """Two equations read by the numeric reader, of which a solution of one (solved for where it is linear in a
    name) does not solve the other: the host's :func:`_equations_differ`."""
    p_sides, g_sides = p.split("="), g.split("=")
    pairs = ((g_sides, p_sides), (p_sides, g_sides))
    return any(_holds_where_solved(a, b, n) is False for n in (0, 1) for a, b in pairs)


def _surely_different(p: str, g: str) -> bool:
    if p.count("=") == 1 and g.count("=") == 1:
        return _host_equations_differ(p, g)
    pairs = _values(p, g)
    return pairs is not None and any(abs(a - b) > 1e-6 * max(1.0, abs(a), abs(b)) for a, b in pairs)


def _numerically_same(p: str, g: str) -> bool:
    """Equal at every generic point: used only where sympy cannot read an answer (``L_{\\odot}``, ``E_1``)."""
    # a proof: no magnitude that could hide a difference (x+10^{12} vs x+10^{12}+1)
    pairs = _values(p, g, _well_scaled)
    return pairs is not None and all(_close(a, b) for a, b in pairs)


# ------------------------------------------------------------------------------------------------------ sympy layer


def _quiet() -> None:
    """math-verify warns on every call that its timeout is off; in our workers that is deliberate."""
    for name in ("math_verify", "latex2sympy2_extended"):
        logging.getLogger(name).setLevel(logging.ERROR)


@functools.lru_cache(maxsize=2048)  # a GRPO group asks for the same gold many times
def _parse(s: str) -> Any:
    from latex2sympy2_extended.math_normalization import NormalizationConfig
    from math_verify import LatexExtractionConfig, parse

    # math-verify's default also strips a trailing "unit" after a digit, brace or space, from a list that holds
    # c d g h l m o s t and words: \pi r^2 h became \pi r^2, \frac{1}{x} t became \frac{1}{x}. Units are
    # normalize.split_units' business (it knows a unit from a variable by what stands before it); sympy reads the rest.
    config = NormalizationConfig(basic_latex=True, units=False, malformed_operators=True, nits=True, boxed="all")

    _two_stage_parsing()
    latex = "$" + _for_latex2sympy(s).replace("%", "\\%") + "$"
    found = parse(
        latex,
        extraction_config=[LatexExtractionConfig(normalization_config=config)],
        fallback_mode="no_fallback",
        parsing_timeout=None,
    )
    return found[0] if found else None


# Where SLL always fails on latex2sympy's grammar (a name with a sub- or superscript other than e^ and a function's
# power or limits: x^2, \\lambda_{red}, \\pi^2, measured on real answers): LL at once, saving a failed SLL attempt.
_SLL_FAILS = re.compile(
    r"(?<![\\A-Za-z])[A-Za-df-z] ?[\^_]|\\(?!sin|cos|tan|sec|csc|cot|log|ln|sum|lim|prod|int)[A-Za-z]+ ?[\^_]"
)


@functools.cache
def _two_stage_parsing() -> None:
    """latex2sympy's ANTLR parser predicts every decision with full-context LL (``ALL(*)``), about 25 ms an answer
    and a third of a worker's CPU on real generations. ANTLR's SLL prediction is some 15x faster and, by ANTLR's
    own contract, returns the very tree LL would or reports a syntax error; on any error the answer is parsed again
    with LL, as before (ANTLR's "two-stage parsing"). Installed once per process on latex2sympy's parser factory,
    which every parse of latex2sympy goes through; the trees are the same (``tests/test_math_worker.py`` compares
    both ways on real answers)."""
    from antlr4.atn.PredictionMode import PredictionMode
    from latex2sympy2_extended import latex2sympy2

    converter = latex2sympy2._Latex2Sympy
    full_ll = converter.create_parser
    if getattr(full_ll, "two_stage", False):
        return

    def create_parser(self: Any, latex: str) -> Any:
        parser = full_ll(self, latex)
        if _SLL_FAILS.search(latex):
            return parser
        parser._interp.predictionMode = PredictionMode.SLL
        sll = parser.math

        def math() -> Any:
            try:
                return sll()
            except Exception:  # a syntax error under SLL: LL decides, on a fresh lexer and parser
                return full_ll(self, latex).math()

        parser.math = math
        return parser

    create_parser.two_stage = True  # type: ignore[attr-defined]
    create_parser.full_ll = full_ll  # type: ignore[attr-defined]
    converter.create_parser = create_parser


_PRIME = re.compile(r"(?<=[A-Za-z})])('{1,3})")
_SUBSCRIPT_COMMAND = re.compile(r"_\{ ?\\([A-Za-z]+) ?\}")


def _for_latex2sympy(s: str) -> str:
    r"""What latex2sympy misreads, spelled so that it reads both sides alike: math-verify deletes quotes, so ``x'``
    was ``x`` while ``x^{\prime}`` is ``x**prime``; a command as a subscript (``L_{\odot}``, ``\lambda_{\max}``)
    does not parse at all."""
    if "'" in s:
        s = _PRIME.sub(lambda m: "^{" + "\\prime" * len(m.group(1)) + "}", s)
    return _SUBSCRIPT_COMMAND.sub(r"_{\1}", s) if "_{\\" in s else s


class NeedsWorker(BaseException):
    """Raised where a decision taken on the host (``MathVerifier.quick_judge``) would need sympy: the row then goes to
    a worker process instead. A BaseException, so that no ``except Exception`` on the way up can turn it into a
    verdict."""


_HOST_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("host_only", default=False)


@contextlib.contextmanager
def host_only() -> Iterator[None]:
    """Within this block, reaching sympy raises :class:`NeedsWorker`; every step before it is string work on bounded
    input and the same code as in the worker, so a verdict reached here is the worker's verdict."""
    token = _HOST_ONLY.set(True)
    try:
        yield
    finally:
        _HOST_ONLY.reset(token)


def _sympy_equal(p: str, g: str) -> tuple[bool, str]:
    from rlvr.verifiers.math.quick import certainly_different, certainly_equal

    if _surely_different(p, g) or certainly_different(p, g):
        return False, "not equivalent"
    if certainly_equal(p, g):
        return True, ""
    if _HOST_ONLY.get():
        raise NeedsWorker
    return _sympy_verdict(p, g)


def _sympy_verdict(p: str, g: str) -> tuple[bool, str]:
    """math-verify's verdict, audited (the only step that parses with latex2sympy and runs sympy)."""
    import sympy
    from math_verify import verify

    gold, pred = _parse(g), _parse(p)
    if gold is None or pred is None:
        same = re.sub(r"\s", "", p) == re.sub(r"\s", "", g) or _numerically_same(p, g)
        return same, "" if same else "could not read the answer as maths; text differs"
    for expr in (pred, gold):
        if (reason := _too_big(expr)) is not None:
            return False, reason
    pred, gold = _imaginary_unit(*_one_symbol_per_name(pred, gold))
    if _differ_at_a_point(pred, gold):
        return False, "not equivalent"
    if _equations_differ(pred, gold):
        return False, "not the same equation"
    if _equations_agree(pred, gold):
        return True, ""
    relational = bool(_RELATION.search(p + g))
    if _solve_is_slow(pred, gold):
        if _within(SOLVE_SECONDS, lambda: _same_equation(pred, gold)):  # simplify is bounded too
            return True, ""
        same = _within(
            SOLVE_SECONDS, lambda: verify(gold, pred, timeout_seconds=None, allow_set_relation_comp=relational)
        )
        if same is None:
            return False, "not the same equation (solving them took too long)"
    else:
        same = verify(gold, pred, timeout_seconds=None, allow_set_relation_comp=relational)
    if not same and _hyperbolic(pred, gold):  # sinh(at)/a for (e^{at}-e^{-at})/(2a): sympy's simplify keeps sinh
        with contextlib.suppress(ValueError, TypeError, ArithmeticError):
            same = verify(gold.rewrite(sympy.exp), pred.rewrite(sympy.exp), timeout_seconds=None)
    if not same:
        return False, "not equivalent"
    return _audit_precision(pred, gold)


def _differ_at_a_point(pred: Any, gold: Any) -> bool:
    """Two parsed expressions that math-verify would compare by value (neither a relation, set, tuple, matrix or
    lone symbol; an equation against a value is its right side, as math-verify takes it) and whose values differ at
    one generic point: math-verify cannot call them equal, so its ``simplify`` (a tenth of a second or more on a
    wrong formula with several names) is skipped.

    Why this is sound: for two such expressions math-verify says "equal" through structural equality, a numeric
    comparison of two numbers (rounded to 6 places when one is a float: :func:`_audit_precision` then refuses
    anything that differs beyond 1e-40) or ``simplify(a - b)`` being zero, which holds only for an identity. Each
    holds at every point where both sides are defined, so a relative difference above 1e-8 at one point (evaluated
    to 30 digits by ``evalf``) rules all three out. Only numbers, arithmetic and the elementary functions of
    :func:`_evaluable` are evaluated, at points that obey each symbol's assumptions (latex2sympy makes names real: a
    real point for those; other assumptions, such as integer or positive, are not met by a generic point and the
    pair is left to math-verify); a percent, an undefined function (``x(t)``), a derivative or an integral is left
    to math-verify as well."""
    import sympy
    from math_verify.grader import is_assignment_relation, is_equation

    if isinstance(pred, sympy.Eq) and not is_equation(gold):
        pred = pred.rhs  # math-verify's own first step: an equation's right side against a value
    elif is_assignment_relation(gold) and isinstance(gold, sympy.Eq) and not is_equation(pred):
        gold = gold.rhs  # and a value against an assignment's (x = 5)
    if not all(
        isinstance(e, sympy.Expr) and not isinstance(e, (sympy.Symbol, sympy.MatrixExpr)) for e in (pred, gold)
    ):
        return False
    point = _generic_point((pred, gold), opaque=False)
    if point is None:
        return False
    values = _evaluated((pred, gold), point)
    return values is not None and _apart(*values)


def _equations_differ(pred: Any, gold: Any) -> bool:
    """Two equations whose solution sets differ, shown at one point: math-verify calls two equations equal when
    their sides' differences are equal or opposite, when ``L1 - R1`` is a constant times ``L2 - R2`` (rlvr's
    :func:`_same_equation`), or when ``sympy.solve`` gives both the same solutions; each makes every solution of one
    a solution of the other. So a point that solves one equation and not the other rules them all out, and the
    solve (seconds on a Minerva equation of motion) is skipped. (Where math-verify's solve calls such a pair equal
    anyway, it is wrong: it equates a Minerva answer ``\\frac{dM}{dt} = k M^4`` with the reference's
    ``\\frac{dM}{dt} = k' M^6``, whose solutions for ``L_{\\odot}`` it compares with floats in them.)

    The point: every name gets a generic real value (real is a valid value for latex2sympy's real names and for
    names without assumptions), and a derivative or an undefined function's value (``x(t)``, ``\\frac{dx}{dt}``)
    is one more name, the same on both sides (an arbitrary function takes any value and slope at a point); then the
    first name in which an equation is *linear* is solved for exactly, and the other equation is evaluated there.
    A relative residue above 1e-8 (both sides evaluated to 30 digits) is a disproof. Tried both ways round."""
    sides = _equation_sides(pred, gold)
    if sides is None:
        return False
    p_sides, g_sides = sides
    point = _generic_point(p_sides + g_sides, opaque=True)
    if point is None:
        return False
    return _shares_solution(g_sides, p_sides, point) is False or _shares_solution(p_sides, g_sides, point) is False


def _equations_agree(pred: Any, gold: Any) -> bool:
    """Two differential equations that are one another times a factor of their parameters: the same equation for a
    reader (``\\frac{dv}{dt} + \\frac{b}{m} v = \\frac{f}{m}`` is ``m \\frac{dv}{dt} + b v = f`` divided by
    the mass ``m``; math-verify's ``solve`` for every name does not see it). Shown at generic points (as in
    :func:`_equations_differ`): ``(L1 - R1) / (L2 - R2)`` is finite and non-zero, and keeps its value when only the
    unknowns take other values (the derivatives and function calls, and the names inside them: ``v`` and ``t`` of
    ``\\frac{dv}{dt}``; ``v \\frac{dv}{dt} + ... = \\frac{f}{m} v`` gains the solution ``v = 0``), at two
    settings of the parameters.

    Only for equations of functions and derivatives, with the same names on both sides: in plain algebra a factor of
    a name adds solutions (``y (y - 2x - 3) = 0`` is not ``y = 2x + 3``), and there only a constant factor makes the
    same equation (:func:`_same_equation`)."""
    sides = _equation_sides(pred, gold)
    if sides is None:
        return False
    p_sides, g_sides = sides
    names = set().union(*(e.free_symbols for e in p_sides))
    if names != set().union(*(e.free_symbols for e in g_sides)):
        return False
    calls = [s for s in names if s.name.startswith(_CALL)]
    if not calls:
        return False
    inner = _inner_names(pred) | _inner_names(gold)  # v and t of dv/dt
    unknowns = calls + [s for s in names if s in inner]
    p_diff, g_diff = p_sides[0] - p_sides[1], g_sides[0] - g_sides[1]
    for n in (1, 2):
        point = _generic_point(p_sides + g_sides, opaque=True, n=n)
        if point is None:
            return False
        ratios = []
        for m in (3, 4, 5):  # other values of the unknowns only
            moved = {**point, **{u: _number(complex(_point(u.name, m).real, 0)) for u in unknowns}}
            values = _evaluated([p_diff, g_diff], moved)
            if values is None or abs(values[1]) < 1e-12 or abs(values[0]) < 1e-12:
                return False
            ratios.append(values[0] / values[1])
        if any(_apart(r, ratios[0]) for r in ratios[1:]):
            return False
    return True


def _equation_sides(pred: Any, gold: Any) -> tuple[list[Any], list[Any]] | None:
    """The two sides of each equation, each derivative or undefined function call as a name of its own."""
    import sympy

    if not (isinstance(pred, sympy.Eq) and isinstance(gold, sympy.Eq)):
        return None
    opaque: dict[Any, Any] = {}
    sides = [_opaque_calls(e, opaque) for e in (pred.lhs, pred.rhs, gold.lhs, gold.rhs)]
    return sides[:2], sides[2:]


def _shares_solution(solved: list[Any], other: list[Any], point: dict[Any, Any]) -> bool | None:
    """Whether ``other`` (an equation's two sides) holds where ``solved`` holds: at ``point``, with the first name
    (by name) in which ``solved`` is linear solved for exactly. None where no such name or value is found."""
    import sympy

    f = solved[0] - solved[1]
    for name in sorted(point, key=lambda s: s.name):
        slope = f.diff(name)
        if slope.has(name):
            continue  # not linear in this name
        rest = {k: v for k, v in point.items() if k != name}
        at = _evaluated([slope, f.xreplace({name: sympy.Integer(0)})], rest)
        if at is None or abs(at[0]) < 1e-8:
            continue
        value = -at[1] / at[0]
        if (_symbol_kind(name) == "real" and abs(value.imag) > 1e-12 * abs(value)) or (
            _symbol_kind(name) == "nonreal" and abs(value.imag) <= 1e-6 * abs(value)
        ):
            continue  # the solution is no value this name may take
        root = {**rest, name: _number(value)}
        check = _evaluated(solved, root)
        if check is None or _apart(*check):
            return None  # the linear solve did not land on a solution: rounding or a pole, no claim
        values = _evaluated(other, root)
        return None if values is None else not _apart(*values)
    return None


def _calls(expr: Any) -> list[Any]:
    """The derivatives and undefined function calls in ``expr`` (``\\frac{dx}{dt}``, ``x(t)``)."""
    import sympy
    from sympy.core.function import AppliedUndef

    return [n for n in sympy.preorder_traversal(expr) if isinstance(n, (sympy.Derivative, AppliedUndef))]


def _inner_names(expr: Any) -> set[Any]:
    """The symbols inside the derivatives and undefined function calls of ``expr``."""
    return set().union(*(c.free_symbols for c in _calls(expr)))


_CALL = "_call"  # the name of a derivative or function call, in the value disproofs (no latex2sympy name has it)


def _opaque_calls(expr: Any, opaque: dict[Any, Any]) -> Any:
    """``expr`` with each derivative or undefined function call replaced by a name of its own (shared through
    ``opaque``, so that the same call on either side is the same name)."""
    import sympy

    calls = _calls(expr)
    for call in calls:  # a call of a function latex2sympy made complex (not real) keeps that assumption
        opaque.setdefault(call, sympy.Symbol(f"{_CALL}{len(opaque)}", real=call.is_real is not False))
    return expr.xreplace(opaque) if calls else expr


def _generic_point(exprs: Any, opaque: bool, n: int = 0) -> dict[Any, Any] | None:
    """A generic value for every name in ``exprs`` that obeys its assumptions (real for a real symbol, complex with
    an imaginary part for one latex2sympy made not real, and for one without assumptions complex unless ``opaque``:
    real there), or None where a node is not evaluable or a symbol has other assumptions."""
    import sympy

    point = {}
    for e in exprs:
        for node in sympy.preorder_traversal(e):
            if isinstance(node, sympy.Symbol):
                kind = _symbol_kind(node)
                if kind is None:
                    return None
                value = _point(node.name, n)
                real = kind == "real" or (kind == "complex" and opaque)
                point[node] = _number(complex(value.real, 0 if real else value.imag))
            elif not isinstance(node, _evaluable()):
                return None
    return point


def _number(z: complex) -> Any:
    import sympy

    return sympy.Float(z.real, 30) + sympy.I * sympy.Float(z.imag, 30) if z.imag else sympy.Float(z.real, 30)


def _evaluated(exprs: Any, point: dict[Any, Any]) -> list[complex] | None:
    """Each expression's value at ``point`` (30 digits), or None where one is not a finite number there."""
    import sympy

    try:  # subs=, not xreplace: evalf then treats the values as exact and follows cancellations to 30 digits
        values = [complex(sympy.N(e, 30, subs=point)) for e in exprs]
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        return None
    return values if all(cmath.isfinite(v) for v in values) else None


def _apart(a: complex, b: complex) -> bool:
    return abs(a - b) > 1e-8 * max(1.0, abs(a), abs(b))


@functools.cache
def _evaluable() -> tuple[type, ...]:
    """The node types the value disproofs evaluate: numbers, symbols, arithmetic, elementary functions."""
    import sympy
    from sympy.core.numbers import NumberSymbol

    return (
        sympy.Integer, sympy.Rational, sympy.Float, NumberSymbol, type(sympy.I), sympy.Symbol, sympy.Add, sympy.Mul,
        sympy.Pow, sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc,
        sympy.asin, sympy.acos, sympy.atan, sympy.sinh, sympy.cosh, sympy.tanh, sympy.Abs,
    )  # fmt: skip


@functools.cache
def _assumptions(real: bool) -> dict[str, bool]:
    import sympy

    return sympy.Symbol("x", real=real).assumptions0


def _symbol_kind(sym: Any) -> str | None:
    """``complex`` for a symbol without assumptions, ``real`` for a real one (latex2sympy's default), ``nonreal`` for
    one it makes not real (where it reads the answer as complex: ``v_{i}``), None for any other."""
    if sym.assumptions0 == {"commutative": True}:
        return "complex"
    if sym.assumptions0 == _assumptions(real=True):
        return "real"
    return "nonreal" if sym.assumptions0 == _assumptions(real=False) else None


def _solve_is_slow(pred: Any, gold: Any) -> bool:
    """Two equations that math-verify would, as its last resort, hand to ``sympy.solve`` for all their symbols: with
    three or more symbols or any function in them that can run for many seconds (a Minerva equation of motion,
    ``ml\\ddot\\theta(t) - mg\\sin\\theta(t) = f(t)\\cos\\theta(t)``, took 12 s and timed out)."""
    import sympy

    if not (isinstance(pred, sympy.Eq) and isinstance(gold, sympy.Eq)):
        return False
    if len(pred.free_symbols | gold.free_symbols) > 2:
        return True
    return any(e.atoms(sympy.Function) for e in (pred, gold))


def _same_equation(pred: Any, gold: Any) -> bool:
    """``L1 = R1`` and ``L2 = R2`` are the same equation when ``L1 - R1`` is a non-zero constant times ``L2 - R2``
    (sides swapped, both sides scaled), decided without solving. (Scaled by a symbol is left to math-verify's solve:
    latex2sympy reads ``SRMC = LRMC`` as a product of letters, ``M/A`` times ``SRAC = LRAC``.)"""
    import sympy

    diff_p, diff_g = pred.lhs - pred.rhs, gold.lhs - gold.rhs
    if diff_g == 0 or diff_p == 0:
        return diff_p == diff_g
    ratio = sympy.simplify(diff_p / diff_g)
    return bool(ratio.is_number and ratio.is_nonzero and ratio.is_finite)


SOLVE_SECONDS = 2.0  # math-verify's sympy.solve on two equations, at most; well inside the worker's 10 s


class _OutOfTime(BaseException):
    """Raised by the timer in :func:`_within`; a BaseException, so that math-verify's ``except Exception`` around
    its comparisons lets it through."""


def _within(seconds: float, work: Callable[[], bool]) -> bool | None:
    """``work()``, or None when it runs past ``seconds``: a timer signal interrupts sympy (pure Python) in a grader
    process's main thread. Elsewhere (a thread, no SIGALRM, a caller's own alarm pending or handled) the work runs
    unbounded, as everything else in sympy."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return work()
    if signal.getitimer(signal.ITIMER_REAL)[0] > 0 or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
        return work()  # the caller times itself with SIGALRM (pytest-timeout, math-verify's own): leave it alone

    def out_of_time(signum: int, frame: Any) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, out_of_time)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return work()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _OutOfTime:
        return None
    finally:
        signal.signal(signal.SIGALRM, previous)


_HYPERBOLIC = ("sinh", "cosh", "tanh", "coth", "sech", "csch")


def _hyperbolic(pred: Any, gold: Any) -> bool:
    import sympy

    return all(isinstance(e, sympy.Basic) for e in (pred, gold)) and any(
        type(f).__name__ in _HYPERBOLIC for e in (pred, gold) for f in e.atoms(sympy.Function)
    )


def _imaginary_unit(pred: Any, gold: Any) -> tuple[Any, Any]:
    """A reference whose only name is ``i`` (``1+2i``) is a complex number: ``i`` is the imaginary unit on both sides,
    so that ``i(2-i)`` and ``2i-i^2`` are ``1+2i`` (latex2sympy reads ``i`` as a plain symbol); so is an answer whose
    only name is ``i`` against a reference without names (``e^{i\\pi}`` and ``(1+i)(1-i)`` for a number)."""
    import sympy

    if not isinstance(pred, sympy.Basic) or not isinstance(gold, sympy.Basic):
        return pred, gold
    names = {s.name for s in gold.free_symbols if isinstance(s, sympy.Symbol)}
    if names != {"i"} and (names or {s.name for s in pred.free_symbols if isinstance(s, sympy.Symbol)} != {"i"}):
        return pred, gold
    swap = {s: sympy.I for e in (pred, gold) for s in e.free_symbols if isinstance(s, sympy.Symbol) and s.name == "i"}
    return _replaced(pred, gold, swap)


def _replaced(pred: Any, gold: Any, swap: dict[Any, Any]) -> tuple[Any, Any]:
    """Both with ``swap`` applied, or both unchanged where sympy refuses the result (an interval with end ``i``)."""
    try:
        return pred.xreplace(swap), gold.xreplace(swap)
    except (ValueError, TypeError, ArithmeticError):
        return pred, gold


def _one_symbol_per_name(pred: Any, gold: Any) -> tuple[Any, Any]:
    """latex2sympy makes a name real or not by what stands near it (``e^{it}``: real ``t``; ``e^{i t}``: not), and
    sympy's symbols of one name but other assumptions are different symbols, so the same phasor spaced otherwise was
    "not equivalent". Where a name has two such symbols, every symbol of that name becomes the real one."""
    import sympy

    if not isinstance(pred, sympy.Basic) or not isinstance(gold, sympy.Basic):
        return pred, gold
    by_name: dict[str, set[Any]] = {}
    for sym in pred.free_symbols | gold.free_symbols:
        if isinstance(sym, sympy.Symbol):
            by_name.setdefault(sym.name, set()).add(sym)
    swap = {sym: sympy.Symbol(name, real=True) for name, syms in by_name.items() if len(syms) > 1 for sym in syms}
    return _replaced(pred, gold, swap) if swap else (pred, gold)


def _audit_precision(pred: Any, gold: Any) -> tuple[bool, str]:
    """math-verify rounds floats to 6 places and chops tiny differences; rlvr wants exact equality."""
    import sympy

    if not isinstance(pred, sympy.Basic) or not isinstance(gold, sympy.Basic):
        return True, ""
    if pred.free_symbols or gold.free_symbols or not (pred.is_number and gold.is_number):
        return True, ""
    if pred.atoms(sympy.Float) and not gold.atoms(sympy.Float):
        pred = sympy.nsimplify(pred, rational=True)
    try:
        diff = abs(sympy.N(pred - gold, 60))
        scale = max(abs(sympy.N(pred, 60)), abs(sympy.N(gold, 60)))
        if not (diff.is_comparable and scale.is_comparable):
            return True, ""
        if bool(diff > scale * sympy.Float("1e-40", 60)):
            return False, "equal only to limited precision"
    except (TypeError, ValueError, ArithmeticError):
        pass
    return True, ""


def _too_big(expr: Any) -> str | None:
    """Refuse trees that sympy would take ages on: towers, huge factorials, enormous sizes (estimated, cheap)."""
    import sympy

    if not isinstance(expr, sympy.Basic):
        return None
    nodes = 0
    for _ in sympy.preorder_traversal(expr):
        nodes += 1
        if nodes > MAX_NODES:
            return "answer too large to grade"
    try:
        return "number too large to grade" if _digits(expr) > MAX_DIGITS else None
    except RecursionError:
        return "answer too deeply nested to grade"


def _digits(e: Any) -> float:
    """An upper bound on log10 |e| for numeric sub-trees (symbols count as small)."""
    import sympy

    if isinstance(e, sympy.Integer):
        return math.log10(abs(int(e)) + 1)
    if isinstance(e, sympy.Rational):
        return max(math.log10(abs(e.p) + 1), math.log10(e.q + 1))
    if isinstance(e, sympy.Pow):
        base, exp = _digits(e.base), _digits(e.exp)
        if exp >= 300:
            return math.inf
        return max(base, 1.0) * _cap(_magnitude(e.exp, exp))
    if isinstance(e, (sympy.factorial, sympy.factorial2, sympy.gamma, sympy.binomial, sympy.subfactorial)):
        n = _cap(10.0 ** max(_digits(a) for a in e.args))
        return n * math.log10(n + 1)
    if not e.args:
        return 1.0
    parts = [_digits(a) for a in e.args]
    return sum(parts) if isinstance(e, sympy.Mul) else max(parts) + 1


def _magnitude(e: Any, digits: float) -> float:
    """An upper bound on |e| for a small numeric exponent: its value where it has one (10^{(\\sqrt{13}-5)/6} is
    small), else 10^digits."""
    import sympy

    if e.is_number and digits < 20:
        try:
            return abs(complex(sympy.N(e, 15))) + 1.0
        except (TypeError, ValueError, ArithmeticError):
            pass
    return 10.0**digits


def _cap(x: float) -> float:
    return min(x, 1e300)
