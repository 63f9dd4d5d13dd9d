"""Tasks: a dataset + a prompt template + verifiers with weights. One definition serves training and evaluation.

    import rlvr

    @rlvr.register_task("aime24")
    class AIME24(rlvr.Task):
        \"\"\"AIME 2024: 30 problems, integer answers 0-999.\"\"\"
        dataset = "HuggingFaceH4/aime_2024"      # hub id; or pass data_dir= / data_files= to load_task
        local_name = "aime24"                    # folder under a --data-dir laid out like shared/data
        answer_field = "answer"
        verifiers = {"math": 1.0}

        def prompt(self, row: dict) -> str:
            return row["problem"] + "\\nPut your final answer within \\\\boxed{}."

    task = rlvr.load_task("aime24", data_dir="../shared/data")
    ds = task.dataset()            # columns: prompt (chat messages), reference, + the original fields
    task.reward_funcs(), task.reward_weights

Loading order: ``data_files`` (a file or list of .jsonl/.json/.parquet files), then ``data_dir/<local_name>/`` (the
first of ``<split>.jsonl``, ``<split>.json``, ``<split>.parquet``), then the hub id. Built-in tasks live in the
top-level ``environments`` package; third-party ones register through the ``rlvr.tasks`` entry-point group.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, ClassVar

from rlvr.registry import Registry

TASKS: Registry[type[Task]] = Registry("task", "rlvr.tasks", builtins=("environments",))


class TaskDataError(ValueError):
    """A task's data could not be loaded or is malformed; the message names the file, row or field."""


class Task:
    """Base class for a verifiable task. Subclass it, set the class attributes, override ``prompt``."""

    name: ClassVar[str] = ""
    dataset_id: ClassVar[str | None] = None  # hub id (set as ``dataset = "..."`` in subclasses; see __init_subclass__)
    dataset_config: ClassVar[str | None] = None
    local_name: ClassVar[str | None] = None
    split: ClassVar[str] = "test"
    answer_field: ClassVar[str] = "answer"
    id_field: ClassVar[str | None] = None
    system_prompt: ClassVar[str | None] = None
    verifiers: ClassVar[dict[str, float]] = {"math": 1.0}
    verifier_options: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Let subclasses write `dataset = "org/name"` (as in the README) while `dataset()` stays a method.
        value = cls.__dict__.get("dataset")
        if isinstance(value, str) or value is None and "dataset" in cls.__dict__:
            cls.dataset_id = value
            del cls.dataset

    def __init__(
        self,
        *,
        data_dir: str | None = None,
        data_files: str | list[str] | None = None,
        split: str | None = None,
        limit: int | None = None,
        system_prompt: str | None = None,
        chat: bool = True,
        **options: Any,
    ) -> None:
        self.data_dir = data_dir
        self.data_files = [data_files] if isinstance(data_files, str) else data_files
        self.split = split or type(self).split
        self.limit = limit
        self.chat = chat
        if system_prompt is not None:
            self.system_prompt = system_prompt
        for key, value in options.items():
            if not hasattr(self, key):
                raise TypeError(f"task {self.name!r} has no option {key!r}")
            setattr(self, key, value)

    # ---- what a subclass overrides
    def prompt(self, row: dict[str, Any]) -> str:
        """The user message for one row."""
        return str(row["problem"])

    def reference(self, row: dict[str, Any]) -> Any:
        """The reference the verifiers receive (a string for math; an object for code)."""
        if self.answer_field not in row:
            raise TaskDataError(f"task {self.name!r}: row has no field {self.answer_field!r} (fields: {sorted(row)})")
        return _as_reference(row[self.answer_field])

    def load_rows(self) -> list[dict[str, Any]]:
        """The raw rows of this task's split (override for generated data)."""
        for path in self._local_paths():
            return _read_rows(path)
        if self.dataset_id is None:
            where = f"{self.data_dir}/{self.local_name}/{self.split}.jsonl" if self.data_dir else "data_dir="
            raise TaskDataError(f"task {self.name!r} has no hub dataset; give local data ({where})")
        from datasets import load_dataset

        try:
            ds = load_dataset(self.dataset_id, self.dataset_config, split=self.split)
        except Exception as exc:
            raise TaskDataError(
                f"task {self.name!r}: could not load {self.dataset_id!r} split {self.split!r} from the hub ({exc}); "
                f"offline? pass --data-dir with a local copy"
            ) from exc
        return [dict(r) for r in ds]

    # ---- what callers use
    def rows(self) -> list[dict[str, Any]]:
        rows = self.load_rows()
        return rows[: self.limit] if self.limit is not None else rows

    def messages(self, row: dict[str, Any]) -> list[dict[str, str]]:
        msgs = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return msgs + [{"role": "user", "content": self.prompt(row)}]

    def examples(self) -> list[dict[str, Any]]:
        """Rows with ``prompt`` (chat messages, or a string with chat=False), ``reference`` and ``id`` added."""
        out = []
        for i, row in enumerate(self.rows()):
            try:
                prompt = self.messages(row) if self.chat else self.prompt(row)
                reference = self.reference(row)
            except (KeyError, TypeError, ValueError) as exc:
                raise TaskDataError(f"task {self.name!r}, row {i}: {type(exc).__name__}: {exc}") from exc
            rid = row.get(self.id_field) if self.id_field else row.get("id", row.get("unique_id", i))
            out.append({**_plain(row), "prompt": prompt, "reference": reference, "id": str(rid)})
        return out

    def dataset(self):
        """A ``datasets.Dataset`` ready for ``GRPOTrainer`` (columns ``prompt``, ``reference``, ``id``...)."""
        from datasets import Dataset

        examples = self.examples()
        # Keep only JSON-friendly columns that hold the same type in every row (Arrow needs one type per column).
        keep = ["prompt", "reference", "id"]
        return Dataset.from_list([{k: e[k] if k != "reference" else _encode(e[k]) for k in keep} for e in examples])

    def reward_funcs(self) -> list[Callable[..., list[float | None]]]:
        from rlvr.rewards import VerifierReward

        return [VerifierReward(name, **self.verifier_options.get(name, {})) for name in self.verifiers]

    @property
    def reward_weights(self) -> list[float]:
        return [float(w) for w in self.verifiers.values()]

    # ---- helpers
    def _local_paths(self) -> list[str]:
        if self.data_files:
            missing = [p for p in self.data_files if not os.path.isfile(p)]
            if missing:
                raise TaskDataError(f"task {self.name!r}: data file not found: {missing[0]}")
            return self.data_files[:1] if len(self.data_files) == 1 else [self.data_files]  # type: ignore[list-item]
        if self.data_dir:
            folder = os.path.join(self.data_dir, self.local_name or self.name)
            candidates = [os.path.join(folder, f"{self.split}.{ext}") for ext in ("jsonl", "json", "parquet")]
            found = [p for p in candidates if os.path.isfile(p)]
            if not found:
                raise TaskDataError(f"task {self.name!r}: no data file at {candidates[0]} (nor .json/.parquet)")
            return found[:1]
        return []


