"""Host side of the Docker sandbox: a warm pool of hardened containers that run untrusted Python tests.

The ``code`` verifier (rlvr/verifiers/code.py) turns a completion and a reference into a *job* (the program, the test
inputs, limits) and judges what comes back; this module only runs jobs. Each container runs the in-box worker
(sandboxes/python/worker.py): a zygote (PID 1) that forks test processes and a runner that holds the channel. Jobs go
in on the container's attached stdin and one record per test comes back on its stdout, so a job costs no
``docker exec`` and no container start.

Threat model: what a hostile program can and cannot do
-------------------------------------------------------
**Invariant: rows are isolated by construction. No test runs in a process, or on scratch space, that has seen another
row.** Every test process is a fresh fork of the zygote, which was started before any job was read and never reads
one (it only keeps clean spare children waiting and reaps); it receives its own row and nothing else. The runner, which
does read jobs, runs no program and no test descends from it; it drops each job before reading the next. Every
process of a test is killed before the next test starts. Each job gets its own tmpfs mount (``/tmp`` and ``/dev/shm``
are symlinks to it), used by no earlier job and made unreadable after it, so its contents and even its inode counter
start fresh; every writable mount has an inode cap.

Contained (each line is a test in tests/test_sandbox_adversarial.py):

- **other rows**: a copycat that walks ``gc.get_objects()`` or reads its own heap through ``/proc/self/mem`` finds
  nothing of an earlier row (its stdout, its source); in a GRPO group, samples of one prompt cannot copy each other.
  Inode numbers and free-inode counts of the scratch are the same for every job, and a finished job's mount has its
  access and modification times reset (a later program can ``stat`` it), so no channel runs through them. Memory a
  neighbour row made the worker hold is not in the next row's processes (the zygote holds none).
- **network**: the container has its own empty network namespace (``network_mode="none"``): no interface but its
  own loopback, so the host's 127.0.0.1 listeners, the LAN and the internet are unreachable.
- **host files and secrets**: the box sees only its image (read-only root filesystem) and its own tmpfs mounts; no
  host path is mounted, no host environment variable is passed, and the program's environment is reset.
- **privileges**: the container starts as root only so that the worker can drop privileges per test; it keeps just
  CAP_SETUID, CAP_SETGID and CAP_KILL (every other capability dropped) and ``no-new-privileges``. A test runs as uid
  65534 (the judge of bridge mode as 65533): with every uid non-zero the kernel clears all capabilities, and
  no-new-privileges makes setuid binaries inert. It cannot signal, ptrace or read ``/proc`` of the zygote, the runner
  or the judge (other uids), cannot write the image, and holds no fd of the host channel.
- **resources**: per test a wall-clock limit (killed on expiry), RLIMIT_CPU, RLIMIT_AS (memory), RLIMIT_FSIZE,
  RLIMIT_NOFILE and an output cap; per container a memory cgroup without swap (a test process, not the worker, is the
  OOM victim), a pids cgroup (fork bombs stop there), a CPU quota, a 16 MB / 4096-inode tmpfs per job (hard links
  count against the inode cap), no IPC mount, SysV IPC and POSIX message queues sized to zero.
- **the host**: every record is length-checked before it is read (at most the job's output cap plus the result cap,
  per test); records are judged one at a time as they arrive, so the host holds one test's output per job whatever
  the number of tests; container logging is off (``log_config`` none), so nothing a box prints accumulates on disk.
- **reward hacks**: expected outputs never enter the box (except a special judge's, after the program's processes
  are gone, to the checker's own job). stdout and tagged return values are compared on the host; HumanEval / MBPP
  test code runs in a judge process of another uid that calls the program through a narrow bridge of plain values,
  so ``__eq__`` overrides, patched builtins, redefined prompt helpers and frame walks stay in the program's process.
  Exit statuses, marker lines and anything the program writes on any channel are only ever data.
- **penalties cannot be dodged**: whatever a program can provoke (huge or malformed results, overflowing numbers,
  output floods, killing its own processes, exhausting its inodes, scratch that cannot be wiped in time) is a failed
  test (``wrong``); only what it cannot cause (no daemon, a dead box, a reply that breaks the protocol) is a
  SandboxFault (``error``).
- **clean-up**: containers carry the label ``rlvr.sandbox`` and their owner (host, pid, process start time); they
  are removed on close, at interpreter exit, on SIGTERM/SIGHUP/Ctrl-C (``atexit``), and with ``auto_remove`` plus
  ``stdin_once`` a box whose host died (even by SIGKILL) sees EOF, exits and is removed by the daemon. A new pool
  also sweeps stale boxes whose owning process is gone. A box serves ``jobs_per_container`` jobs (one scratch mount
  each) and is replaced in the background.

Not contained: the kernel is shared. A kernel exploit, a CPU side channel (Spectre-class) or a Docker/runc escape is
out of scope; for hostile code from the open internet, run the daemon with gVisor (``runsc``) or in a VM. Counters
that need a new namespace to reset stay: the box's pid counter (a job that forks many processes advances the pids a
later job in the same box is given: a channel between rows of one box, not a way to read another row's data),
kernel-wide counters such as pipe inode numbers, the box's own processes' figures in ``/proc`` (the runner's CPU time
and its peak memory, which a row that prints a lot raises for every later row), and timing (the change time of an
earlier job's scratch mount tells when that job ended).
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import json
import os
import queue
import secrets
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_IMAGE = os.environ.get("RLVR_SANDBOX_IMAGE", "rlvr-sandbox-python:latest")
LABEL = "rlvr.sandbox"


def _sandbox_dir() -> Path:
    """``sandboxes/python``: the installed package data, or the checkout's folder."""
    import importlib.util

    spec = importlib.util.find_spec("sandboxes")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "python"
    return Path(__file__).resolve().parent.parent / "sandboxes" / "python"


