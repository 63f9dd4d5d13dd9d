"""Throughput of the `code` verifier: isolated test executions per second, against naive `docker run` per test.

Both sides run the same trivial stdin/stdout programs (4 tests per row) with the same parallelism (one per core):

- rlvr: the whole `rlvr score --verifier code` process, timed from the outside (interpreter start, imports, pool
  start-up, every row judged, output written). Each row's program is distinct, so the cache does not help.
- naive: `docker run --rm -i --network none <image> python3 -c <program>` once per test, output compared by hand.

Prints tests/s for each and the ratio (median, min, max over --repeat interleaved runs); the bar is >= 100 tests/s
and >= 15x. Needs a Docker daemon and the
sandbox image (`bash sandboxes/setup-docker.sh`).

    python benchmarks/bench_sandbox.py [--rows 200] [--naive-tests 16]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from rlvr.sandbox import DEFAULT_IMAGE, SandboxConfig

TESTS_PER_ROW = 4


def program(i: int) -> str:
    return f"# row {i}\na, b = map(int, input().split())\nprint(a + b)\n"


def rows(n: int) -> list[dict]:
    out = []
    for i in range(n):
        tests = [{"stdin": f"{i} {k}\n", "stdout": f"{i + k}\n"} for k in range(TESTS_PER_ROW)]
        out.append({"completion": f"```python\n{program(i)}```", "reference": {"tests": tests}})
    return out


def bench_rlvr(n_rows: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.jsonl"), os.path.join(d, "out.jsonl")
        with open(src, "w") as f:
            for row in rows(n_rows):
                f.write(json.dumps(row) + "\n")
        cmd = ["rlvr", "score", "--verifier", "code", "--input", src, "--output", dst, "--no-progress"]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        with open(dst) as f:
            correct = sum(json.loads(line)["status"] == "correct" for line in f)
    if correct != n_rows:
        sys.exit(f"bench_sandbox: only {correct}/{n_rows} rows correct; the benchmark is invalid")
    return seconds, n_rows * TESTS_PER_ROW


def naive_test(i: int, image: str) -> bool:
    a, b = divmod(i, TESTS_PER_ROW)
    cmd = ["docker", "run", "--rm", "-i", "--network", "none", image, "python3", "-c", program(a)]
    out = subprocess.run(cmd, input=f"{a} {b}\n", capture_output=True, text=True, check=False).stdout
    return out.strip() == str(a + b)


def bench_naive(n_tests: int, workers: int, image: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        ok = sum(ex.map(lambda i: naive_test(i, image), range(n_tests)))
    seconds = time.perf_counter() - t0
    if ok != n_tests:
        sys.exit(f"bench_sandbox: naive baseline passed only {ok}/{n_tests} tests")
    return seconds, n_tests


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=200)
    p.add_argument("--naive-tests", type=int, default=16)
    p.add_argument("--repeat", type=int, default=3, help="runs of each side; median, min and max are printed")
    p.add_argument("--image", default=DEFAULT_IMAGE)
    args = p.parse_args()
    workers = SandboxConfig().size()
    naive, ours = [], []
    for _ in range(args.repeat):  # interleaved, so that a change in machine load hits both sides alike
        n_secs, n_tests = bench_naive(args.naive_tests, workers, args.image)
        r_secs, r_tests = bench_rlvr(args.rows)
        naive.append(n_tests / n_secs)
        ours.append(r_tests / r_secs)
    ratios = sorted(o / n for o, n in zip(ours, naive))
    print(f"cores={workers} tests_per_row={TESTS_PER_ROW} runs={args.repeat} (median [min, max])")
    print(f"naive docker run per test: {_spread(naive)} tests/s ({args.naive_tests} tests per run)")
    print(f"rlvr score --verifier code: {_spread(ours)} tests/s ({args.rows * TESTS_PER_ROW} tests per run)")
    print(f"ratio (per run): {_spread(ratios, 'x')} (bar: >= 100 tests/s and >= 15x)")
    return 0 if statistics.median(ours) >= 100 and statistics.median(ratios) >= 15 else 1


def _spread(values: list[float], unit: str = "") -> str:
    return f"{statistics.median(values):.1f}{unit} [{min(values):.1f}, {max(values):.1f}]"


if __name__ == "__main__":
    sys.exit(main())
