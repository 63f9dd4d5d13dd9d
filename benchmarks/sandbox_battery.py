"""The hostile battery of issue 13 through the whole `rlvr score --verifier code` process, with one box and the pool.

Attack rows (copycats in a group of samples of one prompt, heap scans for an earlier row's source, `__eq__`
overrides, redefined prompt helpers, patched builtins, overflowing numbers, 40 replies of 1 MiB, hard-link floods,
fork and memory bombs, killing its own processes) sit between honest rows of the same problems. Checks: every verdict
as expected (honest `correct`, attack `wrong`, never `error`), the output file written, the peak RSS of the
`rlvr score` process, and no container left behind. Programs come from tests/test_sandbox_adversarial.py.

    python benchmarks/sandbox_battery.py      # prints one line per run and exits 1 if any check fails
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rlvr import sandbox  # noqa: E402
from tests.test_sandbox_adversarial import (  # noqa: E402
    ADD_CALL,
    ADD_HUMANEVAL,
    ADD_STDIN,
    ANSWER_REF,
    COPYCAT,
    FRAME_WALK,
    HELPER_REF,
    HONEST,
    HONEST_ANSWER,
    LOOP_REF,
    TUPLE_REF,
)

SECRET = "SECRET-" + "ab" * 16  # in an earlier row's source; printed only by a scan that escaped
HARD_LINKS = """
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
ATTACKS = [
    (COPYCAT, ANSWER_REF),
    (COPYCAT.replace('rb"ANSWER [0-9]+"', 'rb"SECRET-[0-9a-f]{32}"'), {"tests": [{"stdin": "", "stdout": SECRET}]}),
    ("class Eq:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Eq()\n", LOOP_REF),
    ("def encode_cyclic(s):\n    return s\ndef decode_cyclic(s):\n    return s\n", HELPER_REF),
    ("import builtins\nbuiltins.tuple = lambda *a: ()\ndef add(a, b):\n    return ()\n", TUPLE_REF),
    (FRAME_WALK, LOOP_REF),
    ("def add(a, b):\n    return 10 ** 400\n", {**ADD_CALL, "float_tolerance": {"abs": 1e-6}}),
    (
        "def add(a, b):\n    return 10 ** 400\n",
        {"test_code": "def check(candidate):\n    assert abs(candidate(1, 2) - 3.0) < 1e-6\n", "entry_point": "add"},
    ),
    (
        "import sys\nsys.stdout.write('y' * ((1 << 20) - 1))\n",
        {"tests": [{"stdin": str(i), "stdout": "n"} for i in range(40)]},
    ),
    (HARD_LINKS, {"tests": [{"stdin": "", "stdout": "830000"}], "time_limit": 10}),
    (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        {**ADD_STDIN, "time_limit": 1},
    ),
    ("x = []\nwhile True:\n    x.append(bytearray(50 << 20))\n", {**ADD_STDIN, "memory_limit_mb": 128}),
    ("import os, signal\nos.kill(-1, signal.SIGKILL)\nos.kill(os.getpid(), signal.SIGKILL)\n", ADD_STDIN),
    ("import sys\nsys.exit(0)\ndef add(a, b):\n    return a + b\n", ADD_HUMANEVAL),
]
HONEST_ROWS = [
    *HONEST.values(),
    (HONEST_ANSWER, ANSWER_REF),
    (
        "x = bytearray(128 << 20)\nprint(len(x))\n",
        {"tests": [{"stdin": "", "stdout": f"{128 << 20}\n"}], "memory_limit_mb": 256},
    ),
    ("def decode_cyclic(s):\n    return encode_cyclic(encode_cyclic(s))\n", HELPER_REF),
    ("def add(a, b):\n    return (a, b)\n", TUPLE_REF),
]


def battery() -> list[tuple[str, dict, str]]:
    """Honest rows before, between (after every attack) and after; the secret-marked source two rows before a scan."""
    rows = [(p, r, "correct") for p, r in HONEST_ROWS]
    marked = f"# {SECRET}\n" + "# padding\n" * 400 + "print('n')\n"
    rows.append((marked, {"tests": [{"stdin": "", "stdout": "n"}]}, "correct"))
    for n, (program, ref) in enumerate(ATTACKS):
        rows.append((program, ref, "wrong"))
        honest_program, honest_ref = HONEST_ROWS[n % len(HONEST_ROWS)]
        rows.append((honest_program, honest_ref, "correct"))
    rows += [(p, r, "correct") for p, r in HONEST_ROWS]
    return rows


def run(rows: list[tuple[str, dict, str]], containers: int) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.jsonl"), os.path.join(d, "out.jsonl")
        with open(src, "w") as f:
            for n, (program, ref, _) in enumerate(rows):
                f.write(
                    json.dumps({"id": n, "completion": f"```python\n{textwrap.dedent(program)}```", "reference": ref})
                    + "\n"
                )
        cmd = ["rlvr", "score", "--verifier", "code", "--input", src, "--output", dst, "--no-progress"]
        cmd += ["--option", "partial=true", "--option", f"containers={containers}"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        seconds = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0 or not os.path.exists(dst):
            return False, f"rlvr score failed ({proc.returncode}): {proc.stderr[-500:]}"
        out = [json.loads(line) for line in open(dst)]
    bad = [(o["id"], o["status"], o["detail"][:100]) for o, (_, _, want) in zip(out, rows) if o["status"] != want]
    errors = sum(o["status"] == "error" for o in out)
    time.sleep(1.0)
    left = sandbox.labelled_containers(sandbox.docker_client())
    ok = not bad and len(out) == len(rows) and errors == 0 and peak_mb < 500 and not left
    line = (
        f"containers={containers or 'default'}: {len(rows)} rows in {seconds:.1f}s, {len(bad)} unexpected verdict(s), "
        f"{errors} error row(s), peak RSS of the largest child so far {peak_mb:.0f} MB, {len(left)} box(es) left"
    )
    return ok, line + "".join(f"\n  unexpected: {b}" for b in bad)


def main() -> int:
    rows = battery()
    results = [run(rows, containers) for containers in (1, 0)]
    for _, line in results:
        print(line)
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
