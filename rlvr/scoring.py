"""The one scoring engine: runs any verifier over many rows, quickly, and never hangs.

Training reward functions, ``rlvr score``, ``rlvr eval`` and ``rlvr.verify()`` all come through here. What it does, and why:

- **Killable worker processes.** ``judge`` runs in a pool of long-lived processes; each row has a hard wall-clock
  limit, and a worker that passes it is killed (SIGKILL) and replaced. math-verify's own timeout relies on SIGALRM,
  which silently does nothing off the main thread, and TRL calls reward functions from threads; an answer such as
  ``\\boxed{9^{9^{9^9}}}`` would otherwise hang training. Workers fork from a forkserver that has already imported the
  verifiers, so a replacement is ready in milliseconds, and each has an address-space limit.
- **A cache** keyed on (verifier + options, extracted answer, reference): a GRPO group of 16 samples often holds only
  a few distinct answers, and each distinct one is graded once. Duplicates inside one batch are folded too.
- **Host shortcut.** A verifier may decide a row in the calling process (``quick_judge``) where that is cheap on any
  input and gives the worker's own verdict (the math verifier: no step needs sympy, both sides short). Such rows
  cost no pipe round trip, and a batch made only of them never waits for the workers.
- **Workers judge while the input is still read.** The pool is started in the background (by ``start()``, or at the
  first row that needs it), and a runner thread hands it each row that needs a worker as soon as the pass over the
  input finds it (``JobFeed``); the verdicts are put in place once the pass and the workers are both done.
- **Input cap.** Only the tail of a very long completion is parsed (the final answer is at the end); 50 KB of noise
  before ``\\boxed{3}`` costs nothing.
- **Order kept, nothing lost.** Results come back in input order; a crash or hang on one row is that row's verdict
  (``timeout`` or ``error``), never the batch's.
- **Any thread.** ``score()`` may be called from any thread; one lock serialises use of a pool.

Verifiers with ``isolation = "thread"`` (the Docker code runner) bring their own isolation and time limits; they are
run on a thread pool of ``verifier.concurrency()`` threads instead.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import multiprocessing as mp
import os
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from rlvr.verifiers.base import Verdict, Verifier, error, get_verifier, no_answer

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_CHARS = 16_000
DEFAULT_WORKER_MEMORY_MB = 4096


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


# ----------------------------------------------------------------------------------------------------------- workers


def _worker_main(conn: Connection, memory_mb: int) -> None:
    """Loop in a worker process: receive (job_id, verifier key, verifier or None, extracted, reference), reply."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it kills us
    if memory_mb > 0:
        try:
            import resource

            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
    verifiers: dict[str, Verifier] = {}
    while True:
        try:
            job_id, key, verifier, extracted, reference = conn.recv()
        except (EOFError, OSError):
            return  # the parent has gone
        if verifier is not None:
            verifiers[key] = verifier
        try:
            verdict = verifiers[key].judge(extracted, reference)
            if not isinstance(verdict, Verdict):
                verdict = error(f"verifier returned {type(verdict).__name__}, not a Verdict")
        except MemoryError:
            verdict = Verdict(0.0, "timeout", extracted, "grader ran out of memory on this answer")
        except RecursionError:
            verdict = Verdict(0.0, "wrong", extracted, "answer too deeply nested to grade")
        except Exception as exc:  # the grader failed, not the model
            verdict = error(f"{type(exc).__name__}: {exc}".strip()[:500] + _where(exc))
        try:
            conn.send((job_id, verdict))
        except (EOFError, OSError):
            return


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""


def _context() -> mp.context.BaseContext:
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        # Workers (and their replacements) fork from a server that has already paid for these imports.
        ctx.set_forkserver_preload(["rlvr.verifiers", "rlvr.verifiers._preload"])
        return ctx
    return mp.get_context("spawn")


@contextlib.contextmanager
def _main_module_hidden():
    """Start workers without re-running the caller's script.

    multiprocessing's forkserver/spawn children re-import ``__main__``; a script or notebook that calls
    ``rlvr.score`` at top level without an ``if __name__ == "__main__"`` guard would then recurse and every row would
    come back as an error. Workers need only the verifier's own module, so ``__main__`` is hidden while they start
    (verifiers must therefore live in an importable module, which ``_check_importable`` says plainly).
    """
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__.pop(k) for k in ("__file__",) if main is not None and k in main.__dict__}
    spec = getattr(main, "__spec__", None)
    if main is not None:
        main.__spec__ = None
    try:
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            main.__spec__ = spec


