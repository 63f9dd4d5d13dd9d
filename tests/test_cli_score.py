"""`rlvr score` end to end, as a user runs it: a real process, real files, real verifiers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": REPO}
    return subprocess.run(
        [sys.executable, "-m", "rlvr", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO
    )


def write(path, rows) -> str:
    with open(path, "w") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return str(path)


def test_output_keeps_fields_and_order_and_adds_verdicts(tmp_path):
    rows = [
        {"id": i, "extra": {"k": i}, "completion": f"<think>t</think> \\boxed{{{i}}}", "reference": "2"}
        for i in range(5)
    ]
    out = tmp_path / "out.jsonl"
    proc = run("score", "--verifier", "math", "--input", write(tmp_path / "in.jsonl", rows), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == [0, 1, 2, 3, 4]
    assert all(g["extra"] == {"k": g["id"]} for g in got)
    assert [g["reward"] for g in got] == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert {"status", "extracted", "detail"} <= set(got[0])
    summary = proc.stderr.strip().splitlines()[-1]
    assert "rows=5" in summary and "accuracy=0.2000" in summary and "correct=1" in summary and "rows/s=" in summary


def test_example_file_shipped_in_the_repo_scores():
    out = os.path.join(REPO, "runs", "test-example", "scored.jsonl")
    proc = run(
        "score", "--verifier", "math", "--input", "examples/math_sample.jsonl", "--output", out, "--timeout", "3"
    )
    assert proc.returncode == 0, proc.stderr
    got = {r["id"]: r for r in map(json.loads, open(out))}
    assert got["half"]["status"] == "correct" and got["wrong"]["status"] == "wrong"
    assert got["bomb"]["reward"] == 0.0 and got["none"]["status"] == "no_answer"


@pytest.mark.parametrize(
    "lines,message",
    [
        (['{"completion": "a", "reference": "1"}', "{not json"], ":2: not valid JSON"),
        (['{"completion": "a"}'], ":1: missing field 'reference'"),
        (["[1, 2]"], ":1: expected a JSON object"),
        (['{"completion": 5, "reference": "1"}'], ":1: 'completion' must be a string"),
    ],
    ids=["malformed_json", "missing_field", "not_an_object", "completion_not_string"],
)
def test_bad_rows_name_the_line_exit_2_and_write_nothing(tmp_path, lines, message):
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n")  # an earlier run's output survives a failed run
    proc = run("score", "--verifier", "math", "--input", write(tmp_path / "in.jsonl", lines), "--output", str(out))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert out.read_text() == "previous results\n"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


def test_unknown_verifier_lists_known(tmp_path):
    proc = run(
        "score",
        "--verifier",
        "maths",
        "--input",
        write(tmp_path / "in.jsonl", []),
        "--output",
        str(tmp_path / "o.jsonl"),
    )
    assert proc.returncode == 2
    assert "unknown verifier 'maths'" in proc.stderr and "math" in proc.stderr and "format" in proc.stderr


def test_missing_input_file(tmp_path):
    proc = run(
        "score", "--verifier", "math", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl")
    )
    assert proc.returncode == 2 and "input file not found" in proc.stderr


def test_bad_flag_values(tmp_path):
    proc = run("score", "--verifier", "math", "--input", "x", "--output", "y", "--workers", "0")
    assert proc.returncode == 2 and "--workers" in proc.stderr


def test_verifier_options_from_the_command_line(tmp_path):
    rows = [{"completion": "ANSWER 12", "reference": None}, {"completion": "answer 12", "reference": None}]
    out = tmp_path / "o.jsonl"
    proc = run(
        "score",
        "--verifier",
        "format",
        "--option",
        "pattern=^ANSWER \\d+$",
        "--input",
        write(tmp_path / "in.jsonl", rows),
        "--output",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["reward"] for x in out.read_text().splitlines()] == [1.0, 0.0]


def test_verifiers_command_lists_descriptions():
    proc = run("verifiers")
    assert proc.returncode == 0
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert "math" in lines and "format" in lines
    assert "regex" in lines["format"].lower()
