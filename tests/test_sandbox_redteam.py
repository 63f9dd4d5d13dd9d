"""A second red-team pass on the rebuilt sandbox (issue 13): attacks not in tests/test_sandbox_adversarial.py.

Each test is one property. The attacks that worked before the fixes beside them:

- the bridge let a program's ``UnboundLocalError`` (a NameError subclass, and a common bug) through as itself, so the
  judge took it for an incomplete reference and refused the row: ``error``, no penalty;
- a program's ``StopIteration`` crossed the bridge as itself and ended the test's ``map()`` loop early: a pass;
- the host's number pattern for ``float_tolerance`` backtracked quadratically: one 1 MB output line held the host's
  CPU for hours;
- the host built returned sets and int-keyed dicts, whose hashes a program chooses: 32,000 colliding ints (1 MB of
  JSON) took 14 s (a set) to 31 s (a dict) of host CPU per test;
- a value the program returned (an object of its own type, or nested 99 deep), fed back to it by the test code, made
  the judge refuse the row: ``error``;
- a row set its scratch mount's mtime (by when it created and deleted a file) and a later row, with an honest one
  between, read it with ``stat`` on the old mount: a channel between rows;
- a checker job carried every test's output at once: outputs JSON escapes 6-fold made it larger than the box accepts
  (``error``) and drove the host past 600 MB.

The rest are attacks that failed, kept as regressions. Needs a Docker daemon and the sandbox image.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from rlvr import sandbox
from rlvr.sandbox import Job, SandboxConfig, SandboxPool
from rlvr.verifiers.code import CodeVerifier
from tests.conftest import require_sandbox

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.docker

ADD_TEST_CODE = {"test_code": "def check(candidate):\n    assert candidate(1, 2) == 3\n", "entry_point": "add"}
HONEST_ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def v():
    require_sandbox()
    verifier = CodeVerifier(time_limit=4.0, containers=1)
    verifier.concurrency()
    yield verifier
    sandbox.close_all()


def grade(v: CodeVerifier, program: str, reference: dict):
    return v(f"```python\n{textwrap.dedent(program)}\n```", reference)


def assert_wrong(verdict) -> None:
    assert verdict.status == "wrong" and verdict.reward == 0.0, verdict


def assert_correct(verdict) -> None:
    assert verdict.status == "correct" and verdict.reward == 1.0, verdict


def test_honest_controls_before(v):
    assert_correct(grade(v, HONEST_ADD, ADD_TEST_CODE))
    assert_correct(grade(v, HONEST_ADD, {"fn_name": "add", "tests": [{"args": [2, 3], "expected": 5}]}))
    assert_correct(grade(v, "print(sum(map(int, input().split())))", {"tests": [{"stdin": "2 3\n", "stdout": "5"}]}))


# ------------------------------------------------------------------------------------------- the bridge's exceptions


@pytest.mark.parametrize(
    "program",
    [
        "def add(a, b):\n    raise UnboundLocalError('no penalty please')\n",
        "def add(a, b):\n    if a > 100:\n        s = a + b\n    return s\n",  # the honest bug that raises it
    ],
    ids=["raised", "buggy"],
)
def test_unbound_local_error_is_wrong_not_error(v, program):
    assert_wrong(grade(v, program, ADD_TEST_CODE))


def test_a_test_code_name_error_is_still_refused(v):
    """The control: a test that uses a name nobody defines is a reference problem (error), whatever the program."""
    ref = {"test_code": "def check(candidate):\n    assert candidate(1, 2) == helper(3)\n", "entry_point": "add"}
    assert grade(v, HONEST_ADD, ref).status == "error"


MAP_REF = {
    "test_code": "def check(candidate):\n    for got in map(candidate, [1, 40], [2, 2]):\n        assert got in (3, 42)\n",
    "entry_point": "add",
}


def test_stop_iteration_does_not_end_a_test_loop(v):
    assert_wrong(grade(v, "def add(a, b):\n    raise StopIteration\n", MAP_REF))
    assert_correct(grade(v, HONEST_ADD, MAP_REF))


@pytest.mark.parametrize(
    "body",
    [
        'b"R" + b"[" * 200_000 + b"]" * 200_000',  # nesting past the judge's recursion limit
        'b"X" + b\'{"raise": "SystemExit", "message": "0"}\'',  # an exit the judge must not take
        'b"X" + b\'{"raise": "KeyboardInterrupt"}\'',
        'b"R" + b\'{"$opaque": ["int", true], "x": 1}\'',  # malformed tag
    ],
    ids=["deep", "system-exit", "keyboard-interrupt", "malformed"],
)
def test_raw_replies_on_the_bridge_are_wrong(v, body):
    program = f"""
        import os, struct, time
        def add(a, b):
            body = {body}
            os.write(4, struct.pack(">I", len(body)) + body)
            time.sleep(3)
        """
    assert_wrong(grade(v, program, ADD_TEST_CODE))


ROUND_TRIP_REF = {
    "test_code": "def check(candidate):\n    assert candidate(candidate('abc')) == 'abc'\n",
    "entry_point": "rev",
}


@pytest.mark.parametrize(
    "program",
    [
        "class S(str):\n    pass\ndef rev(s):\n    return S(s[::-1])\n",  # crosses as an opaque stand-in
        "def rev(s):\n    for _ in range(99):\n        s = [s]\n    return s\n",  # as deep as a value may be
    ],
    ids=["opaque", "deep"],
)
def test_a_return_value_passed_back_is_wrong_not_refused(v, program):
    """Test code that feeds a result back to the program: what the program returned is its doing, never ``error``."""
    assert_wrong(grade(v, program, ROUND_TRIP_REF))
    assert_correct(grade(v, "def rev(s):\n    return s[::-1]\n", ROUND_TRIP_REF))


def test_a_returned_object_whose_truth_test_exits_is_wrong(v):
    """``bool()`` of an opaque return value runs the program's ``__bool__``, which raises SystemExit(0) there."""
    program = "class B:\n    def __bool__(self):\n        raise SystemExit(0)\ndef add(a, b):\n    return B()\n"
    ref = {"test_code": "def check(candidate):\n    assert candidate(1, 2)\n", "entry_point": "add"}
    assert_wrong(grade(v, program, ref))
    assert_correct(grade(v, HONEST_ADD, ref))


