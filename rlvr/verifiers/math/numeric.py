"""Complex-valued evaluation of LaTeX arithmetic at generic points: the reader behind the cheap numeric disproof
(``equivalence``) and the host's disproofs before sympy (``quick``), in a module of its own so neither imports the
other's."""

from __future__ import annotations

import cmath
import functools
import math
import re

_NAME = r"(?<![a-zA-Z\\])[a-zA-Z](?:_\{[^{}]{0,20}\}|_[a-zA-Z0-9])?(?![a-zA-Z])"  # x, E_1, L_{\odot}
_TOKEN = re.compile(r" *(\d+\.?\d*|\.\d+|\\frac|\\sqrt|\\pi|\\cdot|\\times|[-+*/^(){}\[\]]|" + _NAME + ")")
_N_POINTS = 3


@functools.lru_cache(maxsize=4096)
def _point(name: str, n: int) -> complex:
    """The value of variable ``name`` at substitution point ``n``: generic (no linear relation between names or
    points, unlike an arithmetic progression, where ``b - a`` and ``c - b`` would agree), the same on both sides."""
    h = sum((i + 1) * ord(ch) for i, ch in enumerate(name))
    return complex(0.4 + abs(math.sin(1.37 * h + 2.11 * n)), 0.3 * math.cos(0.71 * h * (n + 1)) + 0.05 * (n + 1))


class _NotNumeric(Exception):
    pass


class _FloatReader:
    """A small recursive-descent reader of LaTeX arithmetic (digits, +-*/, ^, \\frac, \\sqrt, \\pi, e, i, brackets,
    single-letter variables), evaluated in complex numbers at a given substitution point.

    It exists to *disprove* equality cheaply: two answers whose values differ at the same point are not equal, and
    sympy never needs to see them (a wrong polynomial costs sympy up to 0.5 s). Anything it does not know (a function,
    a relation, a multi-letter name) raises :class:`_NotNumeric` and the pair goes to sympy.
    """

    token = _TOKEN  # a subclass that reads more (quick.py's functions) gives its own pattern

    def __init__(self, text: str, point: int | None = None) -> None:
        self.point = point
        self.largest = 0.0  # the largest magnitude met: the scale of the rounding error
        self.smallest = math.inf  # and the smallest non-zero one
        self.tokens, pos = [], 0
        while pos < len(text):
            m = self.token.match(text, pos)
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
                v = self._seen(v * self.unary())
            elif tok == "/":
                self.take()
                v = self._seen(v / self.unary())
            else:
                if tok == "(" and self.tokens[self.i - 1][0].isalpha():
                    raise _NotNumeric("a call")  # latex2sympy reads u(t) and x(3) as calls, not products
                v = self._seen(v * self.unary())  # implicit product: 2\\sqrt{3}
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
        if abs(exp) > 1000:
            raise _NotNumeric("exponent out of range")
        if exp.imag == 0 and exp.real == int(exp.real) and base != 0:
            return self._seen(base ** int(exp.real))
        if base.imag != 0 or base.real <= 0:
            raise _NotNumeric("branch")  # a root of a negative or complex value: its branch is sympy's to choose
        return self._seen(self._real_power(base, exp))

    def _seen(self, v: complex) -> complex:
        """Each intermediate value, as it is computed: the largest is kept, the scale of the rounding error (in
        ``(x+10^{8})^2-10^{16}-2\\cdot 10^{8}x`` doubles lose all of ``x^2``)."""
        if abs(v) > self.largest:
            self.largest = abs(v)
        if 0 < abs(v) < self.smallest:
            self.smallest = abs(v)
        return v

    def _real_power(self, base: complex, exp: complex) -> complex:
        """A non-integer power of a positive real ``base``, to a real exponent here (a subclass takes complex
        exponents too, and refuses bases too close to zero)."""
        if exp.imag != 0:
            raise _NotNumeric("complex exponent")
        return base**exp

    def atom(self) -> float:
        tok = self.take()
        if tok[0].isdigit() or tok[0] == ".":
            return self._seen(complex(float(tok)))
        if tok in ("(", "{", "["):
            v = self.expr()
            self.take({"(": ")", "{": "}", "[": "]"}[tok])
            return v
        if tok == "\\pi":
            return complex(math.pi)
        if tok[0].isalpha():
            if tok == "e":
                return complex(math.e)
            if tok == "i":
                return 1j
            if self.point is None:
                raise _NotNumeric(tok)
            return _point(tok, self.point)
        if tok == "\\frac":
            return self._seen(self.atom() / self.atom())
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
