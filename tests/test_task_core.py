"""The Task base: registering a task, local data loading, clear errors, the TRL-ready dataset."""

from __future__ import annotations

import json

import pytest

import rlvr
from rlvr.registry import UnknownNameError
from rlvr.tasks import TaskDataError


@rlvr.register_task("test_capitals", replace=True)
class Capitals(rlvr.Task):
    """A toy task: name the number of letters in a word."""

    dataset = "someone/letters"  # a hub id: never reached when local data is given
    local_name = "letters"
    answer_field = "n"
    system_prompt = "Answer with \\boxed{}."
    verifiers = {"math": 1.0, "format": 0.25}

    def prompt(self, row: dict) -> str:
        return f"How many letters are in {row['word']}?"


def write_rows(folder, rows, name="test.jsonl"):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def test_register_and_load_from_data_dir(tmp_path):
    write_rows(tmp_path / "letters", [{"word": "cat", "n": 3}, {"word": "horse", "n": 5.0}, {"word": "ox", "n": 2}])
    task = rlvr.load_task("test_capitals", data_dir=str(tmp_path), limit=2)
    assert task.dataset_id == "someone/letters"
    examples = task.examples()
    assert [e["reference"] for e in examples] == ["3", "5"]  # numbers become strings, 5.0 -> "5"
    assert examples[0]["prompt"] == [
        {"role": "system", "content": "Answer with \\boxed{}."},
        {"role": "user", "content": "How many letters are in cat?"},
    ]
    ds = task.dataset()
    assert ds.column_names == ["prompt", "reference", "id"] and len(ds) == 2
    assert task.reward_weights == [1.0, 0.25]
    rewards = task.reward_funcs()
    assert [r.__name__ for r in rewards] == ["math", "format"]
    got = rewards[0](prompts=None, completions=["so \\boxed{3}", "\\boxed{4}"], reference=ds["reference"])
    assert got == [1.0, 0.0]


def test_json_list_and_explicit_files(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([{"word": "a", "n": 1}]))
    task = rlvr.load_task("test_capitals", data_files=str(path))
    assert task.examples()[0]["reference"] == "1"


def test_missing_local_file_names_the_path(tmp_path):
    with pytest.raises(TaskDataError, match=r"no data file at .*letters/test.jsonl"):
        rlvr.load_task("test_capitals", data_dir=str(tmp_path)).rows()
    with pytest.raises(TaskDataError, match="data file not found: .*nope.jsonl"):
        rlvr.load_task("test_capitals", data_files=str(tmp_path / "nope.jsonl")).rows()


def test_malformed_line_and_missing_field_are_named(tmp_path):
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "test.jsonl").write_text('{"word": "a", "n": 1}\n{oops\n')
    with pytest.raises(TaskDataError, match="test.jsonl:2: not valid JSON"):
        rlvr.load_task("test_capitals", data_dir=str(tmp_path)).rows()
    write_rows(tmp_path / "letters", [{"word": "a"}])
    with pytest.raises(TaskDataError, match="row 0: .*no field 'n'"):
        rlvr.load_task("test_capitals", data_dir=str(tmp_path)).examples()


def test_unknown_task_and_unknown_option():
    with pytest.raises(UnknownNameError, match="unknown task 'nope'; known tasks: .*test_capitals"):
        rlvr.load_task("nope")
    with pytest.raises(TypeError, match="no option 'colour'"):
        rlvr.load_task("test_capitals", colour="red")


def test_object_references_cross_arrow_as_json(tmp_path):
    @rlvr.register_task("test_objects", replace=True)
    class Objects(rlvr.Task):
        """Rows whose reference is an object (like code tests)."""

        answer_field = "tests"

    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"problem": "p", "tests": {"tests": [{"stdin": "1", "stdout": "1"}]}}) + "\n")
    ds = rlvr.load_task("test_objects", data_files=str(path)).dataset()
    assert json.loads(ds[0]["reference"]) == {"tests": [{"stdin": "1", "stdout": "1"}]}


def test_tiny_checkpoint_reloads_with_a_faithful_tokenizer(tmp_path):
    """transformers 5's AutoTokenizer maps a qwen2 config to Qwen2Tokenizer, which drops '\\n' and spaces."""
    from rlvr.generation import load_tokenizer
    from rlvr.tiny import save_tiny_checkpoint

    tokenizer = load_tokenizer(save_tiny_checkpoint(str(tmp_path / "tiny")))
    text = "12 + 3 =\n\\boxed{15}"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    assert tokenizer.chat_template and tokenizer.pad_token == "<pad>"
