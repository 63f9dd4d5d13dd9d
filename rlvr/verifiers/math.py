"""The ``math`` verifier: find a completion's final answer, then decide whether it equals the reference.

Two halves, as the :class:`~rlvr.verifiers.base.Verifier` contract asks:

- :meth:`MathVerifier.extract` runs in the *calling* process to build the scoring cache key, so it is plain string
  work, linear in the input and free of sympy. It reads the answer the way a careful grader does: the last
  ``\\boxed{...}`` (also ``\\fbox{...}`` and ``\\boxed 5``) after any ``</think>``; failing that the last
  "final answer is" / "Answer:" / ``####`` line; failing that a short completion taken whole. Several boxed answers
  that disagree are all kept (joined by :data:`HEDGE_SEP`) so that the judge can refuse the hedge. A completion cut
  off inside ``<think>`` or inside an unclosed ``\\boxed{`` has no answer.
- :meth:`MathVerifier.judge` runs in a killable worker process (``rlvr.scoring``). It normalises both sides (units,
  ``\\text{}``, degrees, thousands separators, unicode minus, ``\\dfrac``...), compares plain numbers exactly with
  :class:`fractions.Fraction`, compares structure itself (intervals with their open/closed ends, ordered tuples,
  unordered solution sets, matrices and vectors, multiple-choice letters), and hands the remaining scalars to
  math-verify, whose answer it then audits: math-verify calls ``1/2^99`` equal to ``1/2^98`` and ``0.333333`` equal
  to ``1/3`` (it rounds and chops); rlvr does not reward an answer that is right only to limited precision.

Hostile answers (``9^{9^{9^9}}``, ``(10^{10})!``, 400 nested braces) are refused before sympy touches them where a
cheap size estimate can tell; anything slower is the scoring engine's hard timeout to catch. math-verify's own
SIGALRM timeout is switched off (``parsing_timeout=None, timeout_seconds=None``): it does nothing off the main
thread and the worker process is the real limit.
"""

from __future__ import annotations

import cmath
import functools
import logging
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rlvr.verifiers.base import Verdict, Verifier, correct, no_answer, register_verifier, wrong

HEDGE_SEP = " \u2016 "  # joins disagreeing boxed answers in ``extract``'s output: "3 ‖ 4"
MAX_CANDIDATES = 6  # boxed answers kept per completion (the last ones)
MAX_ANSWER_CHARS = 3000  # longer answers are not graded
MAX_NESTING = 60  # bracket depth beyond which an answer is refused (latex2sympy takes seconds on 400 levels)
MAX_DIGITS = 100_000  # numbers whose size estimate passes this many digits are refused
MAX_NODES = 4000  # sympy tree size beyond which an answer is refused

# ------------------------------------------------------------------------------------------------------ extraction

_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_BRACE = re.compile(r"(?<!\\)[{}]")
_BOX_EMPTY = re.compile(r"\\(?:boxed|fbox)\s*\{\s*\}")
_BARE_TOKEN = re.compile(r"[^\s$]+")
_MARKER = re.compile(
    r"(?:####|final\s+answer\s*\**\s*(?:is\s*:?|:|\n)|\banswer\s*\**\s*(?:is\s*:?|:))[*\s]*", re.IGNORECASE
)
_HOPE = re.compile(r"\.?\s*I hope it is correct\.?\s*$", re.IGNORECASE)
_CONCLUSION = re.compile(
    r"\s*(?:therefore|thus|so|hence|in total|in conclusion|finally|overall|altogether)\b", re.IGNORECASE
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)\s+(?=[A-Z])")
_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|(?<![\w.])-?\d+(?:\.\d+)?(?!\d)")
_PROSE_OR = re.compile(r"\bor\b", re.IGNORECASE)
_STATED = re.compile(
    r"(?:\$|\b(?:is|are|was|were|be|equals|makes|made|earns|earned|costs?|spent|needs?|has|have|had)\s+\$?)"
    r"(-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|-?\d+(?:\.\d+)?(?!\d))"
)
_PROSE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")  # words of prose (not \\frac, not x)
_SHORT_PLAIN = 80  # a completion with no marker is taken whole only when it is one short line


def _answer_region(text: str) -> str | None:
    """The part that may hold the final answer: after the last ``</think>``; None when cut off while thinking."""
    end = text.rfind("</think>")
    if end >= 0:
        return text[end + len("</think>") :]
    return None if "<think>" in text else text


