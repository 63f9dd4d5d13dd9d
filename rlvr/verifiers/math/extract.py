"""Host half of the ``math`` verifier: find the final answer in a completion, in linear time, with no sympy.

This runs in the calling process on model-written text (to build the scoring cache key), so every step is linear in
the input: the regular expressions below have no nested or overlapping repeats, and anything heavier only ever sees a
bounded slice (an answer line is reduced to its answer before the worker normalises or parses it).

Where the answer is read, in order (a *format* picks the readers; see :data:`FORMATS`):

==============  ====================================================================================================
reader          reads
==============  ====================================================================================================
``answer_tag``  (``auto``) the last ``<answer>...</answer>``: its box, or its line reduced to the answer.
``final``       (``auto``) a ``Final Answer: ...`` line after the last box: the boxes before it were working.
``boxed``       every outermost ``\\boxed{}``/``\\fbox{}``/``\\framebox{}``/``\\bbox{}`` (``\\boxed 5`` too) after
                the last ``</think>``. Distinct boxes are all kept, joined by :data:`HEDGE_SEP`: the judge decides by
                the reference's shape whether they are parts of a list or a hedge. A box right after a negation
                (``is not \\boxed{12}``, ``It is false that ... \\boxed{12}``) does not count; a retraction after
                the last box (``Wait, that is wrong``, ``\\boxed{12} cannot be right``) leaves no answer; a box
                that the text before the next box takes back (``\\boxed{13}. No, ... \\boxed{12}``) is dropped; an
                answer line after the last box that gives another number (``... so the answer is 13``) is one more
                answer (a hedge).
``marker``      the last answer line: ``####``, ``Final Answer:``, ``the final answer is``, ``The answer is``, a
                last line ``A: 26``; the line is reduced to its answer (``$14 {,} 916$. I hope it is correct.`` ->
                ``14 {,} 916``; ``42 because ...`` -> ``42``; a sentence, ``The largest $n$ is 34.`` -> ``34``);
                a negated line (``The answer is not 12``) or one that calls its value wrong has none; ``#### $540``
                is dollars, a trailing ``is $12`` at the very end is a math span cut off. A line that describes the
                answer (``the final answer is consistent with ...``) gives none and the next reader is tried; a
                heading (``**Checking the Answer:**``) is no marker.
``pattern``     the last match of a user's regular expression (one group).
``prose``       (``prose_fallback``) a one-line completion: its one math span, or the line when it is short; else a
                finished concluding sentence (``Therefore, Janet makes $18 every day.``, ``So x = 12, not 13.``) whose
                prose neither negates, bounds nor estimates (:data:`NOT_AN_ANSWER`), and that is not cut off;
                sign-off lines (``Let me know if ...``) are skipped first. Else the last line, when it closes with
                one bold value (``Area = ... = **32**``), names the answer beside one (``The answer, **2**, ...``)
                or is a labelled result (``**Solution:** x = 4``).
``bold``        (in answer lines and sentences) one bold value is the model's emphasis of its answer: ``The midpoint
                is **(-1, 6)**.`` -> ``(-1, 6)``; bold headings (``**5. FORMAT**``) are no value.
==============  ====================================================================================================

A completion cut off inside ``<think>`` or inside an unclosed ``\\boxed{`` has no answer; text after a chat template's
end token (``<|im_start|>``) or a few-shot model's invented next ``Question:`` / ``Subproblem 2:`` is not read.
Misspelt closing tags (``</ think>``, ``<\\think>``, ``</THINK>``, ``</thinking>``) close the thinking too. What a
reader of the rendered text does not see is not read: boxes inside code, HTML and LaTeX comments, ``\\iffalse``,
struck-through text; a completion that redefines a command (``\\renewcommand{\\boxed}``) has no answer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

HEDGE_SEP = " \u2016 "  # joins distinct boxed answers in the extracted text: "3 ‖ 4"
MAX_BOXES = 64  # distinct boxes kept; the judge refuses more than it can use
MAX_LINE = 2000  # an answer line is cut to this many characters before it is reduced
TAIL = 600  # characters after the last box searched for a retraction, and read for a concluding sentence

# ------------------------------------------------------------------------------------------------------------ tables

BOX_COMMANDS = (
    "boxed", "fbox", "framebox", "bbox", "Boxed", "colorbox", "fcolorbox", "ovalbox", "Ovalbox", "doublebox", "shadowbox",
)  # fmt: skip
BOX_COLOUR_GROUPS = {"colorbox": 1, "fcolorbox": 2}  # brace groups before the content: \fcolorbox{red}{white}{12}
# Text after which the following box is a rejected value, not the answer ("the answer is not \boxed{12}").
NEGATIONS_BEFORE_BOX = (
    "not",
    "n't",
    "n\u2019t",
    "never",
    "\\ne",
    "\\neq",
    "\\not=",
    "\\not =",
    "\u2260",
    "instead of",
    "rather than",
    "neither",  # "neither \boxed{12} nor 14"
    "suppose",  # "Suppose \boxed{12} were correct; ..."
)
# What takes the last box back: text right after it that opens with one of these words ...
RETRACTION_OPENERS = (
    "wait",
    "actually,",
    "no,",
    "no.",
    "no!",
    "no wait",
    "oops",
    "hold on",
    "but wait",
    "scratch that",
)
# The openers that take a box back even when another box follows (a bare "wait" may go on to a second part).
STRONG_RETRACTION_OPENERS = ("no,", "no.", "no!", "no wait", "oops", "scratch that", "hmm, no", "hmm no")
# Words right before a box that make it a guess: "\boxed{12} (or maybe \boxed{13})" hedges, whatever the reference
HEDGES_BEFORE_BOX = ("maybe", "possibly", "perhaps", "probably", "or rather")
# Words earlier in a box's sentence that deny it: "It is false that the answer is \\boxed{12}".
DENIALS_BEFORE_BOX = (
    "false that", "not true that", "rule out", "ruled out", "eliminate", "wrong to say", "naive approach",
    "naive answer", "naively", "one might think", "might be tempted", "tempting to", "it is tempting", "wrong answer",
    "incorrect answer", "common mistake", "i claimed", "earlier i", "my previous answer", "my earlier answer",
    "first guess", "initial guess", "first guessed", "if i had not", "if i hadn't", "would have been",
    "suppose the answer", "suppose that the answer", "assume the answer", "assuming the answer", "if the answer were",
)  # fmt: skip
# ... or whose own sentence calls it wrong ("$\\boxed{12}$ is incorrect.", "\\boxed{12}\\text{ is wrong}").
CALLED_WRONG = (
    "wrong", "incorrect", "not correct", "not right", "not the answer", "mistake", "mistaken", "false", "careless",
    "tempting", "naive", "trap", "misleading", "erroneous", "but the real", "but the actual", "but the correct",
    "but the true",
    "a guess", "not sure", "unsure", "is impossible", "only if", "is ruled out", "but fails",
)  # fmt: skip
# ... or, within the next few sentences, says that it (not some earlier scratch work) is wrong.
RETRACTION_PHRASES = (
    "that is wrong", "that's wrong", "this is wrong", "that is incorrect", "that's incorrect", "this is incorrect",
    "is not correct", "is not right", "isn't correct", "isn't right", "scratch that", "i made a mistake",
    "i've made a mistake", "i have made a mistake", "we made a mistake", "i was wrong", "the answer is wrong", "that answer is wrong", "this answer is wrong",
    "actually no", "actually, no", "hmm, no", "hmm no", "is wrong:", "above is wrong", "above is incorrect",
    "i made an error", "i've made an error", "i have made an error", "i miscalculated", "correction:", "erratum",
)  # fmt: skip
# Special tokens of chat templates: a completion that runs past one has started a new turn.
END_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>")
# Words that start a clause after the answer on its line: "42 because the total ..." -> "42".
CLAUSE_WORDS = (
    "because", "since", "as", "which", "where", "when", "so", "given", "due", "from", "after", "for", "that",
    "but", "while", "with", "using", "per", "hence", "thus", "therefore",
)  # fmt: skip
# A fallback sentence that holds one of these gives no answer: it negates, bounds, estimates or is unsure.
NOT_AN_ANSWER = (
    "not", "n't", "n\u2019t", "cannot", "never", "impossible", "no longer", "at least", "at most", "more than", "less than",
    "greater than", "fewer than", "smaller than", "larger than", "exceed", "exceeds", "exceeded", "exceeding",
    "guess", "not sure", "unsure", "estimate", "estimated", "about", "around", "consistent with", "approximately", "roughly", "nearly",
    "almost", "maybe", "perhaps", "probably", "possibly", "might", "answer could", "answer would",
    "answer may", "\\ge", "\\geq", "\\le", "\\leq", "\\approx",
    "\\ne", "\\neq", "\\not", "<", ">", "\u2264", "\u2265", "\u2248", "\u2260", "close to", "is under", "are under", "only when",
    "only if", "differs from", "different from", "if i recall", "if memory serves", "i believe", "i think",
    "are no", "is no", "some remainder", "anything but",
)  # fmt: skip
# A last line that signs off ("Let me know if you have any other questions!") is not where the answer is.
SIGN_OFFS = (
    "let me know", "i hope this helps", "i hope that helps", "hope this helps", "feel free", "please let me know",
    "if you have any", "if you'd like", "if you would like", "do you have any", "happy to help",
)  # fmt: skip
# Words that may stand before an "Answer:" label on its line; any other word makes it a heading about the answer
# ("**Checking the Answer:** We need to make sure ...") whose line states no answer.
ANSWER_LABEL_WORDS = ("the", "final", "my", "our", "correct", "short", "so", "thus", "hence", "therefore", "a")
# Filler right after a marker, before the answer: "The final answer is indeed $36^\circ$".
FILLERS = ("indeed", "clearly", "simply", "exactly", "still", "then", "now")
NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
)  # fmt: skip
# NOT_AN_ANSWER's words that negate, and "there is no ..." (a sentence may open with "There")
NEGATING = (
    "not", "n't", "n\u2019t", "cannot", "never", "impossible", "no longer", "there is no", "there are no", "no such",
)  # fmt: skip
CONDITIONS = ("if", "unless", "assuming", "provided")  # "12 if x > 0": an answer under a condition
_CONDITION_AFTER = re.compile(r"\b(?:" + "|".join(CONDITIONS) + r")\b", re.IGNORECASE)
CONCLUSION_WORDS = (
    "therefore",
    "thus",
    "so",
    "hence",
    "in total",
    "in conclusion",
    "finally",
    "overall",
    "altogether",
)

# ------------------------------------------------------------------------------------------------------ primitives

_BOX = re.compile(r"\\(?:" + "|".join(BOX_COMMANDS) + r")(?![A-Za-z])")
_BRACE = re.compile(r"(?<!\\)(?:\\\\)*([{}])")  # "\\}" is an escaped brace, "\\\\}" a line break then a brace
_BARE_TOKEN = re.compile(r"[^\s$]+")
# LaTeX spacing that prints nothing visible: a box holding only these is a blank to fill, not an answer
_BLANK_SPACING = re.compile(r"\\[hv]?phantom\{[^{}]*\}|\\hspace\*?\{[^{}]*\}|\\q?quad(?![A-Za-z])|\\[ ,;:!]|~")
# Searched in an ASCII-lower-cased copy (same length, same offsets): a case-insensitive pattern is several times slower.
_MARKER = re.compile(r"####|\bfinal[ \t]+answer\b|\banswer\b|^[ \t]*a:", re.MULTILINE)
_FINAL_BEFORE = re.compile(r"\bfinal[ \t]+$")  # "final " right before "answer" (searched in a 40-character window)
_MATH_NEXT = r"|(?=\$|\\\[|\\\()"  # "Answer $9$", "Answer \[ 9 \]" (the spaces before are already read)
_AFTER_ANSWER = re.compile(r"[ \t*]*(?:is(?:n't)?\b[ \t*]*:?|:|=" + _MATH_NEXT + ")", re.IGNORECASE)
_AFTER_FINAL = re.compile(r"[ \t*]*(?:is\b[ \t*]*:?|:|=|\n" + _MATH_NEXT + ")", re.IGNORECASE)
_SUBPROBLEM = re.compile(r"(?:^|\n)[ \t*#]*Subproblem[ \t]*\d+[ \t]*:", re.IGNORECASE)
_NEXT_QUESTION = re.compile(r"\n[ \t]*(?:Question|Problem|Q|Subproblem[ \t]*\d+)[ \t]*:", re.IGNORECASE)
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")  # words of prose (not \frac, not x)
_NUMBER_TEXT = r"-?\d+/\d+(?![\d/])|-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|-?\d+(?:\.\d+)?(?!\d)"  # 2/3, 1,000, 3.5
_NUMBER = re.compile(r"(?<![\w.])(?:" + _NUMBER_TEXT + ")")
_STATED = re.compile(
    r"(?:\$|\b(?:is|are|was|were|be|equals|makes|made|earns|earned|costs?|spent|needs?|has|have|had) \$?)"
    r"(" + _NUMBER_TEXT + ")"
)
# A stated value followed by more values: "The possible values of x are 2, 3, 4, ..., 10" (a list, not its first item)
_STATED_LIST = re.compile(
    r"\b(?:is|are|was|were|be|equals) \$?((?:"
    + _NUMBER_TEXT
    + r")(?:(?:,[ \t]+(?:and[ \t]+)?|[ \t]+and[ \t]+)\$?(?:"
    + _NUMBER_TEXT
    + r"|\.\.\.|\\ldots|\\dots))+)"
)
_SENTENCE_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)[.!?]\$*(?=\s+[A-Z])")
_LAST_CONCLUSION = re.compile(r"\b(?:so|therefore|thus|hence)\b,? ", re.IGNORECASE)
_RELATION = re.compile(r"[<>]|\\(?:le|ge|ne|leq|geq|neq|lt|gt)(?![a-z])|!=|\u2264|\u2265|\u2260")
_SPAN = re.compile(r"\$\$([^$]+)\$\$|\$([^$]+)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]")
_EQUALS = re.compile(r"(?<![<>!\\])=")
_CONCLUSION = re.compile(r"(?:" + "|".join(CONCLUSION_WORDS) + r")\b")
_DOLLAR = re.compile(r"(?<!\\)\$")
_EMPTY_BOX = re.compile(r"\\(?:boxed|fbox)[ \t]*\{[ \t]*\}")
# "x = 12, not 13" -> "x = 12": a clause after a comma (or in brackets) that rejects a value; "n = 12 is not a
# solution" is no contrast clause (it negates the sentence's own value)
_CONTRAST = re.compile(r"(?:,[ \t]*\(?|[ \t]*\()\bnot[ \t]+[-+$\\\d(][^,;]*\)?$")
# "the final answer is consistent with ...", "... is presented in a box": words that describe the answer, not one
_DESCRIPTION = re.compile(
    r"[a-z]{3,}(?:[ \t]+(?:and[ \t]+)?[a-z]{3,})?[ \t]+(?:with|to|in|within|as|by|for|from|of|on|using)\b"
)
# One markdown-bold span in an answer sentence ("The midpoint is **(-1, 6)**."): the model's own emphasis of its answer
_BOLD = re.compile(r"\*\*([^*\n]{1,120}?)\*\*")
# A count stated as a count: "... in 210 different ways", "He can pick 210 different groups of 3 boys and 2 girls."
_RESULT_LABEL = re.compile(r"\**(?:final )?(?:solution|result)\**:\**[ \t]*(?=\S)", re.IGNORECASE)
# A stated difference: a number and its unit before "less/more/fewer than" and a name ("200 feet less than Martha")
_DIFFERENCE = re.compile(r"(?<![\d.,])\d[\d.,]* [a-z]+ (?:less|more|fewer) than (?=[a-z])")  # one start per number
# A sentence that calls its value wrong ("The answer 12 is wrong."); "the number of false statements" does not
_CALLED_WRONG = re.compile(
    r"\b(?:is|are|was|seems)[ \t]+(?:wrong|incorrect|false|not correct|not right|a mistake|mistaken)\b"
)
_HEADING = re.compile(r"[ \t]*\d+\.[ \t]+[A-Za-z]|.*:[ \t]*$")  # bold "5. FORMAT", "Step 3:": a heading
_HTML_SCRIPT = re.compile(r"</?su[bp]>")
_WAYS = re.compile(
    r"\bin (" + _NUMBER_TEXT + r") (?:different |distinct |possible )?ways\b"
    r"|\b(?:can|could) [a-z]+ (" + _NUMBER_TEXT + r") (?:different|distinct|possible)\b"
)
# Closing think tags as models misspell them; an opening one without any close is a trace cut off.
_THINK_END = re.compile(r"<[ \t]*[/\\][ \t]*think(?:ing)?[ \t]*>", re.IGNORECASE)
_THINK_START = re.compile(r"<[ \t]*think(?:ing)?[ \t]*>", re.IGNORECASE)
# A command redefined in the completion: "\renewcommand{\boxed}[1]{13}\boxed{12}" renders 13.
_REDEFINE = re.compile(
    r"\\(?:(?:re)?newcommand|DeclareRobustCommand|DeclareMathOperator|catcode)(?![A-Za-z])"
    r"|\\def ?\\[A-Za-z@]+ ?[#{]|\\let ?\\[A-Za-z@]+ ?=? ?\\[A-Za-z@]"  # not AoPS's stray "\let\angle BCD"
)
# Code: a fenced block or an inline span (a box inside is shown, not given)
_CODE = re.compile(r"```[\s\S]*?```|`[^`\n]{1,300}`")
# Text that does not render or is struck out; each searched only when its marker is in the text
_UNSEEN = (
    ("~~", re.compile(r"~~(?=[^\s~])[^~\n]{1,300}?(?<=[^\s~])~~")),
    ("<", re.compile(r"<(del|s|strike)>[^<]{0,300}</\1>", re.IGNORECASE)),
    # a LaTeX comment: "%" at a line start or after a space after the end of a sentence or formula ("$13$. % ...");
    # "50 %" is a percentage and "n % 3" a remainder
    ("%", re.compile(r"(?:^|(?<=[.$)\]])[ \t]+)%[^\n]*", re.MULTILINE)),
)
# A box that names what the next box holds: "the value of $\boxed{\square}$ is $\boxed{3}$", "\boxed{4\$} = \boxed{6}"
_NAMES_NEXT_BOX = re.compile(r"[ \t$]*(?:is|=|equals)[ \t$]*\\boxed\b")
# One compiled pattern per word table, each word whole (a search per word cost more; see _retracted_after)
_RETRACTION_OPENER = re.compile("(?:" + "|".join(map(re.escape, RETRACTION_OPENERS)) + r")(?![a-z])")
_STRONG_OPENER = re.compile("(?:" + "|".join(map(re.escape, STRONG_RETRACTION_OPENERS)) + r")(?![a-z])")
_CALLED_WRONG_WORD = re.compile(r"(?<![a-z])(?:" + "|".join(map(re.escape, CALLED_WRONG)) + r")(?![a-z])")
_RETRACTION_PHRASE = re.compile("|".join(map(re.escape, RETRACTION_PHRASES)))
# The box's sentence goes on to deny it: "$\boxed{12}$ cannot be right", "\boxed{12}, which is too large"
_DENIED_AFTER = re.compile(
    r"[\s$.,;:)\]*\\]*(?:which[ \t]+|this[ \t]+|that[ \t]+)?(?:"
    r"(?:cannot|can't|can not|could not|couldn't)[ \t]+be[ \t]+(?:right|correct|true|the answer|valid|it)\b"
    r"|(?:does not|doesn't|did not|didn't|do not|don't)[ \t]+(?:work|satisfy|hold|fit|meet|check out)\b"
    r"|(?:is|was|are|were)[ \t]+(?:not[ \t]+valid|invalid|too[ \t]+(?:large|small|big|high|low|many|few)"
    r"|my (?:first|initial) (?:guess|attempt)|what (?:i|we)(?:'d| would) get)\b"
    r"|\(?(?:rejected|discarded|excluded|ruled out)\b"
    r"|(?:overcounts|undercounts|double[- ]counts)\b"
    r"|(?:fails|failed|gives a contradiction|leads to a contradiction|is not consistent|is inconsistent)\b"
    r"|(?:was|is) (?:an error|a miscalculation|a mistake)\b"
    r"|(?:but )?(?:that|this|which) (?:ignores|double[- ]counts|overcounts|fails|was an error|was a mistake)\b)"
)
# Words on an answer line that make its value a guess
_LINE_HEDGE = re.compile(
    r"\b(?:give or take|more or less|or so|i think|i guess|i believe|if i'm not mistaken|if i am not mistaken"
    r"|unless i|i'm not sure|i am not sure)\b|-ish\b"
)
# A completion that ends right after "\boxed{12} or": the other answer was cut off
_CUT_OFF_OR = re.compile(r"[\s$.,;)\]*\\]{0,20}(?:or|and/or)[\s$(\\\[{]{0,10}", re.IGNORECASE)
_UNCLOSED_BOLD = re.compile(r"[^\s*][^*\n]{0,200}\s*")  # the rest of a completion after an opened bold, never closed
_CONFIRMING = re.compile(
    r"\b(?:yes|is right|is correct|that's right|that is right|confirms|checks out|is confirmed)\b"
)
# A parenthetical after an answer that conditions, doubts or rejects it: "12 (if n is even)", "12 (wrong)"
_PAREN_DOUBT = re.compile(
    r"\([^()]{0,80}\b(?:if|unless|when|only|assuming|provided|but|wrong|incorrect|not|maybe|perhaps|probably|approx"
    r"|approximately|roughly|about|guess|caveat|unsure|estimate)\b[^()]{0,80}\)",
    re.IGNORECASE,
)
_CONDITION_NEXT = re.compile(r"[ \t,]*(?:if|unless|when|only|provided|assuming)\b", re.IGNORECASE)
_LEADING_FILL = re.compile(r"[\s$.,;:)\]*\\]*")  # what may stand between a box and the words after it
# a later answer line's number, compared with the boxes
_PLAIN_VALUE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")
_SHORT_PLAIN = 80  # a completion with no marker is taken whole only when it is one short line
_ONE_LINE = 400  # ... or its one math span, when it is one line of prose around it


_ASCII_UPPER_RUN = re.compile(r"[A-Z]+")


@functools.lru_cache(maxsize=8)  # one completion's region is lowered by several readers
def _ascii_lower(text: str) -> str:
    """ASCII letters lower-cased and every other character kept, so that positions line up with ``text``
    (``str.lower`` would change non-ASCII letters too, some into two characters; on ASCII text it is the same, and
    much faster; otherwise each run of capitals is lowered, three times faster than ``translate`` per character)."""
    return text.lower() if text.isascii() else _ASCII_UPPER_RUN.sub(lambda m: m.group().lower(), text)


def answer_region(text: str) -> str | None:
    """The part that may hold the final answer: after the last ``</think>``, before a new chat turn.

    None when the completion was cut off while thinking, or redefines a command (``\\renewcommand{\\boxed}``): what
    such text renders is not what it says. Text a reader does not see (code, comments, struck-through text) is
    dropped (see :func:`_drop_unseen`).
    """
    end = text.rfind("</think>")
    if end >= 0:
        text = text[end + len("</think>") :]
    elif (odd := _last_match(_THINK_END, text)) is not None:  # "</ think>", "<\\think>", "</THINK>", "</thinking>"
        text = text[odd.end() :]
    elif "<think>" in text or _THINK_START.search(text):
        return None
    cut = min((i for tok in END_TOKENS if (i := text.find(tok)) >= 0), default=len(text))
    text = text[:cut]
    if _REDEFINE.search(text):
        return None
    return _drop_continuation(_drop_unseen(text))


def _drop_unseen(text: str) -> str:
    """Without what a reader of the rendered text does not see as the answer: boxes inside code (``\\`\\boxed{12}\\```
    is a format shown, not an answer), HTML and LaTeX comments, ``\\iffalse`` blocks, struck-through text
    (``~~12~~``, ``<del>``)."""
    if "`" in text:
        text = _CODE.sub(lambda m: _BOX.sub("[box]", m.group()), text)
    for opener, closer in (("<!--", "-->"), ("\\iffalse", "\\fi")):
        if opener in text:
            text = _drop_between(text, opener, closer)
    for marker, pattern in _UNSEEN:
        if marker in text:
            text = pattern.sub(" ", text)
    return text


def _drop_between(text: str, opener: str, closer: str) -> str:
    """``text`` without each ``opener ... closer`` span, found by ``str.find`` (a lazy pattern would rescan the rest of
    the text from every unclosed opener: quadratic)."""
    out, pos = [], 0
    while (start := text.find(opener, pos)) >= 0 and (end := text.find(closer, start + len(opener))) >= 0:
        out.append(text[pos:start])
        pos = end + len(closer)
    return " ".join(out) + " " + text[pos:] if out else text


def _drop_continuation(text: str) -> str:
    """Keep the part of the completion that answers the question asked.

    A few-shot model that answers and then invents the next question ("#### 3\\n\\nQuestion: ...", "... Subproblem
    2: ...") is cut there. A model that walks through the sub-problems of a Minerva prompt from the start ("Subproblem
    0: ... \\boxed{7e37} ... Subproblem 1: ... \\boxed{8.7e8}") answers the asked (last) one last: only the last
    sub-problem that holds an answer is read, so the earlier, already answered parts are no hedge.
    """
    lowered = _ascii_lower(text)
    box = _BOX.search(text)
    starts = [at for at in (_first_marker(lowered), box.start() if box else None) if at is not None]
    if not starts:
        return text
    first_answer = min(starts)
    # "ubproblem": no letter of it has a non-ASCII case variant (IGNORECASE matches "ſ" for "s")
    parts = [m.start() for m in _SUBPROBLEM.finditer(text)] if "ubproblem" in lowered else []
    if parts and parts[0] < first_answer:
        last_answer = max(m.start() for m in (_last_match(_BOX, text), _last_match(_MARKER, lowered)) if m is not None)
        return text[max(at for at in parts if at < last_answer) :]
    following = _NEXT_QUESTION.search(text, first_answer)
    if following is None or _heading_only(text, lowered, first_answer, following.start()):
        return text  # "**Final Answer**\nSubproblem 1: ... \boxed{..}": the label heads the answer, no new question
    return text[: following.start()]


def _heading_only(text: str, lowered: str, start: int, stop: int) -> bool:
    """Whether ``text[start:stop]`` is a bare answer heading ("**Final Answer**", "### Final Answer:"): no box, and
    nothing but the marker and markdown on its line."""
    if _BOX.search(text, start, stop) is not None:
        return False
    line_end = text.find("\n", start, stop)
    marker = _MARKER.match(lowered, start)
    rest = text[marker.end() if marker else start : stop if line_end < 0 else line_end]
    return not rest.strip(" \t*#:_")


def _first_marker(lowered: str) -> int | None:
    """Where ``_MARKER.search(lowered)`` would start, found with ``str.find``: the pattern's four alternatives, tried at
    every character, took half the time of an extraction."""
    found = [at] if (at := lowered.find("####")) >= 0 else []
    at = lowered.find("answer")
    while at >= 0:
        if not (at > 0 and _is_word(lowered[at - 1])) and not (at + 6 < len(lowered) and _is_word(lowered[at + 6])):
            k = at
            while k > 0 and lowered[k - 1] in " \t":
                k -= 1
            final = k < at and lowered[k - 5 : k] == "final" and (k == 5 or (k > 5 and not _is_word(lowered[k - 6])))
            found.append(k - 5 if final else at)  # "final answer" starts at "final"
            break
        at = lowered.find("answer", at + 1)
    at = lowered.find("a:")
    while at >= 0:
        k = at
        while k > 0 and lowered[k - 1] in " \t":
            k -= 1
        if k == 0 or lowered[k - 1] == "\n":  # "a:" first on its line (MULTILINE "^")
            found.append(k)
            break
        at = lowered.find("a:", at + 1)
    return min(found) if found else None


def _close_brace(text: str, open_at: int) -> int | None:
    close = text.find("}", open_at + 1)
    if close > 0 and text[close - 1] != "\\" and "{" not in text[open_at + 1 : close]:
        return close  # the common case, "\\boxed{12}", without the scanner
    depth = 0
    for m in _BRACE.finditer(text, open_at):
        depth += 1 if m.group(1) == "{" else -1
        if depth == 0:
            return m.start(1)
    return None


def _skip_options(text: str, j: int) -> int:
    """Skip whitespace and ``[...]`` option groups (``\\framebox[2cm][l]{..}``, ``\\bbox[border]{..}``)."""
    while j < len(text):
        if text[j] in " \t\r\n":
            j += 1
        elif text[j] == "[" and (close := text.find("]", j, j + 200)) > 0:
            j = close + 1
        else:
            break
    return j


def _negated_before(text: str, start: int) -> bool:
    before = text[max(0, start - 40) : start].lower()
    before = before.rstrip(" \t\n$*(\\[").rstrip()
    if before.endswith(NEGATIONS_BEFORE_BOX):
        return True
    window = text[max(0, start - 120) : start].lower()
    if not any(phrase in window for phrase in DENIALS_BEFORE_BOX):
        return False
    sentence = re.split(r"[.!?;\n]", window)[-1]  # the box's own sentence so far
    return any(phrase in sentence for phrase in DENIALS_BEFORE_BOX)


def _hedged_before(text: str, start: int) -> bool:
    before = text[max(0, start - 30) : start].lower().rstrip(" \t\n$*(\\[").rstrip()
    return before.endswith(HEDGES_BEFORE_BOX) and not before[: -len("maybe")].endswith("without ")


def _retracted_after(text: str) -> bool:
    skipped = text[_LEADING_FILL.match(text).end() :]  # a retraction after a long run of blank space follows the box
    tail = re.sub(r"\s+", " ", skipped[:TAIL].lower())
    opening = tail.lstrip(" .,;:!$)\\]*")
    if _RETRACTION_OPENER.match(opening):
        return not _confirms(opening)
    own_sentence = re.split(r"[.!?\n]", text[:200].lower(), maxsplit=1)[0]  # the rest of the box's own sentence
    if _DENIED_AFTER.match(own_sentence):
        return True
    if _CALLED_WRONG_WORD.search(own_sentence):
        return True
    return _RETRACTION_PHRASE.search(tail) is not None


def _confirms(opening: str) -> bool:
    """``Wait, let me double check: yes, 12 is right.``: a check after the box that only confirms it (a confirming
    word, and no other number, negation or retraction in the next 200 characters)."""
    window = opening[:200]
    if not _CONFIRMING.search(window) or re.search(r"\bnot\b|n't\b|\bno\b|wrong|incorrect|mistake|error", window):
        return False
    return not any(phrase in window for phrase in RETRACTION_PHRASES)


def _taken_back_before_next(between: str) -> bool:
    """Whether the text between two boxes takes the first back ("\\boxed{13}. Wait, that's wrong ... \\boxed{12}").

    Stricter than after the last box: a bare "Wait," between two boxes may add a second part ("Wait, there is also
    \\boxed{2}"), so only the words that reject a value count."""
    skipped = between[_LEADING_FILL.match(between).end() : TAIL]
    if len(skipped) < 2:
        return False  # "\\boxed{3} \\boxed{3}": nothing between (and no time spent on many such boxes)
    low = re.sub(r"\s+", " ", skipped.lower())
    if _STRONG_OPENER.match(low):
        return True
    own_sentence = re.split(r"[.!?\n]", between[:200].lower(), maxsplit=1)[0]
    if _DENIED_AFTER.match(own_sentence):
        return True
    return _CALLED_WRONG_WORD.search(own_sentence) is not None or _RETRACTION_PHRASE.search(low) is not None


def _boxes(text: str) -> tuple[list[str], str]:
    """Contents of every outermost box, left to right, and how they end.

    The state is ``"ok"``, ``"truncated"`` (unclosed last box), ``"retracted"`` (taken back after the last box),
    ``"hedged"`` (a box after "maybe", "possibly": a guess) or
    ``"negated"`` (every non-empty box follows a negation: "the answer is not \\boxed{12}"). A box that the text
    before the next box takes back is dropped; a later answer line that gives another number (``\\boxed{12} ... so
    the answer is 13``) is kept as one more answer (a hedge).
    """
    found: list[tuple[str, int, int]] = []  # (content, start, end)
    struck: set[str] = set()  # contents boxed after a negation: struck wherever else they are boxed
    pos, last_end = 0, -1
    while (m := _BOX.search(text, pos)) is not None:
        j = _skip_options(text, m.end())
        for _ in range(BOX_COLOUR_GROUPS.get(m.group()[1:], 0)):  # the colour arguments, not the content
            if j < len(text) and text[j] == "{" and (close := _close_brace(text, j)) is not None:
                j = _skip_options(text, close + 1)
        if j < len(text) and text[j] == "{":
            end = _close_brace(text, j)
            if end is None:
                return [c for c, _, _ in found], "truncated"
            content, pos = text[j + 1 : end], end + 1
        elif j > m.end() and (tok := _BARE_TOKEN.match(text, j)):  # "\boxed 5"
            content, pos = tok.group().rstrip(".,;"), tok.end()
        else:
            pos = j
            continue
        if not content or content.isspace():
            continue
        last_end = pos
        if _NAMES_NEXT_BOX.match(text, pos):
            continue  # the box names the quantity; the next box holds its value
        if _hedged_before(text, m.start()):
            return [c for c, _, _ in found] + [content], "hedged"
        if _negated_before(text, m.start()):
            struck.add("".join(content.split()))
        else:
            found.append((content, m.start(), pos))
    if any(not _BLANK_SPACING.sub("", c).strip() for c, _, _ in found):
        # a blank the question shows, echoed ("4 = \\boxed{\\phantom{2}}"), is no answer beside a filled box
        found = [f for f in found if _BLANK_SPACING.sub("", f[0]).strip()] or found
    if last_end >= 0 and (_retracted_after(text[last_end:]) or _CUT_OFF_OR.fullmatch(text, last_end)):
        return [c for c, _, _ in found], "retracted"
    kept = [
        c
        for i, (c, _, end) in enumerate(found)
        if i + 1 == len(found) or not _taken_back_before_next(text[end : found[i + 1][1]])
    ]
    if kept and (later := _later_answer(text[last_end:])) is not None:
        if all(_PLAIN_VALUE.fullmatch(box.strip(" $")) for box in kept):
            if not any(_same_number(box, later) for box in kept):
                return [c for c, _, _ in found], "retracted"  # "\boxed{1}. Hmm, the answer is 2.": changed its mind
        else:
            kept.append(later)  # "\boxed{\frac{1}{2}} ... the answer is 0.5": the judge compares the two
    if struck:
        kept = [box for box in kept if "".join(box.split()) not in struck]
    return kept, "negated" if struck and not kept else "ok"


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a.strip(" $").replace(",", "")) == float(b.replace(",", ""))
    except ValueError:
        return False


def _later_answer(tail: str) -> str | None:
    """A number given by an answer line after the last box ("\\boxed{12}; for the real input the answer is 13")."""
    tail = tail.lstrip()[:TAIL]
    if "answer" not in tail.lower():
        return None
    at = _last_marker(tail, ("final", "answer"))
    if at is None:
        return None
    sentence = re.split(r"[.!?\n]", tail[:at].lower())[-1]
    if _CALLED_WRONG_WORD.search(sentence) or re.search(r"\b(?:not|common|other|another|alternative)\b", sentence):
        return None  # "A common wrong answer is 13": another value named, not given
    value = read_marker(tail, ("final", "answer"))
    return value if value and _PLAIN_VALUE.fullmatch(value) else None


def clean(answer: str) -> str:
    """Strip math delimiters, markdown bold and trailing punctuation around an extracted answer."""
    s = answer.replace("\u2016", " ")
    hope = s.lower().find("i hope it is correct")
    s = (s[:hope] if hope >= 0 else s).strip()
    s = _DOLLAR.sub("", s)
    s = s.replace("\\(", "").replace("\\)", "").replace("\\[", "").replace("\\]", "")
    s = s.strip().strip("*").strip()
    while s and s[-1] in ".;:," and not s.endswith("\\,"):
        s = s[:-1].rstrip()
    for quote in ('\\"', '"'):  # an answer in quotes, '"12 and 13"' (or escaped once more, '\\"12 and 13\\"')
        if len(s) > 2 * len(quote) and s.startswith(quote) and s.endswith(quote):
            s = s[len(quote) : -len(quote)].strip()
            break
    if s.endswith("\\"):
        s = s.rstrip("\\").rstrip()  # "185\\" (a stray backslash), "185\\\\" (a trailing row break)
    return s


# ---------------------------------------------------------------------------------------------------------- readers


def _boxed_sentence(box: str) -> str:
    """``\\boxed{Hillary has 7 nickels.}``: a sentence in a box states its value; anything else is kept as it is."""
    if len(box) > 200 or not re.fullmatch(r"[A-Z][a-z]+ [a-z][^\\$]*\d[^\\$]*", box):
        return box
    return _sentence_answer(box.rstrip(".")) or box


def read_boxed(region: str) -> str | None:
    boxes, state = _boxes(region)
    if state == "hedged":  # graded as the guess it is (wrong), never as the parts of a list; one guess is no answer
        guesses = list(dict.fromkeys(clean(box) for box in boxes))
        return " \\text{ or maybe } ".join(guesses) if len(guesses) > 1 else ""
    if state != "ok":
        return ""
    distinct: dict[str, str] = {}
    cleaned_of: dict[str, str] = {}  # a box repeated many times is cleaned once
    for box in boxes:
        if (cleaned := cleaned_of.get(box)) is None:
            cleaned = cleaned_of[box] = _boxed_sentence(clean(box))
        key = "".join(cleaned.split())
        if cleaned:
            distinct.pop(key, None)
            distinct[key] = cleaned
    kept = list(distinct.values())[-MAX_BOXES:]
    return HEDGE_SEP.join(kept) if kept else None  # only empty boxes: an echoed instruction


def _last_marker(text: str, kinds: tuple[str, ...]) -> int | None:
    """End of the last answer marker of the given kinds (``hash``, ``final``, ``answer``, ``a``) in ``text``.

    Found with ``rfind`` from the end (a regular expression with four alternatives tries all four at every character),
    on an ASCII-lower-cased copy; each candidate is checked in a bounded window, so the scan stays linear.
    """
    lowered = _ascii_lower(text)
    found: list[tuple[int, int]] = []  # (start, end) of the last valid marker of each kind
    if "hash" in kinds and (i := lowered.rfind("####")) >= 0:
        found.append((i, i + 4))
    if "a" in kinds:
        stripped = lowered.rstrip()
        line_start = stripped.rfind("\n") + 1
        line = stripped[line_start:]
        if line.lstrip(" \t").startswith("a:"):  # "A: 26" counts only as the last line
            start = line_start + len(line) - len(line.lstrip(" \t"))
            found.append((start, start + 2))
    wanted = [k for k in ("final", "answer") if k in kinds]
    end = len(lowered)
    while wanted and (i := lowered.rfind("answer", 0, end)) >= 0:
        end = i
        if (i > 0 and _is_word(lowered[i - 1])) or (i + 6 < len(lowered) and _is_word(lowered[i + 6])):
            continue
        final = _FINAL_BEFORE.search(lowered, max(0, i - 40), i)
        kind = "final" if final else "answer"
        after = (_AFTER_FINAL if final else _AFTER_ANSWER).match(lowered, i + 6)
        if after is not None and kind == "answer" and ":" in after.group() and _heading_before(lowered, i):
            continue
        if kind in wanted and after is not None:
            found.append((final.start() if final else i, after.end()))
            break
    return max(found)[1] if found else None


def _heading_before(lowered: str, at: int) -> bool:
    """Whether words other than :data:`ANSWER_LABEL_WORDS` stand before ``answer:`` on its line (a heading)."""
    line = lowered[lowered.rfind("\n", 0, at) + 1 : at]
    words = re.findall(r"[a-z']+", line[-80:])
    return any(w not in ANSWER_LABEL_WORDS for w in words)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def read_marker(region: str, kinds: tuple[str, ...] = ("hash", "final", "answer", "a")) -> str | None:
    """The answer on the last answer line, reduced to the answer (see :func:`reduce_line`)."""
    at = _last_marker(region, kinds)
    if at is None:
        return None
    if "n't" in region[max(0, at - 8) : at]:
        return ""  # "the answer isn't 9"
    currency = region[max(0, at - 4) : at] == "####"  # GSM8K's "#### $540": a dollar sign, not math
    if region[max(0, at - 2) : at] == "**" and _UNCLOSED_BOLD.fullmatch(region, at):
        return ""  # "The answer is **12" at the very end: the bold value was cut off
    rest = region[at : at + MAX_LINE + 200].lstrip(" \t*")
    for opener, closer in (("\\[", "\\]"), ("$$", "$$")):  # a display after the marker may span lines
        if rest.startswith(opener) and (end := rest.find(closer, 2)) > 0:
            return clean(rest[2:end]) or ""
    line = rest.split("\n", 1)[0].strip()
    if not line.strip(" *"):
        line = rest.strip().split("\n", 1)[0].strip() if rest.strip() else ""
    low = " ".join(line.lower().split()).split("i hope it is correct")[0]  # Minerva's formula ends the answer
    if _CALLED_WRONG.search(low) or any(phrase in low for phrase in RETRACTION_PHRASES):
        return ""  # "The answer is 12, and it is not correct.", "The answer is 12. That is wrong."
    if _LINE_HEDGE.search(_first_sentence(low)):
        return ""  # "The answer is 12, give or take."
    if _DESCRIPTION.match(line) and line.split(None, 1)[0] not in FILLERS:
        return None  # "the final answer is consistent with the given information": no value; read on
    at_end = "\n" not in region[at:].strip()
    return reduce_line(line[:MAX_LINE], at_end=at_end, currency=currency) or ""


def _last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    last = None
    for m in pattern.finditer(text):
        last = m
    return last


def read_pattern(region: str, pattern: re.Pattern[str]) -> str | None:
    last = _last_match(pattern, region)
    return None if last is None else (clean(last.group(1) or "") or None)


def read_prose(region: str) -> str | None:
    plain = region.strip()
    hope = plain.lower().rfind("i hope it is correct")
    plain = plain[:hope].strip() if hope >= 0 and hope > len(plain) - 30 else plain
    if plain and "\n" not in plain and len(plain) <= _ONE_LINE:
        spans = _SPAN.findall(plain)
        prose = _SPAN.sub(" ", plain)
        if len(spans) == 1 and not re.search(r"\d", prose) and not _says_no_answer(prose):  # "Here is the matrix: $M$"
            return clean(next(part for part in spans[0] if part)) or None
        if len(plain) <= _SHORT_PLAIN and len(_PROSE_WORD.findall(plain)) <= 2 and len(spans) < 2:
            if _CONCLUSION.match(plain.lower()):
                return concluding_answer(plain)  # "So x = 12 (not 13).": a sentence, not an answer to keep whole
            return clean(plain) or None
    tail = _drop_sign_off(plain)[-TAIL:]
    found = concluding_answer(tail)
    return found if found is not None else _last_line_answer(tail)


def _last_line_answer(text: str) -> str | None:
    """The last line as a result: labelled (``**Solution:** x = 4``) or ending in one bold value (``Area = ... =
    **32**``). Only the very last line counts, and the same negation rules apply."""
    raw = text.rstrip().rsplit("\n", 1)[-1].strip()
    line = raw.strip(" \t*-")
    if (label := _RESULT_LABEL.match(line)) is not None:
        if re.match(r"(?:We|I|Let|Given|Since|First|Note|Consider|To)\b", line[label.end() :]):
            return None  # "Solution: We know $2x = 24$.": the solution begins, it states no result
        return reduce_line(line[label.end() :]) or None
    if raw.rstrip(" .").endswith("**") and (bold := _bold_answer(raw, need_prose="=" not in raw)) is not None:
        return bold or None  # the bold value closes the line
    if re.search(r"\banswer\b", raw, re.IGNORECASE) and not _CALLED_WRONG.search(raw.lower()):
        if (bold := _bold_answer(raw)) is not None:
            return bold or None  # "The answer, **tan A = 2**, matches the given relationship."
    alone = re.fullmatch(r"[*\- \t]*\*\*([^*\n]{1,80})\*\*[ \t.]*", raw)
    if alone and re.search(r"\d", alone.group(1)) and not _HEADING.match(alone.group(1)):  # not "**5. FORMAT**"
        return reduce_line(alone.group(1)) or None  # "The solutions are:\n* **x = 5**"
    return None


def _drop_sign_off(text: str) -> str:
    """Without the closing lines that only sign off ("Let me know if you have any other questions!")."""
    for _ in range(3):
        head, _, last = text.rpartition("\n")
        if not head or not last.strip(" *#").lower().startswith(SIGN_OFFS):
            break
        text = head.rstrip()
    return text


# ------------------------------------------------------------------------------------------------ answer lines


def _math_spans(line: str) -> tuple[list[str], int] | None:
    """Leading ``$..$`` / ``\\(..\\)`` spans joined by ``or``/``and``/commas, and where they end; None if unclosed."""
    spans: list[str] = []
    pos = 0
    while True:
        opener = "$" if line.startswith("$", pos) else "\\(" if line.startswith("\\(", pos) else None
        if opener is None:
            return spans, pos
        closer = {"$": "$", "\\(": "\\)"}[opener]
        start = pos + len(opener) + (1 if line.startswith("$$", pos) else 0)
        end = _find_unescaped(line, closer, start)
        if end < 0:
            return None
        spans.append(line[start:end])
        pos = end + len(closer) + (1 if line.startswith("$$", pos) else 0)
        joint = re.match(r"[ \t]*(?:,[ \t]*)?(?:(?:or|and)[ \t]+)?(?=\$|\\\()", line[pos : pos + 20])
        if joint is None or (not joint.group().strip() and spans):
            return spans, pos
        pos += joint.end()


def _find_unescaped(text: str, what: str, start: int) -> int:
    """Index of the first ``what`` at or after ``start`` not preceded by a backslash (``\\$`` is a dollar sign)."""
    while (i := text.find(what, start)) > 0 and text[i - 1] == "\\" and what == "$":
        start = i + 1
    return i


def reduce_line(line: str, *, at_end: bool = False, currency: bool = False) -> str | None:
    """Reduce an answer line to its answer: ``$14 {,} 916$. I hope it is correct.`` -> ``14 {,} 916``.

    A negated line (``not 12``) has no answer; so has an unclosed math span at the very end of the completion (``is
    $12`` cut off). Plain text keeps its leading expression: the first sentence, up to a clause word.
    """
    s = line.strip()
    if at_end and re.match(r"\*\*[^\s*]", s) and "**" not in s[2:]:
        return None  # "The answer is **12" at the very end: the bold value was cut off
    s = s.lstrip("*:").strip()
    hope = s.lower().find("i hope it is correct")
    s = s[:hope].strip() if hope >= 0 else s
    if not s or re.match(r"(?:not|never|no)\b", s, re.IGNORECASE) or _first_sentence(s).rstrip().endswith("?"):
        return None  # negated, or a question ("The answer is 12?")
    if (filler := re.match(r"(?:" + "|".join(FILLERS) + r")\b,?[ \t]*", s)) and s[filler.end() :]:
        s = s[filler.end() :]  # "indeed $36^\circ$"
    if _PAREN_DOUBT.search(_first_sentence(s)) or re.match(r"(?:~|\\sim\b|\u2248) ?\d", s):
        return None  # "12 (if n is even)", "12 (wrong)", "~12": a condition, a verdict or an estimate
    if (bold := _bold_answer(s)) is not None:
        return bold or None  # "196 has **9** positive divisors."
    if s.startswith(("$", "\\(")):
        found = _math_spans(s)
        if found is None:
            return _unclosed_dollar(s, at_end and not currency)
        spans, end = found
        if _CONDITION_NEXT.match(s, end):
            return None  # "$12$ if $n$ is even"
        return " or ".join(clean(x) for x in spans if clean(x)) or None
    if s.startswith("\\[") and (end := s.find("\\]")) > 0:
        return clean(s[2:end]) or None
    if s.startswith("\\[") and at_end:
        return None  # an unclosed display at the very end: cut off
    if re.match(
        r"[A-Z][a-z]+\.? [a-z$]|(?:Mr|Mrs|Ms|Dr)\. [A-Z]", s
    ):  # a sentence: "The largest $n$ is 34.", "Jane started ... 3 hours ago."
        return _sentence_answer(s.rstrip(".!"))
    return clean(_leading_expression(s)) or None


def _bold_answer(sentence: str, *, need_prose: bool = True) -> str | None:
    """The one bold value of a prose sentence (``The midpoint is **(-1, 6)**.`` -> ``(-1, 6)``); "" when the
    sentence negates, bounds or estimates; None when there is no such span (no bold, several different ones, bold
    words, or no prose around it)."""
    found = [m for m in _BOLD.finditer(sentence) if not _HEADING.match(m.group(1))]  # "**5. FORMAT:**"
    spans = {"".join(m.group(1).split()): m for m in found}
    if len(spans) != 1:
        return None
    m = next(iter(spans.values()))
    value, prose = m.group(1).strip(), sentence[: m.start()] + " " + sentence[m.end() :]
    if value.lower() in NUMBER_WORDS:
        value = str(NUMBER_WORDS.index(value.lower()))  # "The graph has **two** y-intercepts"
    if not (re.search(r"[\d\\]", value) or re.fullmatch(r"\(?[A-E]\)?", value)):
        return None
    if need_prose and not _PROSE_WORD.search(prose):
        return None
    plain = _SPAN.sub(" ", _HTML_SCRIPT.sub("", sentence.replace("**", "")))  # "log<sub>2</sub>": no relation
    near = _HTML_SCRIPT.sub("", sentence[max(0, m.start() - 24) : m.end()].replace("**", ""))
    if _negates(plain) or _says_no_answer(near) or _CALLED_WRONG.search(plain.lower()):
        return (
            ""  # negated anywhere; bounded or estimated right before the value ("at least two circles ... is **12**")
        )
    value = _CONTRAST.sub("", value).strip(" `*")
    if value.startswith("$") or "\\(" in value:
        return reduce_line(value) or ""
    return clean(value) or ""


def _unclosed_dollar(s: str, at_end: bool) -> str | None:
    """``$12.`` is twelve dollars; ``$12`` at the very end of a completion is a math span cut off."""
    body = s[1:].strip()
    if at_end and not body.endswith((".", "!")):
        return None
    return clean(_leading_expression(body)) or None


def _leading_expression(s: str) -> str:
    """The first sentence of ``s`` up to the first clause word or ", word": ``42 because ...`` -> ``42``."""
    end = _SENTENCE_END.search(s)
    s = s[: end.start()] if end else s
    s = re.sub(r"[.!?]\s*$", "", s)
    s = re.sub(r" \((?![A-Z]\))[A-Za-z ]{1,40}\)$", "", s)  # "12 (twelve)"; "definitely (C)" is an option
    s = _CONTRAST.sub("", s) if re.search(r"\d|\\", s[: s.find("not")] if "not" in s else "") else s
    cut = len(s)
    for m in re.finditer(r"(?:,[ \t]*|[ \t]+)([A-Za-z]+)\b", s):
        if m.group(1).lower() in CONDITIONS:
            return ""  # "12 if x > 0": a conditional answer is no answer
        if m.start() <= 4 and re.fullmatch(r"[A-E]", m.group(1)) and re.fullmatch(r" ?\(?[A-E]\)? ?", s[: m.start()]):
            continue  # "C, D": a second option letter after a first is part of the answer (a hedge), not a clause
        if m.group(1).lower() in CLAUSE_WORDS or (m.group().startswith(",") and not re.search(r"\d", s[m.end() :])):
            cut = m.start()
            break
    return s[:cut].strip()


def _first_sentence(s: str) -> str:
    end = _SENTENCE_END.search(s)
    return s[: end.start() + 1] if end else s


# ---------------------------------------------------------------------------------------------- concluding sentence


def _last_sentence(text: str) -> str | None:
    if not text.endswith((".", "!")):
        return None  # cut off mid-sentence
    line = text.rsplit("\n", 1)[-1].rstrip(".! ")
    starts = [m.end() for m in _SENTENCE_END.finditer(line)]
    return line[starts[-1] :].strip() if starts else line.strip()


def _negates(sentence: str) -> bool:
    low = sentence.lower()
    # "n't" ends a word ("isn't"), so it needs no word boundary before it
    return any(
        re.search(("" if w.startswith(("n'", "n\u2019")) else r"(?<![a-z])") + re.escape(w) + r"(?![a-z])", low)
        for w in NEGATING
    )


def _says_no_answer(sentence: str) -> bool:
    low = _DIFFERENCE.sub(" ", sentence.lower())  # "Jim walks 200 feet less than Martha": a difference, no bound
    for phrase in NOT_AN_ANSWER:
        # a word starts at a word boundary, but "n't" ends one ("can't") and "\\ge" starts a command
        before = r"(?<![a-z])" if phrase[0].isalpha() and not phrase.startswith(("n'", "n\u2019")) else ""
        if re.search(before + re.escape(phrase) + r"(?![a-z])", low):
            return True
    return False


def concluding_answer(text: str) -> str | None:
    """The answer of a finished concluding sentence ("Therefore, Janet makes $18 every day.").

    Only a sentence that opens with a conclusion word (or reads "The ... is X") and ends the completion counts. A
    contrast clause is dropped ("So x = 12, not 13."); a sentence that still negates, bounds or estimates gives no
    answer. Several numbers joined by "or" are returned as a hedge.
    """
    sentence = _last_sentence(text)
    if sentence is None:
        return None
    low = sentence.lower()
    if low.startswith("there") and _negates(low):
        return None  # "There is no integer equal to 12 that works."
    if not (_CONCLUSION.match(low) or re.match(r"(?:the|there)\b.*\b(?:is|are|equals|was|were|has|have)\b", low)):
        last = _last_match(_LAST_CONCLUSION, sentence)  # "... $y = 6$ So, the ordered pair is $(7, 6)$"
        if last is None:
            return None
        sentence = sentence[last.start() :]
    return _sentence_answer(sentence)


def _sentence_answer(sentence: str) -> str | None:
    """The value a sentence states, unless its prose negates, bounds or estimates (a relation in maths is kept)."""
    if (bold := _bold_answer(sentence)) is not None:
        return bold or None
    digits = [m.end() for m in re.finditer(r"\d", sentence)]
    if digits and _CONDITION_AFTER.search(sentence, digits[-1]):
        return None  # "There are 12 ways if we ignore order.": an answer under a condition
    sentence = _CONTRAST.sub("", sentence).strip()
    if _says_no_answer(_SPAN.sub(" ", sentence)) or _CALLED_WRONG.search(sentence.lower()):
        return None  # negates, bounds, estimates, or calls the value wrong ("The answer 12 is wrong.")
    if "$" in sentence or "\\(" in sentence:
        return _sentence_math(sentence)
    return _sentence_number(sentence)


def _sentence_math(sentence: str) -> str | None:
    """The last math span of a sentence; of an equation, its right side: ``So $x = \\frac{3}{4}$.`` -> 3/4."""
    spans = re.findall(r"\$([^$]+)\$|\\\((.+?)\\\)", sentence)
    if not spans:
        return _sentence_number(sentence.replace("$", ""))
    values = [_EQUALS.split(next(p for p in span if p))[-1] for span in spans]
    if len(spans) > 1 and all(re.fullmatch(r" ?[A-Za-z] ?= ?[^=]+", next(p for p in sp if p)) for sp in spans):
        return ", ".join(clean(v) for v in values)  # "Thus, $x = 12$ and $y = 5$." -> "12, 5"
    last = next(part for part in spans[-1] if part)
    after = sentence[sentence.rfind(last) + len(last) :]
    if re.search(r"\d", after.replace("$", "")):
        return _sentence_number(sentence.replace("$", " $"))
    if _RELATION.search(last):
        return clean(last) or None  # "Therefore $x \\geq 5$ is the solution.": the judge compares relations
    return clean(_EQUALS.split(last)[-1]) or None


def _sentence_number(sentence: str) -> str | None:
    if _RELATION.search(sentence):
        return None  # a relation in prose ("x < 3.") is no value
    if "=" in sentence:  # "in total, Mike scores 4 + 5 = 9 points": the result of the last equation
        rhs = _EQUALS.split(sentence)[-1].strip()
        if rhs.startswith("\\"):
            return clean(_leading_expression(rhs)) or None
        after = _NUMBER.findall(rhs)
        return after[0].replace(",", "") if after else None
    numbers = [n.replace(",", "") for n in _NUMBER.findall(sentence)]
    if not numbers:
        return None
    if re.search(r"\bor\b", sentence, re.IGNORECASE) and len(set(numbers)) > 1:
        return HEDGE_SEP.join(numbers[-8:])
    ways = [a or b for a, b in _WAYS.findall(sentence)]  # "He can pick 3 boys and 2 girls in 210 different ways."
    if not ways and (listed := _STATED_LIST.search(sentence)):
        return ", ".join(n.replace(",", "") for n in _NUMBER.findall(listed.group(1)))  # "are 2, 3, 4": a list
    stated = ways or _STATED.findall(sentence)  # "... 20 candles is $30.00", "makes $7425.00 in 1 week"
    return (stated[-1] if stated else numbers[-1]).replace(",", "")


# ------------------------------------------------------------------------------------------------------- formats

# A reader returns the answer, "" when it found where the answer goes but no answer there (an empty marker line, a
# retracted or truncated box), or None when the completion has nothing of its kind.
Reader = Callable[[str], "str | None"]


def read_answer_tag(region: str) -> str | None:
    """The last ``<answer>...</answer>`` (the R1-Zero prompt's tag): its box, or its line reduced to the answer."""
    lowered = _ascii_lower(region)
    start = lowered.rfind("<answer>")
    end = lowered.find("</answer>", start)
    if start < 0 or end < 0:
        return None
    inside = region[start + len("<answer>") : end][:MAX_LINE].strip()
    if _BOX.search(inside):
        return read_boxed(inside) or ""
    return reduce_line(" ".join(inside.split())) or ""


def read_final_after_box(region: str) -> str | None:
    """A "Final Answer: ..." line after the last box is the conclusion; boxes before it were working."""
    at = _last_marker(region, ("final",))
    last_box = _last_match(_BOX, region)
    if at is None or last_box is None or at < last_box.end() or "\\boxed" in region[at:]:
        return None
    found = read_marker(region, ("final",))
    return found or None


FORMATS: dict[str, tuple[Reader, ...]] = {
    "auto": (read_answer_tag, read_final_after_box, read_boxed, read_marker),
    "boxed": (read_boxed,),
    "gsm8k": (lambda r: read_marker(r, ("hash", "answer", "a")),),
    "minerva": (lambda r: read_marker(r, ("final",)),),
}
FALLBACK: tuple[Reader, ...] = (read_boxed, read_marker, read_prose)  # prose_fallback: what the format did not try


def extract_answer(
    completion: str, *, format: str = "auto", pattern: re.Pattern[str] | None = None, prose_fallback: bool = True
) -> str | None:
    """The final answer of ``completion`` as text (see the module docstring); linear time, no sympy."""
    region = answer_region(completion)
    if region is None:
        return None
    readers = (lambda r: read_pattern(r, pattern),) if pattern is not None else FORMATS[format]
    if prose_fallback:
        readers = readers + tuple(r for r in FALLBACK if r not in readers)
    for read in readers:
        if read is not read_boxed:
            region = _EMPTY_BOX.sub("", region)  # an echoed "put it in \boxed{}" is no answer
        found = read(region)
        if found is not None:
            return found or None
    return None
