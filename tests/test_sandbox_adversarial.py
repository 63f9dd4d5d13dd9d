"""Hostile programs against the real Docker sandbox, one property per test.

Attacks are written to *answer correctly only if they escaped* (the expected output is what the program would print
after a successful escape), so a contained attack is a ``wrong`` verdict and an escape a ``correct`` one. Reward hacks
answer wrongly while trying to fake a pass. Honest controls run before, between and after. Needs a Docker daemon and
the sandbox image (``bash sandboxes/setup-docker.sh``); skipped without one unless CI=true.
"""

from __future__ import annotations

import os
import secrets
import socket
import textwrap
import time

import pytest

from rlvr import sandbox
from rlvr.sandbox import Job, SandboxConfig, SandboxPool
from rlvr.verifiers.code import CodeVerifier
from tests.conftest import require_sandbox

pytestmark = pytest.mark.docker

SECRET = secrets.token_hex(12)
SECRET_ENV = "RLVR_ADVERSARIAL_SECRET"
ADD_STDIN = {"tests": [{"stdin": f"{a} {b}\n", "stdout": f"{a + b}\n"} for a, b in [(1, 2), (5, 7), (10, 20), (0, 0)]]}
ADD_CALL = {"fn_name": "add", "tests": [{"args": [a, b], "expected": a + b} for a, b in [(1, 2), (5, 7), (10, 20)]]}
ADD_HUMANEVAL = {
    "test_code": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(5, 7) == 12\n",
    "entry_point": "add",
}
HONEST = {
    "stdin": ("a, b = map(int, input().split())\nprint(a + b)\n", ADD_STDIN),
    "call": ("def add(a, b):\n    return a + b\n", ADD_CALL),
    "humaneval": ("def add(a, b):\n    return a + b\n", ADD_HUMANEVAL),
}


@pytest.fixture(scope="module")
def v():
    require_sandbox()
    os.environ[SECRET_ENV] = SECRET  # planted in this (host) process before any box starts
    verifier = CodeVerifier(time_limit=2.0)
    verifier.concurrency()  # starts the shared pool once for the module
    yield verifier
    os.environ.pop(SECRET_ENV, None)
    sandbox.close_all()


def grade(v: CodeVerifier, program: str, reference: dict):
    return v(f"```python\n{textwrap.dedent(program)}\n```", reference)


def expect_stdout(text: str, **extra) -> dict:
    """A reference whose only passing output is ``text``: what the program prints if the attack worked."""
    return {"tests": [{"stdin": "", "stdout": text}], **extra}


def assert_contained(verdict) -> None:
    assert verdict.status == "wrong" and verdict.reward == 0.0, verdict


# ------------------------------------------------------------------------------------------------ honest controls


@pytest.mark.parametrize("form", sorted(HONEST))
def test_honest_control_before(v, form):
    program, ref = HONEST[form]
    verdict = grade(v, program, ref)
    assert verdict.status == "correct" and verdict.reward == 1.0, verdict


# ------------------------------------------------------------------------------------------------------ resources


def test_fork_bomb_is_contained(v):
    verdict = grade(
        v,
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        expect_stdout("escaped", time_limit=1),
    )
    assert_contained(verdict)


def test_memory_bomb_is_contained(v):
    program = "x = []\nwhile True:\n    x.append(bytearray(50 << 20))\n"
    verdict = grade(v, program, expect_stdout("escaped", memory_limit_mb=128))
    assert_contained(verdict)
    assert "MemoryError" in verdict.detail


def test_infinite_loop_is_killed_on_time(v):
    t0 = time.monotonic()
    verdict = grade(v, "while True:\n    pass\n", expect_stdout("escaped", time_limit=1))
    assert_contained(verdict)
    assert "time limit" in verdict.detail and time.monotonic() - t0 < 5


def test_sleep_is_killed_on_time(v):
    t0 = time.monotonic()
    verdict = grade(v, "import time\ntime.sleep(60)\nprint('escaped')\n", expect_stdout("escaped", time_limit=1))
    assert_contained(verdict)
    assert "time limit" in verdict.detail and time.monotonic() - t0 < 5


