"""Math benchmarks as tasks: MATH-500, AIME 2024/2025, AMC 2023, GSM8K, Minerva-Math, OlympiadBench.

The same definitions serve training (``rlvr train``) and ``rlvr eval``: one prompt template, one reference per row,
graded by the ``math`` verifier through ``rlvr.scoring``. Each task loads its hub dataset by default, or a local
folder laid out like ``shared/data`` (``data_dir/<local_name>/test.{jsonl,json,parquet}``)::

    task = rlvr.tasks.load_task("gsm8k", data_dir="../shared/data", limit=50)

Where the sources differ in shape, the task reads both: a problem is in ``problem`` or ``question``; GSM8K's
reference is the number after ``####`` of its worked solution; OlympiadBench's ``final_answer`` is a list (or that
list written as a string, as on the hub) of ``$...$`` answers, joined with commas; Minerva's ``answer`` is a list of
equivalent forms of one answer, of which the first is used (or a plain string on the hub).
"""

from __future__ import annotations

import ast
from typing import Any, ClassVar

from rlvr.tasks import Task, TaskDataError, register_task

PROMPT = "{problem}\nPlease reason step by step, and put your final answer within \\boxed{{}}."


class MathBenchmark(Task):
    """A final-answer math benchmark: problem text in, one boxed answer out, graded by ``math``."""

    prompt_template: ClassVar[str] = PROMPT
    hub_split: ClassVar[str | None] = None  # the hub's split when it differs from the local file's (``test``)
    problem_fields: ClassVar[tuple[str, ...]] = ("problem", "question")
    verifiers = {"math": 1.0}
    # The prompt asks for \boxed{}; an unboxed answer line or concluding sentence is still read (prose_fallback).
    verifier_options = {"math": {"format": "boxed"}}

    def prompt(self, row: dict[str, Any]) -> str:
        return self.prompt_template.format(problem=self.problem_text(row))

    def problem_text(self, row: dict[str, Any]) -> str:
        for name in self.problem_fields:
            if row.get(name):
                return str(row[name])
        raise TaskDataError(f"task {self.name!r}: row has none of the fields {list(self.problem_fields)}")

    def load_rows(self) -> list[dict[str, Any]]:
        if self.hub_split is None or self._local_paths():
            return super().load_rows()
        local_split, self.split = self.split, self.hub_split
        try:
            return super().load_rows()
        finally:
            self.split = local_split


@register_task("math500")
class MATH500(MathBenchmark):
    """MATH-500: 500 competition problems (Lightman et al. 2023's split of Hendrycks MATH)."""

    dataset = "HuggingFaceH4/MATH-500"
    local_name = "math500"
    id_field = "unique_id"


@register_task("aime24")
class AIME24(MathBenchmark):
    """AIME 2024: 30 problems, integer answers 0-999."""

    dataset = "HuggingFaceH4/aime_2024"
    hub_split = "train"
    local_name = "aime24"


@register_task("aime25")
class AIME25(MathBenchmark):
    """AIME 2025: 30 problems, integer answers 0-999."""

    dataset = "yentinglin/aime_2025"
    hub_split = "train"
    local_name = "aime25"


@register_task("amc23")
class AMC23(MathBenchmark):
    """AMC 2023: 40 problems (AMC 12A/12B 2023), numeric answers."""

    dataset = "math-ai/amc23"
    local_name = "amc23"


@register_task("gsm8k")
class GSM8K(MathBenchmark):
    """GSM8K test: 1,319 grade-school word problems; the reference is the number after '####'."""

    dataset = "openai/gsm8k"
    dataset_config = "main"
    local_name = "gsm8k"

    def reference(self, row: dict[str, Any]) -> str:
        text = str(super().reference(row))
        if "####" not in text:
            raise TaskDataError(f"task 'gsm8k': answer has no '####' final-answer marker: {text[-80:]!r}")
        return text.rsplit("####", 1)[1].strip().replace(",", "")


@register_task("minerva_math")
class MinervaMath(MathBenchmark):
    """Minerva-Math: 272 undergraduate science and engineering problems (MIT OCW), free-form answers."""

    dataset = "math-ai/minervamath"
    local_name = "minerva_math"

    def reference(self, row: dict[str, Any]) -> str:
        value = super().reference(row)
        if isinstance(value, list):
            if not value:
                raise TaskDataError("task 'minerva_math': empty answer list")
            value = value[0]  # the list holds equivalent spellings of one answer
        return str(value).strip()


@register_task("olympiadbench")
class OlympiadBench(MathBenchmark):
    """OlympiadBench (English, maths, open-ended, text-only): 675 olympiad problems."""

    dataset = "math-ai/olympiadbench"
    local_name = "olympiadbench"
    answer_field = "final_answer"

    def reference(self, row: dict[str, Any]) -> str:
        value = super().reference(row)
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError) as exc:
                raise TaskDataError(f"task 'olympiadbench': final_answer is not a list: {value[:80]!r}") from exc
        parts = value if isinstance(value, list) else [value]
        return ", ".join(_strip_dollars(str(p)) for p in parts)


def _strip_dollars(text: str) -> str:
    """``'$69$,$84$'`` -> ``'69,84'``; ``'$\\frac{1}{2}$'`` -> ``'\\frac{1}{2}'``."""
    return text.replace("$", "").strip()
