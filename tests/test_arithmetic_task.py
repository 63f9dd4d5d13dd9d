"""The ``arithmetic`` task (the SmolLM2 demo's): the demo's sums asked in words, graded by math + format (boxed)."""

from __future__ import annotations

from rlvr.tasks import load_task


def _rewards(task, completions: list[str]) -> list[list[float | None]]:
    """Every reward function of the task on the first rows, called as TRL calls them."""
    ds = task.dataset()
    n = len(completions)
    return [
        f(prompts=ds["prompt"][:n], completions=completions, reference=ds["reference"][:n])
        for f in task.reward_funcs()
    ]


def test_right_answers_score_on_math_and_boxes_on_format() -> None:
    task = load_task("arithmetic", size=4)
    rows = task.rows()
    answers = [int(r["answer"]) for r in rows]
    boxed_right = [f"{r['a']} + {r['b']} = {r['answer']}, so the answer is \\boxed{{{r['answer']}}}." for r in rows]
    assert _rewards(task, boxed_right) == [[1.0] * 4, [1.0] * 4]
    assert _rewards(task, [f"\\boxed{{{a + 1}}}" for a in answers]) == [[0.0] * 4, [1.0] * 4]
    unboxed = [f"{r['a']} + {r['b']} = {r['answer']}" for r in rows]  # how SmolLM2 answers: right, not as asked
    assert _rewards(task, unboxed) == [[1.0] * 4, [0.0] * 4]
    assert _rewards(task, ["The answer is \\boxed{}."] * 4)[1] == [0.0] * 4  # an echoed empty box is no box
    assert task.reward_weights == [1.0, 0.5]


def test_prompt_and_held_out_split_are_the_demo_task_s() -> None:
    task = load_task("arithmetic", split="test", size=3)
    demo = load_task("demo", split="test", size=3, max_operand=task.max_operand)
    assert [r["id"] for r in task.rows()] == [r["id"] for r in demo.rows()]
    row = task.rows()[0]
    assert task.examples()[0]["prompt"] == [
        {"role": "user", "content": f"What is {row['a']} + {row['b']}? Put your final answer within \\boxed{{}}."}
    ]