SANDBOX_DIR = _sandbox_dir()
UNPRIVILEGED_UID = 65534
_WORKER_VERSION = 2
RESULT_LIMIT = 1 << 20  # bytes of one tagged return value (the worker's cap)


class SandboxUnavailable(RuntimeError):
    """No Docker daemon answers, or the sandbox image is missing: nothing can be graded (never a silent reward 0)."""


class SandboxFault(RuntimeError):
    """A box misbehaved while running a job (the job's verdict is ``error``; the box has been replaced)."""


@dataclass(frozen=True)
class SandboxConfig:
    """Container limits. The per-test limits (time, memory, output) travel with each job instead."""

    image: str = DEFAULT_IMAGE
    containers: int = 0  # 0: one per core
    memory_mb: int = 1024  # the whole container: the worker plus one test at a time (RLIMIT_AS caps each test)
    pids: int = 64
    cpus: float = 1.0
    scratch_mb: int = 16  # each job's own tmpfs (/tmp and /dev/shm)
    scratch_inodes: int = 4096  # files, directories and hard links per job's scratch
    jobs_per_container: int = 128  # one never-reused scratch mount per job; then the box is replaced
    start_timeout: float = 30.0

    def size(self) -> int:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return self.containers if self.containers > 0 else max(1, cores)


@dataclass
class Job:
    """One row's tests, all run in one box (see sandboxes/python/worker.py for the modes).

    ``tests``: stdin texts (``stdin``), tagged-JSON argument lists (``call``, see ``encode_value``), or ``[None]``
    (``bridge``: one run of ``test_code`` against the program)."""

    mode: str  # "stdin" | "call" | "bridge"
    program: str
    tests: list[Any]
    time_limit: float = 4.0  # seconds per test, wall clock
    memory_mb: int = 512  # RLIMIT_AS per test
    output_limit: int = 1 << 20  # bytes of stdout per test
    stop_on_failure: bool = False  # stop after a test that crashes or times out (the row has failed anyway)
    fn_name: str | None = None
    prompt: str | None = None  # code run before the program (and, in bridge mode, before the test code)
    test_code: str | None = None  # bridge mode: the dataset's test code, run by the judge process
    token: str | None = None  # bridge mode: written on the judge's private pipe once the test code ran to its end

    def payload(self, job_id: str) -> dict[str, Any]:
        return {"id": job_id, **dataclasses.asdict(self)}

    def frame_limit(self) -> int:
        """The most bytes one test record may take: the worker caps each part, so more is a worker fault."""
        return self.output_limit + RESULT_LIMIT + (64 << 10)

    def patience(self) -> float:
        """Host-side wait for one test record: its time limit plus the sweep, the wipe and a margin for load."""
        return self.time_limit + 15.0


