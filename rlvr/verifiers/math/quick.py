"""Cheap, sound disproofs tried just before sympy: answers that provably differ from the reference, decided by a scan.

On real generations most answers that reach sympy are wrong, and sympy needs tens of milliseconds each (mostly its
LaTeX parser, ANTLR) to reject them. These kinds are rejected here for certain, in microseconds:

- **a different value**: both sides read by a small arithmetic reader (numbers, ``+-*/^``, ``\\frac``, ``\\sqrt``,
  ``\\pi``, one-letter names, Greek letters, ``\\sin``-``\\csc``, ``\\arcsin``-``\\arctan``, ``\\sinh``-``\\tanh``,
  ``\\ln``, ``\\log``, ``\\exp``, calls of undefined functions such as ``u(t)``) differ at one of three generic complex
  points or at one generic real point: ``\\sec^2 10+\\csc^2 20+\\csc^2 40`` for ``12``, ``\\sqrt{4\\pi G\\rho_0}r_0``
  for ``\\sqrt{4 \\pi G \\rho_{0}r_{0}^{2}}``, ``u(t)(1+3e^{-2t})`` for ``(1-3e^{-2t})u(t)``;
- **a variable expression for a number** (``x_{531}+x_{753}+x_{975}`` for ``898``): the same test, the reference
  has no name;
- **prose for a number** (``Probability``, ``Final Answer``, ``Jim walks 200 feet less than Martha``, ``product of
  y-values``): latex2sympy reads words as products of one-letter symbols, which equal no constant;
- **a tuple or an interval for a number** (``(2+\\sqrt{2}-3i, 2-3i)`` for ``6-5i``): math-verify compares a tuple with
  a number as a set of one, which two or more different entries never are;
- **a value for an equation, or an equation for a value**: math-verify compares a value with the right side of an
  equation (``x+y=5``; ``DE=4.9`` for ``\\sqrt{51}``) or calls an equation unequal to a value (``5x-7y+11z+4=0``),
  so a value that differs from the right side is wrong either way;
- and one proof of equality, the only "equal" it ever says: the same LaTeX but for spaces beside a sign, bracket or
  command (``3\\sqrt{5}`` for ``3 \\sqrt{5}``);
- **other digits in a base** (``2316_8`` for ``2516_8``: latex2sympy drops the subscript and reads 2316), and a
  finite constant for ``\\pm\\infty`` or one infinity for the other.

It sits in :func:`~rlvr.verifiers.math.equivalence._sympy_equal` right before sympy, so the worker and the host
(``MathVerifier.quick_judge``) run it alike and a verdict reached here is the worker's own. It says "different",
and "equal" only for the same LaTeX spaced otherwise; anything it is not sure of goes on to sympy unchanged.

**Why sympy agrees.** math-verify says "equal" only for expressions it can show equal, so it is enough that the
reading here is a *specialisation* of latex2sympy's (each of its symbols is a symbol or a constant here, two of its
symbols may be one here, never the reverse; an undefined function is a fixed function here): two expressions that
differ under a specialisation differ under the general reading, and "differ" is measured with a margin (1e-6 of the
largest intermediate value met, against about 1e-14 of rounding in 200 operations on doubles, and beyond what
``evalf(chop=True)`` chops). The reader is aligned with latex2sympy on the points where they part, each found by
comparing the two on real answers and on random token soup (``tests/test_math_quick.py`` keeps doing that):

- names are case-folded and subscript braces and spaces dropped (latex2sympy reads ``N`` as ``n``, ``x_{ 1}`` as
  ``x_1``); ``e`` and ``E`` are Euler's number, ``i`` the imaginary unit (to latex2sympy: E, a symbol ``e``; the unit
  or a symbol); ``I`` is refused (latex2sympy reads ``I^2`` as ``I``);
- Greek letters (:data:`GREEK`, checked one by one) are real symbols to latex2sympy, named as written but lower-case
  (``\\Delta`` is ``delta``, ``\\omega_{d}`` is ``omega_d``); not ``\\gamma`` and ``\\Gamma`` (EulerGamma, zoo in
  ``(\\gamma^{2}-1)``, the gamma function in ``\\gamma\\theta``), nor ``\\Pi`` (pi) or the capitals its lexer does
  not know (``\\Alpha``): refused, as any command the reader does not know;
- the points: three complex ones, and a real one (each name between 0.3 and 0.8). latex2sympy's symbols are real, so
  an identity sympy proves holds at every real point, roots and logarithms of names included (``\\sqrt{\\rho_0 G}``,
  ``\\ln\\Delta``, which the complex points refuse); a pair is different when it differs at one point where both sides
  are read (a pole or a branch at another point is no matter). A power of a positive real base is sympy's principal
  value at a complex exponent too (``e^{2it}``, ``2^n``), an entire function of the exponent;
- a name before a bracket that holds one number or name is a call of an undefined function to latex2sympy
  (``u(t)``, ``I(0)``, ``\\delta(t)``, ``x(3)``), read here as the fixed function ``b e^{a z} + z`` (``a``, ``b`` from
  the name): sympy calls an undefined function equal to something only if it is for every function. After a Greek
  letter, ``\\pi`` or a power of a name, a bracket that holds one atom is a call too (``\\pi(x)``, ``x^{2}(y)`` is
  ``x(y)**2``): refused; one that holds a sum, a product, a fraction, a root or a function is a product
  (``\\pi(r^2+h)``, ``x(y+1)``, ``\\omega(2t)``). A call is not read in an exponent, a logarithm's base or an argument
  without brackets, and ``e(t)``, ``E(t)`` are products: refused;
- ``\\sinh``-``\\tanh`` are sympy's functions; the worker's rewrite of hyperbolic functions into exponentials before a
  second comparison (``equivalence._hyperbolic``) keeps their values, so it cannot make two different values equal;
- a word is the product of its letters, as latex2sympy reads it (``value of b``, ``calculate x^3``), except where its
  lexer reads letters otherwise, refused: ``d`` before a letter or a command (``dx``, ``d\\pi``: one symbol, and
  ``\\frac{dy}{dx}`` a derivative), function names without a backslash (:data:`LEXER_NAMES`), words math-verify
  rewrites (``and``, ``inf``...), and a command the reader does not know (``\\pir`` is not pi r); a lone name is
  never compared with two or more letters (math-verify spells a product of symbols out against a symbol's name);
- a function's argument is a parenthesised group, or else the product that follows, up to ``+``, ``-``, a closing
  bracket, a root or another function (``\\sin 2x``, ``\\sin x \\cos x``, ``\\cos x\\sqrt{2}``); ``\\log`` is
  base 10, ``\\ln`` natural; inverse functions and logarithms only on real arguments in their principal domain,
  ``tan``-``csc`` never near a pole (a branch or a pole is sympy's to handle), and no root, non-integer power or
  logarithm of a value within 1e-6 of the scale from zero, where rounding left from an exact zero would be blown up
  (``\\ln(\\sin^2 32\\pi)``);
- refused outright, where latex2sympy reads something else than the arithmetic: an implicit product after ``/``
  (``1/2x`` is ``1/(2x)``); a number in brackets next to anything (``2(3)``, ``(2)3``, ``[3]5`` are sums, mixed
  numbers), a digit before ``\\frac`` (``2\\frac{1}{2}``) or after ``}`` (the braces of an exponent or a logarithm's
  base, ``x^{2}``, ``\\log_{10}``, are no bracket); a latin name before a brace; digit runs after ``^`` or ``_``
  without braces (``x^23``; ``a_12`` is ``a_{12}``, ``a_1.5`` is ``a_{1.5}``), and a subscript after an exponent
  without braces (``x^y_n`` is ``x_n^y``); two numbers separated by a space (``10 3`` is 13); a digit before ``E``
  (``3E2`` is 300; but ``3e2`` is 3 e 2, and ``3e^{-2t}`` is 3 exp(-2t), read so). (A trailing letter is read as a
  name, as latex2sympy reads it: ``equivalence._parse`` turns math-verify's unit stripping off, so ``3 m`` is 3m
  there too.)

**Prose.** Words of letters (and whole numbers other than 0) separated by spaces, perhaps in one pair of brackets, or
a sum or difference of such terms and whole numbers (``10+John's age``, ``It's a closed-form expression``). Each
term is to latex2sympy a constant (``e`` is Euler's number, ``I`` the imaginary unit, digits) times a product of
symbols: one per letter, or one for ``d`` and the letter after it (``product`` is c du o p r t); quotes are dropped
first. A term whose letters other than ``e`` and ``i`` (maybe constants) are the same multiset as another's might
cancel it; otherwise every term keeps its own product of symbols and the whole equals no constant (math-verify turns
``inf`` and ``infinity`` into a factor oo, which leaves the symbols of the rest: ``information`` is oo o r m a t i o n;
those letters are not counted). So: some term has a letter other than ``e`` and ``i``, those letter multisets are all
different, and no word is one math-verify rewrites otherwise (``and``/``or`` become commas, ``percent``/``pct`` a
percent sign, ``sqrt`` a root) or holds a name latex2sympy's lexer reads as a function (:data:`LEXER_NAMES`:
``floor``, ``ones``, ``rank`` ...). Nothing is stripped: ``_parse`` keeps trailing "units". The reference must be a
constant: no letter outside the reader's commands, and a finite value; against any other reference, words go on to
the value test like any answer (``k-a`` for ``kx-a``).
"""

