"""The scoring engine hands jobs to its workers while the pass over the input is still running (``JobFeed``).

What that must not break: a job found late is judged; a pass that fails half-way (a bad row, Ctrl-C) leaves no worker
with a reply still owed, so the next batch on the same scorer gets its own verdicts; the time limit still holds for
jobs fed in while others run.
"""

from __future__ import annotations

import threading
import time

import pytest

import tests.plugin_verifiers  # noqa: F401  (registers the test verifiers)
from rlvr.scoring import JobFeed, Scorer, WorkerPool
from rlvr.verifiers import Verdict, get_verifier


class _Boom(Exception):
    pass


def _rows_then_boom(rows: list[str], fail_at: int):
    for i, row in enumerate(rows):
        if i == fail_at:
            time.sleep(0.3)  # long enough for the workers to be busy with the rows before
            raise _Boom("the input broke half-way")
        yield row


@pytest.fixture
def sleepy():
    s = Scorer(get_verifier("test_sleepy"), workers=2, timeout=2.0)
    yield s
    s.close()


def test_a_pass_that_fails_half_way_leaves_the_pool_clean(sleepy):
    assert sleepy.score(["0"], [None])[0].status == "correct"  # workers up, so the failing pass meets busy ones
    rows = ["5", "6", "0.2", "0.1", "0"]
    with pytest.raises(_Boom):
        sleepy.score(_Sized(rows, fail_at=3), [None] * len(rows))  # type: ignore[arg-type]
    assert sleepy._pool is not None and sleepy._pool.replaced == 2, "the two busy workers were not replaced"
    # the same pool, next batch: each verdict is this batch's own (a stale reply would carry another answer)
    answers = ["0.05", "0", "0.02", "0.01"]
    verdicts = sleepy.score(answers, [None] * len(answers))
    assert [v.extracted for v in verdicts] == answers
    assert all(v.status == "correct" for v in verdicts)


class _Sized:
    """A sequence that raises when the pass reaches row ``fail_at`` (after earlier rows went to the workers)."""

    def __init__(self, rows: list[str], fail_at: int) -> None:
        self.rows, self.fail_at = rows, fail_at

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return _rows_then_boom(self.rows, self.fail_at)


def test_jobs_fed_while_others_run_are_judged_in_order_and_timed():
    pool = WorkerPool(2)
    feed = JobFeed()
    done: dict[int, Verdict] = {}
    verifier = get_verifier("test_sleepy")
    runner = threading.Thread(target=pool.run, args=(verifier, feed, 1.0, lambda j, v: done.__setitem__(j, v)))
    try:
        feed.items.append(("0.2", None))
        runner.start()
        time.sleep(0.3)  # the first job is running or done; more arrive later, one of them hangs
        feed.items += [("60", None), ("0", None), ("0.1", None)]
        feed.closed = True
        runner.join(20)
        assert not runner.is_alive()
    finally:
        pool.close()
    assert sorted(done) == [0, 1, 2, 3]
    assert done[1].status == "timeout" and all(done[j].status == "correct" for j in (0, 2, 3))
    assert pool.replaced == 1
