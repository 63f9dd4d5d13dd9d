"""The ``code`` verifier: extraction, host-side comparison and reference checks (no Docker), then end to end."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import pytest

from rlvr.sandbox import SandboxUnavailable
from rlvr.verifiers import get_verifier
from rlvr.verifiers.code import CodeVerifier, humaneval_calls, same_stdout, same_value
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


@pytest.mark.parametrize(
    "got, expected, ok",
    [
        ("3\n", "3", True),
        ("3   \n\n\n", "3\n", True),
        ("1 2\r\n3\r\n", "1 2\n3\n", True),
        ("3.0000001\n", "3.0\n", True),
        ("3.0\n", "3\n", False),  # an integer expected token gets no tolerance
        ("3.1\n", "3.0\n", False),
        ("1\n2\n", "1\n", False),
        ("", "3\n", False),
        ("nan\n", "nan\n", True),
        ("  3\n", "3\n", False),  # leading whitespace is kept
    ],
    ids=[
        "newline",
        "trailing-space",
        "crlf",
        "float-close",
        "int-token",
        "float-far",
        "extra-line",
        "empty",
        "nan",
        "leading-space",
    ],
)
def test_same_stdout(got, expected, ok):
    assert (same_stdout(got, expected, 1e-6) is None) is ok


@pytest.mark.parametrize(
    "got, expected, ok",
    [
        (1, 1, True),
        (True, 1, False),
        (1, True, False),
        (1.0, 1, False),
        (1, 1.0, True),
        (0.30000000000000004, 0.3, True),
        ([1, 2], [1, 2], True),
        ([1, 2], (1, 2), True),
        ([1, 2.0], [1, 2], False),
        ({"a": [1]}, {"a": [1]}, True),
        ({"a": 1, "b": 2}, {"a": 1}, False),
        (None, None, True),
        ("1", 1, False),
    ],
    ids=[
        "int",
        "bool-for-int",
        "int-for-bool",
        "float-for-int",
        "int-for-float",
        "float-close",
        "list",
        "tuple-expected",
        "nested-type",
        "dict",
        "extra-key",
        "none",
        "str-for-int",
    ],
)
def test_same_value(got, expected, ok):
    assert same_value(got, expected, 1e-6) is ok


def test_humaneval_asserts_become_host_calls():
    code = (
        "METADATA = {}\n\ndef check(candidate):\n    assert candidate([1, 2], 3) == (1, 2)\n"
        "    assert candidate('a') is True\n    assert not candidate(0)\n    assert candidate(2)\n"
        "    assert abs(candidate(1.0) - 0.5) < 1e-6\n    assert True, 'prints if it fails'\n"
    )
    calls = humaneval_calls(code)
    assert [(c.args, c.kind, c.value) for c in calls] == [
        ([[1, 2], 3], "equal", [1, 2]),
        (["a"], "equal", True),
        ([0], "falsy", None),
        ([2], "truthy", None),
        ([1.0], "close", 0.5),
    ]


@pytest.mark.parametrize(
    "code",
    [
        "def check(candidate):\n    for i in range(3):\n        assert candidate(i) == i\n",
        "def check(candidate):\n    assert candidate(x) == 1\n",
        "def check(candidate):\n    assert candidate({1, 2}) == 1\n",
        "def helper(c):\n    pass\n",
        "def check(candidate:\n",
    ],
    ids=["loop", "name-arg", "set-arg", "no-check", "syntax-error"],
)
def test_humaneval_other_shapes_stay_in_box(code):
    assert humaneval_calls(code) is None


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
    ("print(float(input()) / 3)", {"tests": [{"stdin": "1\n", "stdout": "0.333333\n"}]}, "correct"),
    ("print(input())", {"tests": [{"stdin": "x\n", "stdout": "y\n"}]}, "wrong"),
    (
        "def f(x):\n    return [x, {'k': x / 2}]",
        {"fn_name": "f", "tests": [{"args": [3], "expected": [3, {"k": 1.5}]}]},
        "correct",
    ),
    ("def f(x):\n    return True", {"fn_name": "f", "tests": [{"args": [1], "expected": 1}]}, "wrong"),
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