from __future__ import annotations

import cmath
import functools
import math
import re

from rlvr.verifiers.math.numeric import _N_POINTS, _FloatReader, _NotNumeric, _point

# LaTeX readings where the arithmetic reader and latex2sympy may differ: refused (see the module docstring).
_AMBIGUOUS = re.compile(
    r"\^ ?\d\d|_ ?\d[\d.]|\\(?:frac|sqrt) ?[^{\[ ]|\\(?:frac|sqrt) [^{\[]"  # x^23, a_12, a_1.5, \frac12
    r"|\d\.\d*\.|\d\.(?!\d)|(?<!\^)(?<!\\log_)\d \.?\d|\d\.? ?E"  # 1.2.3, 12., 10 3, 1E5 (1e5 is 1 e 5)
    r"|\d ?[({]? ?\\frac|\} ?\.?\d"  # 2\frac{1}{2}, 2(\frac{11}{2}), \frac{1}{2}0.5: mixed numbers
)
_COMMANDS_OF_A_CONSTANT = re.compile(
    r"\\(?:frac|sqrt|pi|cdot|times|sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|sinh|cosh|tanh|ln|log|exp)(?![A-Za-z])"
)
_PROSE = re.compile(r"[A-Za-z][A-Za-z'\"]*(?: (?:[A-Za-z'\"]+|[1-9]\d{0,8}))*")
_REWRITTEN_WORDS = ("and", "or", "percent", "percentage", "pct")  # math-verify rewrites these into other symbols
_INFINITY_WORD = re.compile("infinity|inf")  # math-verify's rewrite into \\infty (case-sensitive, "infinity" first)
# Bare words that latex2sympy's lexer reads as function names wherever they stand, inside a longer word too ("tones"
# holds "ones"); tests/test_math_quick.py checks the installed lexer's literal words against this.
LEXER_NAMES = (
    "arsinh", "arcsinh", "arcosh", "arccosh", "artanh", "arctanh", "gcd", "lcm", "floor", "ceil", "eye", "zeros",
    "ones", "cols", "rows", "diag", "norm", "rank", "trace", "rref", "hstack", "vstack", "nullspace", "orthogonalize",
    "diagonalize", "eigenvals", "eigenvects", "eigenvectors", "svd", "matrix", "mod",
)  # fmt: skip
# Greek letters that latex2sympy reads as real symbols, named as written, lower-cased (\Delta is delta), subscripts
# kept (\omega_{d} is omega_d); checked one by one. Not here: \gamma and \Gamma (EulerGamma, and the gamma function
# before a letter: \gamma\theta), \pi and \Pi (pi), and the capitals its lexer does not know (\Alpha, \Mu...).
GREEK = (
    "alpha", "beta", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "omicron", "varpi", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi", "varphi",
    "chi", "psi", "omega", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
)  # fmt: skip
MAX_CHARS = 200  # longer answers go on to sympy (the reader refuses more than 200 tokens anyway)
_ERRORS = (_NotNumeric, ZeroDivisionError, OverflowError, ValueError, RecursionError)


