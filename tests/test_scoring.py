"""The scoring engine: order kept, hard time limits, crashes contained, cache and de-duplication, any thread."""

from __future__ import annotations

import pickle
import threading
import time

import pytest

import tests.plugin_verifiers  # noqa: F401  (registers the test verifiers)
from rlvr.scoring import Scorer, score
from rlvr.verifiers import get_verifier


@pytest.fixture
def sleepy():
    s = Scorer(get_verifier("test_sleepy"), workers=2, timeout=1.0)
    yield s
    s.close()


def test_results_keep_input_order(sleepy):
    answers = ["0.3", "0", "0.1", "0"]
    verdicts = sleepy.score([f"{a}" for a in answers], [None] * 4)
    assert [v.extracted for v in verdicts] == answers
    assert all(v.status == "correct" for v in verdicts)


def test_hung_row_is_killed_and_the_rest_survive(sleepy):
    start = time.monotonic()
    verdicts = sleepy.score(["60", "0", "61", "0.05"], [None] * 4)
    elapsed = time.monotonic() - start
    assert [v.status for v in verdicts] == ["timeout", "correct", "timeout", "correct"]
    assert verdicts[0].reward == 0.0 and "worker killed" in verdicts[0].detail
    assert elapsed < 10, f"two 60 s hangs with a 1 s limit took {elapsed:.1f}s"
    assert sleepy._pool is not None and sleepy._pool.replaced == 2
    # the replacements work
    assert sleepy.score(["0"], [None])[0].status == "correct"


def test_worker_crash_and_grader_exception_are_errors_not_wrong():
    s = Scorer(get_verifier("test_crashy"), workers=2, timeout=5)
    try:
        verdicts = s.score(["die", "a", "raise", "b", "die"], [None, "a", None, "x", None])
    finally:
        s.close()
    assert [v.status for v in verdicts] == ["error", "correct", "error", "wrong", "error"]
    assert "died" in verdicts[0].detail and "RuntimeError: grader bug" in verdicts[2].detail


def test_memory_hog_is_contained():
    s = Scorer(get_verifier("test_crashy"), workers=1, timeout=10, memory_mb=1024)
    try:
        verdicts = s.score(["hog", "a"], [None, "a"])
    finally:
        s.close()
    assert verdicts[0].reward == 0.0 and verdicts[0].status != "correct"
    assert verdicts[1].status == "correct"


def test_repeated_answers_are_graded_once(tmp_path):
    log = tmp_path / "judged.txt"
    s = Scorer(get_verifier("test_counting", path=str(log)), workers=2, timeout=5)
    try:
        group = ["7", "7", "8", "7", "", "8", "7", "9"] * 2  # one GRPO group of 16, three distinct answers + a blank
        first = s.score(group, ["7"] * 16)
        assert sorted(log.read_text().split()) == ["7", "8", "9"]
        assert s.last.graded == 3 and s.last.rows == 16
        again = s.score(group, ["7"] * 16)  # the cache answers every row
        assert s.last.graded == 0 and s.last.cache_hits == 14
        assert sorted(log.read_text().split()) == ["7", "8", "9"]
        different_reference = s.score(["7"], ["8"])
        assert different_reference[0].status == "wrong"
    finally:
        s.close()
    assert [v.reward for v in first] == [v.reward for v in again]
    assert first[4].status == "no_answer"
    assert sum(v.reward for v in first) == 8


def test_cache_key_includes_verifier_options(tmp_path):
    a = get_verifier("test_counting", path=str(tmp_path / "a"))
    b = get_verifier("test_counting", path=str(tmp_path / "b"))
    assert a.cache_key() != b.cache_key()


def test_input_is_capped_to_its_tail():
    s = Scorer(get_verifier("test_length"), workers=1, timeout=5, max_chars=100)
    try:
        verdict = s.score(["x" * 5000], ["100"])[0]
    finally:
        s.close()
    assert verdict.status == "correct"


def test_plain_function_verifier_and_pickle_round_trip():
    v = get_verifier("test_length")
    assert pickle.loads(pickle.dumps(v)) == v
    assert score("test_length", ["abc", "ab"], ["3", "3"], workers=1, timeout=5)[0].reward == 1.0


def test_format_verifier_survives_pickle():
    v = get_verifier("format")
    assert pickle.loads(pickle.dumps(v)) == v


def test_callable_from_many_threads_at_once():
    results: dict[int, list] = {}

    def work(k: int) -> None:
        results[k] = score("test_length", ["a" * k, "b"], [str(k), "2"], workers=2, timeout=5)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == list(range(1, 7))
    for k, verdicts in results.items():
        assert [v.reward for v in verdicts] == [1.0, 0.0], k


def test_mismatched_lengths_and_bad_timeout_are_errors():
    with pytest.raises(ValueError, match="2 completions but 1 references"):
        score("test_length", ["a", "b"], ["1"])
    with pytest.raises(ValueError, match="timeout must be positive"):
        Scorer(get_verifier("test_length"), timeout=0)


def test_non_string_completion_is_an_error_row():
    verdicts = score("test_length", ["a", None], ["1", "1"], workers=1, timeout=5)  # type: ignore[list-item]
    assert verdicts[0].status == "correct" and verdicts[1].status == "error"


def test_script_without_main_guard_scores(tmp_path):
    """Workers must not re-run the caller's script (no `if __name__ == "__main__"` guard, as in most notebooks)."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    script = tmp_path / "unguarded.py"
    script.write_text(
        "import rlvr\n"
        "print('RAN')\n"
        "v = rlvr.score('format', ['<think>a</think> \\\\boxed{1}', 'no'], [None, None], workers=2, timeout=20)\n"
        "print([x.reward for x in v])\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": REPO},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["RAN", "[1.0,", "0.0]"]


def test_verifier_defined_in_main_gets_a_clear_error():
    from dataclasses import dataclass

    from rlvr.scoring import _check_importable
    from rlvr.verifiers.base import Verifier

    @dataclass(frozen=True)
    class Local(Verifier):
        pass

    Local.__module__ = "__main__"
    with pytest.raises(TypeError, match="defined in the __main__ script"):
        _check_importable(Local())
