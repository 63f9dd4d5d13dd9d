"""How far ``rlvr eval --completions`` lands from the figures that published per-sample verdicts give.

Input: JSONL rows ``{"id", "reference", "completions": [...], "<verdicts field>": [bool|0/1, ...]}`` and, optionally,
``"<answers field>": [str, ...]`` (the publisher's extracted answers, for their maj@k). The "published" figures are
computed from the given verdicts alone: avg@k = mean verdict, pass@k = any verdict true (unbiased estimator, k = n),
maj@k = the verdict of the most common published answer (ties: first seen), or, with no answers field, the same vote
over rlvr's extracted answers. Then ``rlvr eval --completions`` grades the same file and the gaps are printed against
the bars (avg 0.5 pt, pass 1 pt, maj 2 pts), with the per-sample agreement rate and the disagreeing samples.

    python benchmarks/eval_agreement.py generations.jsonl --verdicts-field score --answers-field pred

``--synthetic`` builds a file from MATH-500 (../shared/data) instead: 100 problems x 8 completions whose answers are
the gold answer respelled (``\\dfrac``, decimals, ``\\left(``, text wrappers) or another problem's answer, labelled
with the truth. That checks the pipeline end to end; it is not a substitute for real model generations.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))


def published_figures(rows: list[dict], verdicts_field: str, answers_field: str | None, ours: dict) -> dict:
    avg, pas, maj = [], [], []
    for row in rows:
        v = [bool(x) for x in row[verdicts_field]]
        avg.append(sum(v) / len(v))
        pas.append(1.0 if any(v) else 0.0)
        answers = row[answers_field] if answers_field else [s["extracted"] for s in ours[str(row["id"])]]
        votes = Counter(a for a in answers if a not in (None, ""))
        if votes:
            winner = votes.most_common(1)[0][0]  # Counter keeps first-seen order among ties
            maj.append(1.0 if v[answers.index(winner)] else 0.0)
        else:
            maj.append(0.0)
    n = len(rows)
    return {"accuracy": sum(avg) / n, "pass_at_k": sum(pas) / n, "maj_at_k": sum(maj) / n}


def synthetic(path: str, problems: int = 100, samples: int = 8, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(os.path.join(DATA, "math500", "test.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][:problems]
    answers = [r["answer"] for r in rows]
    with open(path, "w", encoding="utf-8") as out:
        for i, row in enumerate(rows):
            p_correct = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0])
            comps, verdicts = [], []
            for _ in range(samples):
                if rng.random() < p_correct:
                    comps.append(f"Reasoning...\nSo the answer is $\\boxed{{{_respell(row['answer'], rng)}}}$.")
                    verdicts.append(True)
                else:
                    other = answers[(i + rng.randint(1, len(answers) - 1)) % len(answers)]
                    comps.append(f"Reasoning...\nThus $\\boxed{{{other}}}$")
                    verdicts.append(other.strip() == row["answer"].strip())
            out.write(json.dumps({"id": row["unique_id"], "reference": row["answer"], "completions": comps,
                                  "verdicts": verdicts}) + "\n")  # fmt: skip


def _respell(answer: str, rng: random.Random) -> str:
    options = [answer, answer.replace("\\frac", "\\dfrac"), f" {answer} ", answer.replace("\\left(", "(").replace(
        "\\right)", ")")]  # fmt: skip
    if answer.lstrip("-").isdigit():
        options.append(f"{answer}.0")
    return rng.choice(options)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", nargs="?", help="JSONL generations with per-sample verdicts")
    p.add_argument("--verdicts-field", default="verdicts")
    p.add_argument("--answers-field", default=None)
    p.add_argument("--synthetic", action="store_true", help="build the MATH-500 synthetic file instead")
    args = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix="rlvr-agree-")
    path = args.file
    if args.synthetic:
        path = os.path.join(work, "synthetic_math500.jsonl")
        synthetic(path)
    if not path:
        p.error("give a FILE or --synthetic")
    out = os.path.join(work, "out")
    cmd = [sys.executable, "-m", "rlvr.cli", "eval", "--completions", path, "--name", "gen", "--output-dir", out,
           "--no-progress", "--no-plot"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": REPO}
    subprocess.run(cmd, check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    ours = json.load(open(os.path.join(out, "results.json")))["gen"]
    samples: dict[str, list[dict]] = {}
    for line in open(os.path.join(out, "gen", "samples.jsonl"), encoding="utf-8"):
        s = json.loads(line)
        samples.setdefault(s["id"], []).append(s)
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    theirs = published_figures(rows, args.verdicts_field, args.answers_field, samples)
    agree = total = 0
    disagreements = []
    for row in rows:
        for s, v in zip(samples[str(row["id"])], row[args.verdicts_field]):
            total += 1
            same = (s["status"] == "correct") == bool(v)
            agree += same
            if not same:
                disagreements.append((row["id"], row["reference"], s["extracted"], bool(v)))
    bars = {"accuracy": 0.5, "pass_at_k": 1.0, "maj_at_k": 2.0}
    print(f"{len(rows)} problems x {ours['samples_per_problem']} samples; per-sample agreement {agree}/{total}")
    ok = True
    for key, bar in bars.items():
        gap = 100 * abs(ours[key] - theirs[key])
        ok &= gap <= bar
        print(f"{key:<10} published {100 * theirs[key]:6.2f}  rlvr {100 * ours[key]:6.2f}  gap {gap:5.2f} pt "
              f"(bar {bar} pt) {'ok' if gap <= bar else 'OVER'}")  # fmt: skip
    for d in disagreements[:10]:
        print("  disagree: id={} reference={!r} extracted={!r} published={}".format(*d))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