def certainly_different(pred: str, gold: str) -> bool:
    """True only when ``pred`` and ``gold`` (normalised) provably differ for sympy too (see the module docstring)."""
    if len(pred) > MAX_CHARS or len(gold) > MAX_CHARS or ("=" in pred and "=" in gold):
        return False
    if "=" in gold or "=" in pred:  # math-verify compares an equation's right side with a value, or calls them unequal
        gold_is_equation = "=" in gold
        equation, value = (gold, pred) if gold_is_equation else (pred, gold)
        sides = equation.split("=")
        if len(sides) != 2 or not sides[0].strip() or not sides[1].strip() or re.search(r"[<>]", gold + pred):
            return False
        if _AMBIGUOUS.search(gold) or _AMBIGUOUS.search(pred):
            return False
        return _values_differ(value, sides[1]) if gold_is_equation else _values_differ(sides[1], value)
    numerals = (_numeral(pred), _numeral(gold))
    if None not in numerals:
        return numerals[0] != numerals[1]
    infinities = (_infinity(pred), _infinity(gold))
    if infinities != (None, None):  # -\\infty for \\infty, or a finite constant for either
        if None not in infinities:
            return infinities[0] != infinities[1]
        return not _AMBIGUOUS.search(pred + " " + gold) and _constant(gold if infinities[0] else pred)
    if _AMBIGUOUS.search(gold):
        return False
    if _prose(pred) and _constant(gold):
        return True  # else words against an expression: their values, below
    if (items := _tuple_items(pred)) is not None:
        return read(gold, 0) is not None and _pairwise_different(items)  # a value, not a set, for sympy too
    return not _AMBIGUOUS.search(pred) and _values_differ(pred, gold)