def register_task(name: str, *, replace: bool = False):
    """Class decorator: ``@rlvr.register_task("my_task")`` on a ``Task`` subclass."""

    def add(cls: type[Task]) -> type[Task]:
        if not (isinstance(cls, type) and issubclass(cls, Task)):
            raise TypeError(f"task {name!r} must be a subclass of rlvr.Task")
        cls.name = name
        TASKS.register(name, cls, replace=replace)
        return cls

    return add


def load_task(name: str, **options: Any) -> Task:
    """Instantiate a registered task: ``load_task("math500", data_dir="../shared/data", limit=50)``."""
    return TASKS.get(name)(**options)


def _read_rows(path: str | list[str]) -> list[dict[str, Any]]:
    if isinstance(path, list):
        return [row for p in path for row in _read_rows(p)]
    if path.endswith(".parquet"):
        from datasets import Dataset

        return [dict(r) for r in Dataset.from_parquet(path)]
    with open(path, encoding="utf-8") as f:
        if path.endswith(".json"):
            try:
                data = json.load(f)
            except json.JSONDecodeError as exc:
                raise TaskDataError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
            if not isinstance(data, list):
                raise TaskDataError(f"{path}: expected a JSON list of rows")
            return data
        rows = []
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise TaskDataError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
        return rows


def _as_reference(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # AMC's 27.0 -> "27"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("prompt", "reference", "id")}


def _encode(reference: Any) -> str:
    """References cross Arrow as strings; objects (code tests) as JSON, decoded again by ``VerifierReward``."""
    return reference if isinstance(reference, str) else json.dumps(reference)
