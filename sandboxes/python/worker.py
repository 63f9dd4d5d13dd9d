"""The in-box worker of the rlvr Python sandbox: PID 1 of a long-lived container; standard library only.

It reads jobs from its stdin (the Docker attach stream), runs every test of a job in a fresh forked process as an
unprivileged user with time, memory and output limits, and writes one record per job to its stdout. The host
(``rlvr/sandbox.py``) judges those records; this file never sees an expected output and decides no pass or fail.

Frames, both directions: 4-byte big-endian length, then that many bytes of UTF-8 JSON.

    host -> box  {"id": str, "mode": "stdin"|"call"|"script", "program": str, "tests": [...], "time_limit": s,
                  "memory_mb": int, "output_limit": bytes, "stop_on_failure": bool, "fn_name": str?, "token": str?}
                 tests: stdin mode [str stdin...]; call mode [[args...]...]; script mode [str test source...]
    box -> host  {"id": same, "results": [{"exit": int|null, "signal": int|null, "seconds": float, "timed_out": bool,
                  "output_exceeded": bool, "stdout": str, "stderr": str, "result": str|null}...], "wiped": bool}

Why it is shaped like this:
- **fork per test** from this already-started interpreter: about 1 ms, where a fresh ``python3`` costs ~20 ms. The
  child sets its limits, drops to uid/gid 65534 (losing every capability: all its uids become non-zero), then runs
  the program. Nothing it does can reach fds 0/1 of this process (they are replaced in the child), and as another
  uid it can neither signal nor ptrace PID 1 nor open ``/proc/1/fd``.
- **a pid-namespace-wide sweep** after each test: this process is PID 1 of the container, so ``kill(-1, SIGKILL)``
  reaches every other process in the box (daemons that double-forked and called ``setsid`` included) and orphans are
  re-parented here; reaping until ``ECHILD`` proves that nothing is left.
- **scratch wiped** after each test, by a child running as uid 65534 (PID 1 holds no CAP_DAC_OVERRIDE/CAP_FOWNER, so
  it could not remove the program's files itself, and does not need to: the owner can always chmod and delete).
- **results on a private pipe** (call mode): the runner writes the JSON of the return value on fd 3 after the
  function returns. The program shares the process, so it *could* write there itself; that gains nothing, because
  the host compares the value with an expected output the box never saw.
"""

import json
import os
import resource
import select
import signal
import struct
import sys
import time

UID = GID = 65534
SCRATCH = ("/tmp", "/dev/shm")
STDERR_KEEP = 2000  # bytes of the program's stderr kept for the verdict's detail
RESULT_LIMIT = 1 << 20
VERSION = 1


# ------------------------------------------------------------------------------------------------------- framing


def read_exact(n):
    chunks = []
    while n:
        chunk = os.read(0, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame():
    head = read_exact(4)
    if head is None:
        return None
    body = read_exact(struct.unpack(">I", head)[0])
    return None if body is None else json.loads(body)


def write_frame(obj):
    body = json.dumps(obj, ensure_ascii=True).encode()
    data = struct.pack(">I", len(body)) + body
    while data:
        data = data[os.write(1, data) :]


# --------------------------------------------------------------------------------------------------- child side


def _plain(value, depth=0):
    """The return value as plain JSON data; exact built-in types only (an int subclass is refused, not trusted)."""
    t = type(value)
    if depth > 100:
        raise ValueError("return value nested more than 100 deep")
    if value is None or t is bool or t is int or t is float or t is str:
        return value
    if t is list or t is tuple:
        return [_plain(v, depth + 1) for v in value]
    if t is dict:
        if not all(type(k) is str for k in value):
            raise TypeError("dict keys of a return value must be str")
        return {k: _plain(v, depth + 1) for k, v in value.items()}
    raise TypeError(f"return value of type {t.__name__} cannot be judged; return plain data")


def _limit_child(job):
    os.setsid()  # its own session: a terminal-less process group, killed as one
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # the cgroup OOM killer takes the program, never PID 1
    except OSError:
        pass
    mem = int(job["memory_mb"]) << 20
    cpu = int(job["time_limit"]) + 1
    for res, value in (
        (resource.RLIMIT_AS, mem),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, 8 << 20),
        (resource.RLIMIT_NOFILE, 64),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_STACK, min(mem, 64 << 20)),
    ):
        resource.setrlimit(res, (value, value))
    os.chdir("/tmp")
    os.setgroups([])
    os.setgid(GID)
    os.setuid(UID)  # all uids non-zero now: the capability sets are cleared by the kernel
    if os.getuid() == 0 or os.geteuid() == 0:
        os._exit(120)