_NUMERAL = re.compile(r"(\d{1,50})(?:_\{?\d{1,2}\}?)?")
_INFINITY = re.compile(r"([-+]?)\\infty")


def _numeral(s: str) -> int | None:
    """``2316_8`` -> 2316: latex2sympy drops a base subscript and reads the digits in base 10."""
    m = _NUMERAL.fullmatch(s)
    return int(m.group(1)) if m else None


def _infinity(s: str) -> str | None:
    """``-\\infty`` -> ``-``, ``\\infty`` -> ``+``; None for anything else."""
    m = _INFINITY.fullmatch(s)
    return (m.group(1) or "+") if m else None


_LOOSE_SPACE = re.compile(r" (?=[^\w. ])|(?<=[^\w. ]) ")  # a space beside a sign, bracket or command


def certainly_equal(pred: str, gold: str) -> bool:
    """True when the two are the same LaTeX but for spaces beside a sign, a bracket or a backslash (``3\\sqrt{5}``
    and ``3 \\sqrt{5}``, ``288\\pi`` and ``288 \\pi``), and the reader reads them to finite values: sympy parses
    them alike, calls them equal, and the precision audit passes (no space between two digits, letters or a dot is
    dropped: ``10 3`` is 13 to latex2sympy, ``2 .5`` is 2 0.5 to math-verify)."""
    if pred == gold or len(pred) > MAX_CHARS or len(gold) > MAX_CHARS or "=" in pred + gold:
        return False
    if _LOOSE_SPACE.sub("", pred) != _LOOSE_SPACE.sub("", gold) or _AMBIGUOUS.search(pred) or _AMBIGUOUS.search(gold):
        return False
    return all(read(side, n) is not None for side in (pred, gold) for n in range(_N_POINTS))


def _constant(gold: str) -> bool:
    """A reference that sympy reads as a number: no letter outside known commands, and a finite value here."""
    if re.search(r"[A-Za-z]", _COMMANDS_OF_A_CONSTANT.sub("", gold)):
        return False
    return read(gold, 0) is not None


def _prose(pred: str) -> bool:
    """Words that latex2sympy reads as a sum of distinct products of symbols (see the module docstring)."""
    if len(pred) > 2 and (pred[0], pred[-1]) in (("(", ")"), ("[", "]")):
        pred = pred[1:-1]  # "[value of x]": latex2sympy reads a bracket around one thing as that thing
    letters = []  # per prose term: its letters other than e and i, the part that no constant can stand for
    for term in re.split(r"[-+]", pred):
        if term.isdigit():
            continue  # "10+John's age": a constant term
        if not _PROSE.fullmatch(term):
            return False
        term = term.replace("'", "").replace('"', "")  # math-verify drops quotes first
        words = term.lower().split(" ")
        if any(w in _REWRITTEN_WORDS or "sqrt" in w or any(n in w for n in LEXER_NAMES) for w in words):
            return False
        symbols = _INFINITY_WORD.sub("", term).lower()  # "information" is oo o r m a t i o n to latex2sympy
        letters.append("".join(sorted(symbols.replace(" ", "").replace("e", "").replace("i", ""))))
    return any(letters) and len(set(letters)) == len(letters)


