"""The ``math`` verifier against three blind, hand-labelled tables it was never tuned on.

Each table was written and labelled by a different engineer before they read rlvr/verifiers/math/ (or the other
tables), against real gold answers from ../shared/data, with model-style completions:

- ``math_heldout.jsonl``: MATH-500 / AIME 2024 / AMC 2023 / GSM8K golds across 28 answer categories;
- ``math_heldout2.jsonl``: the output styles of real models (DeepSeek-R1/QwQ ``<think>``, Qwen2.5-Math, Llama/Mistral
  chat, GSM8K few-shot ``####``, Minerva "Final Answer: ... I hope it is correct.", AIME/AMC);
- ``math_heldout3.jsonl``: MATH-500 special forms, Minerva scientific notation and precision, OlympiadBench
  multi-answer lists.

Every row goes through the real scoring engine (worker processes, timeouts), as ``rlvr.verify`` would run it. The
first (blind) measurements are in benchmarks/results/math_heldout*.txt. A row that exposes a diagnosed verifier bug,
or whose label turned out to be a policy question, is listed in EXCEPTIONS with the reason and is xfail
(``strict=False``: a fix shows up as XPASS, then delete the entry). The bugs found so far are fixed: four in the
first table (interval ends, a spaced "12 i", repeating decimals, an empty echoed \\boxed{}), five in the second (a
few-shot model's invented next question, "(C) 12" and "\\text{(D) ellipse}" against a value, empty markers).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rlvr

DATA = Path(__file__).parent / "data"
MIN_AGREEMENT = 0.99

# table -> (minimum rows, {row id: why it is expected to disagree})
TABLES: dict[str, tuple[int, dict[str, str]]] = {
    "math_heldout.jsonl": (200, {}),
    "math_heldout2.jsonl": (
        200,
        {
            "h2-310-hedge": "'I thought \\boxed{5}, but ... \\boxed{7}': rlvr treats two different boxes as a hedge by design"
        },
    ),
    "math_heldout3.jsonl": (150, {}),
}
ROWS = {
    name: [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    for name in TABLES
}


@pytest.fixture(scope="module")
def verdicts() -> dict[str, rlvr.Verdict]:
    rows = [r for name in TABLES for r in ROWS[name]]
    got = rlvr.score("math", [r["completion"] for r in rows], [r["reference"] for r in rows])
    return {r["id"]: v for r, v in zip(rows, got)}


def test_row_ids_are_unique_across_tables() -> None:
    ids = [r["id"] for name in TABLES for r in ROWS[name]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", list(TABLES))
def test_table_is_well_formed(name: str) -> None:
    minimum, exceptions = TABLES[name]
    ids = [r["id"] for r in ROWS[name]]
    assert len(ids) == len(set(ids)) >= minimum, f"row ids must be unique and the table at least {minimum} rows"
    assert {r["expected"] for r in ROWS[name]} == {"correct", "wrong", "no_answer"}
    assert set(exceptions) <= set(ids), f"exceptions name rows not in {name}"


@pytest.mark.parametrize("name", list(TABLES))
def test_agreement_with_hand_labels(name: str, verdicts: dict[str, rlvr.Verdict]) -> None:
    """At least 99% of the rows that are not listed exceptions agree; the exceptions stay a short, explained list."""
    rows, exceptions = ROWS[name], TABLES[name][1]
    assert len(exceptions) <= 0.02 * len(rows), "too many exceptions to call the verifier calibrated"
    graded = [r for r in rows if r["id"] not in exceptions]
    agree = [r["id"] for r in graded if verdicts[r["id"]].status == r["expected"]]
    disagree = sorted(set(r["id"] for r in graded) - set(agree))
    assert len(agree) / len(graded) >= MIN_AGREEMENT, f"disagreements with the hand labels: {disagree}"


def _row_param(row: dict, exceptions: dict[str, str]) -> pytest.param:
    reason = exceptions.get(row["id"])
    marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
    return pytest.param(row, id=row["id"], marks=marks)


@pytest.mark.parametrize("row", [_row_param(r, TABLES[name][1]) for name in TABLES for r in ROWS[name]])
def test_row(row: dict, verdicts: dict[str, rlvr.Verdict]) -> None:
    verdict = verdicts[row["id"]]
    assert verdict.status == row["expected"], (
        f"{row['id']} ({row.get('note', '')}): expected {row['expected']}, got {verdict.status} "
        f"(extracted {verdict.extracted!r}, {verdict.detail}); reference {row['reference']!r}"
    )
    assert verdict.reward == (1.0 if row["expected"] == "correct" else 0.0)
