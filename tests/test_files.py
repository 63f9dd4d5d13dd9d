"""``rlvr.files``: JSONL input names the bad line; writes are atomic and never share a temporary file; appends add
whole rows."""

from __future__ import annotations

import json
import os
import threading

import pytest

from rlvr.files import UsageError, append_jsonl, read_jsonl, write_atomic, write_json, write_jsonl


def test_read_jsonl_keeps_line_numbers_and_skips_blank_lines(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n\n  \n{"a": 2, "b": "x"}\n')
    rows = read_jsonl(str(path), required=("a",))
    assert rows == [{"a": 1, "__line__": 1}, {"a": 2, "b": "x", "__line__": 4}]


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"a": 1}\n{"a": \n', "in.jsonl:2: not valid JSON"),
        ('{"a": 1}\n[1, 2]\n', "in.jsonl:2: expected a JSON object, got list"),
        ('{"a": 1}\n\n{"b": 1}\n', "in.jsonl:3: missing field 'a'"),
    ],
    ids=["json", "not_object", "missing_field"],
)
def test_read_jsonl_names_file_and_line(tmp_path, text, message):
    path = tmp_path / "in.jsonl"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        read_jsonl(str(path), required=("a",))


def test_read_jsonl_missing_file(tmp_path):
    with pytest.raises(UsageError, match="input file not found"):
        read_jsonl(str(tmp_path / "nope.jsonl"))


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.json"
    write_json(str(path), {"run": 1})
    with pytest.raises(UnicodeEncodeError):
        write_atomic(str(path), "x" * 100_000 + "\ud800")  # a lone surrogate cannot be written as UTF-8
    assert json.loads(path.read_text()) == {"run": 1}
    assert os.listdir(tmp_path) == ["out.json"]


def test_two_writers_into_one_folder_never_collide(tmp_path):
    """Each write has its own temporary file: a shared ``path + ".part"`` lets one writer rename the other's."""
    path = str(tmp_path / "results.json")
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            for i in range(300):
                write_json(path, {"writer": tag, "i": i, "pad": "y" * 20_000})
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    final = json.loads(open(path).read())
    assert final["writer"] in "ab" and final["i"] == 299
    assert os.listdir(tmp_path) == ["results.json"]


def test_append_adds_whole_rows_after_an_atomic_write(tmp_path):
    path = str(tmp_path / "samples.jsonl")
    write_jsonl(path, [{"id": "1", "text": "é"}])
    append_jsonl(path, [{"id": "2"}, {"id": "3"}])
    assert [r["id"] for r in read_jsonl(path)] == ["1", "2", "3"]
    assert "é" in open(path, encoding="utf-8").read()  # kept as text, not \\u escapes


def test_a_row_with_a_lone_surrogate_is_written_escaped_and_reads_back_equal(tmp_path):
    """Valid JSON input (``"\\ud800"``) that UTF-8 cannot encode: escaped for that row, never a crash or a loss."""
    path = str(tmp_path / "out.jsonl")
    rows = [{"completion": "\ud800 lone surrogate"}, {"completion": "é"}]
    write_jsonl(path, rows)
    assert [{k: v for k, v in r.items() if k != "__line__"} for r in read_jsonl(path)] == rows
    assert "é" in open(path, encoding="utf-8").read()