def _tuple_items(pred: str) -> list[str] | None:
    """The entries of a bracketed tuple or interval of two or more (``(1, 2)``, ``[0,1)``), else None."""
    if len(pred) < 5 or pred[0] not in "([" or pred[-1] not in ")]":
        return None
    items, depth, start = [], 0, 1
    for i, ch in enumerate(pred):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i < len(pred) - 1:
                return None  # "(1,2)(3,4)": the first bracket closes early
        elif ch == "," and depth == 1:
            items.append(pred[start:i])
            start = i + 1
    items.append(pred[start:-1])
    return items if len(items) > 1 and depth == 0 else None


def _pairwise_different(items: list[str]) -> bool:
    """Every two entries differ: then no reading of the tuple (a Tuple, an interval, a set) is a set of one value (an
    interval ``[3,3]`` or a set ``{3,3}`` would be ``{3}``, equal to 3 for math-verify)."""
    if any(_AMBIGUOUS.search(item) for item in items):
        return False
    return all(_values_differ(a, b) for k, a in enumerate(items) for b in items[k + 1 :])


def _values_differ(pred: str, gold: str) -> bool:
    if _one_name_against_letters(pred, gold) or _one_name_against_letters(gold, pred):
        return False
    for n in _POINTS:
        p, g = read(pred, n), read(gold, n)
        if p is None or g is None:
            continue  # a pole, a branch... at this point: a difference at another point is as good a proof
        scale = max(1.0, p[1], g[1])
        if abs(p[0] - g[0]) > 1e-6 * scale:
            return True
    return False


REAL_POINT = _N_POINTS  # after the complex points, one where every name is a real number between 0.3 and 0.8
_POINTS = (*range(_N_POINTS), REAL_POINT)


@functools.lru_cache(maxsize=4096)
def _real_point(name: str) -> complex:
    """Name ``name``'s value at the real point: generic, and real, as latex2sympy's symbols are (``real=True``), so
    that roots and logarithms of names (``\\sqrt{\\rho_0 G}``, ``\\ln\\Delta``) are sympy's own values there."""
    h = sum((i + 1) * ord(ch) for i, ch in enumerate(name))
    return complex(0.3 + 0.5 * abs(math.sin(0.77 * h + 0.35)))


_LONE_NAME = re.compile(r" ?(?:[a-zA-Z]|\\(?:" + "|".join(GREEK) + r"))(?:_\{[^{}]*\}|_[a-zA-Z0-9])? ?")  # x, \omega_n
_LETTERS = re.compile(r"[a-zA-Z]")


def _one_name_against_letters(name: str, other: str) -> bool:
    """math-verify calls a symbol equal to a product of symbols whose names, joined, spell its name (``a_{bc}`` and
    ``a_bc``, which is a_b c): no claim between a lone name and an expression of two or more letters."""
    return bool(_LONE_NAME.fullmatch(name)) and len(_LETTERS.findall(other)) > 1


# A run of letters and what follows it: a command (after a backslash) or a word, each letter a name to latex2sympy
_RUN = re.compile(r"(\\?)([a-zA-Z]+)(?=( *[a-zA-Z\\]?))")


def _words_read_as_letters(text: str) -> bool:
    """Whether every run of letters is a command the reader knows or a word that latex2sympy reads as a product of
    one-letter symbols: not ``d`` before a letter or command (a differential, one symbol: ``dx``, ``d\\pi``; and
    ``\\frac{dy}{dx}`` is a derivative), nor a word math-verify rewrites or its lexer reads as a function name
    (:data:`LEXER_NAMES`: ``floor``, ``ones``...; see the module docstring)."""
    for m in _RUN.finditer(text):
        if m.group(1):
            if m.group(2) not in _KNOWN_COMMANDS:
                return False  # "\\pir" is one unknown command to latex2sympy, not pi r
            continue
        word = m.group(2).lower()
        if "d" in word[:-1] or (word[-1] == "d" and m.group(3).strip()):
            return False
        if word in _REWRITTEN_WORDS or "inf" in word or "sqrt" in word or any(n in word for n in LEXER_NAMES):
            return False
    return True


def read(text: str, point: int) -> tuple[complex, float] | None:
    """``text``'s value at substitution point ``point`` and the largest magnitude met on the way, or None."""
    try:
        reader = _Reader(text, point)
        value = reader.value()
    except _ERRORS:
        return None
    return value, max(reader.largest, abs(value))