@dataclass(frozen=True)
class TestRun:
    """What one test did, as reported by the box. Plain data to be judged on the host; nothing here is trusted."""

    exit: int | None
    signal: int | None
    seconds: float
    timed_out: bool
    output_exceeded: bool
    stdout: str
    stderr: str
    result: str | None  # call mode: tagged JSON of the return value; bridge mode: the judge's token; else None
    scratch: str = "ok"  # "ok", or why the test's scratch could not be cleaned (the program's doing: a failure)

    @classmethod
    def parse(cls, body: bytes) -> TestRun:
        """A b"T" record: 4-byte header length, JSON header, then stdout, stderr and result bytes."""
        try:
            n = struct.unpack(">I", body[:4])[0]
            raw = json.loads(body[4 : 4 + n])
            parts = [raw["n_out"], raw["n_err"], raw["n_res"]]
            if any(type(k) is not int or k < 0 for k in parts) or 4 + n + sum(parts) != len(body):
                raise ValueError("part sizes do not add up")
            out, err, res = (body[a : a + k] for a, k in zip(_offsets(4 + n, parts), parts))
            return cls(
                exit=_opt(raw["exit"], int),
                signal=_opt(raw["signal"], int),
                seconds=float(raw["seconds"]),
                timed_out=bool(raw["timed_out"]),
                output_exceeded=bool(raw["output_exceeded"]),
                stdout=out.decode("utf-8", "replace"),
                stderr=err.decode("utf-8", "replace"),
                result=res.decode("utf-8", "replace") if res else None,
                scratch=_opt(raw["scratch"], str),
            )
        except (KeyError, TypeError, ValueError, struct.error) as exc:
            raise SandboxFault(f"malformed test record from the box ({exc}): {body[:200]!r}") from None

    def failure(self) -> str | None:
        """Why the process itself failed (before any comparison), or None when it exited cleanly."""
        if self.scratch != "ok":
            return self.scratch
        if self.timed_out:
            return "time limit exceeded"
        if self.output_exceeded:
            return "output limit exceeded"
        if self.signal is not None:
            name = signal.Signals(self.signal).name if self.signal in signal.Signals._value2member_map_ else ""
            return f"killed by signal {self.signal} {name}".strip() + (
                " (CPU time limit)" if name == "SIGXCPU" else ""
            )
        if self.exit != 0:
            tail = self.stderr.strip().splitlines()[-1:] if self.stderr.strip() else []
            return f"exit status {self.exit}" + (f": {tail[0][:300]}" if tail else "")
        return None


def _offsets(start: int, sizes: list[int]) -> list[int]:
    out = []
    for k in sizes:
        out.append(start)
        start += k
    return out


