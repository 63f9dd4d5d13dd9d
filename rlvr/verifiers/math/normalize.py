"""Canonical text of an answer: the spellings that mean the same thing are written the same way.

String work only, linear in the answer: whitespace runs are collapsed first (so no pattern below ever meets a long
run), answers over :data:`MAX_ANSWER_CHARS` are returned untouched (the judge refuses them), and units are split off
by one scan over tokens from the right, never by a regular expression with nested repeats. Runs in the worker, but
is cheap enough for the host.

Units (:data:`UNITS`) and the words that may follow a number (``5 apples``) are stripped; a word that changes the
meaning (``12 is wrong``, ``12 probably``, ``12 plus one``: :data:`NOT_UNITS`) keeps the answer whole, so that it
cannot match a plain number. :func:`split_units` returns the unit too, so that ``12 km`` and ``12 m`` differ (and
:data:`UNIT_SPELLINGS` makes ``12 meters`` and ``12 m`` agree). A box inside the answer is unwrapped (math-verify would
read it alone: ``13 \\boxed{12}``); colour is dropped, and an answer in white ink is empty.
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction

from rlvr.verifiers.math.extract import clean

MAX_ANSWER_CHARS = 3000  # longer answers are not normalised (the judge refuses them)

# ------------------------------------------------------------------------------------------------------------ tables

REPLACE = (
    ("\u2212", "-"),
    ("\u2013", "-"),
    ("\u00d7", "\\times "),
    ("\u00b7", "\\cdot "),
    ("\u03c0", "\\pi "),
    ("\u221e", "\\infty "),
    ("\u221a", "\\sqrt"),
    ("\u2264", "\\le "),
    ("\u2265", "\\ge "),
    ("\u2260", "\\ne "),
    ("\u2248", "\\approx "),
    ("\u00b1", "\\pm "),
    ("\u2243", "\\simeq "),
    ("\u2245", "\\cong "),
    ("\u2241", "\\nsim "),
    ("\u2272", "\\lesssim "),
    ("\u2273", "\\gtrsim "),
    ("\u226a", "\\ll "),
    ("\u226b", "\\gg "),
    ("\\tbinom", "\\binom"),
    ("\u00b2", "^2"),
    ("\u00b3", "^3"),
    ("\u00b9", "^1"),
    ("\u00bd", " \\frac{1}{2}"),
    ("\u2153", " \\frac{1}{3}"),
    ("\u2154", " \\frac{2}{3}"),
    ("\u00bc", " \\frac{1}{4}"),
    ("\u00be", " \\frac{3}{4}"),
    ("\u2155", " \\frac{1}{5}"),
    ("\u2159", " \\frac{1}{6}"),
    ("\u215b", " \\frac{1}{8}"),
    ("\u00c5", " \u00c5 "),  # a unit word of its own (inside \text{} too: "4080 \, \text{Å}")
    ("\\AA", " \u00c5 "),
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("\\dbinom", "\\binom"),
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
    ("\\lt", "<"),
    ("\\gt", ">"),
    ("!=", "\\ne "),
    ("<=", "\\le "),
    (">=", "\\ge "),
    ("\\not=", "\\ne "),
    ("\\not =", "\\ne "),
    ("\\neq", "\\ne "),
    ("\\leqslant", "\\le "),  # before \leq, whose replacement would leave "slant"
    ("\\geqslant", "\\ge "),
    ("\\leq", "\\le "),
    ("\\geq", "\\ge "),
    ("\\textbf", "\\text"),
    ("\\textnormal", "\\text"),
    ("\\textup", "\\text"),
    ("\\textsf", "\\text"),
    ("\\mathrm", "\\text"),
    ("\\mathbf", "\\text"),
    ("\\textrm", "\\text"),
    ("\\textit", "\\text"),
    ("\\mbox", "\\text"),
    ("\\operatorname", "\\text"),
)
# Units and measure words stripped after a number (lower-cased; compound units are sequences of these).
UNITS = frozenset(
    """m cm mm km nm um μm µm å au pc kpc mpc ly in inch inches ft feet foot yd yard yards mi mile miles meter meters
    metre metres centimeter centimeters centimetre centimetres millimeter millimeters kilometer kilometers kilometre
    kilometres g kg mg lb lbs pound pounds oz ounce ounces ton tons tonne tonnes amu gram grams kilogram kilograms
    s sec secs second seconds ms ns min mins minute minutes h hr hrs hour hours day days week weeks month months
    year years yr yrs k c f j kj ev kev mev gev w kw mw v hz khz mhz ghz n pa kpa atm mol l ml liter liters litre
    litres gallon gallons gal cal kcal rad rads sr mph kph dollars dollar cents cent units unit degrees degree
    square sq cubic per erg ergs dyn cc percent mps ohm ohms kohm mohm μ µ
    arcsec arcsecond arcseconds arcmin arcminute arcminutes""".split()
)
_PER = re.compile(r" ?([a-zåμµ]+)\^\{?-1\}?")
# Plurals without an "s" and words that name a count or total ("12 people", "12 in all", "12 left")
COUNT_NOUNS = frozenset(
    """people children men women sheep fish mice geese teeth deer dice oxen species series aircraft offspring cattle
    police staff personnel total altogether overall combined left remaining apiece grade place floor century row
    term edition position birthday anniversary parsec lightyear angstrom micron arcsec arcsecond arcmin arcminute
    newton joule watt volt kelvin tesla gauss hertz lux mole coulomb ampere amp farad henry weber radian steradian
    calorie electronvolt bushel mass luminosity radius magnitude bit byte celsius fahrenheit torr mbar""".split()
)
# A lone letter after a number is a unit only in these spellings (case matters): "12 m", "5 s", "3 N"; OlympiadBench
# writes "2 n" and "3 k" for the products 2n and 3k.
SINGLE_LETTER_UNITS = frozenset("msghlLNKJWVCFÅμµ")
MULTIPLIERS = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
# Words after a number that change what it says: the answer is kept whole (and so cannot match a bare number).
NOT_UNITS = frozenset(
    """is are was were be been not no or and plus minus times over divided by probably maybe perhaps possibly likely
    approximately approx about around roughly nearly almost wrong incorrect correct right false true than more less
    at least most if but because so then since instead actually wait only exactly pi sqrt sin cos tan log ln infty
    cdot pm mp i e x y z n one two three four five six seven eight nine ten hundred squared cubed factorial dozen
    dozens score gross below above under excluded except excluding inverse reciprocal half twice double triple
    negative positive remainder backwards upwards onwards afterwards tops ish off ago max out low bad err nil nah nay
    too few new old top big yet""".split()
)

# ------------------------------------------------------------------------------------------------------ patterns

_SPACING = re.compile(r"(?<!\\)\\[!,;: ]")  # thin spaces; not the second half of a "\\" row break
# Minutes and seconds of arc after a number: 0.003^{\prime\prime}, 0.003'', 12' (the unit words then compare)
_ARC_SECONDS = re.compile(r"(?<=\d) ?(?:\^ ?\{ ?\\prime ?\\prime ?\}|\^ ?\\prime ?\\prime|''|\")")
_ARC_MINUTES = re.compile(r"(?<=\d) ?(?:\^ ?\{ ?\\prime ?\}|\^ ?\\prime|')(?!')")
_DEGREES = re.compile(r"\^ ?\{? ?\\circ ?\}?|\\circ|\u00b0|\\degree")
_TRIG_DEGREES = re.compile(r"\\(sin|cos|tan|cot|sec|csc) ?\(? ?(\d+(?:\.\d+)?) ?(?:\^ ?\{? ?\\circ ?\}?|\u00b0)\)?")
_TEXT = re.compile(r"\\text ?\{((?:[^{}]|\{[^{}]*\})*)\}")  # one level of braces inside: \text{erg s^{-1}}
_FRAC_SHORT = (
    (re.compile(r"\\frac ?(\d) ?(\d)"), r"\\frac{\1}{\2}"),
    (re.compile(r"\\frac ?\{([^{}]*)\} ?(\d)"), r"\\frac{\1}{\2}"),
    (re.compile(r"\\frac ?(\d) ?\{"), r"\\frac{\1}{"),
    (re.compile(r"\\sqrt ?(\d+)"), r"\\sqrt{\1}"),
)
_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?%?")
_SPACE_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(?: \d{3})+(?:\.\d+)?")
_ORDINAL = re.compile(r"(?<=\d)(?:\^ ?\{?(?:\\text ?\{)?(?:th|st|nd|rd)\}?\}?|(?:th|st|nd|rd)\b)")
_WORDS = re.compile(r"[A-Za-zÅμµ]+")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
# one token of a unit tail, read from the right: a word, an exponent, a slash or a space
_UNIT_TOKEN = re.compile(r"[A-Za-zÅåμµ]+|\^\{?-?\d+\}?|/| |\\cdot|-")


@functools.lru_cache(maxsize=8192)  # a GRPO group repeats its reference (and many answers) over and over
def normalize(s: str, reference: bool = False) -> str:
    """Canonical text of an answer (see the module docstring); a ``reference`` is trusted with any words after its
    number (``17 \\text{ any text}``), an answer only with units and the names of what it counts."""
    s = clean(s)
    if len(s) > MAX_ANSWER_CHARS:
        return s
    if s.startswith(("\\boxed{", "\\fbox{")) and s.endswith("}"):
        s = s[s.index("{") + 1 : -1]
    if "\\" in s:
        s = _BOX_INSIDE.sub("", s)  # "13 \\boxed{12}": math-verify would read the inner box alone; keep its braces
        if (s := _uncolour(s)) == "":
            return ""
    s = re.sub(r"\s+", " ", s)
    s = _undouble_backslashes(s)
    s = re.sub(r"(?<=\d),\\! ?(?=\d)", ",", s)  # MATH's "11,\! 111": a thousands comma; a plain "32, 349" is a list
    s = _SPACING.sub(lambda m: " " if m.group() == "\\ " else "", s)
    for old, new in REPLACE:
        s = s.replace(old, new)
    s = re.sub(r"(?<=\d) ?\{, ?\} ?(?=\d)", ",", s).replace("{,}", ",")  # "14 {,} 916", "14 {, }916"
    if "\\choose" in s:  # {2n \choose n} is \binom{2n}{n}
        s = re.sub(r"\{([^{}\\]*(?:\\(?!choose)[^{}\\]*)*)\\choose ?([^{}]*)\}", r"\\binom{\1}{\2}", s)
    s = re.sub(r"(?<![\d.])1i\b", "i", s)
    s = re.sub(r"_\\([A-Za-z]+)", r"_{\\\1}", s)  # "L_\\odot" is "L_{\\odot}"
    s = _TRIG_DEGREES.sub(lambda m: f"\\{m.group(1)}(\\frac{{{m.group(2)}\\pi}}{{180}})", s)  # sin 30° = sin(π/6)
    s = _arc_marks(s)
    s = _DEGREES.sub(" ", s)
    for pattern, repl in _FRAC_SHORT:
        s = pattern.sub(repl, s)
    s = _ORDINAL.sub("", s)
    if "\\frac" in s or "\\Omega" in s or "\\mu" in s:
        s = _written_units(s)
    s = _TEXT.sub(lambda m: f" {m.group(1).strip()} ", s)
    s = re.sub(r"(?<=\d) (?:th|st|nd|rd)\b", "", s)  # "12\text{th grade}": the ordinal was inside the text
    if "=" in s and "for" in s:  # "f(n) = n for all n": the identity holds everywhere; it is the answer
        s = re.sub(r"(?<=[^=])(?: ?,)? (?:for (?:all|every|each|any)|\\forall) [^=]{1,80}$", "", s)
    s = re.sub(r"\bsq\. ?", "sq ", s)  # "15 \text{ sq. cm}"
    s = re.sub(r" +", " ", s).strip()
    s = re.sub(r"(?<=\d) (?=i\b)", "", s)  # "12 i" -> "12i": latex2sympy reads the two as different symbols
    s = re.sub(r" \^", "^", s)
    s = re.sub(r"^([A-Za-z]) ?(\([^()\[\]]*\]|\[[^()\[\]]*\))$", r"\1\\in \2", s)  # OlympiadBench's "t(0,4]"
    s = split_units(s, reference)[0]
    if _THOUSANDS.fullmatch(s) or _SPACE_THOUSANDS.fullmatch(s):
        s = s.replace(",", "").replace(" ", "")
    s = re.sub(r" ?([=,()\[\]{}^_+*/<>-]) ?", r"\1", s)
    return s.rstrip(".").strip()


_FRAC_UNIT = re.compile(r"(?<=[\d ])\\frac ?\{ ?\\text ?\{ ?([A-Za-z]+) ?\} ?\} ?\{ ?\\text ?\{ ?([A-Za-z]+) ?\} ?\}$")
_OHM = re.compile(r"(?<=\d) *(?:\\text ?\{ ?)?(k|M|m)?(?: ?\})? ?\\Omega$")
_MICRO = re.compile(r"(?<=\d) *\\mu ?(?=[A-Za-z]|\\text)")


def _written_units(s: str) -> str:
    """Units written as LaTeX after a number: ``12 \\frac{\\text{m}}{\\text{s}}`` -> ``12 m/s``, ``12\\ \\Omega`` ->
    ``12 ohm``, ``12 \\mu\\text{F}`` -> ``12 μF``."""
    s = _FRAC_UNIT.sub(r" \1/\2", s)
    s = _OHM.sub(lambda m: f" {m.group(1) or ''}ohm", s)
    return _MICRO.sub(" μ", s)


def split_units(s: str, reference: bool = False) -> tuple[str, str]:
    """``46.08 g/mol`` -> (``46.08``, ``g/mol``); ``12 million`` -> (``12000000``, ``""``); ``12 is wrong`` whole.

    One scan over tokens from the right collects the tail of unit tokens (words, exponents, slashes, spaces) and stops
    at a word in :data:`NOT_UNITS`. The tail is a unit when its words are all units (:data:`UNITS`), or, without
    exponents, a noun phrase of up to three words of three letters or more (``5 apples``). A single-letter unit needs
    a space and a number before it (``12 m``; ``8n^2`` and ``\frac{37}{4}m`` are names). The value must hold a digit.
    """
    tokens = list(_UNIT_TOKEN.finditer(s))
    pos, cut, words = len(s), len(s), []
    for m in reversed(tokens):
        tok = m.group()
        if m.end() != pos:
            break  # something that is not a unit token lies between
        if tok[0].isalpha() or tok[0] in "Åμµ":
            if tok.lower() in NOT_UNITS and tok.lower() not in UNITS:
                break
            words.append(tok.lower())
            cut = m.start()
        pos = m.start()
    value, unit = s[:cut].strip(), s[cut:].strip(" /-")
    spaced = s[cut - 1 : cut] == " "
    if not words or not _is_unit(words, unit, spaced, "" if reference else value) or not _is_value(value):
        return s, ""
    numeric_end = value[-1].isdigit() or re.search(r"10\^\{?-?\d+\}?$", value) is not None  # 3 m, 6.6 x 10^{-34} J
    if len(words[-1]) == 1 and (s[cut - 1 : cut] != " " or not numeric_end or s[cut] not in SINGLE_LETTER_UNITS):
        return s, ""  # "8n^2", "\frac{37}{4}m", "2 n": a single letter after an expression is a variable, not a unit
    return _apply_multiplier(value, unit)


def _is_unit(words: list[str], unit: str, spaced: bool, value: str) -> bool:
    if all(w in UNITS or w in MULTIPLIERS for w in words):
        return spaced or len(words[-1]) > 1
    noun_phrase = spaced and len(words) <= 3 and all(len(w) >= 3 for w in words) and "^" not in unit
    return noun_phrase and (not value or _counts(words[0], value))  # words[0] is the last: "5 red apples" -> "apples"


def _counts(noun: str, value: str) -> bool:
    """Whether a word after a number names what is counted: a plural (``12 apples``, ``12 people``), or a singular
    after one or a fraction (``1 apple``, ``0.5 cup``). An adjective or adverb (``12 invalid``, ``12 incorrectly``,
    ``12 higher``) says something about the number instead."""
    if noun in COUNT_NOUNS or len(noun) <= 3:
        return True  # three letters: an abbreviation ("12 rpm", "10 Gyr", "12 psi"), the words above excepted
    plural = noun.endswith("s") and not noun.endswith(("ss", "us", "is", "ous", "wards", "ways"))
    return plural or (noun.endswith("ways") and len(noun) == 4) or not re.fullmatch(r"[-+]?\d+", value) or value == "1"


def _is_value(value: str) -> bool:
    if not value or not re.search(r"\d", value):
        return False
    return value[-1] in "0123456789})%" or re.search(r"\\[A-Za-z]+$", value) is not None


def _apply_multiplier(value: str, unit: str) -> tuple[str, str]:
    first, _, rest = unit.partition(" ")
    factor = MULTIPLIERS.get(first.lower())
    if factor is None or not _PLAIN_NUMBER.fullmatch(value.replace(",", "")):
        return value, unit
    scaled = Fraction(value.replace(",", "")) * factor
    text = str(scaled.numerator) if scaled.denominator == 1 else str(float(scaled))
    return text, rest.strip()


@functools.lru_cache(maxsize=8192)
def unit_of(s: str) -> str:
    """The unit of an answer as written (lower-cased, spaces dropped); "" when it has none or it is a noun phrase
    (``5 apples`` and ``5 red apples`` name the same count; ``12 km`` and ``12 m`` are different lengths)."""
    if not re.search(r"[A-Za-zÅμµ'\"]", s):
        return ""
    s = clean(s).replace("\\AA", " Å")
    if len(s) > MAX_ANSWER_CHARS:
        return ""
    s = re.sub(r"\s+", " ", s).replace("\\mathrm", "\\text")
    if "\\frac" in s or "\\Omega" in s or "\\mu" in s:
        s = _written_units(s.replace("\\ ", " "))
    s = _TEXT.sub(lambda m: f" {m.group(1).strip()} ", s)
    s = _DEGREES.sub(" ", _arc_marks(s)).replace("\\,", " ").replace("\\ ", " ").replace("~", " ")
    unit = split_units(re.sub(r" +", " ", s).strip())[1]
    if not all(w.lower() in UNITS for w in _WORDS.findall(unit)):
        return ""
    return canonical_unit(_PER.sub(r"/\1", unit.lower()))  # "km s^{-1}" is "km/s"


# Spellings of one unit (lower-cased): ``12 meters`` and ``12 m`` are one length, ``5 seconds`` and ``5 s`` one time.
UNIT_SPELLINGS = {
    u: u for u in "m cm mm km nm s ms ns min h day week month yr g kg mg lb oz in ft yd mi l ml deg".split()
} | {
    **dict.fromkeys("meter meters metre metres".split(), "m"),
    **dict.fromkeys("centimeter centimeters centimetre centimetres".split(), "cm"),
    **dict.fromkeys("millimeter millimeters".split(), "mm"),
    **dict.fromkeys("kilometer kilometers kilometre kilometres".split(), "km"),
    **dict.fromkeys("sec secs second seconds".split(), "s"),
    **dict.fromkeys("mins minute minutes".split(), "min"),
    **dict.fromkeys("hr hrs hour hours".split(), "h"),
    **dict.fromkeys("days".split(), "day"),
    **dict.fromkeys("weeks".split(), "week"),
    **dict.fromkeys("months".split(), "month"),
    **dict.fromkeys("yrs year years".split(), "yr"),
    **dict.fromkeys("gram grams".split(), "g"),
    **dict.fromkeys("kilogram kilograms".split(), "kg"),
    **dict.fromkeys("lbs pound pounds".split(), "lb"),
    **dict.fromkeys("ounce ounces".split(), "oz"),
    **dict.fromkeys("inch inches".split(), "in"),
    **dict.fromkeys("foot feet".split(), "ft"),
    **dict.fromkeys("yard yards".split(), "yd"),
    **dict.fromkeys("mile miles".split(), "mi"),
    **dict.fromkeys("liter liters litre litres".split(), "l"),
    **dict.fromkeys("degree degrees".split(), "deg"),
    **dict.fromkeys("dollars".split(), "dollar"),
    **dict.fromkeys("cents".split(), "cent"),
    **dict.fromkeys("arcsecond arcseconds".split(), "arcsec"),
    **dict.fromkeys("arcminute arcminutes".split(), "arcmin"),
    **dict.fromkeys("ergs".split(), "erg"),
    **dict.fromkeys("rads".split(), "rad"),
}
_POWER_WORDS = {"square": "^2", "sq": "^2", "cubic": "^3"}


def _arc_marks(s: str) -> str:
    return _ARC_MINUTES.sub(" arcmin", _ARC_SECONDS.sub(" arcsec", s)) if "'" in s or "prime" in s or '"' in s else s


def canonical_unit(unit: str) -> str:
    """``square meters`` -> ``m^2``, ``km/h`` -> ``km/h``, ``kcal m^{-2} yr^{-1}`` -> ``kcalm^-2yr^-1``: one spelling
    per unit, so that two answers' units compare as text."""
    out, power = [], ""
    for tok in _UNIT_TOKEN.findall(unit.lower()):
        if tok in _POWER_WORDS:
            power = _POWER_WORDS[tok]
        elif tok == "per":
            out.append("/")
        elif tok[0].isalpha() or tok[0] in "åμµ":
            out.append(UNIT_SPELLINGS.get(tok, tok) + power)
            power = ""
        elif tok.startswith("^"):
            out.append("^" + tok.strip("^{}"))
        elif tok != " ":
            out.append(tok)
    return "".join(out)


