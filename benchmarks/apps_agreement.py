"""Agreement of the `code` verifier with the APPS and CodeContests harnesses on real problems and submissions.

Two sets, read from git mirrors at pinned commits (nothing is copied here; the data's licences stay with it):

- ``apps``: salesforce/CodeRL @ ec3c526 (BSD-3; APPS itself is MIT) vendors five APPS training problems
  (``data/APPS/train/{0001,0111,2287,2404,4184}``; three stdin/stdout, two call-based ``fn_name`` problems) with
  APPS's ``input_output.json``, every human solution APPS ships (``solutions.json``: accepted) and CodeRL's sampled
  programs (``gen_solutions.json``), each labelled by APPS's own harness (``result``: True, False, -1 runtime error,
  -2 compile error).
- ``codecontests``: justinchiu-test/codecontests-repo @ a366655d (MIT; CodeContests is CC BY 4.0) formats 300
  Codeforces problems of deepmind/code_contests as ``problems_original/<cluster>/<problem>/{main.py, tests/}``:
  one accepted Python 3 solution of the dataset per problem, with about ten of its public, private and generated
  tests. ``--rewrites`` adds the distinct rewrites of those solutions by Claude and Codex agents on eight branches of
  the same repository (model-written programs, some wrong; ``set`` ``codecontests/rewritten``).

Every program is judged two ways:

(a) **The benchmark's own semantics**, each program a file run by a fresh ``python3`` per test in the sandbox image
    (no limits but a timeout), its output judged on the host. APPS (hendrycks/apps ``eval/testing_util.py``): the program runs after APPS's import header (``import
    sys, math, numpy as np``, ``from typing import List`` ...); a stdin test passes when any of its comparisons
    passes: stripped text, stripped lines, non-empty stripped lines, all lines as floats within ``np.allclose``, and
    last the *sets* of per-line token sets (order of lines and of tokens within a line and repeated lines do not
    matter), also with numbers rounded to 3 decimals. A call-based test calls ``fn_name`` (a method of ``Solution()``
    when the code defines that class), turns a tuple result into a list and passes when it ``==`` the expected
    value or its first element. The one departure: APPS runs the program in its own process, wrapped in ``def
    code()`` with ``sys.stdin`` patched; here it runs as a script. CodeContests (deepmind/code_contests
    ``execution/tester_sandboxer.cc``, ``OutputsMatch``): whitespace-separated tokens, lowercased; two tokens match
    when equal, or, both numeric and one not a 32-bit integer, within 1e-5 absolute.

(b) **rlvr**: ``rlvr.score(CodeVerifier(time_limit=...), ...)`` with the reference rlvr's ``code_stdio`` task
    builds from the row: ``input_output`` for APPS (APPS's import header as ``prompt``, case-sensitive output),
    code_contests' ``generated_tests`` block for CodeContests (its judge's 1e-5 tolerance). The ``(rlvr defaults)``
    sets judge the same programs with what the task built before (``apps_rules = False``; a plain ``tests`` row):
    no header, any case, no tolerance.

The official verdict is the truth. Every disagreement is printed with both sides' reasons for classification; for
APPS rows the label APPS's harness recorded is printed too (a program that passes here but was labelled -1 timed
out on CodeRL's machine, say).

    python benchmarks/apps_agreement.py --coderl <CodeRL>/.git --codecontests <codecontests-repo>/.git [--rewrites]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from kattis_packages import Mirror

import rlvr
from environments.code import APPS_HEADER, CodeStdio, fenced
from rlvr.sandbox import DEFAULT_IMAGE
from rlvr.verifiers.code import CodeVerifier

CODERL_COMMIT = "ec3c526"
CODECONTESTS_COMMIT = "a366655d"
REWRITE_BRANCHES = (  # the same repository's agent branches (pinned)
    "6fb20bc",  # claude-codex-plan-checklist
    "2fdd3a2",  # claude-main
    "e6c32bb",  # claude-plan
    "6839c30",  # claude-plan-checklist
    "1257631",  # claude2
    "5dbb9b6",  # codex-plan
    "8245f6e",  # codex-plan-checklist
    "e7c6c41",  # codex-plan-checklist2
)
APPS_PROBLEMS = ("0001", "0111", "2287", "2404", "4184")
# Runs inside the image: one fresh interpreter per (program, test); stdout comes back for judging on the host.
HARNESS = r"""
import json, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
CALL = '''
import json, sys
job = json.loads(sys.stdin.read())
ns = {"__name__": "__main__"}
exec(compile(job["program"], "program.py", "exec"), ns)
fn = ns["Solution"]().__getattribute__(job["fn_name"]) if "class Solution" in job["program"] else ns[job["fn_name"]]
args = job["args"]
if args and isinstance(args[0], dict):
    try:
        args = [{int(k): v for k, v in args[0].items()}]
    except Exception:
        pass
out = fn(*args)
if isinstance(out, tuple):
    out = list(out)
want = job["expected"]
ok = out == want or (isinstance(want, list) and len(want) > 0 and out == want[0])
try:
    ok = ok or (isinstance(out[0], tuple) and [list(x) for x in out] == want[0])
except Exception:
    pass
print("RLVR-CALL-RESULT", bool(ok))
'''
def run(job):
    if job.get("fn_name"):
        argv, stdin = [sys.executable, "-c", CALL], json.dumps(job)
    else:  # a file, as judges run it (``__file__`` is defined)
        path = "/tmp/program_%d_%d.py" % tuple(job["at"])
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(job["program"])
        argv, stdin = [sys.executable, path], job["stdin"]
    try:
        p = subprocess.run(argv, input=stdin.encode(), capture_output=True, timeout=TIMEOUT, cwd="/tmp")
    except subprocess.TimeoutExpired:
        return {"key": job["key"], "rc": None, "stdout": "", "why": "timeout"}
    finally:
        if not job.get("fn_name"):
            os.remove(path)
    err = p.stderr.decode("utf-8", "replace").strip().splitlines()
    out = p.stdout[: 8 << 20].decode("utf-8", "replace")
    return {"key": job["key"], "rc": p.returncode, "stdout": out, "why": err[-1][:200] if err else ""}