def test_raw_nan_result_is_not_within_any_tolerance(v):
    program = "import os\ndef f():\n    os.write(3, b'NaN')\n    os._exit(0)\n"
    ref = {"fn_name": "f", "tests": [{"args": [], "expected": 0.5}], "float_tolerance": {"rel": 1e9, "abs": 1e9}}
    assert_wrong(grade(v, program, ref))
    assert_correct(grade(v, "def f():\n    return 0.5 + 1e-12\n", ref))


def test_judge_does_not_import_the_programs_modules_from_scratch(v):
    """The judge mirrors the program's ``import m`` lines; a module the program wrote to /tmp must not load there."""
    program = """
        open("/tmp/rlvr_pwn.py", "w").write("import os\\nif os.getuid() != 65534:\\n    os._exit(0)\\n")
        import sys
        sys.path.insert(0, "/tmp")
        import rlvr_pwn
        def add(a, b):
            return 0
        """
    assert_wrong(grade(v, program, ADD_TEST_CODE))


# ---------------------------------------------------------------------------------------- the host's judging time


def test_float_tolerance_on_a_megabyte_token_is_fast(v):
    ref = {"tests": [{"stdin": "", "stdout": "1.5"}], "float_tolerance": {"rel": 1e-6}}
    start = time.monotonic()
    assert_wrong(grade(v, "import sys\nsys.stdout.write('1' * 1_000_000 + 'x')\n", ref))
    assert time.monotonic() - start < 10  # quadratic backtracking took hours
    assert_correct(grade(v, "print(1.5000001)", ref))


@pytest.mark.parametrize("tag", ["$set", "$frozenset", "$dict"])
def test_colliding_hashes_in_a_return_value_are_judged_fast(v, tag):
    """The program writes the tagged JSON itself (building the set in the box would time out there first)."""
    program = f"""
        import json, os
        def f():
            items = [k * (2**61 - 1) for k in range(32_000)]  # all hash to 0; 1 MB of JSON as a dict
            value = [[k, 0] for k in items] if "{tag}" == "$dict" else items
            os.write(3, json.dumps({{"{tag}": value}}).encode())
            os._exit(0)
        """
    ref = {"fn_name": "f", "tests": [{"args": [], "expected": [1]}]}
    start = time.monotonic()
    assert_wrong(grade(v, program, ref))
    assert time.monotonic() - start < 5  # the host hashed them: 14 s


