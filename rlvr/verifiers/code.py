"""The ``code`` verifier: the completion's Python runs against unit tests in the Docker sandbox, judged as the
benchmarks' own harnesses judge it.

The program is the last fenced python block of the completion (or the whole completion when it has none); a program
over ``MAX_PROGRAM_CHARS`` is refused (``wrong``), never cut. References come in three forms, each with optional
``time_limit`` (seconds per test), ``memory_limit_mb`` and ``prompt`` (code run before the program, as HumanEval's
harness prepends the prompt); unknown fields are an error:

    {"tests": [{"stdin": "1 2\\n", "stdout": "3\\n"}, ...]}                       stdin/stdout
    {"fn_name": "add", "tests": [{"args": [1, 2], "expected": 3}, ...]}           function call (APPS/TACO style)
    {"test_code": "def check(candidate): ...", "entry_point": "add"}              HumanEval / MBPP test code
    {"tests_from": {"file": "problems.jsonl", "id": "p17"}}                       any of these, stored once per problem

**stdin/stdout**, judged on the host like Kattis's default output validator unless the reference says otherwise:
``compare`` = ``"tokens"`` (default: whitespace-separated tokens; how much whitespace does not matter) | ``"lines"``
(the same line count; tokens compared within each line) | ``"exact"`` (the bytes, nothing trimmed);
``case_sensitive`` (default false); ``float_tolerance`` = ``{"rel": r, "abs": a}`` (every numeric token pair, integers
included, passes when ``|got - expected| <= a`` or ``<= r * |expected|``; without it numbers compare as text);
``output_limit_bytes`` (stdout cap per test; without it the verifier's ``output_limit``, 1 MiB, raised to twice the
longest expected output plus 4 KiB, so that a right answer is never over the cap); ``checker``: Python source defining
``check(input, expected, output) -> bool | float``, a special judge for problems with several right answers. It runs
in the sandbox too, in its own job after the program's processes are gone; a test passes when it returns True or a
number >= 1 (with ``partial``, a number in [0, 1] counts as that fraction of a test).

**function call**: ``fn_name(*args)`` runs in the box; the return value comes back as tagged JSON (tuples, sets,
dicts with any keys, bytes... stay distinct; see sandboxes/python/worker.py) and is compared on the host with APPS's
rule: tuples become lists (JSON has no tuples), then ``==``. ``strict_types`` (reference or verifier option) also
requires the same types everywhere (``1``, ``1.0`` and ``True`` differ); ``float_tolerance`` applies to floats only
where the reference gives one.

**test code** (HumanEval's ``check(candidate)``, MBPP's ``assert f(x) == y`` lines): run in the box by a *judge*
process that the program cannot touch (another uid, a clean interpreter): the reference's ``prompt`` and
``test_code`` run there, with ``entry_point`` bound to a proxy that calls the program in its own process and brings
back the result as plain built-in values. So every ``==`` is Python's own on built-in types, as in the official
harness, and an object whose ``__eq__`` is always true, a redefined prompt helper or a patched ``builtins.tuple``
stays in the program's process. A name the test uses that only the program defines (its class ``Node``, a helper) is
bound in the judge to a handle on the program's object: ``root = Node(1); root.left = Node(2)`` builds the tree in
the program's process, ``f(root)`` hands it back, attribute reads come back as plain values or further handles, and a
handle equals only itself (so ``f(x) == y`` is False for an object of the program's whatever its ``__eq__``, and
``assert f(x)`` asks the program for a bool). Built-in types (``int`` as an argument) cross by name. The program's
top-level import lines (``import m``, ``import m as a``, ``from m import x``) are done again on the judge's side, so
the names they bind are the judge's own (MBPP tests call ``math.isclose`` imported by the program). Test code that cannot be judged that way (it hands the program a function or an object of its own, or
uses a name that neither it, the prompt nor the program defines) is refused: ``error``, with the reason.

Statuses: a program that fails, crashes, times out, floods its output, returns something that cannot be judged or
leaves scratch the sandbox cannot clean is ``wrong`` (``detail`` says which test and why); ``error`` is for what the
program could not cause: no daemon, a box that died or did not answer, a reference that cannot be judged.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlvr.sandbox import DEFAULT_IMAGE, Job, SandboxConfig, SandboxFault, SandboxUnavailable, TestRun, shared_pool
from rlvr.verifiers.base import Verdict, Verifier, correct, error, register_verifier, wrong
from sandboxes.python.worker import EXIT_REFUSED, encode_value
from sandboxes.python.worker import _untag as decode_value_hook

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)[ \t]*\r?\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
# one way to match each digit run (``\d+\.?\d*`` had two): linear on a megabyte of digits, not quadratic
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
MAX_TIME_LIMIT = 60.0
MAX_OUTPUT_LIMIT = 64 << 20
MAX_PROGRAM_CHARS = 1 << 20  # longer programs are refused (wrong), never truncated
COMPARE_MODES = ("tokens", "lines", "exact")
CHECKER_JOB_BYTES = 32 << 20  # JSON of the checker's arguments per job (the box takes jobs of up to 256 MiB)
CHECKER_ARG_BYTES = 200 << 20  # one test's (input, expected, output) as JSON; more cannot be sent at all
_COMMON = {"time_limit", "memory_limit_mb", "prompt"}
_FIELDS = {
    "stdin": _COMMON | {"tests", "compare", "case_sensitive", "float_tolerance", "output_limit_bytes", "checker"},
    "call": _COMMON | {"tests", "fn_name", "strict_types", "float_tolerance"},
    "test_code": _COMMON | {"test_code", "entry_point"},
}


# ------------------------------------------------------------------------------------------ stdin/stdout comparison


@dataclass(frozen=True)
class OutputRules:
    """How a stdin/stdout test's output is compared (the reference's judging contract; Kattis-style defaults)."""

    compare: str = "tokens"
    case_sensitive: bool = False
    rel: float | None = None  # float_tolerance, when the reference gives one
    abs: float | None = None

    def tolerant(self) -> bool:
        return self.rel is not None or self.abs is not None


def same_output(got: str, expected: str, rules: OutputRules = OutputRules()) -> str | None:
    """None when ``got`` is accepted for ``expected`` under ``rules``, else the first difference (linear time)."""
    if rules.compare == "exact":
        return None if got == expected else f"output differs from the expected {len(expected)} characters"
    if rules.compare == "tokens":
        return _same_tokens(got.split(), expected.split(), rules, "")
    g, e = _lines(got), _lines(expected)
    if len(g) != len(e):
        return f"expected {len(e)} line(s), got {len(g)}"
    for n, (a, b) in enumerate(zip(g, e), 1):
        why = _same_tokens(a.split(), b.split(), rules, f"line {n}: ")
        if why:
            return why
    return None


def _lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _same_tokens(got: list[str], expected: list[str], rules: OutputRules, where: str) -> str | None:
    if len(got) != len(expected):
        return f"{where}expected {len(expected)} token(s), got {len(got)}"
    for n, (a, b) in enumerate(zip(got, expected), 1):
        if not _same_token(a, b, rules):
            return f"{where}token {n}: expected {b[:80]!r}, got {a[:80]!r}"
    return None


def _same_token(got: str, expected: str, rules: OutputRules) -> bool:
    if got == expected or (not rules.case_sensitive and got.casefold() == expected.casefold()):
        return True
    if not rules.tolerant() or not (_NUMBER.fullmatch(got) and _NUMBER.fullmatch(expected)):
        return False
    g, e = float(got), float(expected)
    diff = abs(g - e)
    return (rules.abs is not None and diff <= rules.abs) or (rules.rel is not None and diff <= rules.rel * abs(e))


# --------------------------------------------------------------------------------------- function-call comparison


def same_value(got: Any, expected: Any, strict: bool = False, tolerance: dict[str, float] | None = None) -> bool:
    """APPS's rule: ``got`` with tuples turned into lists ``==`` ``expected`` (JSON data); ``strict``: and the same
    types everywhere; ``tolerance`` ({"rel", "abs"}): floats within it. Raises nothing a value can provoke."""
    try:
        got = _as_json(got)
        if not strict and tolerance is None:
            return bool(got == expected)
        return _same(got, expected, strict, tolerance)
    except (ArithmeticError, RecursionError, TypeError, ValueError, MemoryError):
        return False


def _as_json(value: Any, depth: int = 0) -> Any:
    if depth > 200:
        raise RecursionError("value nested too deep")
    if type(value) in (list, tuple):
        return [_as_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v, depth + 1) for k, v in value.items()}
    return value


def _same(got: Any, expected: Any, strict: bool, tol: dict[str, float] | None) -> bool:
    if type(expected) is float and type(got) in ((float,) if strict else (int, float)) and tol is not None:
        diff = abs(got - expected)
        return diff <= tol.get("abs", 0.0) or diff <= tol.get("rel", 0.0) * abs(expected)
    if strict and type(got) is not type(expected):
        return False
    if type(expected) is list:
        return (
            type(got) is list
            and len(got) == len(expected)
            and all(_same(a, b, strict, tol) for a, b in zip(got, expected))
        )
    if type(expected) is dict:
        return (
            isinstance(got, dict)
            and got.keys() == expected.keys()
            and all(_same(got[k], expected[k], strict, tol) for k in expected)
        )
    return bool(got == expected)


# -------------------------------------------------------------------------------------------------------- verifier


@register_verifier("code")
@dataclass(frozen=True)
class CodeVerifier(Verifier):
    """Python unit tests in a Docker sandbox, judged with the benchmarks' own rules; reward 1 when every test passes."""

    partial: bool = False  # reward = fraction of tests passed
    time_limit: float = 4.0  # seconds per test when the reference gives none
    memory_limit_mb: int = 512  # per test (RLIMIT_AS) when the reference gives none
    output_limit: int = 1 << 20  # bytes of stdout per test when the reference gives no output_limit_bytes
    strict_types: bool = False  # function-call references: the same types everywhere, not only ==
    float_tolerance: float | None = None  # {"rel": x, "abs": x} for references that give no float_tolerance
    in_box_judging: bool = True  # kept for old configurations: test code is always judged by the bridge now
    image: str = DEFAULT_IMAGE
    containers: int = 0  # 0: one per core

    isolation = "thread"  # the sandbox brings its own isolation and limits; jobs wait on sockets, not on the CPU
    reference_kind = "json"
    max_input_chars = None  # the scoring engine must not cut programs (its 16,000-character cap is for math answers)

    def extract(self, completion: str) -> str | None:
        blocks = _FENCE.findall(completion)
        program = blocks[-1] if blocks else completion
        return program if program.strip() else None

    def config(self) -> SandboxConfig:
        return SandboxConfig(image=self.image, containers=self.containers)

    def concurrency(self) -> int:
        """Starts the shared pool (so a missing daemon fails the run up front) and returns one thread per box."""
        shared_pool(self.config())
        return self.config().size()

    def check_reference(self, reference: Any) -> str | None:
        if not isinstance(reference, dict):
            return f"a code reference is a JSON object, got {type(reference).__name__}"
        reference, problem = resolve_tests(reference)
        if problem:
            return problem
        form = _form(reference)
        unknown = sorted(set(reference) - _FIELDS[form])
        if unknown:
            return f"unknown field(s) {', '.join(map(repr, unknown))} for a {form} reference"
        return _check_common(reference) or _CHECKS[form](reference)

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        if isinstance(reference, str):
            reference = json.loads(reference)
        problem = self.check_reference(reference)
        if problem:
            return error(f"bad reference: {problem}")
        reference, _ = resolve_tests(reference)
        program = extracted or ""
        if len(program) > MAX_PROGRAM_CHARS:
            return wrong(None, f"program of {len(program):,} characters; the limit is {MAX_PROGRAM_CHARS:,}")
        form = _form(reference)
        try:
            if form == "test_code":
                return self._judge_test_code(program, reference)
            if form == "call":
                return self._judge_calls(program, reference)
            return self._judge_stdio(program, reference)
        except (SandboxFault, SandboxUnavailable) as exc:
            return error(f"sandbox: {exc}")

    # ------------------------------------------------------------------------------------------------ forms

    def _limits(self, ref: dict[str, Any]) -> dict[str, Any]:
        return {
            "time_limit": float(ref.get("time_limit", self.time_limit)),
            "memory_mb": int(ref.get("memory_limit_mb", self.memory_limit_mb)),
            "output_limit": int(ref.get("output_limit_bytes", self.output_limit)),
            "stop_on_failure": not self.partial,
            "prompt": ref.get("prompt"),
        }

    def _default_tolerance(self) -> dict[str, float] | None:
        return None if self.float_tolerance is None else {"rel": self.float_tolerance, "abs": self.float_tolerance}

    def _run(self, job: Job, judge: Callable[[int, TestRun], Any]) -> list[Any]:
        return shared_pool(self.config()).run(job, judge)

    def _judge_stdio(self, program: str, ref: dict[str, Any]) -> Verdict:
        tests = ref["tests"]
        tol = ref.get("float_tolerance") or self._default_tolerance() or {}
        rules = OutputRules(
            ref.get("compare", "tokens"), bool(ref.get("case_sensitive", False)), tol.get("rel"), tol.get("abs")
        )
        limits = self._limits(ref)
        if "output_limit_bytes" not in ref:
            limits["output_limit"] = _room_for(tests, limits["output_limit"])
        job = Job("stdin", program, [t["stdin"] for t in tests], **limits)
        if "checker" in ref:
            runs = self._run(job, lambda i, run: run)
            return self._checked(runs, ref, job)
        outcomes = self._run(job, lambda i, run: run.failure() or same_output(run.stdout, tests[i]["stdout"], rules))
        return self._verdict(outcomes, len(tests))

    def _checked(self, runs: list[TestRun], ref: dict[str, Any], job: Job) -> Verdict:
        """A special judge: ``check(input, expected, output)`` in jobs of its own, for the runs that finished.

        The outputs go to the checker in batches of at most ``CHECKER_JOB_BYTES`` of JSON: a program that fills
        its output cap with characters JSON escapes (6 bytes each) on every test would otherwise make one job of
        hundreds of megabytes, more than the box accepts (``error``) and more than the host should hold."""
        tests = ref["tests"]
        failures: list[Any] = [run.failure() for run in runs]
        limits = {**self._limits(ref), "prompt": None, "stop_on_failure": False}
        scores: dict[int, Any] = {}
        batch: list[tuple[int, Any]] = []
        size = 0
        for i, run in enumerate(runs):
            if failures[i] is not None:
                continue
            arg = encode_value([tests[i]["stdin"], tests[i]["stdout"], run.stdout])
            n = len(json.dumps(arg))
            if n > CHECKER_ARG_BYTES:
                failures[i] = f"output too large to pass to the checker ({n:,} bytes of JSON)"
                continue
            if batch and size + n > CHECKER_JOB_BYTES:
                scores.update(self._check_batch(batch, ref["checker"], limits))
                batch, size = [], 0
            batch.append((i, arg))
            size += n
        if batch:
            scores.update(self._check_batch(batch, ref["checker"], limits))
        outcomes: list[Any] = []
        for i in range(len(runs)):
            outcomes.append(failures[i] if failures[i] is not None else _checker_outcome(scores.get(i)))
        return self._verdict(outcomes, len(tests))

    def _check_batch(self, batch: list[tuple[int, Any]], checker: str, limits: dict[str, Any]) -> dict[int, Any]:
        check = Job("call", checker, [arg for _, arg in batch], fn_name="check", **limits)
        results = self._run(check, lambda i, run: run.failure() or _decoded(run.result))
        return dict(zip((i for i, _ in batch), results))

    def _judge_calls(self, program: str, ref: dict[str, Any]) -> Verdict:
        tests = ref["tests"]
        strict = bool(ref.get("strict_types", self.strict_types))
        tol = ref.get("float_tolerance") or self._default_tolerance()
        args = [encode_value(t["args"]) for t in tests]
        job = Job("call", program, args, fn_name=ref["fn_name"], **self._limits(ref))

        def judge(i: int, run: TestRun) -> str | None:
            got = run.failure() or _decoded(run.result)
            if isinstance(got, str):
                return got
            return (
                None
                if same_value(got[0], tests[i]["expected"], strict, tol)
                else f"wrong return value {_short(run.result)}"
            )

        return self._verdict(self._run(job, judge), len(tests))

    def _judge_test_code(self, program: str, ref: dict[str, Any]) -> Verdict:
        token = secrets.token_hex(16)
        limits = self._limits(ref)
        job = Job(
            "bridge", program, [None], fn_name=ref["entry_point"], test_code=ref["test_code"], token=token, **limits
        )
        outcome = self._run(job, lambda i, run: _bridge_outcome(run, token))[0]
        if isinstance(outcome, Verdict):
            return outcome
        return self._verdict([outcome], 1)

    def _verdict(self, outcomes: list[Any], n_tests: int) -> Verdict:
        """``outcomes[i]``: None (passed), a fraction in (0, 1) (a checker's partial score) or why it failed."""
        passed, first_failure = 0.0, ""
        for i in range(n_tests):
            why = outcomes[i] if i < len(outcomes) else "not run (an earlier test failed)"
            if why is None:
                passed += 1
            elif isinstance(why, float):
                passed += why
                first_failure = first_failure or f"; test {i + 1}: checker gave {why:.3g}"
            elif not first_failure:
                first_failure = f"; test {i + 1}: {why}"
        summary = f"passed {passed:g}/{n_tests} tests"
        if passed == n_tests:
            return correct(None, summary)
        return wrong(None, summary + first_failure, reward=passed / n_tests if self.partial else 0.0)