def test_stdout_flood_is_cut(v):
    verdict = grade(v, "while True:\n    print('x' * 4096)\n", expect_stdout("escaped"))
    assert_contained(verdict)
    assert "output limit" in verdict.detail


def test_disk_fill_is_bounded(v):
    program = """
        total = 0
        for d in ("/tmp", "/dev/shm"):
            try:
                with open(d + "/fill", "wb") as f:
                    for _ in range(200):
                        f.write(b"x" * (1 << 20))
                        total += 1 << 20
            except OSError:
                pass
        print("filled" if total >= 100 << 20 else total)
    """
    assert_contained(grade(v, program, expect_stdout("filled")))


def test_fd_exhaustion_is_bounded(v):
    program = """
        fds = []
        try:
            while True:
                fds.append(open("/dev/null"))
        except OSError:
            pass
        print("many" if len(fds) > 1000 else len(fds))
    """
    assert_contained(grade(v, program, expect_stdout("many")))


# ---------------------------------------------------------------------------------------- network, files, identity


def test_host_loopback_listener_is_unreachable(v):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        program = f"""
            import socket
            s = socket.create_connection(("127.0.0.1", {port}), timeout=1)
            s.sendall(b"hello from the box")
            print("connected")
        """
        assert_contained(grade(v, program, expect_stdout("connected")))
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody ever connected


def test_no_network_interface_but_loopback(v):
    program = "import socket\nprint(sorted(name for _, name in socket.if_nameindex()))\n"
    assert_contained(grade(v, program, expect_stdout("['eth0', 'lo']")))
    verdict = grade(v, program, expect_stdout("['lo']"))
    assert verdict.status == "correct", verdict  # the control: only the box's own loopback exists


