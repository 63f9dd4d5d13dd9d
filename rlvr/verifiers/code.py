"""The ``code`` verifier: the completion's Python runs against unit tests in the Docker sandbox; the host judges.

The program is the last fenced python block of the completion (or the whole completion when it has none). References
come in three forms, each with optional ``time_limit`` (seconds per test) and ``memory_limit_mb``:

    {"tests": [{"stdin": "1 2\\n", "stdout": "3\\n"}, ...]}                       stdin/stdout
    {"fn_name": "add", "tests": [{"args": [1, 2], "expected": 3}, ...]}           function call
    {"test_code": "def check(candidate):\\n    assert candidate(1, 2) == 3\\n", "entry_point": "add"}   HumanEval

Judging happens here, on the host; only inputs enter the box (rlvr/sandbox.py runs the jobs and states the threat
model). Stdout is compared line by line after trimming trailing whitespace, with a float tolerance only where the
expected token is a float. Return values come back as JSON text and are compared with strict types (``1``, ``True``
and ``1.0`` differ unless the expected value is a float). A test passes only on its own correct output: an exit
status, a marker line or a record the program writes are data, never a pass.

HumanEval ``check(candidate)`` bodies made of ``assert candidate(<literals>) == <literal>`` (also ``is``, ``not``,
bare truthiness and ``abs(candidate(...) - x) < tol``) become host-judged function calls, one per assert. Any other
shape (loops, helpers, computed expectations) cannot be split that way and is judged *inside the box*: the test code
runs after the program in the same process and a per-job random token on a private pipe says that every assert ran.
That catches ``sys.exit(0)``, ``os._exit``, ``atexit`` tricks and exceptions, but a program that walks the
interpreter's frames or memory can find the token and fake a pass; pass ``in_box_judging=False`` to grade such rows
as ``error`` instead.

Statuses: a program that fails, crashes, times out or floods its output is ``wrong`` (``detail`` says which test and
why); a sandbox fault (no daemon, a box that died or did not answer) is ``error``, which training turns into None.
"""

from __future__ import annotations

import ast
import json
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

from rlvr.sandbox import DEFAULT_IMAGE, Job, SandboxConfig, SandboxFault, SandboxUnavailable, TestRun, shared_pool
from rlvr.verifiers.base import Verdict, Verifier, correct, error, register_verifier, wrong

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)[ \t]*\r?\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
_FLOAT_TOKEN = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+|inf|nan)$", re.IGNORECASE)
_SPACE = re.compile(r"(\s+)")  # split keeping the separators
MAX_TIME_LIMIT = 60.0


# ------------------------------------------------------------------------------------------------------- comparing


def same_stdout(got: str, expected: str, tolerance: float) -> str | None:
    """None when ``got`` matches ``expected`` line by line (trailing whitespace trimmed), else the first difference."""
    g, e = _lines(got), _lines(expected)
    if len(g) != len(e):
        return f"expected {len(e)} line(s), got {len(g)}" + _first_diff(g, e)
    for n, (a, b) in enumerate(zip(g, e), 1):
        if a != b and not _same_tokens(a, b, tolerance):
            return f"line {n}: expected {b[:80]!r}, got {a[:80]!r}"
    return None


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _first_diff(g: list[str], e: list[str]) -> str:
    for n, (a, b) in enumerate(zip(g, e), 1):
        if a != b:
            return f"; line {n}: expected {b[:80]!r}, got {a[:80]!r}"
    return ""


def _same_tokens(got: str, expected: str, tolerance: float) -> bool:
    """Equal up to float tokens within tolerance; the whitespace between tokens must match exactly."""
    g, e = _SPACE.split(got), _SPACE.split(expected)
    if len(g) != len(e):
        return False
    return all(a == b or (i % 2 == 0 and _close_token(a, b, tolerance)) for i, (a, b) in enumerate(zip(g, e)))


def _close_token(got: str, expected: str, tolerance: float) -> bool:
    if not _FLOAT_TOKEN.match(expected):
        return False  # only a float-looking expected token earns a tolerance ("3" never matches "3.0")
    try:
        return _close(float(got), float(expected), tolerance)
    except ValueError:
        return False


def _close(a: float, b: float, tolerance: float) -> bool:
    if math.isnan(b):
        return math.isnan(a)
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def same_value(got: Any, expected: Any, tolerance: float) -> bool:
    """Strict structural equality of JSON data: types must match, except that an int may stand for a float."""
    if type(expected) is float:
        return type(got) in (int, float) and _close(float(got), expected, tolerance)
    if type(expected) in (list, tuple):
        return (
            type(got) is list
            and len(got) == len(expected)
            and all(same_value(a, b, tolerance) for a, b in zip(got, expected))
        )
    if type(expected) is dict:
        return (
            type(got) is dict
            and got.keys() == expected.keys()
            and all(same_value(got[k], expected[k], tolerance) for k in expected)
        )
    return type(got) is type(expected) and got == expected


