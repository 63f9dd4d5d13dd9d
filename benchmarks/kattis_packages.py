"""The `code` verifier on real contest problem packages (Kattis format) with their own judging rules and verdicts.

Data: mzuenni/kattis-export (GCPC 2021-2023 and NWERC 2023 as Kattis problem packages; problems CC BY-SA, so
nothing is copied here: the script reads a git mirror at a pinned commit). Each problem has test data
(``data/{sample,secret}/**/*.in`` + ``.ans``), ``problem.yaml`` (``validation``, ``validator_flags``) and
submissions filed by their verdict. Every Python submission of a problem judged by Kattis's *default* output
validator (no ``validation: custom``: special judges and interactive problems are left out and counted) becomes a
row: rlvr judges it on all of its problem's tests with the problem's rules in the reference, and the verdict is
compared with its folder. ``accepted`` must pass; ``wrong_answer`` and ``run_time_error`` must fail;
the other folders (``time_limit_exceeded``, which depends on the machine's speed, ``mixed``, ``rejected``) are listed
and not counted.

The judging contract from the package: ``validator_flags`` ``float_tolerance e`` -> ``{"rel": e, "abs": e}``,
``float_relative_tolerance`` / ``float_absolute_tolerance`` likewise, ``case_sensitive``, ``space_change_sensitive``
-> ``compare: "exact"`` (none of these problems uses it); ``limits: output`` (MB) -> ``output_limit_bytes`` (else the
verifier's default, which makes room for the expected output); ``limits: memory`` (MB, Kattis's default 1024) ->
``memory_limit_mb``. Time limit: the package's (``.timelimit`` or DomJudge's ``domjudge-problem.ini``) times
``--time-scale``, else ``--time-limit``, at most 60 s: the submissions' folders say how they fare on the jury's
machines, and Python on a shared, loaded 2-core machine is several times slower, so the limits here are generous and
a ``time limit exceeded`` on an accepted row is reported as timing, apart from the rules' agreement.

Python 2 submissions (a ``python2`` shebang, ``raw_input``, a ``print`` statement: DOMjudge ran them as Python 2)
are listed and not counted: rlvr runs Python 3.

Test files the mirror lacks (git blobs of 4 MiB and more are not stored) are left out of their problem's tests;
rows of such problems are marked ``partial data``.

    python benchmarks/kattis_packages.py --git <kattis-export>/.git [--time-scale 3] [--time-limit 10]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from typing import Any

import yaml

import rlvr
from rlvr.verifiers.code import MAX_TIME_LIMIT, CodeVerifier

COMMIT = "0a53ae4"  # resolved to the full hash by git
MUST_PASS = {"accepted"}
MUST_FAIL = {"wrong_answer", "run_time_error"}
PY2 = re.compile(r"^#!.*python2|\braw_input\s*\(|^\s*print\s+[^\s(=]", re.M)


class Mirror:
    """Blobs of one commit of a git mirror, read through one ``git cat-file --batch``."""

    def __init__(self, git_dir: str, commit: str) -> None:
        self.git_dir = git_dir
        self.commit = self._git("rev-parse", commit).strip()
        self.sizes: dict[str, str] = {}
        for line in self._git("ls-tree", "-r", "-l", self.commit).splitlines():
            meta, path = line.split("\t", 1)
            self.sizes[path] = meta.split()[3]
        self.batch = subprocess.Popen(
            ["git", "--git-dir", git_dir, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def _git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", self.git_dir, *args], capture_output=True, text=True, check=True
        ).stdout

    def stored(self, path: str) -> bool:
        return path in self.sizes and self.sizes[path] not in ("BAD", "-")

    def read(self, path: str) -> str | None:
        if not self.stored(path):
            return None
        assert self.batch.stdin and self.batch.stdout
        self.batch.stdin.write(f"{self.commit}:{path}\n".encode())
        self.batch.stdin.flush()
        header = self.batch.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            return None
        body = self.batch.stdout.read(int(header[2]))
        self.batch.stdout.read(1)  # the newline after the content
        return body.decode("utf-8", "replace")


def judging_rules(config: dict[str, Any]) -> dict[str, Any] | None:
    """The reference's judging fields from problem.yaml; None for a custom (special judge / interactive) problem."""
    if "custom" in str(config.get("validation", "default")):
        return None
    rules: dict[str, Any] = {}
    flags = str(config.get("validator_flags") or "").split()
    tol: dict[str, float] = {}
    for i, flag in enumerate(flags):
        if flag == "case_sensitive":
            rules["case_sensitive"] = True
        elif flag == "space_change_sensitive":
            rules["compare"] = "exact"
        elif flag in ("float_tolerance", "float_relative_tolerance", "float_absolute_tolerance"):
            value = float(flags[i + 1])
            if flag != "float_absolute_tolerance":
                tol["rel"] = value
            if flag != "float_relative_tolerance":
                tol["abs"] = value
    if tol:
        rules["float_tolerance"] = tol
    limits = config.get("limits") or {}
    if limits.get("output"):
        rules["output_limit_bytes"] = int(float(limits["output"]) * (1 << 20))
    rules["memory_limit_mb"] = int(limits.get("memory") or 1024)
    return rules


