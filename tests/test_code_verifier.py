"""The ``code`` verifier: extraction, host-side comparison and reference checks (no Docker), then end to end."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections import Counter, OrderedDict

import pytest

from rlvr.sandbox import SandboxUnavailable
from rlvr.verifiers import get_verifier
from rlvr.verifiers.code import CodeVerifier, OutputRules, same_output, same_value
from sandboxes.python.worker import decode_value, encode_value
from tests.conftest import require_sandbox

V = CodeVerifier()


@pytest.mark.parametrize(
    "completion, program",
    [
        ("```python\nprint(1)\n```", "print(1)\n"),
        ("first\n```python\nprint(1)\n```\nthen\n```python\nprint(2)\n```\ndone", "print(2)\n"),
        ("```py\nx = 1\n```", "x = 1\n"),
        ("```Python3\nx = 1\n```", "x = 1\n"),
        ("print(3)", "print(3)"),
        ("```python\nprint(1)\n```\n```text\noutput\n```", "print(1)\n"),
        ("```python\nprint('cut off", "print('cut off"),
        ("   ", None),
    ],
    ids=["one-block", "last-block", "py-tag", "python3-tag", "no-fence", "text-block-ignored", "unclosed", "empty"],
)
def test_extract(completion, program):
    assert V.extract(completion) == program


R = OutputRules
TOL = R(rel=1e-6, abs=1e-6)


@pytest.mark.parametrize(
    "got, expected, rules, ok",
    [
        ("3\n", "3", R(), True),
        ("3   \n\n\n", "3\n", R(), True),
        ("1 2\r\n3\r\n", "1 2\n3\n", R(), True),
        ("1\n2\n3\n", "1 2 3", R(), True),  # tokens: how much whitespace does not matter (Kattis default)
        ("1\n2\n3\n", "1 2 3", R("lines"), False),
        ("  1   2\n3", "1 2\n3\n", R("lines"), True),
        ("YES\n", "yes\n", R(), True),  # case-insensitive by default, as Kattis's default validator
        ("YES\n", "yes\n", R(case_sensitive=True), False),
        ("3.0\n", "3\n", R(), False),  # no tolerance given: numbers compare as text
        ("276\n", "276.0\n", TOL, True),  # tolerance: every numeric token, integers included
        ("3.0000001\n", "3.0\n", TOL, True),
        ("3.1\n", "3.0\n", TOL, False),
        ("1000.5\n", "1000\n", R(rel=1e-3), True),
        ("1000.5\n", "1000\n", R(abs=1e-3), False),
        ("nan\n", "1.0\n", TOL, False),
        ("1e400\n", "1.0\n", TOL, False),
        ("1\n2\n", "1\n", R(), False),
        ("", "3\n", R(), False),
        ("3\n", "3\n", R("exact"), True),
        ("3", "3\n", R("exact"), False),
    ],
    ids=[
        "newline",
        "trailing-space",
        "crlf",
        "tokens-ignore-layout",
        "lines-keep-layout",
        "lines-inner-space",
        "case-insensitive",
        "case-sensitive",
        "int-vs-float-no-tolerance",
        "int-vs-float-tolerance",
        "float-close",
        "float-far",
        "relative",
        "absolute-only",
        "nan",
        "overflow",
        "extra-line",
        "empty",
        "exact",
        "exact-newline",
    ],
)
def test_same_output(got, expected, rules, ok):
    assert (same_output(got, expected, rules) is None) is ok


@pytest.mark.parametrize(
    "got, expected, strict, tolerance, ok",
    [
        (1, 1, False, None, True),
        (True, 1, False, None, True),  # Python's ==, as the harness runs it
        (True, 1, True, None, False),
        (1.0, 1, False, None, True),
        (1.0, 1, True, None, False),
        ((1, 2), [1, 2], False, None, True),  # APPS: tuples become lists (JSON has no tuples)
        ({1, 2}, [1, 2], False, None, False),
        (0.30000000000000004, 0.3, False, None, False),  # no tolerance unless the reference gives one
        (0.30000000000000004, 0.3, False, {"abs": 1e-9}, True),
        ([1, 2.0000001], [1, 2.0], False, {"rel": 1e-6}, True),
        (10**400, 1.5, False, {"abs": 1e-6}, False),  # OverflowError inside: wrong, never a crash
        ({"a": [1]}, {"a": [1]}, False, None, True),
        ({"a": 1, "b": 2}, {"a": 1}, False, None, False),
        (None, None, False, None, True),
        ("1", 1, False, None, False),
    ],
    ids=[
        "int",
        "bool-for-int",
        "bool-for-int-strict",
        "float-for-int",
        "float-for-int-strict",
        "tuple-as-list",
        "set-not-list",
        "float-exact",
        "float-tolerance",
        "nested-tolerance",
        "huge-int",
        "dict",
        "extra-key",
        "none",
        "str-for-int",
    ],
)
def test_same_value(got, expected, strict, tolerance, ok):
    assert same_value(got, expected, strict, tolerance) is ok


@pytest.mark.parametrize(
    "value",
    [
        (1, [2, (3,)]),
        {1, 2},
        frozenset({"a"}),
        {(1, 2): {"k": b"x"}},
        Counter("abca"),
        OrderedDict([(2, 1), (1, 2)]),
        10**400,
        -(2**64),
        float("inf"),
        1 + 2j,
        bytearray(b"\x00\xff"),
        "\ud800 lone surrogate",
        [None, True, 1.5, "s"],
    ],
    ids=lambda v: type(v).__name__,
)
def test_values_cross_as_python_values(value):
    back = decode_value(json.dumps(encode_value(value)))
    assert back == value and type(back) is type(value)


def test_encoding_refuses_what_it_cannot_trust():
    class Eq(int):
        def __eq__(self, other):
            return True

    for value in (Eq(1), object(), [[]] * 0 + [lambda: 1]):
        with pytest.raises((TypeError, ValueError)):
            encode_value(value)


@pytest.mark.parametrize(
    "reference, message",
    [
        ({"tests": [{"stdin": "", "stdout": "1"}]}, None),
        ({"fn_name": "f", "tests": [{"args": [1], "expected": 1}], "time_limit": 2, "memory_limit_mb": 256}, None),
        ({"test_code": "def check(c): pass", "entry_point": "f"}, None),
        ("tests", "JSON object"),
        ({"tests": []}, "non-empty"),
        ({"tests": [{"stdin": 1, "stdout": "1"}]}, "tests[0]"),
        ({"fn_name": "not valid", "tests": [{"args": [], "expected": 1}]}, "identifier"),
        ({"fn_name": "f", "tests": [{"args": 1, "expected": 1}]}, "tests[0]"),
        ({"test_code": "", "entry_point": "f"}, "test_code"),
        ({"tests": [{"stdin": "", "stdout": ""}], "time_limit": -1}, "time_limit"),
        ({"tests": [{"stdin": "", "stdout": ""}], "memory_limit_mb": 1.5}, "memory_limit_mb"),
        ({"tests": [{"stdin": "", "stdout": ""}], "compare": "tokens", "float_tolerance": {"rel": 1e-6}}, None),
        ({"tests": [{"stdin": "", "stdout": ""}], "compare": "words"}, "compare"),
        ({"tests": [{"stdin": "", "stdout": ""}], "float_tolerance": 1e-6}, "float_tolerance"),
        ({"tests": [{"stdin": "", "stdout": ""}], "case_sensitive": "yes"}, "case_sensitive"),
        ({"tests": [{"stdin": "", "stdout": ""}], "output_limit_bytes": 0}, "output_limit_bytes"),
        ({"tests": [{"stdin": "", "stdout": ""}], "checker": "print(1)"}, "checker"),
        ({"tests": [{"stdin": "", "stdout": ""}], "tset": 1}, "unknown field"),
        ({"fn_name": "f", "tests": [{"args": [], "expected": 1}], "compare": "tokens"}, "unknown field"),
        ({"test_code": "assert f(1) == 1", "entry_point": "f", "prompt": "def g(): pass\n"}, None),
    ],
    ids=[
        "stdin",
        "call",
        "humaneval",
        "not-object",
        "empty-tests",
        "bad-stdin",
        "bad-fn-name",
        "bad-args",
        "empty-test-code",
        "negative-time",
        "float-memory",
        "stdio-contract",
        "bad-compare",
        "bare-tolerance",
        "bad-case",
        "zero-output-limit",
        "checker-without-check",
        "typo-field",
        "stdio-field-on-call",
        "mbpp-with-prompt",
    ],
)
def test_check_reference(reference, message):
    problem = V.check_reference(reference)
    assert (problem is None) if message is None else (message in problem)


def test_verifier_survives_pickle_and_is_registered():
    v = get_verifier("code", partial=True, time_limit=2.0)
    assert pickle.loads(pickle.dumps(v)) == v
    assert v.isolation == "thread" and v.reference_kind == "json"


def test_missing_daemon_is_a_clear_error_not_a_zero(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(SandboxUnavailable, match="no Docker daemon answers at unix:///nonexistent"):
        CodeVerifier(image="rlvr-test-no-such-image:0").concurrency()


# -------------------------------------------------------------------------------------------------- end to end


ROWS = [
    ("a, b = map(int, input().split())\nprint(a + b)", {"tests": [{"stdin": "1 2\n", "stdout": "3\n"}]}, "correct"),
    (
        "print(float(input()) / 3)",
        {"tests": [{"stdin": "1\n", "stdout": "0.333333\n"}], "float_tolerance": {"abs": 1e-6}},
        "correct",
    ),
    ("print(float(input()) / 3)", {"tests": [{"stdin": "1\n", "stdout": "0.333333\n"}]}, "wrong"),
    ("print(input())", {"tests": [{"stdin": "x\n", "stdout": "y\n"}]}, "wrong"),
    (
        "def f(x):\n    return [x, {'k': x / 2}]",
        {"fn_name": "f", "tests": [{"args": [3], "expected": [3, {"k": 1.5}]}]},
        "correct",
    ),
    ("def f(x):\n    return True", {"fn_name": "f", "tests": [{"args": [1], "expected": 1}]}, "correct"),
    (
        "def f(x):\n    return True",
        {"fn_name": "f", "tests": [{"args": [1], "expected": 1}], "strict_types": True},
        "wrong",
    ),
    (
        "class Solution:\n    def f(self, x):\n        return x",
        {"fn_name": "f", "tests": [{"args": [4], "expected": 4}]},
        "correct",
    ),
    ("def f(x):\n    return {1, 2}", {"fn_name": "f", "tests": [{"args": [1], "expected": [1, 2]}]}, "wrong"),
    ("def g(x):\n    return x", {"fn_name": "f", "tests": [{"args": [1], "expected": 1}]}, "wrong"),
    (
        "def add(a, b):\n    return a + b",
        {"test_code": "def check(candidate):\n    assert candidate(2, 2) == 4\n", "entry_point": "add"},
        "correct",
    ),
    (
        "def add(a, b):\n    return a - b",
        {"test_code": "def check(candidate):\n    assert candidate(2, 2) == 4\n", "entry_point": "add"},
        "wrong",
    ),
    ("syntax error(", {"tests": [{"stdin": "", "stdout": "1\n"}]}, "wrong"),
]


@pytest.mark.docker
def test_rows_end_to_end_through_the_scoring_engine():
    require_sandbox()
    import rlvr

    verdicts = rlvr.score("code", [f"```python\n{p}\n```" for p, _, _ in ROWS], [r for _, r, _ in ROWS])
    assert [v.status for v in verdicts] == [s for _, _, s in ROWS], [v.detail for v in verdicts]
    assert all(v.reward == (1.0 if v.status == "correct" else 0.0) for v in verdicts)


@pytest.mark.docker
def test_rlvr_score_cli(tmp_path):
    require_sandbox()
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        "".join(json.dumps({"completion": p, "reference": r, "id": n}) + "\n" for n, (p, r, _) in enumerate(ROWS))
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlvr.cli",
            "score",
            "--verifier",
            "code",
            "--input",
            str(src),
            "--output",
            str(dst),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [o["id"] for o in out] == list(range(len(ROWS)))
    assert [o["status"] for o in out] == [s for _, _, s in ROWS]
    assert "rlvr score [code]" in proc.stderr


def test_tests_stored_once_per_problem(tmp_path):
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps({"id": "add", "tests": [{"stdin": "1 2\n", "stdout": "3\n"}]}) + "\n")
    ref = {"tests_from": {"file": str(problems), "id": "add"}, "time_limit": 2}
    assert V.check_reference(ref) is None
    assert "no id 'sub'" in V.check_reference({"tests_from": {"file": str(problems), "id": "sub"}})
    assert "cannot use" in V.check_reference({"tests_from": {"file": str(tmp_path / "missing.jsonl"), "id": "add"}})
    assert "tests_from must be" in V.check_reference({"tests_from": "problems.jsonl#add"})


@pytest.mark.docker
def test_tests_by_id_end_to_end(tmp_path):
    require_sandbox()
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps({"id": 7, "fn_name": "add", "tests": [{"args": [1, 2], "expected": 3}]}) + "\n")
    ref = {"tests_from": {"file": str(problems), "id": 7}}
    assert V("```python\ndef add(a, b):\n    return a + b\n```", ref).status == "correct"
    assert V("```python\ndef add(a, b):\n    return a - b\n```", ref).status == "wrong"


@pytest.mark.docker
@pytest.mark.parametrize(
    "program, status",
    [
        ("import threading\nthreading.Thread(target=lambda: print('hi')).start()\n", "correct"),
        ("print('hi')\nexit()\nprint('no')\n", "correct"),
        ("print('hi')\nquit(0)\n", "correct"),
        ("import numpy as np\nprint('hi' if np.arange(4).sum() == 6 else 'no')\n", "correct"),
        ("x = 1\n" * 20000 + "print('hi')\n", "correct"),  # 120 KB: run whole, never cut from the front
        ("# " + "x" * (1 << 20) + "\nprint('hi')\n", "wrong"),  # over the size cap: refused with a reason
        # Codeforces FastIO templates and other habits seen in accepted CodeContests solutions (apps_agreement.py)
        ("import sys\nassert sys.stdin.mode == 'r' and sys.stdout.mode == 'w'\nprint('hi')\n", "correct"),
        ("import sys\nwith sys.stdout as out:\n    print('hi', file=out)\n", "correct"),
        ("import atexit, sys\natexit.register(lambda: sys.__stdout__.write('hi\\n'))\n", "correct"),
        ("import atexit\natexit.register(print, 'no')\nprint('hi')\n", "wrong"),  # atexit output counts, as in python3
        (  # a FastIO-style wrapper never flushed by the program: its IOBase.__del__ writes at the interpreter's exit
            "import io, os\nclass W(io.IOBase):\n    def __init__(self):\n        self.b = io.BytesIO()\n"
            "    def write(self, s):\n        self.b.write(s.encode())\n"
            "    def flush(self):\n        os.write(1, self.b.getvalue())\n        self.b = io.BytesIO()\n"
            "stdout = W()\nprint('h', end='')\nstdout.write('i\\n')\n",
            "correct",
        ),
        (  # the Codeforces FastIO template: its write is a lambda on itself (a cycle), flushed only by the exit
            "import io, os\nclass W(io.IOBase):\n    def __init__(self):\n        self.b = io.BytesIO()\n"
            "        self.write = lambda s: self.b.write(s.encode())\n"
            "    def flush(self):\n        os.write(1, self.b.getvalue())\n"
            "stdout = W()\nstdout.write('hi\\n')\n",
            "correct",
        ),
    ],
    ids=[
        "thread-output-kept",
        "exit",
        "quit",
        "numpy",
        "long-program",
        "over-size-cap",
        "stdio-mode",
        "closed-stdout",
        "atexit-dunder-stdout",
        "atexit-output-counts",
        "fastio-flushed-at-exit",
        "fastio-cycle-flushed-at-exit",
    ],  # fmt: skip
)
def test_programs_run_as_python_would(program, status):
    require_sandbox()
    import rlvr

    verdict = rlvr.score("code", [f"```python\n{program}```"], [{"tests": [{"stdin": "", "stdout": "hi\n"}]}])[0]
    assert verdict.status == status, verdict.detail


MATCH_PROGRAM = "import re\n\ndef text_match(text):\n    return re.search('ab+', text)\n"
ISCLOSE_PROGRAM = "import math\n\ndef area(r):\n    return math.pi * r * r\n"


@pytest.mark.docker
@pytest.mark.parametrize(
    "program, test_code, entry, status",
    [
        (MATCH_PROGRAM, "assert text_match('xabbb')\nassert not text_match('xc')\n", "text_match", "correct"),
        (MATCH_PROGRAM, "assert text_match('xabbb') == 'abbb'\n", "text_match", "wrong"),  # an opaque value != str
        (ISCLOSE_PROGRAM, "assert math.isclose(area(2), 12.566370614359172)\n", "area", "correct"),
        (
            "def check(n):\n    return n == 2 * int(str(n)[::-1]) - 1\n",
            "assert check(73) == True\n",
            "check",
            "correct",
        ),
        (
            "import os\ndef f(x):\n    open('/tmp/by-program', 'w').close()\n    return x\n",
            "open('/tmp/by-test', 'w').close()\nassert f(1) == 1\n",  # both sides leave files: both are wiped
            "f",
            "correct",
        ),
        (
            "from builtins import len as set\ndef f(x):\n    return [9, 9]\n",  # a from-import never reaches the judge
            "assert set(f(1)) == set((4, 5))\n",
            "f",
            "wrong",
        ),
    ],
    ids=[
        "match-object-truthiness",
        "match-object-equality",
        "module-the-program-imports",
        "entry-named-check",
        "files-on-both-sides",
        "from-import-cannot-rebind",
    ],
)
def test_mbpp_style_test_code(program, test_code, entry, status):
    require_sandbox()
    verdict = V(f"```python\n{program}```", {"test_code": test_code, "entry_point": entry})
    assert verdict.status == status, verdict.detail


ANY_ORDER = "def check(input, expected, output):\n    return sorted(output.split()) == sorted(expected.split())\n"
HALF = "def check(input, expected, output):\n    return 0.5 if output.split() else 0.0\n"
STRICT_INT = "def check(input, expected, output):\n    return int(output) == int(expected)\n"  # raises on garbage


@pytest.mark.docker
@pytest.mark.parametrize(
    "program, extra, status, reward",
    [
        ("print(2, 1)", {"checker": ANY_ORDER}, "correct", 1.0),  # another valid answer than the expected one
        ("print(2, 2)", {"checker": ANY_ORDER}, "wrong", 0.0),
        ("print('x')", {"checker": HALF}, "wrong", 0.0),  # 0.5 is not a pass...
        ("print('not a number')", {"checker": STRICT_INT}, "wrong", 0.0),  # a checker that raises: wrong, not error
        ("import sys\nsys.stdout.write('1 ' * (1 << 20))", {"output_limit_bytes": 4 << 20}, "wrong", 0.0),
        ("import sys\nsys.stdout.write('1 ' * (1 << 20))", {}, "wrong", 0.0),
    ],
    ids=[
        "checker-other-answer",
        "checker-rejects",
        "checker-partial",
        "checker-raises",
        "big-output-allowed",
        "big-output-capped",
    ],
)
def test_special_judges_and_output_limits(program, extra, status, reward):
    require_sandbox()
    ref = {"tests": [{"stdin": "", "stdout": "1 2\n"}], **extra}
    verdict = V(f"```python\n{program}\n```", ref)
    assert (verdict.status, verdict.reward) == (status, reward), verdict.detail
    if "output_limit_bytes" in extra:
        assert "token" in verdict.detail  # judged on its content, not cut at the default 1 MiB
    elif "checker" not in extra and "1 " in program:
        assert "output limit" in verdict.detail


@pytest.mark.docker
def test_an_answer_over_the_default_output_cap_can_pass():
    """NWERC 2023 galaxyquest expects more than 1 MiB on some tests: without output_limit_bytes the cap makes room for
    the expected output (twice it), so right programs pass; a wrong one that floods is still cut; an explicit
    output_limit_bytes is the reference's rule and binds."""
    require_sandbox()
    big = "7\n" * (1 << 20)  # 2 MiB
    ref = {"tests": [{"stdin": "", "stdout": big}]}
    program = "```python\nimport sys\nsys.stdout.write('7\\n' * (1 << 20))\n```"
    assert V(program, ref).status == "correct", V(program, ref).detail
    flood = V("```python\nimport sys\nsys.stdout.write('7\\n' * (1 << 22))\n```", ref)
    assert flood.status == "wrong" and "output limit" in flood.detail, flood.detail
    capped = V(program, {**ref, "output_limit_bytes": 1 << 20})
    assert capped.status == "wrong" and "output limit" in capped.detail, capped.detail


@pytest.mark.docker
def test_partial_credit_from_a_checker():
    require_sandbox()
    ref = {"tests": [{"stdin": "", "stdout": "1\n"}, {"stdin": "", "stdout": "2\n"}], "checker": HALF}
    verdict = CodeVerifier(partial=True)("```python\nprint('x')\n```", ref)
    assert verdict.status == "wrong" and verdict.reward == pytest.approx(0.5), verdict


@pytest.mark.docker
def test_verifier_wide_float_tolerance_for_references_without_one():
    require_sandbox()
    ref = {"tests": [{"stdin": "", "stdout": "0.333333\n"}]}
    program = "```python\nprint(1 / 3)\n```"
    assert V(program, ref).status == "wrong"  # no tolerance anywhere: numbers compare as text
    assert CodeVerifier(float_tolerance=1e-6)(program, ref).status == "correct"
    assert CodeVerifier(float_tolerance=1e-6)(program, {**ref, "float_tolerance": {"abs": 1e-9}}).status == "wrong"