def _reset_python():
    import builtins
    import io

    os.environ.clear()
    os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"})
    sys.argv = ["solution.py"]
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", write_through=True)
    return {"__name__": "__main__", "__builtins__": builtins, "__file__": "solution.py"}


def _finish(code):
    try:
        sys.stdout.flush()
    except BaseException:
        code = code or 1
    os._exit(code)


def _run_child(job, test):
    """Runs in the forked child; never returns."""
    code = 1
    try:
        _limit_child(job)
        namespace = _reset_python()
        mode = job["mode"]
        if mode == "call":
            namespace["__name__"] = "solution"
        exec(compile(job["program"], "solution.py", "exec"), namespace)
        data = b""
        if mode == "script":  # judged in the box (see rlvr/verifiers/code.py): the token says the asserts all ran
            exec(compile(test, "test.py", "exec"), namespace)
            data = job["token"].encode()
        elif mode == "call":
            value = _call(namespace, job["fn_name"], test)
            text = json.dumps(_plain(value), allow_nan=True)
            if len(text) > RESULT_LIMIT:
                raise ValueError(f"return value is {len(text)} bytes of JSON; the limit is {RESULT_LIMIT}")
            data = text.encode()
        while data:
            data = data[os.write(3, data) :]
        code = 0
    except SystemExit as exc:
        code = exc.code if type(exc.code) is int else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        try:
            traceback.print_exc()
        except BaseException:
            pass
        code = 1
    _finish(code & 0xFF)


def _call(namespace, fn_name, args):
    fn = namespace.get(fn_name)
    if fn is None and isinstance(namespace.get("Solution"), type):  # LeetCode style: class Solution: def fn(self...)
        fn = getattr(namespace["Solution"](), fn_name, None)
    if not callable(fn):
        raise NameError(f"the program defines no function {fn_name!r}")
    return fn(*args)


# -------------------------------------------------------------------------------------------------- parent side


def _spawn(job, test, stdin_data):
    pipes = {name: os.pipe() for name in ("in", "out", "err", "res")}
    pid = os.fork()
    if pid == 0:
        os.dup2(pipes["in"][0], 0)
        os.dup2(pipes["out"][1], 1)
        os.dup2(pipes["err"][1], 2)
        os.dup2(pipes["res"][1], 3)
        os.closerange(4, 1 << 16)
        _run_child(job, test)
    for name, (r, w) in pipes.items():
        os.close(r if name == "in" else w)
    return pid, pipes["in"][1], pipes["out"][0], pipes["err"][0], pipes["res"][0]