jobs = [json.loads(line) for line in sys.stdin]
with ThreadPoolExecutor(WORKERS) as ex:
    for result in ex.map(run, jobs):
        print(json.dumps(result), flush=True)
"""


# ---------------------------------------------------------------------------------------------- official semantics


def apps_stdin_pass(stdout: str, expected: Any) -> bool:
    """APPS's cascade of comparisons for one stdin test (testing_util.py, ``run_test``), in order."""
    if isinstance(expected, list):
        expected = "\n".join(expected)
    lines = stdout.splitlines()
    want = expected.strip()
    if "\n".join(lines).strip() == want or "\n".join(x.strip() for x in lines).strip() == want:
        return True
    if lines == [expected]:
        return True
    exp_lines = [x.strip() for x in expected.split("\n") if x]
    if lines == exp_lines:
        return True
    lines = [x for x in lines if x]
    if lines == exp_lines:
        return True
    try:
        got_f, exp_f = [float(x) for x in lines], [float(x) for x in exp_lines]
        if len(got_f) == len(exp_f) and all(_allclose(a, b) for a, b in zip(got_f, exp_f)):
            return True
    except ValueError:
        pass
    exp_sets = [frozenset(x.split()) for x in exp_lines]
    got_sets = [frozenset(x.split()) for x in lines]
    got_sets = [s for s in got_sets if s]
    if set(got_sets) == set(exp_sets):
        return True
    try:
        return {frozenset(round(float(t), 3) for t in s) for s in got_sets} == {
            frozenset(round(float(t), 3) for t in s) for s in exp_sets
        }
    except (ValueError, OverflowError):
        return False


def _allclose(a: float, b: float) -> bool:
    """numpy.allclose's test for one pair (rtol 1e-5, atol 1e-8; equal infinities match, NaN never does)."""
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-8 + 1e-5 * abs(b)


