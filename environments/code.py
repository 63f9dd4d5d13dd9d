"""Code tasks: programs written by the model run against unit tests in the sandbox, through the ``code`` verifier.

Three families, one per reference form of the ``code`` verifier (rlvr/verifiers/code.py):

- ``humaneval`` (``openai/openai_humaneval``): complete a function; the reference is HumanEval's own
  ``{"test_code": check(candidate) ..., "entry_point": name, "prompt": ...}`` (the prompt defines helpers the tests use).
- ``mbpp`` (``google-research-datasets/mbpp``): write a function from a description and one example assert; the asserts
  (``assert f(1, 2) == 3``) are the test code, run by the sandbox's judge with ``f`` calling the program.
- ``code_stdio``: competitive-programming problems read from stdin and print to stdout. Rows carry ``tests``
  (``[{"stdin", "stdout"}]``), APPS/TACO's ``input_output`` (``{"inputs": [...], "outputs": [...]}``, JSON text or
  an object; with ``fn_name`` it becomes a function-call reference) or deepmind/code_contests'
  ``public_tests`` / ``private_tests`` / ``generated_tests`` (judged as its own judge judges: tokens, any case,
  numbers within 1e-5). A row's own judging fields (``compare``, ``case_sensitive``, ``float_tolerance``,
  ``checker``, ``output_limit_bytes``, ``time_limit``, ``memory_limit_mb``) go into the reference as they are.
  ``input_output`` rows are judged as APPS's harness judges them where rlvr's contract can say so: its import header
  runs first (``prompt``) and output is case-sensitive (``apps_rules = False`` for rlvr's defaults). Hub default:
  ``codeparrot/apps``; pass ``data_files=`` for your own rows.

Every prompt asks for the answer in a fenced ```` ```python ```` block, the block the verifier runs. Gold completions
(``Task.solution(row)``) wrap the dataset's reference solution the same way; the task tests check that they score 1.
"""

from __future__ import annotations

import ast
import builtins
import json
from typing import Any

from rlvr.tasks import Task, TaskDataError, register_task

FENCE_INSTRUCTION = "Write your solution in a single ```python code block."