def _check_importable(verifier: Verifier) -> None:
    if type(verifier).__module__ == "__main__":
        raise TypeError(
            f"verifier {verifier.name!r} is defined in the __main__ script; grader processes cannot import it. "
            f"Move it into a module (e.g. my_verifiers.py) and import it from there."
        )


class _Worker:
    def __init__(self, ctx: mp.context.BaseContext, memory_mb: int) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, memory_mb), daemon=True, name="rlvr-scorer")
        with _main_module_hidden():
            self.proc.start()
        child.close()
        self.known: set[str] = set()  # verifier keys this worker already holds

    def send(self, job_id: int, verifier: Verifier, key: str, extracted: Any, reference: Any) -> None:
        payload = verifier if key not in self.known else None
        self.conn.send((job_id, key, payload, extracted, reference))
        self.known.add(key)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


FEED_POLL_S = 0.005  # how often a pool whose feed is still open looks for new jobs
CANCEL_POLL_S = 0.25  # how soon a pool notices that its caller gave up (Ctrl-C), at the latest


@dataclass
class JobFeed:
    """Jobs handed from the scoring pass to the pool while the pass is still finding them (one thread appends, the
    pool's thread reads; ``list.append`` and the flags are atomic under the GIL)."""

    items: list[tuple[Any, Any]] = field(default_factory=list)
    closed: bool = False  # no more jobs will come
    cancelled: bool = False  # stop now (the caller failed)


class WorkerPool:
    """N killable processes that judge one row at a time each."""

    def __init__(self, workers: int, memory_mb: int = DEFAULT_WORKER_MEMORY_MB) -> None:
        self.size = max(1, workers)
        self.memory_mb = memory_mb
        self._ctx = _context()
        self._workers: list[_Worker] = []
        self.replaced = 0
        self._up_lock = threading.Lock()
        self._up = self._abandoned = False

    def ensure(self) -> None:
        """Start missing workers (blocks until each one runs)."""
        while len(self._workers) < self.size:
            self._workers.append(_Worker(self._ctx, self.memory_mb))

    def bring_up(self) -> None:
        """``ensure`` on a background thread; a pool abandoned meanwhile (``Scorer.close`` before any use) is closed
        here, so that closing never waits for the workers' imports."""
        try:
            self.ensure()
        except BaseException:
            if not self._abandoned:  # an abandoned start may fail on purpose (stop_forkserver)
                raise
        finally:
            with self._up_lock:
                self._up = True
                if self._abandoned:
                    self.close()

    def abandon(self) -> bool:
        """Called by the owner instead of waiting for ``bring_up``: True if the pool is already up (the owner closes
        it), else False (``bring_up`` closes it when it is)."""
        with self._up_lock:
            self._abandoned = True
            return self._up

    def run(
        self,
        verifier: Verifier,
        jobs: Sequence[tuple[Any, Any]] | JobFeed,
        timeout: float,
        on_done: Callable[[int, Verdict], None],
    ) -> None:
        """Judge ``jobs`` [(extracted, reference)], calling ``on_done(index, verdict)`` as each finishes.

        ``jobs`` may be a :class:`JobFeed` that another thread is still filling: workers start on the first jobs while
        the rest are being found, and the call returns once the feed is closed and every job in it is judged."""
        _check_importable(verifier)
        self.ensure()
        feed = jobs if isinstance(jobs, JobFeed) else JobFeed(list(jobs), closed=True)
        key = verifier.cache_key()
        next_job, retry = 0, []  # retry: jobs whose send failed on a dead pipe
        idle = list(self._workers)
        busy: dict[Connection, tuple[_Worker, int, float]] = {}
        while True:
            if feed.cancelled:  # the caller gave up: stop, and leave no worker with a reply still owed
                for w, _, _ in busy.values():
                    self._replace(w)
                return
            while idle and (retry or next_job < len(feed.items)):
                w = idle.pop()
                if retry:
                    i = retry.pop()
                else:
                    i, next_job = next_job, next_job + 1
                try:
                    w.send(i, verifier, key, *feed.items[i])
                except (OSError, EOFError, ValueError):  # a dead pipe; try again on a fresh worker
                    retry.append(i)
                    idle.append(self._replace(w))
                    continue
                busy[w.conn] = (w, i, time.monotonic() + timeout)
            open_feed = not feed.closed  # read before the item count: items are added before the feed closes
            if not busy:
                if not open_feed and not retry and next_job >= len(feed.items):
                    return
                time.sleep(FEED_POLL_S)  # every worker idle; the caller has not found more jobs yet
                continue
            wait_s = max(0.0, min(d for _, _, d in busy.values()) - time.monotonic())
            for conn in wait(list(busy), timeout=min(wait_s, FEED_POLL_S if open_feed else CANCEL_POLL_S)):
                w, i, _ = busy.pop(conn)
                try:
                    _, verdict = conn.recv()
                    idle.append(w)
                except (EOFError, OSError):
                    verdict = error(f"grader process died (exit code {w.proc.exitcode}) on this answer")
                    idle.append(self._replace(w))
                on_done(i, verdict)
            now = time.monotonic()
            for conn, (w, i, d) in list(busy.items()):
                if now >= d:
                    del busy[conn]
                    idle.append(self._replace(w))
                    on_done(i, Verdict(0.0, "timeout", None, f"grading took longer than {timeout:g}s; worker killed"))

    def _replace(self, w: _Worker) -> _Worker:
        w.kill()
        self.replaced += 1
        fresh = _Worker(self._ctx, self.memory_mb)
        self._workers[self._workers.index(w)] = fresh
        return fresh

    def close(self) -> None:
        for w in self._workers:
            w.kill()
        self._workers.clear()


