"""The ``math`` verifier against a third blind, hand-labelled table (tests/data/math_heldout3.jsonl).

Written and labelled without reading rlvr/verifiers/math.py or the earlier tables. It targets what those covered less:
MATH-500 golds that are expressions and special forms (fractions, radicals, pi, polynomials, ``\\text`` words, letter
choices, degrees, base subscripts, tuples, pmatrix vectors/matrices, intervals and unions, sets with ``\\pm``),
Minerva-Math golds (scientific and e-notation, decimals graded to the gold's own significant figures, complex numbers,
functions of t) and OlympiadBench ``final_answer`` golds (several answers, tuples, expressions, intervals), each with
equivalent rewrites a careful grader accepts and near-misses it rejects, in ``\\boxed{}`` / ``<think>`` / "The final
answer is $...$" styles. Rows whose answer form a problem may prescribe (simplest radical form, expanded polynomial,
base subscript) were dropped as ambiguous. Rows that expose a diagnosed verifier bug go in KNOWN_BUGS, rows whose
label turned out to be a policy question in DEBATABLE; both are xfail (``strict=False``). The first measurement
(184/184 status-level) is in benchmarks/results/math_heldout3.txt.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rlvr

TABLE = Path(__file__).parent / "data" / "math_heldout3.jsonl"
ROWS = [json.loads(line) for line in TABLE.read_text(encoding="utf-8").splitlines() if line.strip()]

# Row id -> diagnosed verifier bug (xfail until fixed). None at the first (blind) measurement.
KNOWN_BUGS: dict[str, str] = {}
DEBATABLE: dict[str, str] = {}
MIN_AGREEMENT = 0.99


@pytest.fixture(scope="module")
def verdicts() -> dict[str, rlvr.Verdict]:
    got = rlvr.score("math", [r["completion"] for r in ROWS], [r["reference"] for r in ROWS])
    return {r["id"]: v for r, v in zip(ROWS, got)}


def test_table_is_well_formed() -> None:
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids)) >= 150, "row ids must be unique and the table at least 150 rows"
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