_SUBSCRIPT = r"(?:_\{[^{}]{0,20}\}|_[a-zA-Z0-9])?"
_NAME = r"(?<!\\)[a-zA-Z]" + _SUBSCRIPT  # x, x_1, x_{12}; x_2y_3; a word is one name a letter
_GREEK_NAME = r"\\(?:" + "|".join(GREEK) + r")(?![A-Za-z])" + _SUBSCRIPT
_FUNCTIONS = (
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "ln", "log", "exp",
)  # fmt: skip
_KNOWN_COMMANDS = frozenset(("frac", "sqrt", "pi", "cdot", "times", *_FUNCTIONS, *GREEK))  # the reader's commands
_TOKEN = re.compile(
    r" *(\d+\.?\d*|\.\d+|\\frac|\\sqrt|\\pi|\\cdot|\\times|\\(?:"
    + "|".join(_FUNCTIONS)
    + r")(?![A-Za-z])|"
    + _GREEK_NAME
    + r"|[-+*/^(){}\[\]]|"
    + _NAME
    + r"|_)"
)
_STOP = ("+", "-", ")", "}", "]")


class _Reader(_FloatReader):
    """The numeric reader of ``equivalence.py``, extended and aligned with latex2sympy's reading:

    - names are case-folded and subscript braces dropped (latex2sympy reads ``N`` as ``n``); ``E`` and ``e`` are
      Euler's number, ``i`` and ``I`` the imaginary unit (latex2sympy: a symbol ``e``, E, a symbol or I, I);
    - functions (``\\sin``, ``\\log_7``, ``\\sin^2``...) with latex2sympy's argument rule: a parenthesised
      argument, or else the product that follows, up to the next ``+``, ``-``, closing bracket or function;
      ``\\log`` is base 10, ``\\ln`` natural; inverse functions and logarithms only on real arguments in their
      principal domain (a branch is sympy's to choose);
    - an implicit product after ``/`` is refused (``1/2x`` is ``1/(2x)`` to latex2sympy);
    - it records the largest magnitude it meets: the scale of its rounding error.
    """

    token = _TOKEN

    def __init__(self, text: str, point: int | None = None) -> None:
        if not _words_read_as_letters(text):
            raise _NotNumeric("a word latex2sympy reads otherwise")
        super().__init__(text, point)
        self.in_argument = 0
        self.after_name = -1  # where the last name (or a power of one: x^{2}, \\omega_n^2, \\pi^2) ended

    def term(self) -> complex:
        v = self.unary()
        divided = False
        while (tok := self.peek()) is not None and tok not in _STOP:
            if self.in_argument and (tok[1:] in _FUNCTIONS or tok == "\\sqrt"):
                break  # "\\sin x \\cos x", "\\cos x\\sqrt{2}": the argument ends at a function or a root
            if self.in_argument and tok in ("e", "E"):
                raise _NotNumeric("e in an argument")  # e^{2} is exp(2) there, a function: where does it end?
            if tok in ("*", "\\cdot", "\\times"):
                self.take()
                v = self._seen(v * self.unary())
            elif tok == "/":
                self.take()
                v = self._seen(v / self.unary())
                divided = True
            elif divided:
                raise _NotNumeric("implicit product after /")
            else:
                self._check_juxtaposition()
                v = self._seen(v * self.unary())
        return v

    def _check_juxtaposition(self) -> None:
        """latex2sympy reads ``x(3)`` and ``x(y)`` as function calls: refused. After a Greek letter, ``\\pi`` or a
        power of a name, a bracket that holds one atom is a call too (``\\pi(x)``, ``\\omega_n(t)``, ``x^{2}(y)``
        is ``x(y)**2``), while one that holds more is a product (``\\pi(r^2+h)``, ``\\omega(2t)``): refused unless
        it holds more."""
        tok = self.tokens[self.i]
        if tok == "{" and self.tokens[self.i - 1][0].isalpha():
            raise _NotNumeric("a name before a brace")
        if tok in ("(", "[") and self.after_name == self.i and not self._holds_more_than_an_atom(self.i):
            raise _NotNumeric("a call")

    def power(self) -> complex:
        named = _is_name(self.peek() or "") or self.peek() == "\\pi"
        v = super().power()
        if named:
            self.after_name = self.i
        return v

    def _call(self, name: str) -> complex | None:
        """latex2sympy reads a name before a bracket that holds one number or name as a call of an undefined function
        (``u(t)``, ``I(0)``, ``\\delta(t)``, ``x_1[2]``): read here as a fixed function of the argument's value
        (:func:`_function_value`), which the function sympy knows nothing of may be. Not where the name is an
        exponent, a logarithm's base or in an argument without brackets (refused), nor for ``e`` and ``E``."""
        i, tokens = self.i, self.tokens
        if tok_at(tokens, i) not in ("(", "[") or name in ("e", "E") or self.in_argument:
            return None
        if tok_at(tokens, i - 2) in ("^", "_") or (
            tok_at(tokens, i - 2) in ("+", "-") and tok_at(tokens, i - 3) == "^"
        ):
            return None
        arg = tok_at(tokens, i + 1)
        if tok_at(tokens, i + 2) != {"(": ")", "[": "]"}[tokens[i]] or arg in ("e", "E", "I", ""):
            return None
        if not (arg[0].isdigit() or arg[0] == "." or _is_name(arg) or arg == "\\pi"):
            return None
        self.i += 1
        value = self.atom()
        self.take()
        if self.point is None:
            raise _NotNumeric("a call")
        return _function_value(_symbol_name(name), value)

    def _holds_more_than_an_atom(self, i: int) -> bool:
        """Whether the bracket opening at token ``i`` surely holds more than latex2sympy's ``atom`` (a number or a
        name, with a subscript and a power): a sum, a product, a fraction, a root, a function, a bracket."""
        first = self.tokens[i + 1] if i + 1 < len(self.tokens) else ")"
        if first in ("\\frac", "\\sqrt", "-", "+", "(", "{") or first[1:] in _FUNCTIONS:
            return True
        depth, operands, exponent = 0, 0, False
        for tok in self.tokens[i + 1 :]:
            if depth == 0 and tok in (")", "]", "}"):
                break
            if depth == 0:
                if tok in ("*", "/", "\\cdot", "\\times") or (tok in ("+", "-") and not exponent):
                    return True
                if tok in ("^", "_"):
                    exponent = True
                elif tok not in ("+", "-"):
                    operands += not exponent  # an exponent belongs to the operand before it
                    exponent = False
            depth += tok in ("(", "[", "{")
            depth -= tok in (")", "]", "}")
        return operands > 1

    def _real_power(self, base: complex, exp: complex) -> complex:
        """A power of a positive real base: to a complex exponent too, sympy's principal value exp(exp log base)
        (``e^{2it}``, ``2^{n}`` at a complex n), an entire function of the exponent."""
        return self._positive(base.real) ** exp

    def _positive(self, x: float) -> float:
        """``x`` where a root, a non-integer power or a logarithm may take it: well above zero. Near zero these
        functions blow rounding up (the cube root of 1e-16, rounding left from an exact 0, is 5e-6)."""
        if x <= 1e-6 * max(1.0, self.largest):
            raise _NotNumeric("too close to zero to take a root, a power or a logarithm of")
        return x

    def atom(self) -> complex:
        tok = self.peek()
        if tok is None:
            raise _NotNumeric("end")
        if _is_name(tok):
            self.take()
            before = tok_at(self.tokens, self.i - 2)
            if "_" in tok and (before == "^" or (before in ("+", "-") and tok_at(self.tokens, self.i - 3) == "^")):
                raise _NotNumeric("a subscript after a power")  # x^y_n is x_n**y to latex2sympy
            if (value := self._call(tok)) is not None:
                return self._seen(value)
            if tok == "I":
                raise _NotNumeric("I")  # latex2sympy reads I^2 as I
            name = _symbol_name(tok)
            if name == "e":
                return complex(math.e)
            if name == "i":
                return 1j
            if self.point is None:
                raise _NotNumeric(tok)
            return _real_point(name) if self.point == REAL_POINT else _point(name, self.point)
        if tok[1:] in _FUNCTIONS:
            self.take()
            return self._seen(self._function(tok[1:]))
        if tok == "\\frac":
            self.take()
            return self._seen(self._operand() / self._operand())
        if tok == "\\sqrt":
            self.take()
            return self._seen(self._root())
        if tok in ("(", "[") or (tok == "{" and tok_at(self.tokens, self.i - 1) not in ("^", "_")):
            self._no_bare_number(self.i)  # not the braces of an exponent or a logarithm's base: x^{2}, \log_{2}
        return self._seen(super().atom())

    def _operand(self) -> complex:
        self.take("{")
        v = self.expr()
        self.take("}")
        return v

    def _root(self) -> complex:
        n = 2.0
        if self.peek() == "[":  # \\sqrt[3]{8}
            self.take()
            n = self.expr()
            self.take("]")
        v = self._operand()
        if v.imag != 0 or n.imag != 0 or n.real <= 0:
            raise _NotNumeric("a root of a complex value")  # its branch is sympy's to choose
        return complex(self._positive(v.real) ** (1.0 / n.real))

    def _no_bare_number(self, i: int) -> None:
        """A bracket holding only a number is refused: latex2sympy reads ``2(3)``, ``(2)3``, ``[3]5`` and
        ``{2}\\frac{1}{2}`` as mixed numbers (sums), whatever surrounds them."""
        depth = 0
        for tok in self.tokens[i:]:
            if tok[0].isalpha() or tok[0] == "\\":
                return
            depth += tok in ("(", "[", "{")
            depth -= tok in (")", "]", "}")
            if depth == 0:
                break
        raise _NotNumeric("a bare number in brackets")

    def _function(self, name: str) -> complex:
        base = None
        if name == "log" and self.peek() == "_":
            self.take()
            base = self.atom()
        exponent = 1
        if self.peek() == "^":  # \\sin^2 x; \\sin^{-1} x is arcsin: refused
            self.take()
            tok = self.take()
            if tok == "{":
                tok = self.take()
                self.take("}")
            if not tok.isdigit() or len(tok) > 1 or tok == "0":
                raise _NotNumeric("function power")
            exponent = int(tok)
        if self.peek() == "(":
            self.take()
            arg = self.expr()
            self.take(")")
        else:
            if self.peek() is None or self.peek() in _STOP:
                raise _NotNumeric("no argument")
            self.in_argument += 1
            try:
                arg = self.term()
            finally:
                self.in_argument -= 1
        if name in ("ln", "log"):
            arg = complex(self._positive(_real(arg)))
            if base is not None:
                base = complex(self._positive(_real(base)))
        return _apply(name, arg, base) ** exponent


