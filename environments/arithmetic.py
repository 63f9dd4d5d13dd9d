"""The ``arithmetic`` task: the ``demo`` task's generated sums, asked in words of a pretrained chat model.

The rows and the hash-held-out ``test`` split are the ``demo`` task's (``environments/demo.py``); only the prompt
differs: ``What is 17 + 25? Put your final answer within \\boxed{}.`` A pretrained instruct model such as
SmolLM2-135M-Instruct answers that in a sentence or an equation ("17 + 25 = 42") and seldom boxes it, so two
verifiers grade it: ``math`` (is the answer right, wherever it stands) and ``format`` (is it in a ``\\boxed{}``, as
asked), the SmolLM2 demo's task (``examples/recipes/smollm2-135m-demo.yaml``).
"""

from __future__ import annotations

from typing import Any

from environments.demo import Demo
from rlvr.tasks import register_task

BOXED = r"\\boxed\{[^{}\n]+\}"  # a non-empty box; linear time (each scan stops at the next brace)


@register_task("arithmetic")
class Arithmetic(Demo):
    """The demo's sums (a+b, held-out test split) asked in words; graded by math + format (\\boxed{} asked for)."""

    verifiers = {"math": 1.0, "format": 0.5}
    verifier_options = {"format": {"pattern": BOXED}}
    max_operand: int = 30

    def prompt(self, row: dict[str, Any]) -> str:
        return f"What is {row['a']} {row['op']} {row['b']}? Put your final answer within \\boxed{{}}."