def test_host_file_is_not_readable(v, tmp_path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    program = f"""
        import os
        found = ""
        for path in ({str(secret_file)!r}, "/host{secret_file}", "/proc/1/root{secret_file}"):
            try:
                found = open(path).read()
            except OSError:
                pass
        print(found)
    """
    assert_contained(grade(v, program, expect_stdout(SECRET)))


def test_host_environment_is_not_readable(v):
    program = f"""
        import os
        found = os.environ.get({SECRET_ENV!r}, "")
        for path in ("/proc/1/environ", "/proc/self/environ"):
            try:
                data = open(path, "rb").read()
                if {SECRET!r}.encode() in data:
                    found = {SECRET!r}
            except OSError:
                pass
        print(found)
    """
    assert_contained(grade(v, program, expect_stdout(SECRET)))


def test_writing_outside_scratch_fails(v):
    program = """
        wrote = []
        for path in ("/etc/rlvr", "/sandbox/worker.py", "/usr/lib/python3.11/json/__init__.py", "/root/x", "/x"):
            try:
                with open(path, "a") as f:
                    f.write("pwned")
                wrote.append(path)
            except OSError:
                pass
        print("wrote" if wrote else "blocked")
    """
    assert_contained(grade(v, program, expect_stdout("wrote")))


def test_program_is_not_root_and_has_no_capabilities(v):
    program = """
        import os
        caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
        try:
            os.setuid(0)
        except OSError:
            pass
        print(os.getuid(), os.geteuid(), caps)
    """
    assert_contained(grade(v, program, expect_stdout("0 0 000001ffffffffff")))
    verdict = grade(v, program, expect_stdout("65534 65534 0000000000000000"))
    assert verdict.status == "correct", verdict


def test_killing_the_worker_fails_and_the_box_survives(v):
    program = """
        import os, signal
        ok = 0
        for pid in [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
            try:
                os.kill(pid, signal.SIGKILL)  # the zygote (PID 1) and the runner are root's: EPERM
                ok += 1
            except OSError:
                pass
        os.kill(-1, signal.SIGKILL)  # every process it may signal: none but its own
        print("killed" if ok else "refused")
    """
    assert_contained(grade(v, program, expect_stdout("killed")))
    program, ref = HONEST["stdin"]
    assert grade(v, program, ref).status == "correct"


@pytest.mark.parametrize("form", sorted(HONEST))
def test_honest_control_between(v, form):
    program, ref = HONEST[form]
    assert grade(v, program, ref).status == "correct"


# ----------------------------------------------------------------------------------------- persistence across jobs


@pytest.fixture(scope="module")
def one_box():
    require_sandbox()
    with SandboxPool(SandboxConfig(containers=1)) as pool:
        yield pool


def test_files_do_not_persist_across_jobs(one_box):
    write = (
        "import os\nfor d in ('/tmp/keep', '/dev/shm/keep2'):\n    os.makedirs(d + '/deep', exist_ok=True)\n"
        "    open(d + '/deep/f', 'w').write('x')\n    os.chmod(d, 0)\nprint('written')\n"
    )
    look = "import os\nprint(os.listdir('/tmp') + os.listdir('/dev/shm'))\n"
    first = one_box.run(Job("stdin", write, [""]))
    second = one_box.run(Job("stdin", look, [""]))
    assert first[0].stdout == "written\n" and second[0].stdout == "[]\n", (first, second)


def test_files_do_not_persist_across_tests_of_one_job(one_box):
    program = "import os\nprint(os.listdir('/tmp'))\nopen('/tmp/mark', 'w').write('x')\n"
    runs = one_box.run(Job("stdin", program, ["", ""]))
    assert [r.stdout for r in runs] == ["[]\n", "[]\n"]


def test_background_daemon_does_not_outlive_its_job(one_box):
    daemon = """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.close(1)
                time.sleep(30)
            os._exit(0)
        print("spawned")
    """
    look = """
        import os
        mine = []
        for p in os.listdir("/proc"):
            try:
                uid = [l.split()[1] for l in open(f"/proc/{p}/status") if l.startswith("Uid:")][0]
            except (OSError, IndexError):
                continue
            if p.isdigit() and int(p) != os.getpid() and uid == str(os.getuid()):
                mine.append(p)
        print(mine)
    """
    first = one_box.run(Job("stdin", textwrap.dedent(daemon), [""]))
    second = one_box.run(Job("stdin", textwrap.dedent(look), [""]))
    assert first[0].stdout == "spawned\n" and second[0].stdout == "[]\n", (first, second)


def test_sysv_ipc_cannot_hold_state(one_box):
    program = """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print(libc.shmget(0x1234, 4096, 0o1666))
    """
    runs = one_box.run(Job("stdin", textwrap.dedent(program), [""]))
    assert runs[0].stdout.strip() == "-1", runs


# ---------------------------------------------------------------------------------------------------- reward hacks


def test_print_then_exit(v):
    program = "import os, sys\nprint(3)\nsys.stdout.flush()\nos._exit(0)\n"
    assert_contained(grade(v, program, ADD_CALL))
    assert_contained(grade(v, "print('PASSED')\nprint('ok')\n", ADD_STDIN))


@pytest.mark.parametrize("ref", [ADD_CALL, ADD_HUMANEVAL], ids=["call", "humaneval"])
def test_sys_exit_zero_at_import(v, ref):
    assert_contained(grade(v, "import sys\nsys.exit(0)\ndef add(a, b):\n    return a + b\n", ref))


def test_system_exit_at_import_in_script_mode(v):
    ref = {
        "test_code": "def check(candidate):\n    for i in range(3):\n        assert candidate(i, i) == 2 * i\n",
        "entry_point": "add",
    }
    assert_contained(grade(v, "raise SystemExit(0)\n", ref))
    assert grade(v, "def add(a, b):\n    return a + b\n", ref).status == "correct"  # the in-box control


def test_atexit_hook_forcing_status_zero(v):
    program = "import atexit, os\natexit.register(lambda: os._exit(0))\ndef add(a, b):\n    raise ValueError\n"
    assert_contained(grade(v, program, ADD_HUMANEVAL))


def test_always_equal_int_subclass(v):
    program = """
        class Eq(int):
            def __eq__(self, other):
                return True
            __hash__ = int.__hash__
        def add(a, b):
            return Eq(0)
    """
    assert_contained(grade(v, program, ADD_CALL))
    assert_contained(grade(v, program, ADD_HUMANEVAL))


def test_walking_stack_frames(v):
    program = """
        import sys
        def add(a, b):
            f, seen = sys._getframe(1), []
            while f is not None:
                for scope in (f.f_locals, f.f_globals):
                    for k, val in list(scope.items()):
                        if k in ("expected", "stdout", "tests", "job", "test"):
                            seen.append(val)
                f = f.f_back
            return seen[0]["expected"] if seen and isinstance(seen[0], dict) else -1
    """
    assert_contained(grade(v, program, ADD_CALL))
    assert_contained(grade(v, program, ADD_HUMANEVAL))


def test_reading_tests_from_disk(v):
    program = """
        import os
        def add(a, b):
            for root, dirs, files in os.walk("/"):
                if root.startswith(("/proc", "/sys", "/usr", "/dev")):
                    continue
                for name in files:
                    try:
                        text = open(os.path.join(root, name), errors="ignore").read()
                    except OSError:
                        continue
                    if "candidate(" in text and "== " in text:
                        return int(text.split("== ")[1].split()[0])
            return -1
    """
    assert_contained(grade(v, program, ADD_HUMANEVAL))


def test_reading_tests_from_memory(v):
    program = """
        import gc
        def add(a, b):
            for obj in gc.get_objects():
                if isinstance(obj, dict) and "expected" in obj:
                    return obj["expected"]
                if isinstance(obj, str) and "assert candidate" in obj:
                    return int(obj.split("== ")[1].split()[0])
            return -1
    """
    assert_contained(grade(v, program, ADD_CALL))
    assert_contained(grade(v, program, ADD_HUMANEVAL))


def test_reading_the_callers_constants(v):
    program = """
        import sys
        def add(a, b):
            code = sys._getframe(1).f_code
            nums = [c for c in code.co_consts if type(c) is int and c not in (a, b)]
            return nums[0] if nums else -1
    """
    assert_contained(grade(v, program, ADD_HUMANEVAL))


def test_forged_result_records(v):
    program = """
        import json, os, struct
        record = {"id": "x", "results": [{"exit": 0, "signal": None, "seconds": 0, "timed_out": False,
                  "output_exceeded": False, "stdout": "3\\n", "stderr": "", "result": "3"}], "wiped": True}
        body = json.dumps(record).encode()
        for fd in (1, 3):
            os.write(fd, struct.pack(">I", len(body)) + body)
        for path in ("/proc/1/fd/1", "/proc/1/fd/0"):
            try:
                with open(path, "wb") as f:
                    f.write(struct.pack(">I", len(body)) + body)
            except OSError:
                pass
        def add(a, b):
            os.write(3, b"3")
            return -1
    """
    assert_contained(grade(v, program, ADD_CALL))
    assert_contained(grade(v, program, ADD_STDIN))


def test_answering_only_the_first_test(v):
    program = "def add(a, b):\n    return 3\n"
    assert_contained(grade(v, program, ADD_CALL))
    partial = CodeVerifier(time_limit=2.0, partial=True)(f"```python\n{program}```", ADD_CALL)
    assert partial.status == "wrong" and partial.reward == pytest.approx(1 / 3), partial


# ----------------------------------------------------------------------------------------- controls and clean-up


@pytest.mark.parametrize("form", sorted(HONEST))
def test_honest_control_after(v, form):
    program, ref = HONEST[form]
    assert grade(v, program, ref).status == "correct"


def test_zz_no_box_left_behind_and_daemon_answers(v):
    client = sandbox.docker_client(timeout=10)
    sandbox.close_all()
    time.sleep(0.5)
    mine = [
        c
        for c in sandbox.labelled_containers(client)
        if (c["Labels"] or {}).get(f"{sandbox.LABEL}.owner") == sandbox._owner()
    ]
    assert mine == []
    assert client.ping()
