"""Every benchmark task, on the local files in ../shared/data: gold answers score 1.0, wrong ones 0.0.

References go through the real ``math`` verifier and the real scoring engine. The data folder is resolved from this
file's location (``<repo>/../shared/data``); the tests skip, saying so, where it is absent.
"""

from __future__ import annotations

import json
import os

import pytest

from rlvr.metrics import normalize_answer
from rlvr.scoring import Scorer
from rlvr.tasks import TaskDataError, load_task
from rlvr.verifiers import get_verifier

DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data"))
BENCHMARKS = {  # name -> rows in the local copy
    "math500": 500,
    "aime24": 30,
    "aime25": 30,
    "amc23": 40,
    "gsm8k": 1319,
    "minerva_math": 272,
    "olympiadbench": 675,
}

needs_data = pytest.mark.skipif(not os.path.isdir(DATA), reason=f"offline benchmark data not found at {DATA}")


@pytest.fixture(scope="module")
def scorer():
    s = Scorer(get_verifier("math"), timeout=20)
    yield s
    s.close()


def _boxed(answer: str) -> str:
    return f"Let me work it out step by step.\nThe final answer is $\\boxed{{{answer}}}$."


@needs_data
@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_every_gold_answer_scores_one(name: str, scorer: Scorer) -> None:
    examples = load_task(name, data_dir=DATA).examples()
    assert len(examples) == BENCHMARKS[name]
    refs = [e["reference"] for e in examples]
    assert all(isinstance(r, str) and r.strip() for r in refs)
    verdicts = scorer.score([_boxed(r) for r in refs], refs)
    failed = [(e["id"], r, v.status, v.detail) for e, r, v in zip(examples, refs, verdicts) if v.reward != 1.0]
    assert not failed, f"{len(failed)} gold answers not graded correct, e.g. {failed[:5]}"


@needs_data
@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_a_wrong_answer_scores_zero(name: str, scorer: Scorer) -> None:
    """Each of the first 20 problems, answered with the next problem's (different) answer, scores 0.0."""
    refs = [e["reference"] for e in load_task(name, data_dir=DATA, limit=60).examples()]
    pairs = []
    for i, ref in enumerate(refs[:20]):
        other = next(r for r in refs[i + 1 :] + refs[:i] if normalize_answer(r) != normalize_answer(ref))
        pairs.append((other, ref))
    verdicts = scorer.score([_boxed(o) for o, _ in pairs], [r for _, r in pairs])
    graded_right = [(o, r, v.detail) for (o, r), v in zip(pairs, verdicts) if v.reward != 0.0]
    assert not graded_right, f"wrong answers graded correct: {graded_right}"
    assert all(v.status == "wrong" for v in verdicts)


@needs_data
def test_references_are_read_the_way_each_source_writes_them() -> None:
    def first(name: str, limit: int = 1) -> list[dict]:
        return load_task(name, data_dir=DATA, limit=limit).examples()

    assert first("gsm8k")[0]["reference"] == "18"  # "... #### 18"
    assert first("amc23")[0]["reference"] == "27"  # 27.0 in the file
    assert first("aime25")[0]["reference"] == "70"  # an int in the file
    assert first("minerva_math")[0]["reference"] == "9.6"  # ["9.6\n"]
    assert first("olympiadbench", 2)[1]["reference"] == "\\frac{1}{2 n+2}"  # ["$\\frac{1}{2 n+2}$"]
    math500 = first("math500")[0]
    assert (
        math500["id"] == "test/precalculus/807.json" and math500["reference"] == "\\left( 3, \\frac{\\pi}{2} \\right)"
    )
    prompt = math500["prompt"]
    assert prompt[-1]["role"] == "user" and prompt[-1]["content"].startswith("Convert the point $(0,3)$")
    assert "\\boxed{}" in prompt[-1]["content"]


def test_hub_shaped_rows_are_read_too(tmp_path) -> None:
    """The hub copies spell fields differently: a stringified answer list, 'question' instead of 'problem'."""
    olympiad = tmp_path / "olympiad.jsonl"
    olympiad.write_text(json.dumps({"id": 1, "question": "Find $x$.", "final_answer": "['$69$,$84$']"}) + "\n")
    ex = load_task("olympiadbench", data_files=str(olympiad)).examples()[0]
    assert ex["reference"] == "69,84" and ex["prompt"][-1]["content"].startswith("Find $x$.")
    minerva = tmp_path / "minerva.jsonl"
    minerva.write_text(json.dumps({"question": "Q?", "answer": "4.5e33"}) + "\n")
    assert load_task("minerva_math", data_files=str(minerva)).examples()[0]["reference"] == "4.5e33"
    gsm = tmp_path / "gsm.jsonl"
    gsm.write_text(json.dumps({"question": "Q?", "answer": "so 1000+234=1234\n#### 1,234"}) + "\n")
    assert load_task("gsm8k", data_files=str(gsm)).examples()[0]["reference"] == "1234"


def test_gsm8k_row_without_a_final_answer_marker_names_the_problem(tmp_path) -> None:
    gsm = tmp_path / "gsm.jsonl"
    gsm.write_text(json.dumps({"question": "Q?", "answer": "no marker here"}) + "\n")
    with pytest.raises(TaskDataError, match="####"):
        load_task("gsm8k", data_files=str(gsm)).examples()


def test_a_missing_local_file_names_the_path(tmp_path) -> None:
    with pytest.raises(TaskDataError, match=str(tmp_path / "aime24" / "test.jsonl")):
        load_task("aime24", data_dir=str(tmp_path)).examples()


def test_hub_ids_are_the_published_ones() -> None:
    from rlvr.tasks import TASKS

    ids = {name: (TASKS.get(name).dataset_id, TASKS.get(name).dataset_config) for name in BENCHMARKS}
    assert ids["math500"] == ("HuggingFaceH4/MATH-500", None)
    assert ids["aime24"] == ("HuggingFaceH4/aime_2024", None)
    assert ids["gsm8k"] == ("openai/gsm8k", "main")
    assert all(dataset for dataset, _ in ids.values())