_BOX_INSIDE = re.compile(r"\\(?:boxed|fbox|framebox)(?![A-Za-z])")
_COLOUR = re.compile(r"\\(?:textcolor|color) ?(?:\[[A-Za-z]+\])? ?\{ ?([#A-Za-z0-9!]*) ?\}")
_INVISIBLE = frozenset({"white", "#fff", "#ffffff", "fff", "ffffff", "white!100"})


def _uncolour(s: str) -> str:
    """``\\color{red}{12}`` -> ``{12}``; "" when the answer is in white ink: what is read is not what a reader
    sees."""
    if "color" not in s:
        return s
    if any(m.group(1).lower() in _INVISIBLE for m in _COLOUR.finditer(s)):
        return ""
    return _COLOUR.sub("", s)


_BACKSLASH_RUN = re.compile(r"(?<!\\)\\+(?=[A-Za-z])")  # starts only at a run's start: linear


def _undouble_backslashes(s: str) -> str:
    """``\\\\left( 3, \\\\frac{\\\\pi}{2} \\\\right)`` -> ``\\left( 3, \\frac{\\pi}{2} \\right)``: an answer escaped
    twice (a JSON or Python string written out raw). Only when every command in it is doubled: in ``1\\\\x`` next to
    a single-backslash ``\\begin``, the ``\\\\`` is a row break."""
    runs = [len(m.group()) for m in _BACKSLASH_RUN.finditer(s)]
    if not runs or any(n % 2 for n in runs):
        return s
    return _BACKSLASH_RUN.sub(lambda m: "\\" * (len(m.group()) // 2), s)