def tok_at(tokens: list[str], i: int) -> str:
    return tokens[i] if 0 <= i < len(tokens) else ""


def _symbol_name(tok: str) -> str:
    """L_{\\odot}: sympy's l_{odot}; \\Delta: delta; x_{ 1}: x_1 (latex2sympy's subscript text has no spaces)."""
    return tok.lower().replace("{", "").replace("}", "").replace("\\", "").replace(" ", "")


def _function_value(name: str, z: complex) -> complex:
    """The undefined function ``name`` at ``z``: b exp(a z) + z, with a and b fixed by the name."""
    h = sum((i + 1) * ord(ch) for i, ch in enumerate(name))
    a, b = 0.3 + 0.4 * abs(math.sin(1.7 * h)), 0.5 + abs(math.cos(1.3 * h))
    return b * cmath.exp(a * z) + z


def _is_name(tok: str) -> bool:
    """A latin letter or a Greek one, with its subscript: one symbol to latex2sympy."""
    return tok[:1].isalpha() or (tok[:1] == "\\" and tok[1:].split("_", 1)[0] in GREEK)


def _real(v: complex) -> float:
    if v.imag != 0:
        raise _NotNumeric("a branch")  # inverse functions and logarithms of complex values: sympy's branch
    return v.real


def _apply(name: str, x: complex, base: complex | None) -> complex:
    if name in ("sin", "cos", "exp", "sinh", "cosh"):
        return getattr(cmath, name)(x)
    if name in ("tan", "cot", "sec", "csc", "tanh"):
        reciprocal = {"cot": cmath.tan, "sec": cmath.cos, "csc": cmath.sin}.get(name)
        v = 1 / reciprocal(x) if reciprocal else getattr(cmath, name)(x)
        if abs(v) > 1e6:
            raise _NotNumeric("near a pole")  # where rounding is amplified; sympy may see a pole (zoo)
        return v
    r = _real(x)
    if name == "arctan":
        return complex(math.atan(r))
    if name in ("arcsin", "arccos"):
        if not -1 <= r <= 1:
            raise _NotNumeric("outside the principal domain")
        return complex(math.asin(r) if name == "arcsin" else math.acos(r))
    if r <= 0:
        raise _NotNumeric("logarithm of a non-positive value")
    if name == "ln":
        return complex(math.log(r))
    b = 10.0 if base is None else _real(base)
    if b <= 0 or b == 1:
        raise _NotNumeric("logarithm base")
    return complex(math.log(r) / math.log(b))
