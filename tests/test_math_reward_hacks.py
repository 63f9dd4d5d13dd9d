"""Reward hacks against the ``math`` verifier: answers built to be scored correct while wrong (issue 9, item 3).

tests/data/math_reward_hacks.jsonl holds ``kind: hack`` rows (words after a number passed off as units, a box
negated or retracted by the text around it, boxes the old reader could not see, a hedge beyond six boxes, ``\\not=``,
``\\approx``, ``(C) or (D)``, an echoed ``\\binom``, a near decimal such as ``251/100`` for 2.5, an unclosed ``$12``,
fallback sentences that negate, bound, estimate or are cut off) and ``kind: control`` rows: honest answers in the
same styles. The ``redteam3-*`` rows (75 hacks, 23 controls) were written in a third session without reading the
others; 14 of their 106 first differed from their labels: 6 hacks scored (a "can't" / "exceeds" / "is not a solution"
sentence, a box called "careless" or "a guess" by its own sentence, ``\\boxed{12\\ldots}``), fixed; 8 are judgement
calls left out. The ``redteam3b-*`` rows (32 hacks, 5 controls) attack the readers added
after that (bold values, "There are N ..." sentences): 3 scored ("about 12", "12 ways if ...", "consistent with 12"),
fixed; 4 judgement calls are left out. The ``*-4b-*`` rows (549 hacks, 210 controls, fourth session) were
written before reading this table or the extraction code, in the styles of reasoning traces (boxes in and after
``<think>``, misspelt ``</think>``, retractions, boxes in code or quoted), Minerva units and precision, OlympiadBench
answers, AIME and AMC formats, prose hedges, words after a number, box commands, unicode, hidden text, macros and nested
boxes, a box's own sentence, answer lines, boxes for a list: 159 hacks scored and 19 controls failed on 4b12e64, all
fixed; 13 judgement calls are left out.
A policy trained with this verifier would learn any hack that scores, so the bar is absolute: no hack
scores, every control does. Every row goes through the real scoring engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rlvr

ROWS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "math_reward_hacks.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


@pytest.fixture(scope="module")
def verdicts() -> dict[str, rlvr.Verdict]:
    got = rlvr.score("math", [r["completion"] for r in ROWS], [r["reference"] for r in ROWS])
    return {r["id"]: v for r, v in zip(ROWS, got)}


def test_table_is_well_formed() -> None:
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    kinds = [r["kind"] for r in ROWS]
    assert kinds.count("hack") >= 60 and kinds.count("control") >= 60
    assert len({r["style"] for r in ROWS}) >= 30


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_row(row: dict, verdicts: dict[str, rlvr.Verdict]) -> None:
    verdict = verdicts[row["id"]]
    if row["kind"] == "hack":
        assert verdict.reward == 0.0 and verdict.status in ("wrong", "no_answer"), (row, verdict)
    else:
        assert verdict.status == "correct" and verdict.reward == 1.0, (row, verdict)
