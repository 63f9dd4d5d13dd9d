"""Agreement of the `code` verifier with the official HumanEval and MBPP harnesses, on data nobody here wrote.

The official semantics, run here in the same sandbox image, one fresh `python3` per program:
- HumanEval (openai/human-eval, execution.py): ``prompt + completion + "\\n" + test + "\\n" + f"check({entry_point})"``
  passes when it runs to its end;
- MBPP (google-research/mbpp, as its README, bigcode's harness and EvalPlus run it): ``code + "\\n" + test_imports +
  test_setup_code + "\\n".join(test_list)`` passes when it runs to its end (``test_imports``: the sanitized config's
  ``import math`` for its ``math.isclose`` asserts; ``challenge_test_list`` is not run, as no official harness runs it).

rlvr judges the same programs through `rlvr.score("code", ...)` with the references the `humaneval` and `mbpp` tasks
build (test code run by the sandbox's judge process, the program in its own process). Program sets per benchmark:
``canonical`` (the reference solution), ``wrong`` (the body replaced by ``return None``), ``tuple-list`` (the return
value's outer tuple and list swapped, what a JSON round trip would do), ``int-float`` (an int result returned as a
float: ``240.0`` where ``== 240`` is asserted). The official verdict is the truth; every disagreement is printed with
both sides' reasons for classification.

Data (not shipped; the licences differ): HumanEval.jsonl from openai/human-eval (MIT; data/HumanEval.jsonl.gz), the
427-problem sanitized MBPP (CC BY 4.0; google-research mbpp/sanitized-mbpp.json, with its test_imports) and the
974-problem full MBPP (google-research mbpp/mbpp.jsonl; the same file is Md-Ashraful-Pramanik/MapCoder's
data/MBPPEval/MBPP.jsonl).

    python benchmarks/code_agreement.py --humaneval HumanEval.jsonl --mbpp sanitized-mbpp.json --mbpp mbpp.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter

import rlvr
from environments.code import MBPP
from rlvr.sandbox import DEFAULT_IMAGE
from rlvr.verifiers.code import CodeVerifier

OFFICIAL_TIMEOUT = 10.0
# Runs inside the image: each program in a fresh interpreter (site on, as `python3 program.py` would run it).
HARNESS = r"""
import json, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
os.makedirs("/run/rlvr/scratch", exist_ok=True)
rows = [json.loads(line) for line in sys.stdin]
def run(row):
    try:
        p = subprocess.run([sys.executable, "-c", row["program"]], capture_output=True, timeout=TIMEOUT, cwd="/tmp")
        tail = p.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if p.returncode else []
        return {"id": row["id"], "passed": p.returncode == 0, "why": tail[0][:200] if tail else ""}
    except subprocess.TimeoutExpired:
        return {"id": row["id"], "passed": False, "why": "timeout"}
with ThreadPoolExecutor(2) as ex:
    for out in ex.map(run, rows):
        print(json.dumps(out), flush=True)