def _parse_result(text: str | None) -> tuple[bool, Any]:
    if text is None:
        return False, None
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


# ---------------------------------------------------------------------------------------------- HumanEval test_code


@dataclass(frozen=True)
class Expectation:
    """One host-judged call from a HumanEval assert: how to judge ``candidate(*args)``."""

    args: list[Any]
    kind: str  # "equal" | "truthy" | "falsy" | "close"
    value: Any = None
    tolerance: float = 0.0

    def judge(self, got: Any, tolerance: float) -> bool:
        if self.kind == "truthy":
            return bool(got)
        if self.kind == "falsy":
            return not got
        if self.kind == "close":
            return type(got) in (int, float) and abs(got - self.value) < self.tolerance
        return same_value(got, self.value, tolerance)


def humaneval_calls(test_code: str) -> list[Expectation] | None:
    """The asserts of ``check(candidate)`` as host-judged calls, or None when any statement has another shape."""
    try:
        tree = ast.parse(test_code)
    except SyntaxError:
        return None
    checks = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    if len(checks) != 1 or len(checks[0].args.args) != 1:
        return None
    name = checks[0].args.args[0].arg
    out: list[Expectation] = []
    for stmt in checks[0].body:
        if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            continue
        if not isinstance(stmt, ast.Assert):
            return None
        if isinstance(stmt.test, ast.Constant) and stmt.test.value:
            continue  # HumanEval's `assert True, "This prints if this assert fails"`
        expectation = _expectation(stmt.test, name)
        if expectation is None:
            return None
        out.append(expectation)
    return out or None


def _expectation(test: ast.expr, name: str) -> Expectation | None:
    try:
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if isinstance(op, (ast.Eq, ast.Is)) and _is_call(left, name):
                return Expectation(_args(left), "equal", _literal(right))
            if isinstance(op, ast.Lt) and _is_abs_diff(left, name):
                call, target = left.args[0].left, left.args[0].right  # type: ignore[attr-defined]
                return Expectation(_args(call), "close", float(_literal(target)), float(_literal(right)))
        if _is_call(test, name):
            return Expectation(_args(test), "truthy")
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and _is_call(test.operand, name):
            return Expectation(_args(test.operand), "falsy")
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None  # not a literal: this assert has to run in the box
    return None


def _is_call(node: ast.expr, name: str) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name and not node.keywords
    )


def _is_abs_diff(node: ast.expr, name: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "abs"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.BinOp)
        and isinstance(node.args[0].op, ast.Sub)
        and _is_call(node.args[0].left, name)
    )


def _args(call: ast.Call) -> list[Any]:
    return [_plain(_literal(a)) for a in call.args]


def _literal(node: ast.expr) -> Any:
    value = ast.literal_eval(node)
    json.dumps(value)  # sets, bytes, complex numbers cannot cross the boundary: TypeError -> judged in the box
    return _plain(value)