def run_test(job, test):
    stdin_data = test.encode() if job["mode"] == "stdin" else b""
    start = time.monotonic()
    pid, in_w, out_r, err_r, res_r = _spawn(job, test, stdin_data)
    pidfd = os.pidfd_open(pid)
    os.set_blocking(in_w, False)
    deadline = start + float(job["time_limit"])
    limit = int(job["output_limit"])
    bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
    caps = {out_r: limit, err_r: limit, res_r: RESULT_LIMIT}
    reading = set(bufs)
    timed_out = exceeded = False
    status = None
    pending = memoryview(stdin_data)
    if not pending:
        os.close(in_w)
        in_w = -1
    poller = select.poll()
    for fd in reading:
        poller.register(fd, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    if in_w >= 0:
        poller.register(in_w, select.POLLOUT)
    while status is None or reading:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = status is None
            break
        for fd, ev in poller.poll(max(1, int(left * 1000) + 1)):
            if fd == pidfd:
                poller.unregister(pidfd)
                status = os.waitpid(pid, 0)[1]
                sweep()  # the child is gone: whatever it left behind (a daemon holding its stdout) goes too
            elif fd == in_w:
                try:
                    pending = pending[os.write(in_w, pending[: 1 << 16]) :]
                except (BrokenPipeError, BlockingIOError):
                    pending = pending[:0] if ev & (select.POLLERR | select.POLLHUP) else pending
                if not pending:
                    poller.unregister(in_w)
                    os.close(in_w)
                    in_w = -1
            else:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    poller.unregister(fd)
                    reading.discard(fd)
                    continue
                buf = bufs[fd]
                if fd == err_r:
                    buf += chunk
                    del buf[: max(0, len(buf) - STDERR_KEEP)]
                elif len(buf) + len(chunk) > caps[fd]:
                    exceeded = True
                else:
                    buf += chunk
        if exceeded:
            break
    seconds = time.monotonic() - start
    if status is None:
        sweep()
        status = _reap_status(pid)
    for fd in (in_w, out_r, err_r, res_r, pidfd):
        if fd >= 0:
            os.close(fd)
    return {
        "exit": os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None,
        "seconds": round(seconds, 4),
        "timed_out": timed_out,
        "output_exceeded": exceeded,
        "stdout": bufs[out_r].decode("utf-8", "replace"),
        "stderr": bufs[err_r].decode("utf-8", "replace"),
        "result": bufs[res_r].decode("utf-8", "replace") if bufs[res_r] else None,
    }


_STATUSES = {}  # pid -> wait status, for children reaped by a sweep before their parent loop saw them


def _reap_status(pid):
    if pid in _STATUSES:
        return _STATUSES.pop(pid)
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return None


def sweep():
    """Kill every process in the box but this one, and reap them all (orphans are re-parented to PID 1)."""
    _STATUSES.clear()
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        _STATUSES[pid] = status


def wipe():
    """Empty the scratch directories, as the unprivileged user who owns what is in them. Returns False on failure."""
    if not any(_entries(d) for d in SCRATCH):
        return True
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(GID)
            os.setuid(UID)
            for d in SCRATCH:
                for name in _entries(d):
                    _remove(os.path.join(d, name))
            code = 0 if not any(_entries(d) for d in SCRATCH) else 1
        finally:
            os._exit(code)
    status = os.waitpid(pid, 0)[1]
    sweep()
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _entries(d):
    try:
        return os.listdir(d)
    except OSError:
        return []


def _remove(path):
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            for name in os.listdir(path):
                _remove(os.path.join(path, name))
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        pass


def run_job(job):
    results = []
    stdin_mode = job["mode"] == "stdin"
    for test in job["tests"]:
        r = run_test(job, test if stdin_mode or job["mode"] == "script" else list(test))
        results.append(r)
        sweep()
        if not wipe():
            return {"id": job["id"], "results": results, "wiped": False}
        failed = r["timed_out"] or r["output_exceeded"] or r["exit"] != 0
        if failed and job.get("stop_on_failure"):
            break
    return {"id": job["id"], "results": results, "wiped": True}


def main():
    write_frame({"hello": VERSION, "pid": os.getpid(), "uid": os.getuid()})
    while True:
        job = read_frame()
        if job is None:
            return 0  # the host closed our stdin: it is done with this box
        try:
            reply = run_job(job)
        except Exception as exc:  # a fault of the box, not of the program: the host replaces this container
            sweep()
            reply = {"id": job.get("id"), "fault": f"{type(exc).__name__}: {exc}"}
        try:
            write_frame(reply)
        except BrokenPipeError:
            return 0


if __name__ == "__main__":
    sys.exit(main())
