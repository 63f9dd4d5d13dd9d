"""The ``math`` verifier against a second blind, hand-labelled table (tests/data/math_heldout2.jsonl).

Written and labelled without reading rlvr/verifiers/math.py or the earlier tables, in the output styles of real
models (DeepSeek-R1/QwQ ``<think>`` + ``\\boxed{}``, Qwen2.5-Math, Llama/Mistral chat, GSM8K few-shot ``####``,
Minerva "Final Answer: ... I hope it is correct.", AIME/AMC), against real gold answers from ../shared/data (MATH-500,
AIME 2024/2025, AMC 2023, GSM8K, Minerva, OlympiadBench). Every row goes through the real scoring engine. Rows that
expose a diagnosed verifier bug are in KNOWN_BUGS, rows whose label turned out to be a policy question are in
DEBATABLE; both are xfail (``strict=False``: a fix shows up as XPASS, then delete the entry). The first measurement
is in benchmarks/results/math_heldout2.txt.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rlvr

TABLE = Path(__file__).parent / "data" / "math_heldout2.jsonl"
ROWS = [json.loads(line) for line in TABLE.read_text(encoding="utf-8").splitlines() if line.strip()]

# Row id -> diagnosed verifier bug (xfail until fixed).
# The five verifier bugs found at the first measurement (a few-shot model's invented next question, "(C) 12" and
# "\text{(D) ellipse}" against a value, empty markers) are fixed; their rows pass now.
KNOWN_BUGS: dict[str, str] = {}
DEBATABLE: dict[str, str] = {
    "h2-310-hedge": "'I thought \\boxed{5}, but ... \\boxed{7}': rlvr treats two different boxes as a hedge by design",
}
MIN_AGREEMENT = 0.99


@pytest.fixture(scope="module")
def verdicts() -> dict[str, rlvr.Verdict]:
    got = rlvr.score("math", [r["completion"] for r in ROWS], [r["reference"] for r in ROWS])
    return {r["id"]: v for r, v in zip(ROWS, got)}


def test_table_is_well_formed() -> None:
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids)) >= 200, "row ids must be unique and the table at least 200 rows"
    assert {r["expected"] for r in ROWS} == {"correct", "wrong", "no_answer"}
    assert set(KNOWN_BUGS) | set(DEBATABLE) <= set(ids), f"KNOWN_BUGS/DEBATABLE name rows not in {TABLE.name}"


def test_agreement_with_hand_labels(verdicts: dict[str, rlvr.Verdict]) -> None:
    """At least 99% of the rows that are neither known bugs nor debatable agree; both lists stay short."""
    assert len(KNOWN_BUGS) + len(DEBATABLE) <= 0.02 * len(ROWS), "too many exceptions to call the verifier calibrated"
    graded = [r for r in ROWS if r["id"] not in KNOWN_BUGS and r["id"] not in DEBATABLE]
    agree = [r["id"] for r in graded if verdicts[r["id"]].status == r["expected"]]
    disagree = sorted(set(r["id"] for r in graded) - set(agree))
    assert len(agree) / len(graded) >= MIN_AGREEMENT, f"disagreements with the hand labels: {disagree}"


def _row_param(row: dict) -> pytest.param:
    reason = KNOWN_BUGS.get(row["id"]) or DEBATABLE.get(row["id"])
    marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
    return pytest.param(row, id=row["id"], marks=marks)


@pytest.mark.parametrize("row", [_row_param(r) for r in ROWS])
def test_row(row: dict, verdicts: dict[str, rlvr.Verdict]) -> None:
    verdict = verdicts[row["id"]]
    assert verdict.status == row["expected"], (
        f"{row['id']} ({row['note']}): expected {row['expected']}, got {verdict.status} "
        f"(extracted {verdict.extracted!r}, {verdict.detail}); reference {row['reference']!r}"
    )
    assert verdict.reward == (1.0 if row["expected"] == "correct" else 0.0)