# ------------------------------------------------------------------------------------------ tests stored once


_TEST_FILES: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
_TEST_FILES_LOCK = threading.Lock()


def resolve_tests(ref: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``{"tests_from": {"file": path, "id": key}, ...}``: the problem's row of a JSONL test file (``{"id", "tests",
    ...}``, any reference fields), under the row's own fields. A GRPO group of 16 samples then carries 16 small
    pointers, not 16 copies of the tests; each file is read once per process (again when it changes)."""
    spec = ref.get("tests_from")
    if spec is None:
        return ref, None
    if not isinstance(spec, dict) or set(spec) != {"file", "id"} or not isinstance(spec["file"], str):
        return ref, f"tests_from must be {{'file': path, 'id': key}}, got {_short(repr(spec), 80)}"
    try:
        table = _test_file(spec["file"])
    except (OSError, ValueError) as exc:
        return ref, f"tests_from: cannot use {spec['file']}: {exc}"
    row = table.get(str(spec["id"]))
    if row is None:
        return ref, f"tests_from: no id {spec['id']!r} in {spec['file']}"
    return {**row, **{k: v for k, v in ref.items() if k != "tests_from"}}, None


def _test_file(path: str) -> dict[str, dict[str, Any]]:
    key = (os.path.abspath(path), os.stat(path).st_mtime_ns)
    with _TEST_FILES_LOCK:
        if key not in _TEST_FILES:
            table = {}
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if line.strip():
                        row = json.loads(line)
                        if not isinstance(row, dict) or "id" not in row:
                            raise ValueError(f"line {n} is not an object with an 'id'")
                        table[str(row["id"])] = {k: v for k, v in row.items() if k != "id"}
            _TEST_FILES[key] = table
        return _TEST_FILES[key]


# ----------------------------------------------------------------------------------------------------- helpers


def _form(ref: dict[str, Any]) -> str:
    return "test_code" if "test_code" in ref else "call" if "fn_name" in ref else "stdin"


def _room_for(tests: list[dict[str, Any]], limit: int) -> int:
    """The default stdout cap, raised to fit the expected outputs (the reference's, not the program's): twice the
    longest plus 4 KiB, at most ``MAX_OUTPUT_LIMIT``. Kattis's own default cap is 8 MiB, and contest problems expect
    more than 1 MiB on some tests (NWERC 2023's galaxyquest and chairdance): a cap below the answer fails every right
    program."""
    longest = max((len(t["stdout"].encode("utf-8", "surrogatepass")) for t in tests), default=0)
    return min(MAX_OUTPUT_LIMIT, max(limit, 2 * longest + 4096))


def _decoded(text: str | None) -> tuple[Any] | str:
    """(value,) from a tagged-JSON result, or why it cannot be judged (a program's doing: a failure, not an error)."""
    if text is None:
        return "the function did not return a value that could be judged"
    try:
        return (json.loads(text, object_hook=_host_untag),)
    except (ValueError, TypeError, RecursionError, MemoryError, OverflowError) as exc:
        return f"the return value could not be read ({type(exc).__name__})"


class _Unhashed:
    """A returned set, or a mapping with a key that is not a string, as the host keeps it: never built, so never
    hashed. Hashes of ints, floats and tuples are predictable, so 40,000 distinct keys that all hash alike (multiples
    of 2**61 - 1) would make building the set take the host's CPU for half a minute. Expected values are JSON, which
    has neither sets nor non-string keys, so such a value can never be equal to one; only its tag is kept."""

    __slots__ = ("tag",)

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<{self.tag[1:]}>"


_HASHED_TAGS = {"$set", "$frozenset"}
_MAPPING_TAGS = {"$dict", "$Counter", "$OrderedDict", "$defaultdict"}


def _host_untag(obj: dict[str, Any]) -> Any:
    """The worker's ``_untag``, except for values whose construction hashes program-chosen non-string keys."""
    if len(obj) == 1:
        ((tag, v),) = obj.items()
        if tag in _HASHED_TAGS and type(v) is list:
            return _Unhashed(tag)
        if (
            tag in _MAPPING_TAGS
            and type(v) is list
            and not all(type(kv) is list and kv and type(kv[0]) is str for kv in v)
        ):
            return _Unhashed(tag)
    return decode_value_hook(obj)


def _checker_outcome(score: Any) -> Any:
    if score is None:
        return "not checked"
    if isinstance(score, str):
        return f"checker: {score}"
    value = score[0]
    if value is True:
        return None
    if type(value) is int and value > 0:  # math.isfinite would raise OverflowError on a huge int
        return None
    if type(value) is float and math.isfinite(value) and value > 0:
        return None if value >= 1 else float(value)
    try:
        shown = repr(value)
    except ValueError:  # an int past repr's 4,300 digits
        shown = f"an int of {value.bit_length()} bits"
    return f"the checker rejected the output ({_short(shown, 40)})"


def _bridge_outcome(run: TestRun, token: str) -> Verdict | str | None:
    if run.exit == EXIT_REFUSED and not run.timed_out:
        return error(f"test code cannot be judged outside the program's process: {_tail(run.stderr)}")
    failed = run.failure()
    if failed:
        return failed if run.exit != 1 else f"test failed: {_tail(run.stderr)}"
    return None if run.result == token else "the test code did not run to its end"


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no message)"


def _short(text: str | None, n: int = 120) -> str:
    text = text or ""
    return text if len(text) <= n else text[:n] + "..."


def _check_common(ref: dict[str, Any]) -> str | None:
    t = ref.get("time_limit")
    if t is not None and (type(t) not in (int, float) or not 0 < t <= MAX_TIME_LIMIT):
        return f"time_limit must be a number of seconds in (0, {MAX_TIME_LIMIT:g}], got {t!r}"
    m = ref.get("memory_limit_mb")
    if m is not None and (type(m) is not int or not 32 <= m <= 8192):
        return f"memory_limit_mb must be an integer in [32, 8192], got {m!r}"
    if not isinstance(ref.get("prompt", ""), str):
        return "'prompt' must be a string"
    return None


def _check_tolerance(tol: Any) -> str | None:
    if tol is None:
        return None
    if not isinstance(tol, dict) or not tol or set(tol) - {"rel", "abs"}:
        return f"float_tolerance must be an object with 'rel' and/or 'abs', got {tol!r}"
    if any(type(v) not in (int, float) or not 0 <= v < math.inf for v in tol.values()):
        return f"float_tolerance values must be non-negative numbers, got {tol!r}"
    return None


def _check_stdin(ref: dict[str, Any]) -> str | None:
    tests = ref.get("tests")
    if not isinstance(tests, list) or not tests:
        return "expected a non-empty 'tests' list (or 'test_code' + 'entry_point')"
    for n, t in enumerate(tests):
        if not isinstance(t, dict) or not isinstance(t.get("stdin"), str) or not isinstance(t.get("stdout"), str):
            return f"tests[{n}] must be {{'stdin': str, 'stdout': str}}"
    if ref.get("compare", "tokens") not in COMPARE_MODES:
        return f"compare must be one of {COMPARE_MODES}, got {ref.get('compare')!r}"
    if type(ref.get("case_sensitive", False)) is not bool:
        return "case_sensitive must be true or false"
    limit = ref.get("output_limit_bytes")
    if limit is not None and (type(limit) is not int or not 1 <= limit <= MAX_OUTPUT_LIMIT):
        return f"output_limit_bytes must be an integer in [1, {MAX_OUTPUT_LIMIT}], got {limit!r}"
    checker = ref.get("checker")
    if checker is not None and (not isinstance(checker, str) or "def check" not in checker):
        return "checker must be Python source defining check(input, expected, output)"
    return _check_tolerance(ref.get("float_tolerance"))


def _check_calls(ref: dict[str, Any]) -> str | None:
    fn_name, tests = ref.get("fn_name"), ref.get("tests")
    if not isinstance(fn_name, str) or not fn_name.isidentifier():
        return f"'fn_name' must be a Python identifier, got {fn_name!r}"
    if not isinstance(tests, list) or not tests:
        return "expected a non-empty 'tests' list"
    for n, t in enumerate(tests):
        if not isinstance(t, dict) or not isinstance(t.get("args"), list) or "expected" not in t:
            return f"tests[{n}] must be {{'args': [...], 'expected': ...}}"
    if type(ref.get("strict_types", False)) is not bool:
        return "strict_types must be true or false"
    return _check_tolerance(ref.get("float_tolerance"))


def _check_test_code(ref: dict[str, Any]) -> str | None:
    if not isinstance(ref.get("test_code"), str) or not ref["test_code"].strip():
        return "'test_code' must be a non-empty string"
    entry = ref.get("entry_point")
    if not isinstance(entry, str) or not entry.isidentifier():
        return f"'entry_point' must be a Python identifier, got {entry!r}"
    return None


_CHECKS = {"stdin": _check_stdin, "call": _check_calls, "test_code": _check_test_code}