def _plain(value: Any) -> Any:
    """Tuples become lists: that is what JSON makes of them on the way back."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("non-string dict keys do not survive JSON")
        return {k: _plain(v) for k, v in value.items()}
    return value


# -------------------------------------------------------------------------------------------------------- verifier


@register_verifier("code")
@dataclass(frozen=True)
class CodeVerifier(Verifier):
    """Python unit tests in a Docker sandbox, judged on the host; reward 1 only when every test passes."""

    partial: bool = False  # reward = fraction of tests passed
    time_limit: float = 4.0  # seconds per test when the reference gives none
    memory_limit_mb: int = 512  # per test (RLIMIT_AS) when the reference gives none
    output_limit: int = 1 << 20  # bytes of stdout per test
    float_tolerance: float = 1e-6
    in_box_judging: bool = True  # HumanEval test_code of other shapes runs in the box (see the module docstring)
    image: str = DEFAULT_IMAGE
    containers: int = 0  # 0: one per core

    isolation = "thread"  # the sandbox brings its own isolation and limits; jobs wait on sockets, not on the CPU
    reference_kind = "json"

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
        problem = _check_limits(reference)
        if problem:
            return problem
        if "test_code" in reference:
            return _check_humaneval(reference)
        tests = reference.get("tests")
        if not isinstance(tests, list) or not tests:
            return "expected a non-empty 'tests' list (or 'test_code' + 'entry_point')"
        if "fn_name" in reference:
            return _check_calls(reference["fn_name"], tests)
        for n, t in enumerate(tests):
            if not isinstance(t, dict) or not isinstance(t.get("stdin"), str) or not isinstance(t.get("stdout"), str):
                return f"tests[{n}] must be {{'stdin': str, 'stdout': str}}"
        return None

    def judge(self, extracted: str | None, reference: Any) -> Verdict:
        if isinstance(reference, str):
            reference = json.loads(reference)
        problem = self.check_reference(reference)
        if problem:
            return error(f"bad reference: {problem}")
        job, judge = self._plan(extracted or "", reference)
        if job is None:
            return error(judge)  # type: ignore[arg-type]
        try:
            runs = shared_pool(self.config()).run(job)
        except (SandboxFault, SandboxUnavailable) as exc:
            return error(f"sandbox: {exc}")
        return self._verdict(runs, len(job.tests), judge)

    # ------------------------------------------------------------------------------------------------ internals

    def _plan(self, program: str, ref: dict[str, Any]):
        """(Job, per-test judge) for a reference; (None, message) when it cannot be graded."""
        limits = {
            "time_limit": float(ref.get("time_limit", self.time_limit)),
            "memory_mb": int(ref.get("memory_limit_mb", self.memory_limit_mb)),
            "output_limit": self.output_limit,
            "stop_on_failure": not self.partial,
        }
        if "test_code" in ref:
            calls = humaneval_calls(ref["test_code"])
            if calls is not None:
                job = Job("call", program, [c.args for c in calls], fn_name=ref["entry_point"], **limits)
                return job, lambda i, run: self._judge_call(run, calls[i].judge)
            if not self.in_box_judging:
                return None, "test_code has asserts that cannot be judged on the host and in_box_judging=False"
            token = secrets.token_hex(16)
            source = f"{ref['test_code']}\n\ncheck({ref['entry_point']})\n"
            job = Job("script", program, [source], token=token, **limits)
            return job, lambda i, run: self._judge_script(run, token)
        tests = ref["tests"]
        if "fn_name" in ref:
            job = Job("call", program, [t["args"] for t in tests], fn_name=ref["fn_name"], **limits)
            return job, lambda i, run: self._judge_call(
                run, lambda got, tol: same_value(got, tests[i]["expected"], tol)
            )
        job = Job("stdin", program, [t["stdin"] for t in tests], **limits)
        return job, lambda i, run: self._judge_stdout(run, tests[i]["stdout"])

    def _judge_stdout(self, run: TestRun, expected: str) -> str | None:
        return run.failure() or same_stdout(run.stdout, expected, self.float_tolerance)

    def _judge_call(self, run: TestRun, accept) -> str | None:
        failed = run.failure()
        if failed:
            return failed
        ok, value = _parse_result(run.result)
        if not ok:
            return "the function did not return a value that could be judged"
        return None if accept(value, self.float_tolerance) else f"wrong return value {_short(run.result)}"

    def _judge_script(self, run: TestRun, token: str) -> str | None:
        failed = run.failure()
        if failed:
            return failed
        return None if run.result == token else "the test code did not run to its end"

    def _verdict(self, runs: list[TestRun], n_tests: int, judge) -> Verdict:
        passed, first_failure = 0, ""
        for i in range(n_tests):
            why = judge(i, runs[i]) if i < len(runs) else "not run (an earlier test failed)"
            if why is None:
                passed += 1
            elif not first_failure:
                first_failure = f"; test {i + 1}: {why}"
        summary = f"passed {passed}/{n_tests} tests"
        if passed == n_tests:
            return correct(None, summary)
        reward = passed / n_tests if self.partial else 0.0
        return wrong(None, summary + first_failure, reward=reward)


def _short(text: str | None, n: int = 120) -> str:
    text = text or ""
    return text if len(text) <= n else text[:n] + "..."


def _check_limits(ref: dict[str, Any]) -> str | None:
    t = ref.get("time_limit")
    if t is not None and (type(t) not in (int, float) or not 0 < t <= MAX_TIME_LIMIT):
        return f"time_limit must be a number of seconds in (0, {MAX_TIME_LIMIT:g}], got {t!r}"
    m = ref.get("memory_limit_mb")
    if m is not None and (type(m) is not int or not 32 <= m <= 8192):
        return f"memory_limit_mb must be an integer in [32, 8192], got {m!r}"
    return None


def _check_humaneval(ref: dict[str, Any]) -> str | None:
    if not isinstance(ref.get("test_code"), str) or not ref["test_code"].strip():
        return "'test_code' must be a non-empty string"
    entry = ref.get("entry_point")
    if not isinstance(entry, str) or not entry.isidentifier():
        return f"'entry_point' must be a Python identifier, got {entry!r}"
    return None


def _check_calls(fn_name: Any, tests: list[Any]) -> str | None:
    if not isinstance(fn_name, str) or not fn_name.isidentifier():
        return f"'fn_name' must be a Python identifier, got {fn_name!r}"
    for n, t in enumerate(tests):
        if not isinstance(t, dict) or not isinstance(t.get("args"), list) or "expected" not in t:
            return f"tests[{n}] must be {{'args': [...], 'expected': ...}}"
    return None