def fenced(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


class CodeTask(Task):
    """Shared shape of the code family: verifier ``code``, references are objects (JSON across Arrow)."""

    verifiers = {"code": 1.0}
    time_limit: float | None = None  # seconds per test; None: the verifier's default
    memory_limit_mb: int | None = None

    def reference(self, row: dict[str, Any]) -> dict[str, Any]:
        ref = self.tests(row)
        if self.time_limit is not None:
            ref["time_limit"] = self.time_limit
        if self.memory_limit_mb is not None:
            ref["memory_limit_mb"] = self.memory_limit_mb
        return ref

    def tests(self, row: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def solution(self, row: dict[str, Any]) -> str:
        """A gold completion: the dataset's reference solution in a python fence."""
        raise NotImplementedError


@register_task("humaneval")
class HumanEval(CodeTask):
    """HumanEval: 164 Python functions to complete, graded by their check(candidate) tests in the sandbox."""

    dataset = "openai/openai_humaneval"
    split = "test"
    id_field = "task_id"

    def prompt(self, row: dict[str, Any]) -> str:
        return f"Complete this Python function.\n\n{fenced(row['prompt'])}\n\n{FENCE_INSTRUCTION}"

    def tests(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"test_code": row["test"], "entry_point": row["entry_point"], "prompt": row["prompt"]}

    def solution(self, row: dict[str, Any]) -> str:
        return fenced(row["prompt"] + row["canonical_solution"])


@register_task("mbpp")
class MBPP(CodeTask):
    """MBPP: short Python functions from a description and one example assert, graded by all its asserts."""

    dataset = "google-research-datasets/mbpp"
    dataset_config = "full"
    split = "test"
    id_field = "task_id"

    challenge_tests = False  # also run the "full" config's challenge_test_list (no official harness does)

    def prompt(self, row: dict[str, Any]) -> str:
        text = row.get("text") or row.get("prompt")  # "full" config: text; "sanitized": prompt
        return f"{text}\nYour code should pass this test:\n{row['test_list'][0]}\n{FENCE_INSTRUCTION}"

    def tests(self, row: dict[str, Any]) -> dict[str, Any]:
        """MBPP's own asserts, run as its harnesses run them, by the sandbox's judge: the sanitized config's
        ``test_imports`` (``import math`` for its ``math.isclose`` asserts), the setup code, then ``test_list``."""
        asserts = list(row["test_list"])
        if self.challenge_tests:
            asserts += list(row.get("challenge_test_list") or [])
        head = [line.strip() for line in row.get("test_imports") or [] if line.strip()]
        setup = (row.get("test_setup_code") or "").strip()
        entry = entry_point(asserts, row.get("code", ""))
        tests = "\n".join(([setup] if setup else []) + [a.strip() for a in asserts if a.strip()])
        guards = [_defined_by_program(name) for name in _program_names_used(row.get("code", ""), tests, entry)]
        body = "\n".join(head + guards + [tests])
        return {"test_code": body + "\n", "entry_point": entry}

    def solution(self, row: dict[str, Any]) -> str:
        return fenced(row["code"].replace("\r\n", "\n"))


def entry_point(asserts: list[str], code: str = "") -> str:
    """The function the asserts call: the first called name that the reference code defines (or the first call)."""
    defined = _defined_functions(code)
    called: list[str] = []
    for text in asserts:
        try:
            tree = ast.parse(text.strip())
        except SyntaxError as exc:
            raise TaskDataError(f"test {text[:60]!r} is not valid Python ({exc.msg})") from None
        called += [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    for name in called:
        if name in defined:
            return name
    if called:
        return called[0]
    raise TaskDataError(f"no function call in the tests {asserts[:1]!r}")


def _program_names_used(code: str, tests: str, entry: str) -> list[str]:
    """Names besides the entry point that the tests use and only the reference program defines (``Node``, ``Pair``
    in MBPP 367, 601, 927): a program must define them too, as the official harness (one namespace) requires."""
    try:
        program, test = ast.parse(code), ast.parse(tests)
    except SyntaxError:
        return []
    defined = {n.name for n in program.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stored = {n.id for n in ast.walk(test) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    loaded = {n.id for n in ast.walk(test) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted((defined & loaded) - stored - {entry} - set(dir(builtins)))


def _defined_by_program(name: str) -> str:
    """A guard run before the tests: a program without ``name`` fails them (``wrong``), where a name nobody defines
    would otherwise read as an incomplete reference (``error``)."""
    return f"try:\n    {name}\nexcept NameError:\n    raise AssertionError('the program defines no {name}') from None"


def _defined_functions(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


@register_task("code_stdio")
class CodeStdio(CodeTask):
    """Stdin/stdout programming problems (APPS/TACO-style input_output, or tests: [{stdin, stdout}])."""

    dataset = "codeparrot/apps"
    dataset_config = "all"
    split = "test"
    id_field = None
    problem_field = "question"
    max_tests: int | None = None  # keep the first N tests of each problem (long suites slow RL down)
    apps_rules = True  # input_output rows: APPS's import header before the program, case-sensitive output

    def prompt(self, row: dict[str, Any]) -> str:
        text = row.get(self.problem_field) or row.get("problem") or row.get("question") or row.get("description")
        if not text:
            raise KeyError(f"no problem text (field {self.problem_field!r})")
        io = "a function" if self._call_based(row) else "a program that reads from stdin and writes to stdout"
        return f"{text}\n\nWrite {io} in Python. {FENCE_INSTRUCTION}"

    def tests(self, row: dict[str, Any]) -> dict[str, Any]:
        rules = {k: row[k] for k in JUDGING_FIELDS if row.get(k) is not None}
        if isinstance(rules.get("time_limit"), dict):  # code_contests' {"seconds", "nanos"}: the jury's, not Python's
            del rules["time_limit"]
        if row.get("tests"):
            tests = [{"stdin": str(t["stdin"]), "stdout": str(t["stdout"])} for t in row["tests"]]
            return {"tests": tests[: self.max_tests], **rules}
        if any(row.get(k) for k in CODE_CONTESTS_TESTS):
            return {"tests": _code_contests_tests(row)[: self.max_tests], **CODE_CONTESTS_RULES, **rules}
        io = self._input_output(row)
        pairs = list(zip(io["inputs"], io["outputs"]))[: self.max_tests]
        if not pairs:
            raise ValueError("input_output has no tests")
        apps = {"prompt": APPS_HEADER} if self.apps_rules else {}
        if io.get("fn_name"):
            tests = [{"args": _args(i), "expected": _unwrap(o)} for i, o in pairs]
            return {"fn_name": io["fn_name"], "tests": tests, **apps, **rules}
        if self.apps_rules:
            apps["case_sensitive"] = True
        return {"tests": [{"stdin": _text(i), "stdout": _text(o)} for i, o in pairs], **apps, **rules}

    def solution(self, row: dict[str, Any]) -> str:
        solutions = row.get("solutions") or row.get("solution")
        if isinstance(solutions, str) and solutions.lstrip().startswith("["):
            solutions = json.loads(solutions)
        if isinstance(solutions, dict):  # code_contests: {"language": [...], "solution": [...]}, 3 is Python 3
            python3 = [c for lang, c in zip(solutions.get("language", []), solutions.get("solution", [])) if lang == 3]
            solutions = python3 or None
        code = solutions[0] if isinstance(solutions, list) else solutions
        if not code:
            raise TaskDataError("row has no reference solution")
        return fenced(code)

    def _call_based(self, row: dict[str, Any]) -> bool:
        if row.get("tests") or any(row.get(k) for k in CODE_CONTESTS_TESTS):
            return False
        return bool(self._input_output(row).get("fn_name"))

    @staticmethod
    def _input_output(row: dict[str, Any]) -> dict[str, Any]:
        io = row.get("input_output")
        if isinstance(io, str):
            io = json.loads(io) if io.strip() else None
        if not isinstance(io, dict) or "inputs" not in io or "outputs" not in io:
            raise KeyError("row has neither 'tests' nor an 'input_output' object with inputs and outputs")
        return io


# APPS's harness (hendrycks/apps eval/testing_util.py) runs every program after these imports, so its solutions use
# ``List``, ``math``, ``np``... without importing them (TACO's harness does the same). Its comparisons are all
# case-sensitive.
APPS_HEADER = (
    "import sys\nimport time\nimport itertools\nfrom itertools import accumulate, product, permutations, combinations\n"
    "import collections\nfrom collections import Counter, OrderedDict, deque, defaultdict, ChainMap\n"
    "from functools import lru_cache\nimport math\nfrom math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, "
    "log, log2\nimport fractions\nfrom typing import List, Tuple\nimport numpy as np\nimport random\nimport heapq\n"
    "from heapq import *\n"
)
# The reference fields a row may set for itself (the verifier's stdin judging contract).
JUDGING_FIELDS = (
    "compare",
    "case_sensitive",
    "float_tolerance",
    "checker",
    "output_limit_bytes",
    "time_limit",
    "memory_limit_mb",
)
CODE_CONTESTS_TESTS = ("public_tests", "private_tests", "generated_tests")
# deepmind/code_contests' judge (execution/tester_sandboxer.cc, OutputsMatch): whitespace-separated tokens, lowercased;
# numeric tokens within 1e-5 absolute (two int32s must be equal, which 1e-5 implies). Tokens and any case are the
# verifier's defaults; the tolerance is not.
CODE_CONTESTS_RULES = {"float_tolerance": {"abs": 1e-5}}


def _code_contests_tests(row: dict[str, Any]) -> list[dict[str, str]]:
    """code_contests' public, private and generated tests, in that order (``{"input": [...], "output": [...]}``)."""
    tests = []
    for key in CODE_CONTESTS_TESTS:
        block = row.get(key) or {}
        tests += [{"stdin": str(i), "stdout": str(o)} for i, o in zip(block.get("input", []), block.get("output", []))]
    if not tests:
        raise TaskDataError("the row's public/private/generated tests are all empty")
    return tests


def _text(value: Any) -> str:
    return "\n".join(map(str, value)) + "\n" if isinstance(value, list) else str(value)


def _args(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _unwrap(value: Any) -> Any:
    """APPS stores a call-based expected return value wrapped in a one-element list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value
