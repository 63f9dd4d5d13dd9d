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


def test_fork_bombs_never_end_the_box(one_box):
    """While a bomb holds every pid the worker cannot fork its spare children; it retries, and the box lives on."""
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    before = one_box.replaced
    for _ in range(3):
        runs = one_box.run(Job("stdin", bomb, ["", ""], time_limit=1))
        assert [r.timed_out for r in runs] == [True, True], runs
    assert one_box.run(Job("stdin", "print(input())", ["hi\n"]))[0].stdout == "hi\n"
    assert one_box.replaced == before


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


def test_forged_status_records_gain_nothing(v):
    """A program may write on its own status pipe (fd 4): a forged "exit 0" passes nothing, garbage is ignored."""
    forge = "import os, struct\nos.write(4, b'X' + struct.pack('<i', 0) + b'junk' * 100)\n"
    assert_contained(grade(v, forge + "os._exit(1)\n", ADD_STDIN))  # "exit 0" claimed, nothing answered: wrong
    honest, ref = HONEST["stdin"]
    verdict = grade(v, "import os\nos.write(4, b'\\x00' * 5000)\n" + honest, ref)
    assert verdict.status == "correct", verdict


def test_programs_without_a_last_word_end_when_they_end(v):
    """A program that spoils its status pipe, or dies by a signal, leaves the runner only the zygote's word for its end.
    Regression: a test quick enough to end before the zygote read its "taken" word got no word at all, and waited out
    the time limit (13 of 20 runs of this kind failed before the fix)."""
    many = {"tests": [{"stdin": f"{a} {b}\n", "stdout": f"{a + b}\n"} for a in range(8) for b in range(8)]}
    honest = HONEST["stdin"][0]
    for spoil in ("os.write(4, b'\\x00' * 5000)", "os.close(4)"):
        for _ in range(2):
            verdict = grade(v, f"import os\n{spoil}\n" + honest, many)
            assert verdict.status == "correct", (spoil, verdict)
    killed = grade(v, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", many)
    assert killed.status == "wrong" and "time limit" not in killed.detail, killed


def test_answering_only_the_first_test(v):
    program = "def add(a, b):\n    return 3\n"
    assert_contained(grade(v, program, ADD_CALL))
    partial = CodeVerifier(time_limit=2.0, partial=True)(f"```python\n{program}```", ADD_CALL)
    assert partial.status == "wrong" and partial.reward == pytest.approx(1 / 3), partial


# ------------------------------------------------------------------------ isolation by construction (issue 13)
#
# Run with one box and with the default pool (one box per core): every test of a row is a fresh fork of a zygote that
# has seen no row, on a scratch mount no other row used. Each attack sits between honest rows of the same problem.

SEED = secrets.randbelow(10**6) + 10**6
ANSWER_TESTS = [{"stdin": f"{SEED + k}\n", "stdout": f"ANSWER {(SEED + k) * 7919 % 1000003}\n"} for k in range(3)]
ANSWER_REF = {"tests": ANSWER_TESTS}
HONEST_ANSWER = "n = int(input())\nprint('ANSWER', n * 7919 % 1000003)\n"
COPYCAT = r"""
import gc, re
PAT = re.compile(rb"ANSWER [0-9]+")
found = []
def look(x):
    if isinstance(x, str):
        x = x.encode("utf-8", "replace")
    if isinstance(x, (bytes, bytearray, memoryview)):
        found.extend(m.group().decode() for m in PAT.finditer(bytes(x)))
for obj in gc.get_objects():
    look(obj)
    for ref in gc.get_referents(obj):
        look(ref)
try:  # freed memory too: every writable mapping of this process
    mem = open("/proc/self/mem", "rb", 0)
    for line in open("/proc/self/maps"):
        addr, perms = line.split()[:2]
        lo, hi = (int(a, 16) for a in addr.split("-"))
        if "rw" in perms and hi - lo < 256 << 20:
            try:
                mem.seek(lo)
                look(mem.read(hi - lo))
            except (OSError, OverflowError, ValueError):
                pass
except OSError:
    pass
print(max(set(found), key=found.count) if found else "nothing found")
"""


@pytest.fixture(scope="module", params=["one-box", "default-pool"])
def pool_verifier(request):
    require_sandbox()
    verifier = CodeVerifier(time_limit=4.0, containers=1 if request.param == "one-box" else 0)
    verifier.concurrency()
    yield verifier


def test_copycats_in_a_grpo_group_score_nothing(pool_verifier):
    """8 samples of one prompt, graded concurrently as a GRPO step does: honest ones beside memory-scanning copycats."""
    import rlvr

    group = [HONEST_ANSWER, COPYCAT, HONEST_ANSWER, COPYCAT, COPYCAT, HONEST_ANSWER, COPYCAT, COPYCAT]
    for _ in range(2):  # twice: the second group follows rows whose outputs were the right answers
        verdicts = rlvr.score(pool_verifier, [f"```python\n{p}```" for p in group], [ANSWER_REF] * len(group))
        statuses = [v.status for v in verdicts]
        assert statuses == ["correct" if p is HONEST_ANSWER else "wrong" for p in group], [v.detail for v in verdicts]


def test_a_copycat_sees_nothing_of_earlier_rows(one_box):
    """The copycat's own memory (objects and freed heap) holds no output of the honest row graded just before it."""
    honest = one_box.run(Job("stdin", HONEST_ANSWER, [t["stdin"] for t in ANSWER_TESTS]))
    stolen = one_box.run(Job("stdin", COPYCAT, [""]))
    assert [r.stdout for r in honest] == [t["stdout"] for t in ANSWER_TESTS]
    assert stolen[0].stdout == "nothing found\n", stolen
    seen = one_box.run(Job("stdin", "held = input()\n" + COPYCAT, ["ANSWER 42\n"]))  # the scanner's own control
    assert seen[0].stdout == "ANSWER 42\n", seen


def test_heap_scan_finds_no_earlier_program_source(one_box):
    secret = secrets.token_hex(16)
    marked = f"# SECRET-{secret}\n" + "# padding\n" * 400 + "print('ANSWER 1')\n"  # a 4 KB source
    scan = COPYCAT.replace('rb"ANSWER [0-9]+"', 'rb"SECRET-[0-9a-f]{32}"')
    runs = [one_box.run(Job("stdin", marked, [""]))]
    runs.append(one_box.run(Job("stdin", scan, [""])))  # one job later
    for _ in range(3):
        runs.append(one_box.run(Job("stdin", HONEST_ANSWER, [ANSWER_TESTS[0]["stdin"]])))
    runs.append(one_box.run(Job("stdin", scan, [""])))  # four jobs later
    assert runs[0][0].stdout == "ANSWER 1\n"
    assert runs[1][0].stdout == runs[-1][0].stdout == "nothing found\n", (runs[1], runs[-1])


def test_inode_counters_are_no_channel(one_box):
    """A row sets the scratch inode counters (creates and deletes files); a later row reads them: nothing carries."""
    probe = (
        "import os\nout = []\nfor d in ('/tmp', '/dev/shm'):\n    p = d + '/probe'\n    open(p, 'w').close()\n"
        "    out.append(os.stat(p).st_ino)\n    os.unlink(p)\n    out.append(os.statvfs(d).f_ffree)\nprint(out)\n"
    )
    writer = (
        "import os\nfor d in ('/tmp', '/dev/shm'):\n    for i in range(777):\n        open(f'{d}/f{i}', 'w').close()\n"
        "        os.unlink(f'{d}/f{i}')\n    os.makedirs(d + '/left/a/b', exist_ok=True)\nprint('set')\n"
    )
    before = one_box.run(Job("stdin", probe, [""]))[0].stdout
    assert one_box.run(Job("stdin", writer, [""]))[0].stdout == "set\n"
    one_box.run(Job("stdin", HONEST_ANSWER, [ANSWER_TESTS[0]["stdin"]]))
    after = one_box.run(Job("stdin", probe, [""]))[0].stdout
    assert before == after and before.startswith("[2, "), (before, after)


def test_a_neighbour_holding_memory_does_not_fail_an_honest_row(pool_verifier):
    """An honest 128 MB program with memory_limit_mb=256 passes before and after a row with 40 replies of 1 MiB."""
    honest = "x = bytearray(128 << 20)\nprint(len(x))\n"
    ref = {"tests": [{"stdin": "", "stdout": f"{128 << 20}\n"}], "memory_limit_mb": 256}
    flood = "import sys\nsys.stdout.write('y' * ((1 << 20) - 1))\n"
    flood_ref = {"tests": [{"stdin": str(i), "stdout": "n"} for i in range(40)]}
    assert grade(pool_verifier, honest, ref).status == "correct"
    partial = CodeVerifier(time_limit=4.0, containers=pool_verifier.containers, partial=True)
    verdict = partial(f"```python\n{flood}```", flood_ref)
    assert verdict.status == "wrong" and "passed 0/40" in verdict.detail, verdict
    assert grade(pool_verifier, honest, ref).status == "correct"


HELPER_PROMPT = '''def encode_cyclic(s: str):
    groups = [s[(3 * i):min((3 * i + 3), len(s))] for i in range((len(s) + 2) // 3)]
    groups = [(group[1:] + group[0]) if len(group) == 3 else group for group in groups]
    return "".join(groups)


def decode_cyclic(s: str):
    """takes as input string encoded with encode_cyclic function. Returns decoded string."""
'''
HELPER_TEST = """
def check(candidate):
    from random import randint, choices
    import string
    letters = string.ascii_lowercase
    for _ in range(50):
        str = ''.join(choices(letters, k=randint(10, 20)))
        encoded_str = encode_cyclic(str)
        assert candidate(encoded_str) == str
"""
HELPER_REF = {"test_code": HELPER_TEST, "entry_point": "decode_cyclic", "prompt": HELPER_PROMPT}
LOOP_REF = {
    "test_code": "def check(candidate):\n    for i in range(5):\n        assert candidate(i, i) == 2 * i\n",
    "entry_point": "add",
}
TUPLE_REF = {"test_code": "def check(candidate):\n    assert candidate(1, 2) == tuple([1, 2])\n", "entry_point": "add"}
FRAME_WALK = """
import sys
def add(a, b):
    f = sys._getframe(1)
    while f:
        f.f_globals["check"] = lambda c: None
        f = f.f_back
    return 0
"""


@pytest.mark.parametrize(
    "program, ref",
    [
        ("class Eq:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Eq()\n", LOOP_REF),
        (
            "class Eq(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
            "def add(a, b):\n    return Eq(0)\n",
            LOOP_REF,
        ),
        ("def encode_cyclic(s):\n    return s\ndef decode_cyclic(s):\n    return s\n", HELPER_REF),
        ("import builtins\nbuiltins.tuple = lambda *a: ()\ndef add(a, b):\n    return ()\n", TUPLE_REF),
        ("import builtins\nbuiltins.AssertionError = SystemExit\ndef add(a, b):\n    return 0\n", LOOP_REF),
        (FRAME_WALK, LOOP_REF),
        (
            "def add(a, b):\n    return 10 ** 400\n",
            {
                "test_code": "def check(candidate):\n    assert abs(candidate(1, 2) - 3.0) < 1e-6\n",
                "entry_point": "add",
            },
        ),
    ],
    ids=[
        "eq-always-true",
        "int-subclass-eq",
        "redefined-prompt-helpers",
        "builtins-tuple",
        "assertion-swap",
        "frame-walk-rewrites-check",
        "overflowing-float",
    ],
)
def test_in_box_judging_cannot_be_fooled(pool_verifier, program, ref):
    assert_contained(grade(pool_verifier, program, ref))


@pytest.mark.parametrize(
    "program, ref",
    [
        ("def add(a, b):\n    return a + b\n", LOOP_REF),
        ("def decode_cyclic(s):\n    return encode_cyclic(encode_cyclic(s))\n", HELPER_REF),
        ("def add(a, b):\n    return (a, b)\n", TUPLE_REF),
    ],
    ids=["loop", "prompt-helper", "tuple"],
)
def test_in_box_judging_honest_controls(pool_verifier, program, ref):
    verdict = grade(pool_verifier, program, ref)
    assert verdict.status == "correct", verdict


def test_overflowing_number_for_a_float_is_wrong_not_error(pool_verifier):
    ref = {"fn_name": "add", "tests": [{"args": [1, 2], "expected": 3.0}], "float_tolerance": {"abs": 1e-6}}
    program = "def add(a, b):\n    return 10 ** 400\n"
    assert_contained(grade(pool_verifier, program, ref))
    assert_contained(grade(pool_verifier, program, {k: v for k, v in ref.items() if k != "float_tolerance"}))


def test_hard_link_flood_is_capped_and_wrong_not_error(pool_verifier):
    program = """
        import os
        open("/dev/shm/base", "w").close()
        n = 0
        try:
            while n < 830000:
                os.link("/dev/shm/base", f"/dev/shm/l{n}")
                n += 1
        except OSError:
            pass
        print(n)
    """
    t0 = time.monotonic()
    verdict = grade(pool_verifier, program, expect_stdout("830000", time_limit=10))
    assert_contained(verdict)
    assert time.monotonic() - t0 < 10
    program, ref = HONEST["stdin"]
    assert grade(pool_verifier, program, ref).status == "correct"


def test_a_program_killing_its_own_processes_is_wrong_not_error(pool_verifier):
    program = "import os, signal\nos.kill(-1, signal.SIGKILL)\nos.kill(os.getpid(), signal.SIGKILL)\n"
    assert_contained(grade(pool_verifier, program, ADD_STDIN))
    in_call = "import os, signal\ndef add(a, b):\n    os.kill(-1, signal.SIGKILL)\n    os.kill(os.getpid(), 9)\n"
    assert_contained(grade(pool_verifier, in_call, ADD_HUMANEVAL))


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
