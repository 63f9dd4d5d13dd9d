"""Every file rlvr reads from a user or writes for one: JSONL in with ``file:line`` errors, atomic writes, appends.

One implementation of each, because the failure modes are the same everywhere:

- a bad row 9,000 lines into an input must fail before any work, and name its line (``read_jsonl``);
- an output must never be half-written, and two runs writing into one folder must not share a temporary file, so
  writes go to a fresh ``mkstemp`` file beside the target and are renamed over it (``write_atomic``);
- resumable outputs (``rlvr eval``'s ``samples.jsonl``) grow by whole batches, flushed to disk (``append_jsonl``).

``UsageError`` lives here too: it is what any of rlvr's entry points raise for bad input (a malformed row, an unknown
name, a missing file); the ``rlvr`` command reports it on stderr with exit status 2. It is a leaf that library modules
may import without importing the command layer.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any


class UsageError(Exception):
    """Bad user input (a malformed row, an unknown name, a missing file): reported on stderr, exit status 2."""


def read_jsonl(path: str, required: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Every row of a JSONL file, each with ``__line__`` (its 1-based line number); blank lines are skipped.

    Everything is read and checked first, so that a bad line fails before any work, with ``path:line`` in the message.
    """
    if not os.path.isfile(path):
        raise UsageError(f"input file not found: {path}")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                rows.append(_row(path, n, line, required))
    return rows


def _row(path: str, n: int, line: str, required: Sequence[str]) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{n}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(row, dict):
        raise UsageError(f"{path}:{n}: expected a JSON object, got {type(row).__name__}")
    missing = [k for k in required if k not in row]
    if missing:
        raise UsageError(f"{path}:{n}: missing field {', '.join(repr(k) for k in missing)}")
    row["__line__"] = n
    return row


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to a fresh temporary file beside ``path`` and rename it: never half a file, never a shared temp."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _json(value: Any, indent: int | None = None) -> str:
    """UTF-8-ready JSON text; a value holding a lone surrogate (valid JSON input, not encodable) is \\u-escaped."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, indent=indent)
    return text


def jsonl_text(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(_json(row) + "\n" for row in rows)


def write_jsonl(path: str, rows: Iterable[dict[str, Any]]) -> None:
    """Atomically replace ``path`` with one JSON object per line."""
    write_atomic(path, jsonl_text(rows))


def write_json(path: str, value: Any) -> None:
    """Atomically replace ``path`` with ``value`` as indented JSON."""
    write_atomic(path, _json(value, indent=2))


def append_jsonl(path: str, rows: Sequence[dict[str, Any]]) -> None:
    """Append whole rows and flush them to disk: a crash loses at most the rows of this call (a torn last line)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(jsonl_text(rows))
        f.flush()
        os.fsync(f.fileno())