# ----------------------------------------------------------------------------------------------------------- scorer


@dataclass
class ScoreStats:
    rows: int = 0
    graded: int = 0  # distinct answers actually judged (after the cache and de-duplication), on the host or a worker
    on_host: int = 0  # of those, decided in this process by the verifier's ``quick_judge``, with no worker
    cache_hits: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)


class Scorer:
    """Scores rows with one verifier. Thread-safe; keep one alive to reuse its workers and cache."""

    def __init__(
        self,
        verifier: Verifier,
        *,
        workers: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_chars: int | None = DEFAULT_MAX_CHARS,
        cache_size: int = 200_000,
        memory_mb: int = DEFAULT_WORKER_MEMORY_MB,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.verifier = verifier
        self.workers = workers or default_workers()
        self.timeout = timeout
        self.max_chars = max_chars
        self._cache: OrderedDict[tuple[str, str], Verdict] = OrderedDict()
        self._cache_size = cache_size
        self._memory_mb = memory_mb
        self._pool: WorkerPool | None = None
        self._starting: threading.Thread | None = None
        self._lock = threading.Lock()
        self.last = ScoreStats()
        self._submitter: ThreadPoolExecutor | None = None  # started by the first submit()
        self.abandoned_start = False  # close() left a worker start that nothing needed to finish on its own
        self._submitter_lock = threading.Lock()

    def score(self, completions: Sequence[str], references: Sequence[Any], *, progress: bool = False) -> list[Verdict]:
        if len(completions) != len(references):
            raise ValueError(f"{len(completions)} completions but {len(references)} references")
        with self._lock:
            return self._score(completions, references, progress)

    def submit(self, completions: Sequence[str], references: Sequence[Any]) -> Future[list[Verdict]]:
        """Start grading in the background; returns a Future of the verdicts, in input order, with the same cache,
        input cap and time limits as ``score()`` (it runs the same code). Thread-safe: jobs from any thread run one
        after another on one background thread (each one uses the whole worker pool). The future's ``stats``
        attribute holds the job's ``ScoreStats`` once it is done. The inputs are copied now, so the caller may reuse
        its lists."""
        if len(completions) != len(references):
            raise ValueError(f"{len(completions)} completions but {len(references)} references")
        completions, references = list(completions), list(references)
        future: Future[list[Verdict]] = Future()
        future.stats = None  # type: ignore[attr-defined]

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                with self._lock:
                    verdicts = self._score(completions, references, False)
                    future.stats = self.last  # type: ignore[attr-defined]
            except BaseException as exc:  # the caller sees it from result()
                future.set_exception(exc)
            else:
                future.set_result(verdicts)

        with self._submitter_lock:
            if self._submitter is None:
                self._submitter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rlvr-submit")
            self._submitter.submit(run)
        return future

    def start(self) -> Scorer:
        """Start the grader processes in the background now (they take a second or two to import the verifiers), so
        that other work overlaps with it. Optional: ``score`` starts them in the background at the first row that
        needs one (a batch that the verifier decides on the host, ``quick_judge``, never starts them)."""
        with self._lock:
            self._start_pool()
        return self

    def _start_pool(self) -> None:
        """Start the workers in the background unless they run or are starting (the caller holds ``_lock``)."""
        if self.verifier.isolation == "process" and self._pool is None:
            _check_importable(self.verifier)
            self._pool = WorkerPool(self.workers, self._memory_mb)
            self._starting = threading.Thread(target=self._pool.bring_up, name="rlvr-pool-start", daemon=True)
            self._starting.start()

    def _score(self, completions: Sequence[str], references: Sequence[Any], progress: bool) -> list[Verdict]:
        start = time.perf_counter()
        out: list[Verdict | None] = [None] * len(completions)
        groups: dict[tuple[str, str], list[int]] = {}  # cache key -> rows waiting on it
        keys: list[tuple[str, str]] = []  # job j is keys[j]
        feed = JobFeed()  # the jobs for the workers, handed over as the pass finds them
        results: list[tuple[int, Verdict]] = []  # (j, verdict), as they come back
        runner: _Runner | None = None
        stats = ScoreStats(rows=len(completions))
        try:
            for i, (completion, reference) in enumerate(zip(completions, references)):
                extracted = self._extract(completion)
                if isinstance(extracted, Verdict):  # no answer, or extraction itself failed
                    out[i] = extracted
                    continue
                key = (_key(extracted), _key(reference))
                if key in self._cache:
                    self._cache.move_to_end(key)
                    out[i] = self._cache[key].with_extracted(_shown(extracted))
                    stats.cache_hits += 1
                    continue
                if key in groups:
                    groups[key].append(i)
                    continue
                quick = self._quick(extracted, reference)
                if quick is not None:  # decided on the host, the same verdict a worker would give
                    out[i] = quick.with_extracted(_shown(extracted))
                    self._remember(key, out[i])
                    stats.on_host += 1
                    continue
                groups[key] = [i]
                keys.append(key)
                feed.items.append((extracted, reference))
                if runner is None and self.verifier.isolation == "process":
                    runner = self._pool_runner(feed, results)  # the workers judge while this pass goes on
        except BaseException:
            feed.cancelled = True  # the runner stops and leaves no reply owed; wait for it, the pool is shared
            if runner is not None:
                runner.join()
            raise
        finally:
            feed.closed = True
        stats.graded = len(keys) + stats.on_host
        self._wait_for_jobs(feed, runner, results, progress)
        for j, verdict in results:
            key = keys[j]
            verdict = verdict.with_extracted(_shown(feed.items[j][0]))
            if verdict.status != "error":  # an infrastructure fault may not repeat; don't remember it
                self._remember(key, verdict)
            for i in groups[key]:
                out[i] = verdict
        verdicts = [v if v is not None else error("row was not graded") for v in out]
        stats.seconds = time.perf_counter() - start
        for v in verdicts:
            stats.by_status[v.status] = stats.by_status.get(v.status, 0) + 1
        self.last = stats
        return verdicts

    def _pool_runner(self, feed: JobFeed, results: list[tuple[int, Verdict]]) -> _Runner:
        """Start the workers if needed, and a thread that feeds them ``feed``'s jobs as they arrive."""
        self._start_pool()
        assert self._pool is not None
        pool, starting = self._pool, self._starting
        self._starting = None  # the runner waits for it

        def work() -> None:
            if starting is not None:
                starting.join()
            pool.run(self.verifier, feed, self.timeout, lambda j, verdict: results.append((j, verdict)))

        runner = _Runner(target=work, name="rlvr-pool-run", daemon=True)
        runner.start()
        return runner

    def _wait_for_jobs(
        self, feed: JobFeed, runner: _Runner | None, results: list[tuple[int, Verdict]], progress: bool
    ) -> None:
        bar = _progress(len(feed.items), progress)
        try:
            if feed.items and self.verifier.isolation == "thread":
                self._run_threads(feed.items, lambda j, verdict: (results.append((j, verdict)), _advance(bar, 1)))
            elif runner is not None:
                while runner.is_alive():  # the progress bar is drawn from this thread
                    runner.join(0.1)
                    _advance(bar, len(results) - (bar.n if bar is not None else 0))
                if runner.failure is not None:
                    raise runner.failure
        except BaseException:
            feed.cancelled = True
            if runner is not None:
                runner.join()
            raise
        finally:
            if bar is not None:
                bar.close()

    def _quick(self, extracted: Any, reference: Any) -> Verdict | None:
        try:
            verdict = self.verifier.quick_judge(extracted, reference)
        except Exception:  # a verifier's shortcut failing is no verdict: the worker decides
            return None
        return verdict if isinstance(verdict, Verdict) and verdict.status != "error" else None

    def _extract(self, completion: Any) -> Any:
        if not isinstance(completion, str):
            return error(f"completion must be a string, got {type(completion).__name__}")
        limit = getattr(
            self.verifier, "max_input_chars", self.max_chars
        )  # None: the verifier refuses long input itself
        if limit and len(completion) > limit:
            completion = completion[-limit:]
        try:
            extracted = self.verifier.extract(completion)
        except Exception as exc:
            return error(f"answer extraction failed: {type(exc).__name__}: {exc}"[:500])
        return no_answer() if extracted is None else extracted

    def _run_threads(self, jobs: list[tuple[Any, Any]], done: Callable[[int, Verdict], None]) -> None:
        def one(j: int) -> tuple[int, Verdict]:
            try:
                return j, self.verifier.judge(*jobs[j])
            except Exception as exc:
                return j, error(f"{type(exc).__name__}: {exc}"[:500])

        n = self.verifier.concurrency() or self.workers
        with ThreadPoolExecutor(max_workers=max(1, min(n, len(jobs))), thread_name_prefix="rlvr-judge") as ex:
            for j, verdict in ex.map(one, range(len(jobs))):
                done(j, verdict)

    def _remember(self, key: tuple[str, str], verdict: Verdict) -> None:
        self._cache[key] = verdict
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def close(self) -> None:
        with self._submitter_lock:  # finish submitted jobs first: their callers are waiting on them
            submitter, self._submitter = self._submitter, None
        if submitter is not None:
            submitter.shutdown(wait=True)
        with self._lock:
            pool, starting, self._pool, self._starting = self._pool, self._starting, None, None
            if pool is None:
                return
            if starting is not None:
                # Started in advance but never needed (every row was decided on the host): do not wait for the
                # workers' imports; the start thread closes what it started once it is done.
                if not pool.abandon():
                    self.abandoned_start = True
                    return
                starting.join()
            pool.close()


def stop_forkserver() -> None:
    """Kill the forkserver this process started, at the end of a one-shot command (its workers closed, or never
    needed): it would otherwise go on importing sympy for a second, or tear sympy's heap down for a quarter of a second,
    after the command ends, holding its stdout and stderr open (a caller that reads them waits that long)."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)  # CPython's, where it exists
    if isinstance(pid, int) and pid > 0:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)


def _key(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=repr)


def _shown(extracted: Any) -> str | None:
    return extracted if isinstance(extracted, str) or extracted is None else _key(extracted)


class _Runner(threading.Thread):
    """A thread that keeps the exception its target raised, for the thread that waits on it to raise."""

    failure: BaseException | None = None

    def run(self) -> None:
        try:
            super().run()
        except BaseException as exc:  # re-raised by Scorer._wait_for_jobs
            self.failure = exc


def _advance(bar: Any, n: int) -> None:
    if bar is not None and n > 0:
        bar.update(n)


def _progress(total: int, enabled: bool):
    if not enabled or total < 1:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="grading", unit="answer", dynamic_ncols=True, leave=False)


# ------------------------------------------------------------------------------------------------- module-level API

_SCORERS: dict[tuple[str, int | None, float, int | None], Scorer] = {}
_SCORERS_LOCK = threading.Lock()


def get_scorer(
    verifier: str | Verifier,
    *,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    **options: Any,
) -> Scorer:
    """A shared, long-lived Scorer for this verifier and settings (its workers and cache survive between calls)."""
    v = get_verifier(verifier, **options) if isinstance(verifier, str) else verifier
    key = (v.cache_key(), workers, timeout, max_chars)
    with _SCORERS_LOCK:
        if key not in _SCORERS:
            _SCORERS[key] = Scorer(v, workers=workers, timeout=timeout, max_chars=max_chars)
        return _SCORERS[key]


def score(
    verifier: str | Verifier,
    completions: Sequence[str],
    references: Sequence[Any],
    *,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = False,
    **options: Any,
) -> list[Verdict]:
    """Grade ``completions`` against ``references`` with a registered verifier; results in input order."""
    scorer = get_scorer(verifier, workers=workers, timeout=timeout, **options)
    return scorer.score(completions, references, progress=progress)


def verify(name: str, completion: str, reference: Any, **options: Any) -> Verdict:
    """Grade one completion with a hard time limit (``rlvr.verify("math", "... \\boxed{4}", "4")``)."""
    return score(name, [completion], [reference], **options)[0]


@atexit.register
def close_all() -> None:
    """Stop every shared scorer's workers (also run at interpreter exit)."""
    with _SCORERS_LOCK:
        for s in _SCORERS.values():
            s.close()
        _SCORERS.clear()