def _opt(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if type(value) is not kind:
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


# ------------------------------------------------------------------------------------------------------------ docker


def docker_client(timeout: float = 60.0):
    """A docker SDK client for the daemon at $DOCKER_HOST (default unix:///var/run/docker.sock), or SandboxUnavailable."""
    try:
        import docker
    except ImportError:
        raise SandboxUnavailable("the docker SDK is not installed: pip install 'docker>=7'") from None
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except Exception as exc:
        raise SandboxUnavailable(
            f"no Docker daemon answers at {where} ({type(exc).__name__}); start one (as root: "
            f"`bash sandboxes/setup-docker.sh`, which also builds the image) or point DOCKER_HOST at one"
        ) from None
    return client


def require_image(client, image: str) -> None:
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise SandboxUnavailable(
            f"the sandbox image {image!r} is missing; build it with `rlvr sandbox build` "
            f"(or `sudo bash sandboxes/setup-docker.sh` on a machine without a registry)"
        ) from None


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def _owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # not ours to judge: another machine's daemon client, or a label we do not understand
    return os.path.exists(f"/proc/{pid}") and _start_time(int(pid)) == started


def labelled_containers(client, label: str = LABEL) -> list[dict[str, Any]]:
    """Containers carrying ``label``, as the daemon lists them (``Id``, ``Labels``...).

    The low-level call on purpose: docker-py's ``containers.list()`` inspects each container after listing it and
    raises NotFound for one that was removed in between, which ``auto_remove`` boxes routinely are.
    """
    return client.api.containers(all=True, filters={"label": label})


def sweep_stale(client) -> int:
    """Remove labelled boxes whose owning process (on this host) is gone. Returns how many were removed."""
    removed = 0
    for c in labelled_containers(client):
        if not _owner_alive((c.get("Labels") or {}).get(f"{LABEL}.owner", "")):
            try:
                client.api.remove_container(c["Id"], force=True)
                removed += 1
            except Exception:
                pass  # already gone (auto_remove), or being removed by the daemon
    return removed


# --------------------------------------------------------------------------------------------------------------- box


class _Box:
    """One running container and its attach socket. Used by one thread at a time (the pool hands it out)."""

    def __init__(self, client, config: SandboxConfig, pool_id: str) -> None:
        self.jobs = 0
        self.id = _create(client, config, pool_id)
        self._client = client
        try:
            raw = client.api.attach_socket(self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self._sock: socket.socket = getattr(raw, "_sock", raw)
            self._raw = raw  # keeps the HTTP response (and so the socket) alive
            self._buf = bytearray()  # demultiplexed stdout not yet consumed
            self._stderr = bytearray()
            client.api.start(self.id)
            kind, body = self._read(time.monotonic() + config.start_timeout, 1 << 16)
            hello = json.loads(body) if kind == b"H" else {}
            if hello.get("hello") != _WORKER_VERSION or hello.get("uid") != 0:
                raise SandboxFault(f"unexpected greeting from the box: {body[:200]!r}; rebuild: `rlvr sandbox build`")
        except BaseException:
            self.close()
            raise

    def run(self, job: Job, job_id: str, on_test: Callable[[int, TestRun], None]) -> bool:
        """Send ``job``; hand each test record to ``on_test`` as it arrives. Returns whether to retire the box."""
        body = json.dumps(job.payload(job_id)).encode()  # ensure_ascii: lone surrogates travel as escapes
        self._sock.settimeout(30.0)
        try:
            self._sock.sendall(struct.pack(">I", len(body)) + body)
        except OSError as exc:
            raise SandboxFault(f"could not send the job to the box: {exc}") from None
        del body
        self.jobs += 1
        n = 0
        while True:
            kind, frame = self._read(time.monotonic() + job.patience(), job.frame_limit())
            if kind == b"T" and n < len(job.tests):
                on_test(n, TestRun.parse(frame))
                n += 1
                continue
            reply = _json_object(frame)
            if reply.get("id") != job_id:
                raise SandboxFault(f"reply does not belong to this job: {frame[:200]!r}")
            if kind == b"F":
                raise SandboxFault(f"the box's worker failed: {str(reply.get('fault'))[:300]}")
            if kind != b"E":
                raise SandboxFault(f"unexpected record {kind!r} from the box")
            return bool(reply.get("retire"))

    def _read(self, deadline: float, limit: int) -> tuple[bytes, bytes]:
        """One record (kind byte, body). The length is checked before the body is read: at most ``limit`` bytes."""
        while True:
            if len(self._buf) >= 4:
                n = struct.unpack(">I", self._buf[:4])[0]
                if not 1 <= n <= limit:
                    raise SandboxFault(f"the box announced a record of {n} bytes (limit {limit})")
                if len(self._buf) >= 4 + n:
                    body = bytes(self._buf[4 : 4 + n])
                    del self._buf[: 4 + n]
                    return body[:1], body[1:]
            self._read_frame(deadline, limit)

    def _read_frame(self, deadline: float, limit: int) -> None:
        """One frame of Docker's multiplexed attach stream: 8-byte header (stream, 0, 0, 0, size), then the data."""
        head = self._recv(8, deadline)
        size = struct.unpack(">I", head[4:])[0]
        if size > limit + 8:
            raise SandboxFault(f"the box sent a stream frame of {size} bytes (limit {limit})")
        data = self._recv(size, deadline)
        if head[0] == 1:
            self._buf += data
        else:
            self._stderr = (self._stderr + data)[-4000:]

    def _recv(self, n: int, deadline: float) -> bytes:
        out = bytearray()
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SandboxFault("the box did not answer in time")
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(min(n - len(out), 1 << 20))
            except TimeoutError:
                raise SandboxFault("the box did not answer in time") from None
            except OSError as exc:
                raise SandboxFault(f"lost the connection to the box: {exc}") from None
            if not chunk:
                tail = self._stderr.decode("utf-8", "replace").strip()[-500:]
                raise SandboxFault("the box's worker exited" + (f": {tail}" if tail else ""))
            out += chunk
        return bytes(out)

    def close(self) -> None:
        try:
            self._sock.close()
        except Exception:
            pass
        try:
            self._client.api.remove_container(self.id, force=True)
        except Exception:
            pass  # auto_remove may have won the race


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(body)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        raise SandboxFault(f"unreadable record from the box: {body[:200]!r}")
    return obj


def _create(client, config: SandboxConfig, pool_id: str) -> str:
    """Create (not start) one box with the low-level API: the high-level one cannot set ``stdin_once``."""
    api = client.api
    scratch = f"rw,nosuid,nodev,noexec,size={config.scratch_mb}m,nr_inodes={config.scratch_inodes},mode=0700"
    tmpfs = {f"/scratch/{i}": scratch for i in range(config.jobs_per_container)}
    tmpfs["/run"] = "rw,nosuid,nodev,noexec,size=64k,nr_inodes=64,mode=0755"  # root's: the scratch symlink
    host_config = api.create_host_config(
        auto_remove=True,
        network_mode="none",
        ipc_mode="none",  # no /dev/shm mount of Docker's: /dev/shm is a symlink to the job's scratch
        read_only=True,
        tmpfs=tmpfs,
        mem_limit=f"{config.memory_mb}m",
        memswap_limit=f"{config.memory_mb}m",  # no swap
        pids_limit=config.pids,
        nano_cpus=int(config.cpus * 1e9),
        cap_drop=["ALL"],
        cap_add=["SETUID", "SETGID", "KILL"],  # the worker only; a test child loses them when it drops its uid
        security_opt=["no-new-privileges"],
        sysctls={"kernel.shmmni": "0", "kernel.msgmni": "0", "kernel.sem": "0 0 0 0", "fs.mqueue.queues_max": "0"},
        ulimits=[_ulimit("nofile", 1024), _ulimit("core", 0)],
        log_config={"type": "none"},  # nothing the box writes is kept by the daemon (a json-file log grows unbounded)
    )
    created = api.create_container(
        config.image,
        user="0:0",
        stdin_open=True,
        detach=False,  # with stdin_open this sets StdinOnce: when our attach socket closes (even if this process is
        tty=False,  # SIGKILLed) the worker reads EOF, exits, and auto_remove deletes the box: no orphans
        environment={},
        network_disabled=True,
        labels={LABEL: "1", f"{LABEL}.owner": _owner(), f"{LABEL}.pool": pool_id},
        host_config=host_config,
    )
    return created["Id"]


def _ulimit(name: str, value: int):
    import docker

    return docker.types.Ulimit(name=name, soft=value, hard=value)


# -------------------------------------------------------------------------------------------------------------- pool


class SandboxPool:
    """``size`` warm boxes; ``run(job)`` sends a job to a free one. Thread-safe; close it (or use ``with``)."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.id = secrets.token_hex(6)
        self.replaced = 0
        self._client = docker_client()
        require_image(self._client, self.config.image)
        sweep_stale(self._client)
        self._idle: queue.Queue[_Box | None] = queue.Queue()
        self._boxes: set[_Box] = set()
        self._lock = threading.Lock()
        self._closed = False
        _register(self)
        try:
            self._fill(self.config.size())
        except SandboxFault as exc:
            self.close()
            raise SandboxUnavailable(f"could not start a sandbox box from {self.config.image!r}: {exc}") from None
        except BaseException:
            self.close()
            raise

    def _fill(self, n: int) -> None:
        """Start ``n`` boxes in parallel (a container start is mostly waiting on the daemon)."""
        errors: list[BaseException] = []

        def start() -> None:
            try:
                self._idle.put(self._new_box())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, daemon=True) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def _new_box(self) -> _Box:
        box = _Box(self._client, self.config, self.id)
        with self._lock:
            if self._closed:
                box.close()
                raise SandboxFault("the sandbox pool is closed")
            self._boxes.add(box)
        return box

    def run(self, job: Job, judge: Callable[[int, TestRun], Any] | None = None) -> list[Any]:
        """Run every test of ``job`` in one box; SandboxFault if the box misbehaved (it is replaced).

        Without ``judge`` the TestRuns come back. With one, each TestRun is judged as it arrives and only what
        ``judge(i, run)`` returns is kept: the host holds one test's output at a time, whatever the job's size."""
        box = self._take()
        out: list[Any] = []
        try:
            retire = box.run(job, secrets.token_hex(8), lambda i, run: out.append(judge(i, run) if judge else run))
        except BaseException as exc:
            self._retire(box)
            if isinstance(exc, SandboxFault):
                raise
            if isinstance(exc, Exception):
                raise SandboxFault(f"{type(exc).__name__}: {exc}") from exc
            raise
        if retire or box.jobs >= self.config.jobs_per_container:
            self._retire(box)
        else:
            self._idle.put(box)
        return out

    def _take(self) -> _Box:
        while True:
            if self._closed:
                raise SandboxFault("the sandbox pool is closed")
            box = self._idle.get()
            if box is not None:
                return box
            try:  # a slot whose box was retired: start its replacement in this thread
                return self._new_box()
            except BaseException:
                self._idle.put(None)
                raise

    def _retire(self, box: _Box) -> None:
        """Remove ``box`` and start its replacement in the background (a start costs about half a second)."""
        with self._lock:
            self._boxes.discard(box)
        self.replaced += 1

        def replace() -> None:
            box.close()
            try:
                fresh: _Box | None = self._new_box()
            except BaseException:
                fresh = None  # an empty slot: the next taker tries again (and reports the failure)
            self._idle.put(fresh)

        threading.Thread(target=replace, daemon=True).start()

    def containers(self) -> list[str]:
        with self._lock:
            return [b.id for b in self._boxes]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            boxes = list(self._boxes)
            self._boxes.clear()
        threads = [threading.Thread(target=box.close, daemon=True) for box in boxes]
        for t in threads:  # in parallel: removing a box (unmounting its scratch mounts) takes a fraction of a second
            t.start()
        for t in threads:
            t.join()
        try:
            leftovers = labelled_containers(self._client, f"{LABEL}.pool={self.id}")
        except Exception:
            leftovers = []  # the daemon is gone; auto_remove and stdin_once end the boxes
        for c in leftovers:
            try:
                self._client.api.remove_container(c["Id"], force=True)
            except Exception:
                pass  # already gone (auto_remove)
        _unregister(self)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------- process-wide pool and clean-up

_POOLS: set[SandboxPool] = set()
_SHARED: dict[SandboxConfig, SandboxPool] = {}
_POOLS_LOCK = threading.RLock()  # shared_pool() holds it while a new pool registers itself
_HANDLERS_SET = False


def shared_pool(config: SandboxConfig | None = None) -> SandboxPool:
    """The process-wide pool for ``config``, started on first use and closed at exit."""
    config = config or SandboxConfig()
    with _POOLS_LOCK:
        pool = _SHARED.get(config)
        if pool is None or pool._closed:
            pool = _SHARED[config] = SandboxPool(config)
        return pool


def _register(pool: SandboxPool) -> None:
    with _POOLS_LOCK:
        _POOLS.add(pool)
    _install_signal_handlers()


def _unregister(pool: SandboxPool) -> None:
    with _POOLS_LOCK:
        _POOLS.discard(pool)


@atexit.register
def close_all() -> None:
    """Remove every box this process started (also run at interpreter exit, after Ctrl-C and SIGTERM)."""
    with _POOLS_LOCK:
        pools = list(_POOLS)
        _SHARED.clear()
    for pool in pools:
        pool.close()


def _install_signal_handlers() -> None:
    """SIGTERM/SIGHUP would end Python without running atexit: turn them into SystemExit (only if nobody else cares)."""
    global _HANDLERS_SET
    if _HANDLERS_SET or threading.current_thread() is not threading.main_thread():
        return
    _HANDLERS_SET = True
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _exit_on_signal)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


# ------------------------------------------------------------------------------- image build and check (`rlvr sandbox`)


def worker_sha256() -> str | None:
    paths = [SANDBOX_DIR / "Dockerfile", SANDBOX_DIR / "worker.py"]
    if not all(p.is_file() for p in paths):
        return None
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


def build_image(image: str = DEFAULT_IMAGE, base: str | None = None) -> str:
    """Build the sandbox image: offline from Debian packages when no registry base is asked for, else the Dockerfile."""
    if not (SANDBOX_DIR / "Dockerfile").is_file():
        raise SandboxUnavailable(f"sandbox sources not found at {SANDBOX_DIR}; run from a checkout of rlvr")
    docker_client()  # fail early with the message that says how to start a daemon
    if base is None:
        cmd = ["bash", str(SANDBOX_DIR / "build-offline.sh"), image]
    else:
        cmd = [
            "docker",
            "build",
            "--build-arg",
            f"BASE={base}",
            "--build-arg",
            f"WORKER_SHA256={worker_sha256()}",
            "-t",
            image,
            str(SANDBOX_DIR),
        ]
    subprocess.run(cmd, check=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    return image


def check(image: str = DEFAULT_IMAGE) -> list[tuple[str, bool, str]]:
    """(what, ok, detail) for: the daemon answers, the image exists and is current, a job round-trips."""
    out: list[tuple[str, bool, str]] = []
    try:
        client = docker_client(timeout=20)
        out.append(("daemon", True, f"Docker {client.version().get('Version', '?')} answers"))
        require_image(client, image)
        label = client.images.get(image).labels.get(f"{LABEL}.worker_sha256")
        current = worker_sha256()
        stale = current is not None and label != current
        out.append(
            ("image", not stale, f"{image}" + (" is stale: rebuild with `rlvr sandbox build`" if stale else ""))
        )
        with SandboxPool(SandboxConfig(image=image, containers=1)) as pool:
            t0 = time.perf_counter()
            runs = pool.run(Job("call", "def add(a, b):\n    return a + b\n", [[2, 3]], time_limit=5, fn_name="add"))
            ms = (time.perf_counter() - t0) * 1000
        ok = len(runs) == 1 and runs[0].result == "5"
        out.append(("round trip", ok, f"add(2, 3) -> {runs[0].result if runs else None} in {ms:.0f} ms"))
    except (SandboxUnavailable, SandboxFault) as exc:
        out.append(("sandbox", False, str(exc)))
    return out


__all__ = [
    "Job",
    "SandboxConfig",
    "SandboxFault",
    "SandboxPool",
    "SandboxUnavailable",
    "TestRun",
    "check",
    "shared_pool",
]