def _close_brace(text: str, open_at: int) -> int | None:
    depth = 0
    for m in _BRACE.finditer(text, open_at):
        depth += 1 if m.group() == "{" else -1
        if depth == 0:
            return m.start()
    return None


def _boxed(text: str) -> tuple[list[str], bool]:
    """Contents of every outermost ``\\boxed``/``\\fbox``, left to right, and whether the last one is unclosed."""
    found: list[str] = []
    pos = 0
    while (m := _BOX.search(text, pos)) is not None:
        j = m.end()
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == "{":
            end = _close_brace(text, j)
            if end is None:
                return found, True  # truncated inside the final answer
            found.append(text[j + 1 : end])
            pos = end + 1
        elif j > m.end() and (tok := _BARE_TOKEN.match(text, j)):  # "\boxed 5"
            found.append(tok.group().rstrip(".,;"))
            pos = tok.end()
        else:
            pos = j
    return found, False


def _marker_answer(text: str) -> str | None:
    """The text after the last answer marker, to the end of its line (or the next non-empty line)."""
    last = None
    for match in _MARKER.finditer(text):
        last = match
    if last is None:
        return None
    rest = text[last.end() :].lstrip(" \t")
    line = rest.split("\n", 1)[0].strip()
    if not line:
        line = rest.strip().split("\n", 1)[0].strip() if rest.strip() else ""
    return line  # "" when the marker is followed by nothing: the model gave no answer


def _clean(answer: str) -> str:
    """Strip math delimiters, markdown bold and trailing punctuation around an extracted answer."""
    s = _HOPE.sub("", answer.replace("\u2016", " ")).strip()
    s = re.sub(r"(?<!\\)\$", "", s)
    s = s.replace("\\(", "").replace("\\)", "").replace("\\[", "").replace("\\]", "")
    s = s.strip().strip("*").strip()
    while s and s[-1] in ".;:," and not s.endswith("\\,"):
        s = s[:-1].rstrip()
    return s


def extract_answer(completion: str) -> str | None:
    """The final answer of ``completion`` as text (see the module docstring); linear time, no sympy."""
    region = _answer_region(completion)
    if region is None:
        return None
    region = _drop_continuation(region)
    boxes, truncated = _boxed(region)
    if truncated:
        return None
    if boxes:
        distinct: dict[str, str] = {}
        for box in boxes:
            cleaned = _clean(box)
            if cleaned:
                distinct.pop(re.sub(r"\s+", "", cleaned), None)
                distinct[re.sub(r"\s+", "", cleaned)] = cleaned
        kept = list(distinct.values())[-MAX_CANDIDATES:]
        if kept:
            return HEDGE_SEP.join(kept)
        region = _BOX_EMPTY.sub("", region)  # only empty boxes (an echoed instruction): read the answer line instead
    marked = _marker_answer(region)
    if marked is not None:
        return _clean(marked) or None
    plain = region.strip()
    if plain and "\n" not in plain and len(plain) <= _SHORT_PLAIN and len(_PROSE.findall(plain)) <= 2:
        return _clean(plain) or None
    return _concluding_number(plain)


_NEXT_QUESTION = re.compile(r"\n\s*(?:Question|Problem|Q)\s*:", re.IGNORECASE)


def _drop_continuation(text: str) -> str:
    """Cut a few-shot model's invented next question ("#### 3\n\nQuestion: ...") once an answer was given.

    Linear time: one search for the first answer, one for the first "Question:" after it.
    """
    starts = [m.start() for m in (_MARKER.search(text), _BOX.search(text)) if m is not None]
    if not starts:
        return text
    following = _NEXT_QUESTION.search(text, min(starts))
    return text[: following.start()] if following else text


def _concluding_number(text: str) -> str | None:
    """The last number of a finished concluding sentence ("Therefore, Janet makes $18 every day.").

    Unboxed chat models (and GSM8K-style few-shot outputs) state the answer this way; a careful grader accepts it.
    Only a sentence that opens with a conclusion word and ends the completion counts: a truncated completion, or one
    that ends on anything else, still has no answer. Several numbers joined by "or" are returned as a hedge.
    """
    if not text.endswith((".", "!")):
        return None
    last_line = text.rsplit("\n", 1)[-1]
    sentence = _SENTENCE_SPLIT.split(last_line.rstrip(".! "))[-1]
    if not _CONCLUSION.match(sentence):
        return None
    numbers = [n.replace(",", "") for n in _NUMBER.findall(sentence)]
    if not numbers:
        return None
    if _PROSE_OR.search(sentence) and len(set(numbers)) > 1:
        return HEDGE_SEP.join(numbers[-MAX_CANDIDATES:])
    if "=" in sentence:  # "in total, Mike scores 4 + 5 = 9 points": the result of the last equation
        after = _NUMBER.findall(sentence.rsplit("=", 1)[1])
        return after[-1].replace(",", "") if after else None
    stated = _STATED.findall(sentence)  # "... 20 candles is $30.00", "makes $7425.00 in 1 week"
    return (stated[-1] if stated else numbers[-1]).replace(",", "")


