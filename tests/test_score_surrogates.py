"""`rlvr score` grades any valid JSON string, lone surrogates included, and always writes its output (issue 13).

``"\\ud800"`` is valid JSON but not encodable as UTF-8: the final write used to crash and lose every graded row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import require_sandbox

LONE = "\ud800"
ROWS = {
    "math": [
        {"completion": f"The answer is \\boxed{{3}} {LONE}", "reference": "3"},
        {"completion": f"{LONE}\\boxed{{{LONE}}}", "reference": f"3{LONE}"},
    ],
    "format": [{"completion": f"<think>{LONE}</think> \\boxed{{1}}", "reference": ""}],
    "code": [
        {"completion": f"```python\nprint('{LONE}')\n```", "reference": {"tests": [{"stdin": "", "stdout": "x\n"}]}},
        {
            "completion": "```python\nprint(input())\n```",
            "reference": {"tests": [{"stdin": f"{LONE}\n", "stdout": "y"}]},
        },
        {
            "completion": "```python\ndef f(x):\n    return x + 'a'\n```",
            "reference": {"fn_name": "f", "tests": [{"args": [LONE], "expected": f"{LONE}a"}]},
        },
    ],
}


@pytest.mark.parametrize("verifier", sorted(ROWS))
def test_lone_surrogates_are_graded_and_written(tmp_path, verifier):
    if verifier == "code":
        require_sandbox()
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS[verifier]), encoding="ascii")
    cmd = [
        sys.executable,
        "-m",
        "rlvr.cli",
        "score",
        "--verifier",
        verifier,
        "--input",
        str(src),
        "--output",
        str(dst),
    ]
    proc = subprocess.run(cmd + ["--no-progress"], capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [o["completion"] for o in out] == [r["completion"] for r in ROWS[verifier]]  # kept, escaped on disk
    assert all(o["status"] in ("correct", "wrong", "no_answer") for o in out), out
    if verifier == "code":
        assert [o["status"] for o in out] == ["wrong", "wrong", "correct"], [o["detail"] for o in out]
