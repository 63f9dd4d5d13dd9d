"""The benchmarks' own worked solutions, graded against their own answers: human-written text nobody here wrote.

MATH-500, AIME 2024 and Minerva-Math ship a worked solution beside each answer, and the solution ends in the answer
(boxed in MATH and Minerva). Graded by the scoring engine behind ``rlvr score --verifier math`` against the task's
reference, a solution that is not ``correct`` is either an rlvr bug or a row where the solution answers something
else; every such Minerva row is labelled below by hand (the solutions of deepscaler's Minerva copy often belong to
another sub-problem of the same prompt). OlympiadBench's solutions state the answer in prose, not a box, so they are
not graded here.

    python benchmarks/reference_solutions.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

# Minerva rows (index in test.json) whose solution is not `correct`, each read by hand.
ANOTHER_QUANTITY = "the solution's box answers another quantity or sub-problem than the reference"
LABELS = {
    17: "judgement call: the solution rounds to 6630, the reference is 6630.65",
    19: "judgement call: the solution boxes numpy code, np.arcsin(10/13)",
    156: "judgement call: the solution's 0.264 against the reference's 0.265",
    158: "theirs wrong: the solution boxes the mantissa 4.4677 of 4.4677 x 10^14 Hz",
    **dict.fromkeys(
        (41, 48, 55, 60, 71, 80, 84, 88, 94, 96, 100, 104, 106, 122, 127, 128, 129, 131, 138, 142, 152, 153, 163, 165,
         168, 170, 193, 202, 215, 218, 219, 222, 229, 236, 238, 251, 253, 258, 266),
        ANOTHER_QUANTITY,
    ),
}  # fmt: skip


def rows(data: Path) -> list[dict]:
    import environments  # noqa: F401  (registers the benchmark tasks)
    from rlvr.tasks import load_task

    out = []
    for name, file in (("math500", "test.jsonl"), ("aime24", "test.jsonl"), ("minerva_math", "test.json")):
        text = (data / name / file).read_text(encoding="utf-8")
        raw = json.loads(text) if file.endswith(".json") else [json.loads(line) for line in text.splitlines() if line]
        examples = load_task(name, data_dir=str(data)).examples()
        for i, (row, example) in enumerate(zip(raw, examples, strict=True)):
            out.append({"id": f"{name}/{i}", "completion": row["solution"], "reference": example["reference"]})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    args = parser.parse_args(argv)
    from rlvr.scoring import score

    solutions = rows(Path(args.data))
    verdicts = score("math", [r["completion"] for r in solutions], [r["reference"] for r in solutions])
    scored = [
        {**r, "status": v.status, "extracted": v.extracted, "detail": v.detail} for r, v in zip(solutions, verdicts)
    ]
    unlabelled = 0
    for name in ("math500", "aime24", "minerva_math"):
        mine = [r for r in scored if r["id"].startswith(name + "/")]
        counts = collections.Counter(r["status"] for r in mine)
        print(f"{name:13s} {counts['correct']}/{len(mine)} correct  {dict(counts)}")
        labels = collections.Counter()
        for r in mine:
            if r["status"] == "correct":
                continue
            label = LABELS.get(int(r["id"].split("/")[1])) if name == "minerva_math" else None
            labels[(label or "UNLABELLED").split(":")[0]] += 1
            if label is None:
                unlabelled += 1
                print(
                    f"  UNLABELLED {r['id']}: {r['status']} {r['extracted']!r} vs {r['reference']!r} ({r['detail']})"
                )
        if labels:
            print("  not correct, by label: " + ", ".join(f"{k}: {v}" for k, v in labels.most_common()))
    print(f"rows not correct and not explained: {unlabelled}")
    return 1 if unlabelled else 0


if __name__ == "__main__":
    raise SystemExit(main())