# --------------------------------------------------------------------------------------------------- normalisation

_REPLACE = [
    ("\u2212", "-"),
    ("\u2013", "-"),
    ("\u00d7", "\\times "),
    ("\u00b7", "\\cdot "),
    ("\u03c0", "\\pi "),
    ("\u221e", "\\infty "),
    ("\u221a", "\\sqrt"),
    ("\u2264", "\\le "),
    ("\u2265", "\\ge "),
    ("\u00b1", "\\pm "),
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("\\displaystyle", ""),
    ("\\left", ""),
    ("\\right", ""),
    ("\\bigl", ""),
    ("\\bigr", ""),
    ("\\quad", " "),
    ("\\qquad", " "),
    ("~", " "),
    ("\\$", ""),
    ("\\%", "%"),
    ("\\leq", "\\le "),
    ("\\geq", "\\ge "),
    ("\\neq", "\\ne "),
    ("{,}", ","),
    ("\\textbf", "\\text"),
    ("\\mathrm", "\\text"),
    ("\\textrm", "\\text"),
    ("\\mbox", "\\text"),
    ("\\operatorname", "\\text"),
]
_SPACING = re.compile(r"(?<!\\)\\[!,;: ]")  # thin spaces; not the second half of a "\\" row break
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|\u00b0|\\degree")
_TEXT = re.compile(r"\\text\s*\{([^{}]*)\}")
_FRAC_SHORT = [
    (re.compile(r"\\frac\s*(\d)\s*(\d)"), r"\\frac{\1}{\2}"),
    (re.compile(r"\\frac\s*\{([^{}]*)\}\s*(\d)"), r"\\frac{\1}{\2}"),
    (re.compile(r"\\frac\s*(\d)\s*\{"), r"\\frac{\1}{"),
    (re.compile(r"\\sqrt\s*(\d+)"), r"\\sqrt{\1}"),
]
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?$")
_UNIT_WORDS = re.compile(r"^(.*?[\d}a-zA-Z)])\s+((?:[a-zA-Z]{2,}\.?(?:\^\{?\d\}?)?\s*)+)$")
_NOT_UNITS = {"pi", "sqrt", "sin", "cos", "tan", "log", "ln", "or", "and", "infty", "cdot", "times", "pm"}
_LHS = re.compile(r"^\s*([A-Za-z](?:_\{?\w+\}?)?(?:\([^()=]*\))?|\\[A-Za-z]+)\s*(?:=|\\in\b)\s*(?!=)")
_RELATION = re.compile(r"[<>]|\\[lg]e\b|\\[lg]eq\b")
_OR = re.compile(r"\s+(?:or|and)\s+|\\lor|\\vee")


def _normalize(s: str) -> str:
    """Canonical text of an answer: the forms that mean the same thing are written the same way."""
    s = _clean(s)
    if s.startswith(("\\boxed{", "\\fbox{")) and s.endswith("}"):
        s = s[s.index("{") + 1 : -1]
    s = _SPACING.sub(lambda m: " " if m.group() == "\\ " else "", s)
    for old, new in _REPLACE:
        s = s.replace(old, new)
    s = re.sub(r"(?<![\d.])1i\b", "i", s)
    s = re.sub(r",\s*(\d{3})(?!\d)", r",\1", s) if re.fullmatch(r"[-+]?\d{1,3}(?:,\s*\d{3})+(?:\.\d+)?", s) else s
    s = _DEGREES.sub("", s)
    for pattern, repl in _FRAC_SHORT:
        s = pattern.sub(repl, s)
    s = _TEXT.sub(lambda m: f" {m.group(1).strip()} ", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"(?<=\d) (?=i\b)", "", s)  # "12 i" -> "12i": latex2sympy reads the two as different symbols
    s = re.sub(r"\s+\^", "^", s)
    s = _strip_units(s)
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    s = re.sub(r"\s*([=,()\[\]{}^_+*/<>-])\s*", r"\1", s)
    return s.rstrip(".").strip()


