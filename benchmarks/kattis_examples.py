"""The `code` verifier on Kattis problem packages with known verdicts: Kattis/problemtools' example problems.

Each problem directory holds test data (``data/**/*.in`` + ``.ans``) and submissions filed by their verdict
(``submissions/accepted``, ``slow_accepted``, ``partially_accepted``, ``wrong_answer``...). Every Python 3 submission
is judged by rlvr with Kattis's default-validator rules (tokens, case-insensitive; the `code` verifier's default for
stdin/stdout references) on every test of its problem, and the verdict is compared with its folder: accepted ones
must pass all tests, the others must fail at least one (``slow_accepted`` ones, correct but meant to run past the
time limit, are listed and not counted). Interactive problems (``guess``) are skipped; so are Python 2
submissions (a ``_py2`` name).

Data (MIT, not shipped): `git archive HEAD examples` of github.com/Kattis/problemtools, unpacked.

    python benchmarks/kattis_examples.py --examples path/to/problemtools/examples [--time-limit 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import rlvr
from rlvr.verifiers.code import CodeVerifier

PASSING = {"accepted"}
TIMING = {"slow_accepted"}  # correct but meant to exceed the time limit (problemtools): reported, not counted


def problem_tests(problem: Path) -> list[dict]:
    tests = []
    for case in sorted(problem.glob("data/**/*.in")):
        answer = case.with_suffix(".ans")
        if answer.exists():
            tests.append({"stdin": case.read_text(), "stdout": answer.read_text()})
    return tests


def submissions(problem: Path) -> list[tuple[str, Path]]:
    found = []
    for path in sorted(problem.glob("submissions/*/*.py")):
        if "_py2" not in path.stem:
            found.append((path.parent.name, path))
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--examples", required=True, help="problemtools' examples/ folder")
    p.add_argument("--time-limit", type=float, default=10.0)
    args = p.parse_args()
    rows = []
    for problem in sorted(Path(args.examples).iterdir()):
        if not problem.is_dir() or problem.name == "guess":  # interactive: needs its own validator in the loop
            continue
        tests = problem_tests(problem)
        for verdict, path in submissions(problem):
            rows.append((problem.name, verdict, path.name, path.read_text(), {"tests": tests}))
    verifier = CodeVerifier(time_limit=args.time_limit, partial=True)
    results = rlvr.score(verifier, [f"```python\n{r[3]}\n```" for r in rows], [r[4] for r in rows])
    agree = counted = 0
    print(f"{'problem':<10}{'folder':<20}{'submission':<22}{'tests':>6}  rlvr")
    for (problem, folder, name, _, ref), v in zip(rows, results):
        ok = (v.status == "correct") == (folder in PASSING)
        counted += folder not in TIMING
        agree += ok and folder not in TIMING
        mark = "   (timing: not counted)" if folder in TIMING else "" if ok else "   <-- disagrees"
        print(f"{problem:<10}{folder:<20}{name:<22}{len(ref['tests']):>6}  {v.status} ({v.detail[:70]}){mark}")
    print(f"agreement with the folders: {agree}/{counted}")
    return 0 if agree == counted else 1


if __name__ == "__main__":
    sys.exit(main())