def package_time_limit(mirror: Mirror, problem: str) -> float | None:
    text = mirror.read(f"{problem}/.timelimit")
    if text and text.strip():
        return float(text.strip())
    ini = mirror.read(f"{problem}/domjudge-problem.ini") or ""
    m = re.search(r"timelimit\s*=\s*'?([\d.]+)", ini)
    return float(m.group(1)) if m else None


def load(mirror: Mirror, args: argparse.Namespace) -> tuple[list[dict[str, Any]], Counter]:
    problems = sorted({p.rsplit("/", 1)[0] for p in mirror.sizes if p.endswith("/problem.yaml")})
    rows, skipped = [], Counter()
    for problem in problems:
        config = yaml.safe_load(mirror.read(f"{problem}/problem.yaml") or "") or {}
        rules = judging_rules(config)
        subs = [p for p in mirror.sizes if p.startswith(f"{problem}/submissions/") and p.endswith(".py")]
        if rules is None:
            skipped["custom validation (special judge / interactive)"] += 1
            skipped["  their Python submissions"] += len(subs)
            continue
        inputs = sorted(p for p in mirror.sizes if p.startswith(f"{problem}/data/") and p.endswith(".in"))
        tests, missing = [], 0
        for path in inputs:
            answer = path[:-3] + ".ans"
            if not (mirror.stored(path) and mirror.stored(answer)):
                missing += 1
                continue
            tests.append({"stdin": mirror.read(path), "stdout": mirror.read(answer)})
        limit = package_time_limit(mirror, problem)
        seconds = min(MAX_TIME_LIMIT, limit * args.time_scale if limit else args.time_limit)
        reference = {"tests": tests, "time_limit": seconds, **rules}
        for path in sorted(subs):
            folder = path.split("/submissions/", 1)[1].split("/", 1)[0]
            if folder in args.skip:
                skipped[f"{folder} submissions (--skip)"] += 1
                continue
            program = mirror.read(path) or ""
            if PY2.search(program):
                folder = f"{folder} (Python 2)"
            rows.append(
                {
                    "problem": problem,
                    "folder": folder,
                    "name": path.rsplit("/", 1)[1],
                    "program": program,
                    "reference": reference,
                    "missing": missing,
                }
            )
    return rows, skipped


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--git", required=True, help="git dir of a mzuenni/kattis-export mirror")
    p.add_argument("--commit", default=COMMIT)
    p.add_argument("--time-scale", type=float, default=10.0, help="times the package's time limit")
    p.add_argument("--time-limit", type=float, default=30.0, help="seconds per test when the package gives none")
    p.add_argument("--only", default="", help="comma-separated problem/name to judge")
    p.add_argument("--skip", default="", help="comma-separated submission folders to leave out (time_limit_exceeded)")
    args = p.parse_args()
    args.skip = set(filter(None, args.skip.split(",")))
    mirror = Mirror(args.git, args.commit)
    rows, skipped = load(mirror, args)
    if args.only:
        keep = set(args.only.split(","))
        rows = [r for r in rows if f"{r['problem']}/{r['name']}" in keep]
    t0 = time.perf_counter()
    verdicts = rlvr.score(CodeVerifier(), [r["program"] for r in rows], [r["reference"] for r in rows], timeout=3600)
    print(f"commit {mirror.commit}; {len(rows)} Python submissions judged in {time.perf_counter() - t0:.0f}s")
    for why, n in skipped.items():
        print(f"left out: {why}: {n}")
    tally: dict[str, Counter] = defaultdict(Counter)
    print(f"\n{'problem':<46}{'folder':<21}{'submission':<40}{'tests':>6}  rlvr")
    for row, v in zip(rows, verdicts):
        folder = row["folder"]
        expected = "pass" if folder in MUST_PASS else "fail" if folder in MUST_FAIL else None
        ok = (v.status == "correct") == (expected == "pass")
        if expected is None:
            group = "not counted"
        elif not ok and expected == "pass" and "time limit exceeded" in v.detail:
            group = "timing (accepted, too slow here)"
        else:
            group = "partial data" if row["missing"] else "full data"
        tally[group].update(n=1, agree=ok, error=v.status == "error")
        tally[f"folder {folder}"].update(n=1, agree=ok, error=v.status == "error")
        mark = "" if ok or expected is None else "   <-- timing" if group.startswith("timing") else "   <-- disagrees"
        extra = f" [{row['missing']} test file(s) missing]" if row["missing"] else ""
        print(
            f"{row['problem'][-45:]:<46}{folder[:20]:<21}{row['name'][:39]:<40}{len(row['reference']['tests']):>6}  "
            f"{v.status} ({v.detail[:90]}){extra}{mark}"
        )
    print(f"\n{'rows':<34}{'n':>5}{'agree':>8}{'error':>7}")
    for key, t in sorted(tally.items()):
        print(f"{key:<34}{t['n']:>5}{t['agree'] / t['n']:>8.1%}{t['error']:>7}")
    counted = [t for k, t in tally.items() if k in ("full data", "partial data")]
    n, agree = sum(t["n"] for t in counted), sum(t["agree"] for t in counted)
    slow = tally["timing (accepted, too slow here)"]["n"]
    print(f"accepted pass and wrong fail, timing rows apart: {agree}/{n} = {agree / max(n, 1):.1%}")
    print(f"counting timing rows as disagreements: {agree}/{n + slow} = {agree / max(n + slow, 1):.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