def _strip_units(s: str) -> str:
    """``5.4 cents`` -> ``5.4``; ``864 inches^2`` -> ``864``; words that are maths (``pi``, ``or``) stay."""
    m = _UNIT_WORDS.match(s)
    if not m or not re.search(r"\d", m.group(1)):
        return s
    words = re.findall(r"[a-zA-Z]+", m.group(2))
    if any(w.lower() in _NOT_UNITS for w in words):
        return s
    return m.group(1).strip()


# ------------------------------------------------------------------------------------------------- exact numbers


@dataclass(frozen=True)
class _Num:
    value: Fraction
    decimals: int | None  # digits after the point when written as a decimal
    percent: bool


_INT_OR_DEC = re.compile(r"^([-+]?)(\d*\.?\d+|\d+\.)$")
_FRAC = re.compile(r"^([-+]?)\\frac\{([-+]?\d+)\}\{([-+]?\d+)\}$")
_SLASH = re.compile(r"^([-+]?)(\d+)/(\d+)$")
_MIXED = re.compile(r"^([-+]?)(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}$")
_SCI = re.compile(
    r"^([-+]?\d*\.?\d+)\s*(?:\\times|\\cdot|\*|x)\s*10\^\{?([-+]?\d{1,3})\}?$|^([-+]?\d*\.?\d+)[eE]([-+]?\d{1,3})$"
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
        return sign * Fraction(digits), (len(digits) - digits.index(".") - 1) if "." in digits else None
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
        return Fraction(mantissa) * Fraction(10) ** int(exponent), None
    return None


def _compare_numbers(p: _Num, g: _Num) -> tuple[bool, str]:
    golds = [g.value] if not g.percent else [g.value, g.value / 100]
    preds = [p.value] if not p.percent else [p.value, p.value / 100]
    if p.percent and g.percent:
        golds, preds = [g.value], [p.value]
    if any(a == b for a in preds for b in golds):
        return True, ""
    if g.decimals is not None and p.decimals is None and round(p.value, g.decimals) == g.value:
        return True, "equal at the reference's precision"
    if p.decimals is not None and g.decimals is None and g.value and abs(p.value - g.value) < abs(g.value) / 100:
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
    brackets: str = ""  # for tuples: the opening and closing bracket, e.g. "(]"
    rows: int = 0


def _shape(s: str) -> _Shape:
    if m := _MATRIX.match(s):
        rows = [r for r in re.split(r"\\\\", m.group(2)) if r.strip()]
        cells = [c.strip() for r in rows for c in r.split("&")]
        return _Shape("matrix", tuple(cells), rows=len(rows))
    if len(union := _split_top(s, "\\cup")) > 1:
        return _Shape("union", tuple(union))
    if s.startswith("\\{") and s.endswith("\\}"):
        return _Shape("set", tuple(x for x in _split_top(s[2:-2], ",") if x))
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


# ------------------------------------------------------------------------------------------------------------ judge


def _equivalent(pred: str, gold: str) -> tuple[bool, str]:
    p, g = _normalize(pred), _normalize(gold)
    if not p:
        return False, "empty answer"
    if len(p) > MAX_ANSWER_CHARS or not _depth_ok(p):
        return False, "answer too long or too deeply nested to grade"
    if p == g:
        return True, ""
    letter = _choice_letter(g)
    if letter is not None:
        got = _choice_letter(p)
        return got == letter, "" if got == letter else f"chose {got or p!r}, expected {letter}"
    if (labelled := re.fullmatch(r"\(([A-E])\)\s*(.+)", p)) is not None:  # "(C) 12" against the value 12
        return _equivalent(labelled.group(2), gold)
    if (union := _inequalities_as_union(p)) is not None:  # "x<2 or x>3" against (-\infty,2)\cup(3,\infty)
        return _equivalent(union, gold)
    if _is_placeholder(p, g):
        return False, f"bare variable or placeholder {p!r}"
    if _is_words(g):
        same = _words(p) == _words(g)
        return same, "" if same else "not the same word"
    g_value = _strip_lhs(g)
    # x=5 vs 5 and 5 vs x=5 are the same answer; an equation such as 2x+3y=6 is compared whole
    p_value = _strip_lhs(p) if g_value != g or "=" not in g else p
    return _compare_shapes(_shape(p_value), _shape(g_value))


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


def _choice_letter(s: str) -> str | None:
    """``C``, ``(C)``, ``(C) 15``, ``C: 15`` -> ``C``; None when ``s`` is not a choice."""
    m = re.fullmatch(r"\(([A-E])\).*|([A-E])(?:[.:)].*)?", s.strip())
    return None if m is None else (m.group(1) or m.group(2))


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


def _compare_shapes(p: _Shape, g: _Shape) -> tuple[bool, str]:
    if g.kind == "scalar" and p.kind in ("list", "set") and len(p.items) > 1:
        shown = " and ".join(p.items[:3])
        return False, f"hedged between {shown}" if p.kind == "list" else f"a set of {len(p.items)} where one is asked"
    if g.kind == "scalar" and p.kind == "set" and len(p.items) == 1:
        p = _Shape("scalar", p.items)
    if g.kind == "scalar" and p.kind == "scalar":
        return _scalar_equal(p.items[0], g.items[0])
    if g.kind == "matrix":
        return _compare_matrix(p, g)
    if g.kind in ("tuple", "union") and p.kind == "scalar" and _RELATION.search(p.items[0]):
        return _sympy_equal(p.items[0], _render(g))  # x > 2 for (2, \infty)
    if g.kind == "tuple":
        return _compare_tuple(p, g)
    if g.kind in ("list", "set", "union"):
        if p.kind not in ("list", "set", "union", "scalar") or (g.kind == "union") != (p.kind == "union"):
            return False, f"expected a {g.kind}, got a {p.kind}"
        return _compare_unordered(list(p.items), list(g.items), g.kind)
    if g.kind == "scalar" and p.kind in ("tuple", "matrix", "union"):
        return _scalar_equal(_render(p), g.items[0])
    return False, "not equivalent"


def _render(s: _Shape) -> str:
    return s.brackets[:1] + ",".join(s.items) + s.brackets[1:] if s.kind == "tuple" else "\\cup".join(s.items)


def _compare_tuple(p: _Shape, g: _Shape) -> tuple[bool, str]:
    if p.kind == "list" and g.brackets == "()":
        p = _Shape("tuple", p.items, "()")
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
        equal = lambda a, b: _compare_shapes(a, b)[0]  # noqa: E731
    else:
        p_norm, g_norm = _expand_pm(tuple(map(_strip_lhs, p_items))), _expand_pm(tuple(g_items))
        equal = lambda a, b: _scalar_equal(a, b)[0]  # noqa: E731
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
    if _base_digits(g) is not None and _base_digits(g) == _base_digits(p):
        return True, "base subscript omitted"
    return _sympy_equal(p, g)


def _base_digits(s: str) -> str | None:
    m = re.fullmatch(r"([0-9A-Fa-f]+)(?:_\{?(\d+)\}?)?", s)
    return m.group(1) if m else None


# ----------------------------------------------------------------------------------------------- numeric disproof

_TOKEN = re.compile(r"\s*(\d+\.?\d*|\.\d+|\\frac|\\sqrt|\\pi|\\cdot|\\times|[-+*/^(){}\[\]]|[a-zA-Z](?![a-zA-Z]))")

# Substitution points for single-letter variables: two distinct, generic complex values per letter, the same for the
# prediction and the gold. Equivalent expressions agree at every point; a difference at either proves inequality.
_POINTS = (
    {
        c: complex(0.31 + 0.173 * k, 0.05 + 0.041 * k)
        for k, c in enumerate("abcdfghjklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    },
    {
        c: complex(1.37 - 0.061 * k, -0.23 + 0.029 * k)
        for k, c in enumerate("abcdfghjklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    },
)


class _NotNumeric(Exception):
    pass


class _FloatReader:
    """A small recursive-descent reader of LaTeX arithmetic (digits, +-*/, ^, \\frac, \\sqrt, \\pi, e, i, brackets,
    single-letter variables), evaluated in complex numbers at a given substitution point.

    It exists to *disprove* equality cheaply: two answers whose values differ at the same point are not equal, and
    sympy never needs to see them (a wrong polynomial costs sympy up to 0.5 s). Anything it does not know (a function,
    a relation, a multi-letter name) raises :class:`_NotNumeric` and the pair goes to sympy.
    """

    def __init__(self, text: str, env: dict[str, complex] | None = None) -> None:
        self.env = env or {}
        self.tokens, pos = [], 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise _NotNumeric(text[pos:])
            self.tokens.append(m.group(1))
            pos = m.end()
            if len(self.tokens) > 200:
                raise _NotNumeric("too long")
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise _NotNumeric(f"expected {want}")
        self.i += 1
        return tok

    def value(self) -> complex:
        v = self.expr()
        if self.peek() is not None or not cmath.isfinite(v):
            raise _NotNumeric("trailing input")
        return v

    def expr(self) -> float:
        v = self.term()
        while self.peek() in ("+", "-"):
            v = v + self.term() if self.take() == "+" else v - self.term()
        return v

    def term(self) -> float:
        v = self.unary()
        while (tok := self.peek()) is not None and tok not in ("+", "-", ")", "}", "]"):
            if tok in ("*", "\\cdot", "\\times"):
                self.take()
                v *= self.unary()
            elif tok == "/":
                self.take()
                v /= self.unary()
            else:
                v *= self.unary()  # implicit product: 2\\sqrt{3}
        return v

    def unary(self) -> float:
        if self.peek() in ("+", "-"):
            return -self.unary() if self.take() == "-" else self.unary()
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.peek() != "^":
            return base
        self.take()
        exp = self.unary() if self.peek() in ("+", "-") else self.atom()
        if abs(exp) > 1000 or (exp.imag == 0 and base.imag == 0 and base.real < 0 and exp.real != int(exp.real)):
            raise _NotNumeric("exponent out of range")  # also keeps sympy's real branch for (-8)^(1/3)
        if exp.imag == 0 and exp.real == int(exp.real) and base != 0:
            return base ** int(exp.real)
        return base**exp

    def atom(self) -> float:
        tok = self.take()
        if tok[0].isdigit() or tok[0] == ".":
            return complex(float(tok))
        if tok in ("(", "{", "["):
            v = self.expr()
            self.take({"(": ")", "{": "}", "[": "]"}[tok])
            return v
        if tok == "\\pi":
            return complex(math.pi)
        if len(tok) == 1 and tok.isalpha():
            if tok == "e":
                return complex(math.e)
            if tok == "i":
                return 1j
            if tok not in self.env:
                raise _NotNumeric(tok)
            return self.env[tok]
        if tok == "\\frac":
            return self.atom() / self.atom()
        if tok == "\\sqrt":
            n = 2.0
            if self.peek() == "[":  # \\sqrt[3]{8}
                self.take()
                n = self.expr()
                self.take("]")
            v = self.atom()
            if v.imag != 0 or n.imag != 0:
                raise _NotNumeric("root of a complex value")  # branch choices: leave it to sympy
            if n != 2.0:
                if v.real < 0 or n == 0:
                    raise _NotNumeric("odd root of a negative")
                return complex(v.real ** (1.0 / n.real))
            if v.real < 0:
                raise _NotNumeric("sqrt of a negative")
            return complex(math.sqrt(v.real))
        raise _NotNumeric(tok)


def _float_value(s: str, env: dict[str, complex] | None = None) -> complex | None:
    try:
        return _FloatReader(s, env).value()
    except (_NotNumeric, ZeroDivisionError, OverflowError, ValueError, RecursionError):
        return None


def _equations_differ(p: str, g: str) -> bool:
    """``L1 = R1`` and ``L2 = R2`` describe the same set only if L1 - R1 is a constant multiple of L2 - R2."""
    ratios = []
    for env in _POINTS:
        sides = [_float_value(side, env) for eq in (p, g) for side in eq.split("=")]
        if any(v is None for v in sides):
            return False
        fp, fg = sides[0] - sides[1], sides[2] - sides[3]
        if abs(fg) < 1e-9 or abs(fp) < 1e-9:
            return False
        ratios.append(fp / fg)
    return abs(ratios[0] - ratios[1]) > 1e-6 * max(1.0, abs(ratios[0]), abs(ratios[1]))


def _letters(s: str) -> set[str]:
    return {t for t in _TOKEN.findall(s) if len(t) == 1 and t.isalpha()} - {"e", "i"}


def _surely_different(p: str, g: str) -> bool:
    if _letters(p) != _letters(g):
        return False  # a letter on one side only may be a unit ("12 m") or a name: sympy and the rules decide
    if p.count("=") == 1 and g.count("=") == 1:
        return _equations_differ(p, g)
    for env in _POINTS:
        a, b = _float_value(p, env), _float_value(g, env)
        if a is None or b is None:
            return False
        if abs(a - b) > 1e-6 * max(1.0, abs(a), abs(b)):
            return True
    return False


# ------------------------------------------------------------------------------------------------------ sympy layer


def _quiet() -> None:
    """math-verify warns on every call that its timeout is off; in our workers that is deliberate."""
    for name in ("math_verify", "latex2sympy2_extended"):
        logging.getLogger(name).setLevel(logging.ERROR)


@functools.lru_cache(maxsize=2048)  # a GRPO group asks for the same gold many times
def _parse(s: str) -> Any:
    from math_verify import LatexExtractionConfig, parse

    latex = "$" + s.replace("%", "\\%") + "$"
    found = parse(
        latex,
        extraction_config=[LatexExtractionConfig()],
        fallback_mode="no_fallback",
        parsing_timeout=None,
    )
    return found[0] if found else None


def _sympy_equal(p: str, g: str) -> tuple[bool, str]:
    from math_verify import verify

    if _surely_different(p, g):
        return False, "not equivalent"
    gold, pred = _parse(g), _parse(p)
    if gold is None or pred is None:
        same = re.sub(r"\s", "", p) == re.sub(r"\s", "", g)
        return same, "" if same else "could not read the answer as maths; text differs"
    for expr in (pred, gold):
        if (reason := _too_big(expr)) is not None:
            return False, reason
    relational = bool(_RELATION.search(p + g))
    if not verify(gold, pred, timeout_seconds=None, allow_set_relation_comp=relational):
        return False, "not equivalent"
    return _audit_precision(pred, gold)


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
        return max(base, 1.0) * _cap(10.0**exp) if exp < 300 else math.inf
    if isinstance(e, (sympy.factorial, sympy.factorial2, sympy.gamma, sympy.binomial, sympy.subfactorial)):
        n = _cap(10.0 ** max(_digits(a) for a in e.args))
        return n * math.log10(n + 1)
    if not e.args:
        return 1.0
    parts = [_digits(a) for a in e.args]
    return sum(parts) if isinstance(e, sympy.Mul) else max(parts) + 1


def _cap(x: float) -> float:
    return min(x, 1e300)


# --------------------------------------------------------------------------------------------------------- verifier


@register_verifier("math")
@dataclass(frozen=True)
class MathVerifier(Verifier):
    """Final-answer equivalence for math: last \\boxed{} or answer line; math-verify + sympy with rlvr's own rules."""

    def extract(self, completion: str) -> str | None:
        return extract_answer(completion)

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        _quiet()
        if extracted is None or not str(extracted).strip():
            return no_answer()
        gold = str(reference)
        candidates = [c for c in str(extracted).split(HEDGE_SEP) if c.strip()]
        if len(candidates) > 1:
            return self._judge_hedge(extracted, candidates, gold)
        ok, detail = _equivalent(candidates[0], gold)
        return correct(extracted, detail) if ok else wrong(extracted, detail or "not equivalent")

    def _judge_hedge(self, extracted: str, candidates: list[str], gold: str) -> Verdict:
        """Several boxed answers: right only when every one of them is right."""
        results = [_equivalent(c, gold)[0] for c in candidates]
        if all(results):
            return correct(extracted, "repeated boxed answers agree")
        shown = " and ".join(candidates[:4])
        if any(results):
            return wrong(extracted, f"hedged between {shown}")
        return wrong(extracted, f"hedged between {shown}; none is equivalent")

    @classmethod
    def warm_up(cls) -> None:
        """Import math-verify, sympy and the LaTeX grammar once, in the forkserver (see scoring.py).

        A worker forked after this, a replacement for a killed one too, needs no imports. Deliberately minimal:
        ANTLR learns each new answer shape in the worker that meets it, and parsing a list of shapes here would delay
        the start of every one-shot `rlvr score` more than it saves (measured with benchmarks/bench_math_scoring.py).
        """
        _quiet()
        from math_verify import verify

        verify(_parse("\\frac{1}{2}"), _parse("x"), timeout_seconds=None)
        _parse.cache_clear()

    def check_reference(self, reference: Any) -> str | None:
        if reference is None or not str(reference).strip():
            return "the math verifier needs a non-empty reference answer"
        return None


__all__ = ["HEDGE_SEP", "MathVerifier", "extract_answer"]
