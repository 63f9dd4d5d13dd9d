"""Answers built to hang sympy, mixed with honest rows, through ``rlvr score --verifier math --timeout 2``.

The whole file must finish inside 60 s, every bomb must get reward 0, the honest rows must be graded right, and a
correct ``\\boxed{3}`` after 50 KB of noise must be found (the scoring engine keeps the last 16,000 characters).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

BOMBS = [
    "\\boxed{9^{9^{9^{9}}}}",
    "\\boxed{10^{10^{10}}}",
    "\\boxed{(10^{10})!}",
    "\\boxed{1000000000!}",
    "\\boxed{10^{100000000}}",
    "\\boxed{2^{2^{2^{2^{2^{2}}}}}}",
    "\\boxed{\\binom{10^{9}}{10^{5}}}",
    "\\boxed{" + "{" * 400 + "3" + "}" * 400 + "}",
    "\\boxed{" + "\\sqrt{" * 400 + "9" + "}" * 400 + "}",
    "\\boxed{" + "(" * 400 + "3" + ")" * 400 + "}",
    "\\boxed{" + "+".join(["x^{99}"] * 2000) + "}",
    "\\boxed{3 \\cdot 10^{10^{12}} / 10^{10^{12}}}",
]
HONEST = [
    ("The answer is \\boxed{3}.", "3", 1.0),
    ("So we get \\boxed{\\frac{1}{2}}.", "0.5", 1.0),
    ("Hence \\boxed{2\\sqrt{2}}.", "\\sqrt{8}", 1.0),
    ("Thus \\boxed{(3,4]}.", "(3,4]", 1.0),
    ("Thus \\boxed{7}.", "8", 0.0),
    ("Final answer: 1,000", "1000", 1.0),
]


@pytest.mark.slow
def test_bombs_get_zero_and_honest_rows_are_graded(tmp_path):
    rows = [{"id": f"bomb-{i}", "completion": c, "reference": "3"} for i, c in enumerate(BOMBS)]
    rows += [{"id": f"honest-{i}", "completion": c, "reference": r, "want": w} for i, (c, r, w) in enumerate(HONEST)]
    noise = "Let x_{k} = \\frac{k}{k+1} and {[( " * 1700
    rows.append(
        {"id": "noise", "completion": noise + "\nTherefore the answer is \\boxed{3}.", "reference": "3", "want": 1.0}
    )
    assert len(rows[-1]["completion"]) > 50_000
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cmd = [
        sys.executable,
        "-m",
        "rlvr.cli",
        "score",
        "--verifier",
        "math",
        "--input",
        str(src),
        "--output",
        str(out),
        "--timeout",
        "2",
        "--no-progress",
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 60, f"took {elapsed:.1f}s"
    graded = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    for i in range(len(BOMBS)):
        assert graded[f"bomb-{i}"]["reward"] == 0.0, graded[f"bomb-{i}"]
        assert graded[f"bomb-{i}"]["status"] in ("wrong", "timeout"), graded[f"bomb-{i}"]
    for row in rows:
        if "want" in row:
            assert graded[row["id"]]["reward"] == row["want"], graded[row["id"]]
    assert graded["noise"]["extracted"] == "3"


def test_two_equations_that_sympy_solve_would_grind_on_are_decided_in_seconds():
    """A published Minerva answer (ShorterBetter-1.5B, problem 146) against its equation-of-motion reference: math-verify
    hands both to ``sympy.solve`` for all six symbols, which ran 12 s and timed out; the solve is now bounded (2 s),
    and an equation that is the reference scaled by a constant needs no solve at all."""
    from rlvr.verifiers.math import MathVerifier

    v = MathVerifier()
    gold = "ml\\ddot{\\theta}(t)-mg\\sin\\theta(t)=f(t)\\cos\\theta(t)"
    start = time.perf_counter()
    verdict = v.judge("\\dfrac{d^2\\theta}{dt^2}=\\dfrac{f(t)\\sin\\theta}{ml}", gold)
    assert verdict.status == "wrong" and time.perf_counter() - start < 6.0, verdict
    scaled = v.judge("2ml\\ddot{\\theta}(t)-2f(t)\\cos\\theta(t)=2mg\\sin\\theta(t)", gold)
    assert scaled.status == "correct", scaled


def test_the_solve_bound_leaves_a_callers_own_alarm_alone():
    """The 2 s bound uses SIGALRM only where nobody else does: with a caller's timer pending (pytest-timeout, math-verify's
    own), the work runs unbounded and the caller's timer and handler are untouched."""
    import signal

    from rlvr.verifiers.math.equivalence import _within

    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers here")
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        assert _within(0.05, lambda: (time.sleep(0.2), True)[1]) is True  # not cut at 0.05 s
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 25 and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert _within(0.05, lambda: (time.sleep(0.5), True)[1]) is None  # alone, the bound holds