_INT = re.compile(r"[+-]?\d+")
_DOUBLE = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE)


def codecontests_pass(stdout: str, expected: str) -> bool:
    """deepmind/code_contests ``OutputsMatch``: lowercased tokens; numbers (one not an int32) within 1e-5."""
    got = [t.lower() for t in re.split(r"[ \n\t\r\v]+", stdout) if t]
    want = [t.lower() for t in re.split(r"[ \n\t\r\v]+", expected) if t]
    if got == want:
        return True
    return len(got) == len(want) and all(_values_match(a, b) for a, b in zip(got, want))


def _values_match(a: str, b: str) -> bool:
    a_int, b_int = _int32(a), _int32(b)
    a_dbl, b_dbl = bool(_DOUBLE.fullmatch(a)), bool(_DOUBLE.fullmatch(b))
    if not (a_int or a_dbl) or not (b_int or b_dbl):
        return a == b
    if a_int and b_int:
        return int(a) == int(b)
    return abs(float(a) - float(b)) < 1e-5


def _int32(s: str) -> bool:
    return bool(_INT.fullmatch(s)) and -(2**31) <= int(s) < 2**31


# ----------------------------------------------------------------------------------------------------------- data


def apps_cases(git: str) -> list[dict[str, Any]]:
    mirror = Mirror(git, CODERL_COMMIT)
    task, plain = CodeStdio(), CodeStdio()
    plain.apps_rules = False
    cases = []
    for pid in APPS_PROBLEMS:
        root = f"data/APPS/train/{pid}"
        io = json.loads(mirror.read(f"{root}/input_output.json") or "{}")
        references = {"": task.tests({"input_output": io}), " (rlvr defaults)": plain.tests({"input_output": io})}
        programs = [
            (f"solutions/{i}", code, "accepted")
            for i, code in enumerate(json.loads(mirror.read(f"{root}/solutions.json") or "[]"))
        ]
        for i, gen in enumerate(json.loads(mirror.read(f"{root}/gen_solutions.json") or "[]")):
            programs.append((f"gen/{i}", gen["code"], f"APPS label {gen['result']}"))
        for name, code, label in programs:
            cases.append(
                {
                    "id": f"apps/{pid}/{name}",
                    "set": "apps/"
                    + ("call" if io.get("fn_name") else "stdin")
                    + ("/accepted" if label == "accepted" else "/generated"),
                    "label": label,
                    "program": code,
                    "official": {"kind": "apps", "io": io, "program": APPS_HEADER + code},
                    "references": references,
                }
            )
    return cases


def codecontests_cases(git: str, rewrites: bool = False) -> list[dict[str, Any]]:
    mirror = Mirror(git, CODECONTESTS_COMMIT)
    task = CodeStdio()
    problems = sorted(
        {p.rsplit("/", 1)[0] for p in mirror.sizes if p.startswith("problems_original/") and p.endswith("/main.py")}
    )
    cases = []
    for problem in problems:
        names = [p for p in mirror.sizes if p.startswith(f"{problem}/tests/input_")]
        tests = []
        for name in sorted(names, key=lambda p: int(re.findall(r"\d+", p.rsplit("_", 1)[1])[0])):
            answer = name.replace("/input_", "/output_")
            if mirror.stored(name) and mirror.stored(answer):
                tests.append({"stdin": mirror.read(name), "stdout": mirror.read(answer)})
        if not tests:
            continue
        # the code_contests row shape (the task adds its judge's rules) and a plain tests row (rlvr's defaults)
        block = {"input": [t["stdin"] for t in tests], "output": [t["stdout"] for t in tests]}
        references = {"": task.tests({"generated_tests": block}), " (rlvr defaults)": task.tests({"tests": tests})}
        cases.append(
            {
                "id": "codecontests/" + problem.rsplit("/", 1)[1],
                "set": "codecontests/accepted",
                "label": "accepted",
                "program": mirror.read(f"{problem}/main.py") or "",
                "official": {"kind": "codecontests", "tests": tests},
                "references": references,
            }
        )
    return cases + (rewritten_cases(git, cases) if rewrites else [])


