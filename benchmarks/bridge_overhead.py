"""What the bridge's handles cost per test-code row: the same MBPP rows judged by two sandbox images, paired, in one run.

The handles worker (sandboxes/python/worker.py as of this branch) adds, per test-code row, the program's list of
names sent to the judge, a walk of the test code's names, the program's import lines redone in the judge, and a
request per operation on an object of the program's. This runs each row (an MBPP canonical solution and its asserts,
one bridge job) on a box of the baseline image and on a box of the candidate image, one right after the other (the
order alternates from row to row), so that the machine's load weighs on both alike. Per round it takes the median
over rows of the box's own time for the test (its processes' start to end) and of the host's wall time for the job;
it prints, per image, the median/min/max of those over the rounds, and the candidate/baseline ratio of the medians.

    python benchmarks/bridge_overhead.py --mbpp mbpp.jsonl --baseline rlvr-sandbox-python:latest \\
        --candidate rlvr-sandbox-python:proxies [--rows 150] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from code_agreement import mbpp_cases

from rlvr.sandbox import Job, SandboxConfig, SandboxPool


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mbpp", required=True)
    p.add_argument("--baseline", required=True)
    p.add_argument("--candidate", required=True)
    p.add_argument("--rows", type=int, default=150)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    cases = [c for c in mbpp_cases(args.mbpp) if c["set"].endswith("/canonical")][: args.rows]
    jobs = [
        Job(
            "bridge",
            c["official"][: -len(c["reference"]["test_code"])],  # the program alone
            [None],
            time_limit=10.0,
            fn_name=c["reference"]["entry_point"],
            test_code=c["reference"]["test_code"],
            token="t" * 32,
        )
        for c in cases
    ]
    images = [args.baseline, args.candidate]
    pools = {image: SandboxPool(SandboxConfig(image=image, containers=1)) for image in images}
    box: dict[str, list[float]] = {image: [] for image in images}  # per round: median over rows
    host: dict[str, list[float]] = {image: [] for image in images}
    try:
        for image in images:
            pools[image].run(jobs[0])  # boxes started and warm before anything is timed
        for r in range(args.rounds):
            seconds: dict[str, list[float]] = {image: [] for image in images}
            walls: dict[str, list[float]] = {image: [] for image in images}
            for i, job in enumerate(jobs):
                for image in images if (i + r) % 2 == 0 else images[::-1]:
                    t0 = time.perf_counter()
                    run = pools[image].run(job)[0]
                    walls[image].append(time.perf_counter() - t0)
                    seconds[image].append(run.seconds)
            for image in images:
                box[image].append(statistics.median(seconds[image]))
                host[image].append(statistics.median(walls[image]))
            print(f"round {r + 1}: " + ", ".join(f"{i} box {box[i][-1] * 1e3:.1f} ms" for i in images), flush=True)
    finally:
        for pool in pools.values():
            pool.close()
    for what, times in (("box", box), ("host", host)):
        for image in images:
            t = times[image]
            print(
                f"{what:<4} {image:<34} median {statistics.median(t) * 1e3:6.1f} ms  "
                f"min {min(t) * 1e3:6.1f}  max {max(t) * 1e3:6.1f}  (per-row medians of {len(t)} rounds x {len(jobs)})"
            )
        ratio = statistics.median(times[args.candidate]) / statistics.median(times[args.baseline])
        print(f"{what:<4} candidate / baseline (medians): {ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
