"""``math_train``: the MATH training split (Hendrycks et al. 2021, 7,500 problems), the usual RLVR math workload.

Rows have ``problem`` and a worked ``solution``; the reference answer is the content of the solution's last ``\\boxed{}``
(braces matched; kept as the row's ``boxed_answer``), which the ``math`` verifier compares with the model's answer by
equivalence. Rows whose solution has no boxed answer are dropped (and counted), since they cannot be graded. Hub default: ``DigitalLearningGmbH/MATH-lighteval`` (problem, solution, level,
type); ``EleutherAI/hendrycks_math`` has the same fields per subject config. The MATH-500 test problems are drawn
from MATH's test split, not from this one.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from rlvr.tasks import Task, TaskDataError, register_task

_BOX = re.compile(r"\\(?:boxed|fbox)\s*(?=\{)")
INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def boxed_answer(solution: str) -> str | None:
    """The content of the last ``\\boxed{...}`` (or ``\\fbox{...}``) of a worked solution, braces matched; else None.

    Deliberately strict: the ``math`` verifier also reads answers that are not boxed ("The answer is 4"), which is
    right for a model's completion but would turn a reference solution with no boxed answer into a wrong label.
    """
    for match in reversed(list(_BOX.finditer(solution))):
        start = match.end()
        depth = 0
        for i in range(start, len(solution)):
            if solution[i] == "{" and solution[i - 1] != "\\":
                depth += 1
            elif solution[i] == "}" and solution[i - 1] != "\\":
                depth -= 1
                if depth == 0:
                    return solution[start + 1 : i].strip()
    return None


@register_task("math_train")
class MathTrain(Task):
    """MATH train split (7,500 competition problems); reference = the last \\boxed{} of the worked solution."""

    dataset = "DigitalLearningGmbH/MATH-lighteval"
    local_name = "math_train"
    split = "train"
    answer_field = "solution"
    verifiers = {"math": 1.0}
    levels: str | None = None  # e.g. "3,4,5": keep only these difficulty levels ("Level 3" ...)

    def load_rows(self) -> list[dict[str, Any]]:
        rows = super().load_rows()
        if self.levels:
            wanted = {f"Level {x.strip()}" for x in str(self.levels).split(",")}
            rows = [r for r in rows if r.get("level") in wanted]
        kept = []
        for row in rows:
            if "solution" not in row:
                raise TaskDataError(f"task 'math_train': row has no 'solution' field (fields: {sorted(row)})")
            answer = boxed_answer(row["solution"])
            if answer is not None and answer.strip():
                kept.append({**row, "boxed_answer": answer})
        if len(kept) < len(rows):
            print(
                f"task math_train: dropped {len(rows) - len(kept)} of {len(rows)} rows with no \\boxed{{}} answer",
                file=sys.stderr,
            )
        return kept

    def prompt(self, row: dict[str, Any]) -> str:
        return f"{row['problem']}\n{INSTRUCTION}"

    def reference(self, row: dict[str, Any]) -> str:
        return row["boxed_answer"]