def rewritten_cases(git: str, accepted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The agents' rewrites of the accepted solutions on the repository's other branches (Claude and Codex asked to
    move shared code into a per-cluster ``library.py``): model-written programs, some of them wrong. The library
    becomes an importable module in front of the program, so that both sides run the same single file."""
    by_name = {c["id"].rsplit("/", 1)[1]: c for c in accepted}
    seen = {c["program"] for c in accepted}
    cases = []
    for branch in REWRITE_BRANCHES:
        mirror = Mirror(git, branch)
        for path in sorted(p for p in mirror.sizes if p.startswith("problems/cluster") and p.endswith("/main.py")):
            cluster, name = path.split("/")[1], path.split("/")[2]
            original = by_name.get(name)
            program = mirror.read(path) or ""
            if original is None or "library" not in program:
                continue
            library = mirror.read(f"problems/{cluster}/library.py") or ""
            prelude = (
                "import sys as _sys, types as _types\n_library = _types.ModuleType('library')\n"
                f"exec(compile({library!r}, 'library.py', 'exec'), _library.__dict__)\n"
                "_sys.modules['library'] = _library\n"
            )
            if program in seen:
                continue
            seen.add(program)
            cases.append(
                {
                    **original,
                    "id": f"{original['id']}@{branch}",
                    "set": "codecontests/rewritten",
                    "label": "rewrite",
                    "program": prelude + program,
                }
            )
    return cases


# -------------------------------------------------------------------------------------------------------- judging


def official(cases: list[dict[str, Any]], image: str, timeout: float, workers: int) -> dict[str, tuple[bool, str]]:
    """Each case's official verdict: (passed, why not)."""
    jobs = []
    for n, c in enumerate(cases):
        o = c["official"]
        if o["kind"] == "codecontests":
            jobs += [
                {"key": [c["id"], i], "at": [n, i], "program": c["program"], "stdin": t["stdin"]}
                for i, t in enumerate(o["tests"])
            ]
            continue
        io = o["io"]
        for i, (inp, out) in enumerate(zip(io["inputs"], io["outputs"])):
            if io.get("fn_name"):
                jobs.append(
                    {
                        "key": [c["id"], i],
                        "program": o["program"],
                        "fn_name": io["fn_name"],
                        "args": inp,
                        "expected": out,
                    }
                )
            else:
                stdin = "\n".join(inp) if isinstance(inp, list) else inp
                jobs.append({"key": [c["id"], i], "at": [n, i], "program": o["program"], "stdin": stdin})
    harness = HARNESS.replace("TIMEOUT", repr(timeout)).replace("WORKERS", str(workers))
    cmd = [
        "docker",
        "run",
        "--rm",
        "-i",
        "--network",
        "none",
        "--tmpfs",
        "/tmp",
        "--log-driver",
        "none",
        image,
        "python3",
        "-c",
        harness,
    ]
    stdin = "".join(json.dumps(j) + "\n" for j in jobs)
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the official harness failed: {out.stderr[-2000:]}")
    runs: dict[str, dict[int, dict]] = {}
    for r in map(json.loads, out.stdout.splitlines()):
        runs.setdefault(r["key"][0], {})[r["key"][1]] = r
    verdicts = {}
    for c in cases:
        verdicts[c["id"]] = _official_verdict(c, runs.get(c["id"], {}))
    return verdicts


def _official_verdict(case: dict[str, Any], runs: dict[int, dict]) -> tuple[bool, str]:
    o = case["official"]
    expected = [t["stdout"] for t in o["tests"]] if o["kind"] == "codecontests" else o["io"]["outputs"]
    for i, want in enumerate(expected):
        r = runs.get(i)
        if r is None or r["rc"] is None:
            return False, f"test {i + 1}: timeout"
        if o["kind"] == "apps" and o["io"].get("fn_name"):
            if "RLVR-CALL-RESULT True" not in r["stdout"]:
                return False, f"test {i + 1}: {'wrong value' if 'RLVR-CALL-RESULT' in r['stdout'] else r['why']}"
            continue
        if r["rc"] != 0 and (o["kind"] == "codecontests" or "Traceback" in r["why"] or "Error" in r["why"]):
            return False, f"test {i + 1}: exit {r['rc']}: {r['why']}"
        ok = (
            codecontests_pass(r["stdout"], want) if o["kind"] == "codecontests" else apps_stdin_pass(r["stdout"], want)
        )
        if not ok:
            return False, f"test {i + 1}: output {r['stdout'][:60]!r} vs expected {str(want)[:60]!r}"
    return True, ""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--coderl", help="git dir of a salesforce/CodeRL mirror")
    p.add_argument("--codecontests", help="git dir of a justinchiu-test/codecontests-repo mirror")
    p.add_argument("--image", default=DEFAULT_IMAGE)
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds per test, both sides")
    p.add_argument("--workers", type=int, default=2, help="programs run at once by the official harness")
    p.add_argument("--rewrites", action="store_true", help="also the agents' rewrites on the other branches")
    p.add_argument("--limit", type=int, default=0, help="first N cases of each source (0: all)")
    args = p.parse_args()
    cases: list[dict[str, Any]] = []
    if args.coderl:
        cases += apps_cases(args.coderl)[: args.limit or None]
    if args.codecontests:
        cases += codecontests_cases(args.codecontests, args.rewrites)[: args.limit or None]
    t0 = time.perf_counter()
    truth = official(cases, args.image, args.time_limit, args.workers)
    t1 = time.perf_counter()
    rows = [(c, variant, ref) for c in cases for variant, ref in c["references"].items()]
    verifier = CodeVerifier(time_limit=args.time_limit)
    verdicts = rlvr.score(
        verifier, [fenced(c["program"]) for c, _, _ in rows], [ref for _, _, ref in rows], timeout=7200
    )
    t2 = time.perf_counter()
    print(f"official harness: {len(cases)} programs in {t1 - t0:.0f}s; rlvr: {len(rows)} rows in {t2 - t1:.0f}s")
    report(rows, verdicts, truth)
    return 0


def report(rows: list[tuple], verdicts: list, truth: dict[str, tuple[bool, str]]) -> None:
    sets: dict[str, Counter] = {}
    disagreements = []
    for (case, variant, _), v in zip(rows, verdicts):
        ok, why = truth[case["id"]]
        passed = v.status == "correct"
        tally = sets.setdefault(case["set"] + variant, Counter())
        tally.update(
            n=1,
            agree=ok == passed,
            official_pass=ok,
            rlvr_pass=passed,
            error=v.status == "error",
            label_pass=case["label"] in ("accepted", "APPS label True"),
        )
        if ok != passed or v.status == "error":
            disagreements.append((case["id"] + variant, case["label"], ok, v.status, v.detail[:150], why))
    head = (
        f"{'set':<34}{'rows':>6}{'agree':>8}{'official pass':>15}{'rlvr pass':>11}{'rlvr error':>12}{'label pass':>12}"
    )
    print(head)
    for name, t in sorted(sets.items()):
        print(
            f"{name:<34}{t['n']:>6}{t['agree'] / t['n']:>8.1%}{t['official_pass']:>15}{t['rlvr_pass']:>11}"
            f"{t['error']:>12}{t['label_pass']:>12}"
        )
    print(
        f"\n{len(disagreements)} disagreement(s) or error row(s): id | label | official | rlvr | rlvr detail | "
        "official reason"
    )
    for row in disagreements:
        print(" | ".join(map(str, row)))
    failed = [
        (c["id"], truth[c["id"]][1])
        for c, variant, _ in rows
        if not variant and c["label"] == "accepted" and not truth[c["id"]][0]
    ]
    print(f"\n{len(failed)} accepted program(s) that fail the official semantics here (both sides agree or not):")
    for row in failed:
        print(" | ".join(row))


if __name__ == "__main__":
    sys.exit(main())