def test_string_keyed_mappings_still_compare(v):
    ref = {"fn_name": "f", "tests": [{"args": [], "expected": {"a": 2, "b": 1}}]}
    assert_correct(grade(v, "from collections import Counter\ndef f():\n    return Counter('aab')\n", ref))


# -------------------------------------------------------------------------------------------------- checkers


CHECKER = "def check(stdin, expected, output):\n    return output.split() == expected.split()\n"


def test_checker_flood_is_wrong_not_error_and_host_stays_small(v):
    """Every test's output at the cap, all escaped 6-fold in JSON: the checker's job would exceed 256 MiB."""
    ref = {
        "tests": [{"stdin": f"{k}\n", "stdout": "ok"} for k in range(6)],
        "checker": CHECKER,
        "output_limit_bytes": 8 << 20,
    }
    # In a fresh process, read from VmHWM: ru_maxrss is a lifetime peak that even survives fork + exec (Linux copies
    # it), and this pytest process may have trained models before (1.19 GB seen in the whole suite).
    script = textwrap.dedent(
        f"""
        import json
        from rlvr import sandbox
        from rlvr.verifiers.code import CodeVerifier
        v = CodeVerifier(time_limit=4.0, containers=1)
        program = "```python\\nimport sys\\nsys.stdout.write(chr(0) * (8 << 20))\\n```"
        verdict = v(program, json.loads({json.dumps(json.dumps(ref))}))
        sandbox.close_all()
        peak = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
        print(json.dumps([verdict.status, verdict.detail, peak]))
        """
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    status, detail, peak_kib = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status == "wrong" and "checker rejected" in detail, (status, detail)
    assert peak_kib < 500 << 10, peak_kib  # below 500 MB for the whole grading process
    assert_correct(grade(v, "input()\nprint('ok')\n", ref))


# ------------------------------------------------------------------------------------------- channels between rows


def test_kernel_keyrings_are_no_channel(v):
    """The uid's keyring would outlive the row's processes; add_key must fail (Docker's seccomp profile)."""
    program = """
        import ctypes, platform
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        add_key = {"x86_64": 248, "aarch64": 217}[platform.machine()]
        print(libc.syscall(add_key, b"user", b"rlvr", b"x", 1, -4) >= 0)  # -4: KEY_SPEC_USER_KEYRING
        """
    assert_wrong(grade(v, program, {"tests": [{"stdin": "", "stdout": "True"}]}))


def test_a_test_process_cannot_lower_its_oom_priority(v):
    """At the default 0 a test's processes could outweigh the runner in the box's OOM killer's choice: ``error``."""
    program = """
        try:
            open("/proc/self/oom_score_adj", "w").write("0")
        except OSError:
            pass
        print(open("/proc/self/oom_score_adj").read())
        """
    assert_wrong(grade(v, program, {"tests": [{"stdin": "", "stdout": "0"}]}))


MTIME_SENDER = """
import os, time
while time.time_ns() // 1_000_000 % 10 != 7:  # the millisecond digit carries the bit pattern
    pass
open("/tmp/x", "w").close()
os.unlink("/tmp/x")  # leaves the scratch empty, so no wipe touches it afterwards
"""
MTIME_READER = """
import os
times = set()
for name in os.listdir("/scratch"):
    st = os.stat("/scratch/" + name)  # an earlier job's mount: mode 0, but its root can still be stat'ed
    if st.st_mode & 0o777 == 0:
        times.add(st.st_mtime_ns)
print(sorted(times))
"""


def test_scratch_mount_times_are_no_channel():
    """A row sets its mount's mtime by when it creates and deletes a file; later rows can stat old mounts."""
    require_sandbox()
    with SandboxPool(SandboxConfig(containers=1)) as pool:
        pool.run(Job("stdin", MTIME_SENDER, [""]))
        pool.run(Job("stdin", "print(1)", [""]))  # an honest row between
        assert pool.run(Job("stdin", MTIME_READER, [""]))[0].stdout.strip() == "[0]"


def test_honest_controls_after(v):
    test_honest_controls_before(v)


def test_zz_no_box_left_behind(v):
    client = sandbox.docker_client(timeout=10)
    sandbox.close_all()
    time.sleep(0.5)
    owner = sandbox._owner()
    assert [
        c for c in sandbox.labelled_containers(client) if (c["Labels"] or {}).get(f"{sandbox.LABEL}.owner") == owner
    ] == []
