"""Agreement of the `code` verifier with the official harnesses on published model programs (nobody here wrote them).

Programs: MapCoder's released results (Md-Ashraful-Pramanik/MapCoder, MIT, ``final-results/``): ChatGPT and GPT-4
programs for the 397 MBPP problems of MultiPL-E's ``mbpp-py`` set (nine files, 3,573 programs; the six files written
by MapCoder's own runner, Analogical / CoT / MapCoder / SelfPlanning, are 6 x 397 = 2,382) and for the 164 HumanEval
problems (ten files, 1,640 programs). Each row carries the program and the verdict MapCoder published (``is_solved``).

Truth is the official semantics, run here in the sandbox image, one fresh ``python3`` per program, 10 s:
- ``mbpp-multiple``: MapCoder's evaluation (src/evaluations/func_evaluate.py), ``"from typing import *\\n" + program +
  "\\n" + test + "\\ncheck(entry_point)"`` with MultiPL-E's ``test`` (its ``check(candidate)`` asserts), but in a fresh
  interpreter rather than ``exec`` in the harness's own process. rlvr gets ``{"test_code": test, "entry_point": ep,
  "prompt": "from typing import *\\n"}``.
- ``mbpp-asserts``: the same programs against Google's original MBPP asserts (data/MBPPEval/MBPP.jsonl of the same
  repository: ``test_list`` + ``challenge_test_list`` after ``test_setup_code``), as MBPP's README runs them
  (``program + setup + asserts``); rlvr gets the reference rlvr's own ``mbpp`` task builds from that row.
- ``humaneval``: openai/human-eval's ``prompt + completion + "\\n" + test + "\\ncheck(entry_point)"`` with the
  problems of HumanEval.jsonl (openai/human-eval); rlvr gets the ``humaneval`` task's reference.

rlvr judges the program text as it was published (no fence: the verifier takes the whole completion), through
``rlvr.score("code", ...)``. Disagreements are printed one by one with both sides' reasons; MapCoder's published
verdicts are compared with the fresh official run too (their harness ``exec``s in-process with a 5 s timeout).

The data is read straight from a git mirror of MapCoder at a pinned commit (nothing is copied into this repository):

    python benchmarks/published_code.py --mapcoder-git <MapCoder>/.git --humaneval HumanEval.jsonl
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from typing import Any

from code_agreement import judge_both

from environments.code import MBPP, HumanEval
from rlvr.sandbox import DEFAULT_IMAGE

MAPCODER_COMMIT = "0027da71030b441cca2bc6f95def86b9aa5c7dea"
TYPING = "from typing import *\n"
MBPP_FILES = {  # MapCoder's runner wrote these six (2,382 programs); the three after them come from Reflexion's
    "ChatGPT-Analogical": "ChatGPT/MBPP/ChatGPT-Analogical-MBPP-Python3-0-1.jsonl",
    "ChatGPT-MapCoder": "ChatGPT/MBPP/ChatGPT-MapCoder-3-5-MBPP-Python3-0-1.jsonl",
    "GPT4-Analogical": "GPT4/MBPP/GPT4-Turbo-Analogical-MBPP-Python3-0-1.jsonl",
    "GPT4-CoT": "GPT4/MBPP/GPT4-Turbo-CoT-MBPP-Python3-0-1.jsonl",
    "GPT4-MapCoder": "GPT4/MBPP/GPT4-Turbo-MapCoder-3-5-MBPP-Python3-0-1.jsonl",
    "GPT4-SelfPlanning": "GPT4/MBPP/GPT4-Turbo-SelfPlanning-MBPP-Python3-0-1.jsonl",
    "ChatGPT-Reflexion": "ChatGPT/MBPP/ChatGPT-Reflexion-10-MBPP-Python3-0-1.jsonl",
    "GPT4-Reflexion": "GPT4/MBPP/GPT4-MBPP_reflexion_5_gpt-4_pass_at_k_1_py.jsonl",
    "GPT4-Simple": "GPT4/MBPP/GPT4-MBPP_simple_1_gpt-4_pass_at_k_1_py.jsonl",
}
MAPCODER_RUNNER = list(MBPP_FILES)[:6]
HUMANEVAL_FILES = {
    "ChatGPT-Analogical": "ChatGPT/HumanEval/ChatGPT-Analogical-Python3-0-1.jsonl",
    "ChatGPT-CoT": "ChatGPT/HumanEval/ChatGPT-CoT-Python3-0-1.jsonl",
    "ChatGPT-MapCoder": "ChatGPT/HumanEval/ChatGPT-MapCoder-5-5-Human-Python3-0-1.jsonl",
    "ChatGPT-Reflexion": "ChatGPT/HumanEval/ChatGPT-Reflexion-10-Python3-0-1.jsonl",
    "GPT4-Analogical": "GPT4/HumanEval/GPT4-Turbo-Analogical-Human-Python3-0-1.jsonl",
    "GPT4-CoT": "GPT4/HumanEval/GPT4-Turbo-CoT-Human-Python3-0-1.jsonl",
    "GPT4-MapCoder": "GPT4/HumanEval/GPT4-Turbo-MapCoder-5-5-Human-Python3-0-1.jsonl",
    "GPT4-SelfPlanning": "GPT4/HumanEval/GPT4-Turbo-SelfPlanning-Human-Python3-0-1.jsonl",
    "GPT4-Simple": "GPT4/HumanEval/humaneval-py..gz_simple_1_gpt-4_pass_at_k_1_py.jsonl",
    "GPT4-Reflexion": "GPT4/HumanEval/reflexion_humaneval_py_pass_at_1.jsonl",
}


def git_jsonl(git_dir: str, path: str) -> list[dict[str, Any]]:
    text = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{MAPCODER_COMMIT}:{path}"], capture_output=True, text=True, check=True
    ).stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def program_of(row: dict[str, Any]) -> str:
    """The program MapCoder evaluated: the last of ``source_codes`` (its runner) or ``solution`` (Reflexion's)."""
    codes = row.get("source_codes")
    return codes[-1] if codes else row["solution"]


def mbpp_cases(git_dir: str) -> list[dict[str, Any]]:
    originals = {int(r["task_id"]): r for r in git_jsonl(git_dir, "data/MBPPEval/MBPP.jsonl")}
    task = MBPP()
    cases = []
    for name, path in MBPP_FILES.items():
        for row in git_jsonl(git_dir, f"final-results/{path}"):
            program, ep = program_of(row), row["entry_point"]
            typed = program if "from typing import *" in program else TYPING + program
            base = {"file": name, "published": bool(row["is_solved"]), "completion": program}
            cases.append(
                {
                    **base,
                    "id": f"{row['name']}:{name}:multiple",
                    "set": "mbpp-multiple",
                    "reference": {"test_code": row["test"], "entry_point": ep, "prompt": TYPING},
                    "official": f"{typed}\n{row['test']}\ncheck({ep})\n",
                }
            )
            original = originals[int(row["name"].split("_")[1])]
            ref = task.tests(original)
            cases.append(
                {
                    **base,
                    "id": f"{row['name']}:{name}:asserts",
                    "set": "mbpp-asserts",
                    "reference": ref,
                    "official": f"{program}\n{ref['test_code']}",
                }
            )
    return cases


def humaneval_cases(git_dir: str, humaneval: str) -> list[dict[str, Any]]:
    problems = {p["task_id"]: p for p in map(json.loads, open(humaneval, encoding="utf-8"))}
    task = HumanEval()
    cases = []
    for name, path in HUMANEVAL_FILES.items():
        for row in git_jsonl(git_dir, f"final-results/{path}"):
            p = problems[row["task_id"]]
            program = program_of(row)
            cases.append(
                {
                    "file": name,
                    "published": bool(row["is_solved"]),
                    "completion": program,
                    "id": f"{row['task_id']}:{name}",
                    "set": "humaneval",
                    "reference": task.tests(p),
                    "official": f"{p['prompt']}{program}\n{p['test']}\ncheck({p['entry_point']})\n",
                }
            )
    return cases


def report(cases: list[dict[str, Any]], truth: dict[str, dict], verdicts: list[Any]) -> None:
    groups: dict[str, Counter] = {}
    rows = []
    for case, verdict in zip(cases, verdicts):
        ok, passed = truth[case["id"]]["passed"], verdict.status == "correct"
        keys = [case["set"], f"{case['set']}/{case['file']}"]
        if case["set"].startswith("mbpp") and case["file"] in MAPCODER_RUNNER:
            keys.append(f"{case['set']}/the 2,382")
        for key in keys:
            groups.setdefault(key, Counter()).update(
                n=1,
                agree=ok == passed,
                official=ok,
                rlvr=passed,
                error=verdict.status == "error",
                published_agree=case["published"] == ok,
            )
        if ok != passed or verdict.status == "error":
            rows.append((case["id"], ok, verdict.status, verdict.detail[:200], truth[case["id"]]["why"][:160]))
    head = f"{'set':<40}{'rows':>6}{'agree':>8}{'official pass':>15}{'rlvr pass':>11}{'error':>7}{'published=official':>20}"
    print(head)
    for key in sorted(groups, key=lambda k: (k.split("/")[0], "/" in k, k)):
        t = groups[key]
        print(
            f"{key:<40}{t['n']:>6}{t['agree'] / t['n']:>8.2%}{t['official']:>15}{t['rlvr']:>11}{t['error']:>7}"
            f"{t['published_agree'] / t['n']:>20.1%}"
        )
    print(f"\n{len(rows)} disagreement(s) or error row(s): id | official | rlvr | rlvr detail | official reason")
    for row in rows:
        print(" | ".join(map(str, row)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mapcoder-git", required=True, help="git dir of a Md-Ashraful-Pramanik/MapCoder mirror")
    p.add_argument("--humaneval", required=True, help="HumanEval.jsonl (openai/human-eval data/HumanEval.jsonl.gz)")
    p.add_argument("--image", default=DEFAULT_IMAGE)
    p.add_argument("--only", default="", help="comma-separated ids to judge (re-checking disagreements)")
    args = p.parse_args()
    cases = mbpp_cases(args.mapcoder_git) + humaneval_cases(args.mapcoder_git, args.humaneval)
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if c["id"] in keep]
    truth, verdicts = judge_both(cases, args.image)
    report(cases, truth, verdicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