""".replace("TIMEOUT", repr(OFFICIAL_TIMEOUT))


def swap_wrapper(name: str, kind: str) -> str:
    """Wrap the entry point so that its result changes type the way a lossy boundary would."""
    change = {
        "tuple-list": "list(v) if type(v) is tuple else tuple(v) if type(v) is list else v",
        "int-float": "float(v) if type(v) is int else v",
    }[kind]
    return (
        f"\n\n_rlvr_original_{name} = {name}\n\n\ndef {name}(*args, **kwargs):\n"
        f"    v = _rlvr_original_{name}(*args, **kwargs)\n    return {change}\n"
    )


def humaneval_cases(path: str) -> list[dict]:
    cases = []
    for line in open(path, encoding="utf-8"):
        p = json.loads(line)
        ep, prompt = p["entry_point"], p["prompt"]
        ref = {"test_code": p["test"], "entry_point": ep, "prompt": prompt}
        tail = f"\n{p['test']}\ncheck({ep})\n"
        bodies = {
            "canonical": p["canonical_solution"],
            "wrong": "    return None\n",
            "tuple-list": p["canonical_solution"] + swap_wrapper(ep, "tuple-list"),
            "int-float": p["canonical_solution"] + swap_wrapper(ep, "int-float"),
        }
        for kind, completion in bodies.items():
            cases.append(
                {
                    "id": f"{p['task_id']}:{kind}",
                    "set": f"humaneval/{kind}",
                    "completion": f"```python\n{prompt + completion}\n```",
                    "reference": ref,
                    "official": prompt + completion + tail,  # the harness prepends the prompt to the completion
                }
            )
    return cases


def mbpp_cases(path: str) -> list[dict]:
    """MBPP rows of either config ("full": text/test_setup_code/challenge_test_list; "sanitized": prompt/test_imports),
    one JSON object per line, or sanitized-mbpp.json's single JSON list. The reference is the one rlvr's ``mbpp``
    task builds; the official program is ``code + "\\n" + test_imports + setup + test_list``, the same test text."""
    text = open(path, encoding="utf-8").read()
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(line) for line in text.splitlines()]
    task = MBPP()
    label = os.path.basename(path).split(".")[0]
    cases = []
    for p in rows:
        ref = task.tests(p)
        ep = ref["entry_point"]
        code = p["code"].replace("\r\n", "\n")
        programs = {
            "canonical": code,
            "wrong": f"{code}\n\n\ndef {ep}(*args, **kwargs):\n    return None\n",
            "tuple-list": code + swap_wrapper(ep, "tuple-list"),
            "int-float": code + swap_wrapper(ep, "int-float"),
        }
        for kind, program in programs.items():
            cases.append(
                {
                    "id": f"{label}/{p['task_id']}:{kind}",
                    "set": f"{label}/{kind}",
                    "completion": f"```python\n{program}\n```",
                    "reference": ref,
                    "official": program + "\n" + ref["test_code"],
                }
            )
    return cases


def official(cases: list[dict], image: str) -> dict[str, dict]:
    cmd = ["docker", "run", "--rm", "-i", "--network", "none", "--tmpfs", "/run", "--log-driver", "none", image]
    stdin = "".join(json.dumps({"id": c["id"], "program": c["official"]}) + "\n" for c in cases)
    out = subprocess.run([*cmd, "python3", "-c", HARNESS], input=stdin, capture_output=True, text=True, check=True)
    return {r["id"]: r for r in map(json.loads, out.stdout.splitlines())}


def judge_both(cases: list[dict], image: str) -> tuple[dict[str, dict], list]:
    """The official harness's verdicts (by id) and rlvr's (in order) on the same cases, each side timed."""
    t0 = time.perf_counter()
    truth = official(cases, image)
    t1 = time.perf_counter()
    verifier = CodeVerifier(time_limit=OFFICIAL_TIMEOUT)
    verdicts = rlvr.score(verifier, [c["completion"] for c in cases], [c["reference"] for c in cases])
    t2 = time.perf_counter()
    print(f"official harness: {len(cases)} programs in {t1 - t0:.0f}s; rlvr: {t2 - t1:.0f}s")
    return truth, verdicts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--humaneval", required=True)
    p.add_argument("--mbpp", action="append", default=[], help="MBPP rows (either config); may be repeated")
    p.add_argument("--image", default=DEFAULT_IMAGE)
    args = p.parse_args()
    cases = humaneval_cases(args.humaneval) + [c for path in args.mbpp for c in mbpp_cases(path)]
    truth, verdicts = judge_both(cases, args.image)
    sets: dict[str, Counter] = {}
    disagreements = []
    for case, verdict in zip(cases, verdicts):
        ok, passed = truth[case["id"]]["passed"], verdict.status == "correct"
        tally = sets.setdefault(case["set"], Counter())
        tally.update(n=1, agree=ok == passed, official_pass=ok, rlvr_pass=passed, error=verdict.status == "error")
        if ok != passed or verdict.status == "error":
            disagreements.append((case["id"], ok, verdict.status, verdict.detail[:160], truth[case["id"]]["why"]))
    print(f"{'set':<22}{'rows':>6}{'agree':>8}{'official pass':>15}{'rlvr pass':>11}{'rlvr error':>12}")
    for name, t in sets.items():
        print(
            f"{name:<22}{t['n']:>6}{t['agree'] / t['n']:>8.1%}{t['official_pass']:>15}{t['rlvr_pass']:>11}{t['error']:>12}"
        )
    total = sum(t["n"] for t in sets.values())
    agree = sum(t["agree"] for t in sets.values())
    print(f"{'all':<22}{total:>6}{agree / total:>8.1%}")
    print(
        f"\n{len(disagreements)} disagreement(s) or refused row(s): id | official | rlvr | rlvr detail | official reason"
    )
    for row in disagreements:
        print(" | ".join(map(str, row)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
