"""Built-in training tasks (demo, math_train, the code family): gold answers score 1.0 and wrong ones 0.0 through the
real verifiers and the real scoring engine; splits, references and prompts are what the task says they are."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

import rlvr
from environments.code import APPS_HEADER
from rlvr.cli import main as cli_main
from rlvr.tasks import TaskDataError, load_task
from tests.conftest import require_sandbox


def rewards_for(task, completions: list[str]) -> list[float | None]:
    """Grade completions against the task's rows with the task's own first reward function (TRL's call shape)."""
    ds = task.dataset()
    func = task.reward_funcs()[0]
    return func(prompts=ds["prompt"], completions=completions, reference=ds["reference"][: len(completions)])


# --------------------------------------------------------------------------------------------------------- demo


def test_demo_gold_scores_one_and_wrong_scores_zero():
    task = load_task("demo", size=20)
    rows = task.rows()
    gold = [task.solution(r) for r in rows]
    wrong = [f"\\boxed{{{int(r['answer']) + 1}}}" for r in rows]
    assert rewards_for(task, gold) == [1.0] * 20
    assert rewards_for(task, wrong) == [0.0] * 20
    assert rewards_for(task, ["I do not know"] * 20) == [0.0] * 20


def test_demo_test_split_is_held_out_and_stable():
    train = {r["id"] for r in load_task("demo", size=10_000).rows()}
    test = load_task("demo", split="test", size=10_000).rows()
    assert len(train) + len(test) == 100 * 100  # every a+b with a, b in 0..99, each in exactly one split
    assert not train & {r["id"] for r in test}
    assert 0.15 < len(test) / 10_000 < 0.25
    assert [r["id"] for r in load_task("demo", split="test", size=5).rows()] == [r["id"] for r in test[:5]]


def test_demo_options_and_prompt():
    task = load_task("demo", size=50, max_operand=9, ops="-*", seed=3)
    rows = task.rows()
    assert len(rows) == 50 and {r["op"] for r in rows} == {"-", "*"}
    row = rows[0]
    assert task.prompt(row) == f"{row['a']}{row['op']}{row['b']}="
    assert int(row["answer"]) == (row["a"] - row["b"] if row["op"] == "-" else row["a"] * row["b"])
    assert rewards_for(task, [task.solution(r) for r in rows]) == [1.0] * 50  # negative answers too


@pytest.mark.parametrize("options, message", [({"split": "dev"}, "splits"), ({"ops": "/"}, "ops")])
def test_demo_bad_options_are_clear_errors(options, message):
    with pytest.raises(TaskDataError, match=message):
        load_task("demo", **options).rows()


# --------------------------------------------------------------------------------------------------- math_train


MATH_ROWS = [  # written for this test, in the MATH format (problem, worked solution ending in \boxed{})
    {
        "problem": "What is $\\frac{1}{2}+\\frac{1}{3}$?",
        "level": "Level 1",
        "type": "Prealgebra",
        "solution": "Common denominator 6: $\\frac{3}{6}+\\frac{2}{6}=\\boxed{\\frac{5}{6}}$.",
    },
    {
        "problem": "Solve $x^2=9$ for $x>0$.",
        "level": "Level 2",
        "type": "Algebra",
        "solution": "$x=\\pm 3$ and $x>0$, so $x=\\boxed{3}$.",
    },
    {"problem": "A row with no boxed answer.", "level": "Level 3", "type": "Algebra", "solution": "It is 4."},
    {
        "problem": "Simplify $\\sqrt{8}$.",
        "level": "Level 3",
        "type": "Algebra",
        "solution": "$\\sqrt{8}=\\sqrt{4\\cdot 2}=\\boxed{2\\sqrt{2}}$.",
    },
]


@pytest.fixture
def math_file(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in MATH_ROWS))
    return str(path)


def test_math_train_gold_scores_one_and_wrong_scores_zero(math_file):
    task = load_task("math_train", data_files=math_file)
    rows = task.rows()
    assert [r["boxed_answer"] for r in rows] == ["\\frac{5}{6}", "3", "2\\sqrt{2}"]  # the unboxed row is dropped
    assert rewards_for(task, [r["solution"] for r in rows]) == [1.0, 1.0, 1.0]
    assert rewards_for(task, ["\\boxed{0.8333}", "\\boxed{-3}", "\\boxed{\\sqrt{2}}"]) == [0.0, 0.0, 0.0]
    assert rewards_for(task, ["so \\boxed{5/6}"]) == [1.0]  # equivalence, not string match
    assert "\\boxed{}" in task.prompt(rows[0])


def test_math_train_levels_option(math_file):
    assert [r["level"] for r in load_task("math_train", data_files=math_file, levels="2,3").rows()] == [
        "Level 2",
        "Level 3",
    ]


def test_math_train_reference_agrees_with_real_math_solutions(shared_data):
    """On real MATH solutions (MATH-500 rows have the same fields plus a curated `answer`), the answer boxed in the
    worked solution is the dataset's own answer, as the math verifier judges it; the gold solution scores 1.0."""
    task = load_task("math_train", data_files=os.path.join(shared_data, "math500", "test.jsonl"), limit=60)
    rows = task.rows()
    assert len(rows) == 60
    references = [task.reference(r) for r in rows]
    agree = rlvr.score("math", [f"\\boxed{{{r['answer']}}}" for r in rows], references)
    assert [(r["answer"], ref) for r, ref, v in zip(rows, references, agree) if v.reward < 1] == []
    assert rewards_for(task, [r["solution"] for r in rows]) == [1.0] * 60


def test_math_train_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(TaskDataError, match="data file not found"):
        load_task("math_train", data_files=str(tmp_path / "nope.jsonl")).rows()


# --------------------------------------------------------------------------------------------------- code tasks

HUMANEVAL_ROW = {  # HumanEval's format, written for this test
    "task_id": "Test/0",
    "prompt": 'def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    "canonical_solution": "    return a + b\n",
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n",
    "entry_point": "add",
}
MBPP_ROW = {  # MBPP's format ("full" config), written for this test
    "task_id": 1,
    "text": "Write a function to return the largest of three numbers.",
    "code": "def max_of_three(a, b, c):\r\n    return max(a, b, c)",
    "test_list": ["assert max_of_three(1, 2, 3) == 3", "assert max_of_three(5, 2, 3) == 5"],
    "test_setup_code": "",
    "challenge_test_list": [],
}
MBPP_SANITIZED_ROW = {  # the "sanitized" config's format, written for this test: its asserts need its test_imports
    "source_file": "test",
    "task_id": 2,
    "prompt": "Write a function to find the area of a circle.",
    "code": "def circle_area(r):\n    return 3.141592653589793 * r * r",
    "test_imports": ["import math"],
    "test_list": ["assert math.isclose(circle_area(2), 12.566, rel_tol=0.001)"],
}
APPS_STDIO_ROW = {  # APPS/TACO format: input_output is JSON text
    "problem_id": 7,
    "question": "Read two integers and print their sum.",
    "solutions": json.dumps(["a, b = map(int, input().split())\nprint(a + b)\n"]),
    "input_output": json.dumps({"inputs": ["1 2\n", "10 -3\n"], "outputs": ["3\n", "7\n"]}),
}
APPS_CALL_ROW = {
    "problem_id": 8,
    "question": "Write `double(x)` returning twice x.",
    "solutions": ["def double(x):\n    return 2 * x\n"],
    "input_output": {"fn_name": "double", "inputs": [[1], [4]], "outputs": [[2], [8]]},
}
TESTS_ROW = {
    "problem": "Echo the input line.",
    "tests": [{"stdin": "hi\n", "stdout": "hi\n"}],
    "solution": "print(input())",
}

# deepmind/code_contests' shape (1086B "Minimum Diameter Tree": the answer is a real number; the judge allows 1e-5).
CODE_CONTESTS_ROW = {
    "name": "1086_B. Minimum Diameter Tree",
    "description": "Print the minimum diameter of a tree with two edges of total weight s = 1.",
    "public_tests": {"input": ["3 1\n1 2\n1 3\n"], "output": ["0.5000000000\n"]},
    "private_tests": {"input": [], "output": []},
    "generated_tests": {"input": ["3 2\n1 2\n2 3\n"], "output": ["2.000000000000000\n"]},
    "solutions": {"language": [2, 3], "solution": ["int main() {}", "print(0.5 if input() == '3 1' else 2)"]},
    "time_limit": {"seconds": 2, "nanos": 0},
}

# APPS train/2404 (LeetCode, call-based): APPS's solutions use ``List`` unimported, its harness's header supplies it.
APPS_LEETCODE_ROW = {
    "question": "Return the k-th positive integer missing from the sorted array arr.",
    "solutions": [
        "class Solution:\n    def findKthPositive(self, arr: List[int], k: int) -> int:\n"
        "        missing = [x for x in range(1, arr[-1] + k + 1) if x not in set(arr)]\n        return missing[k - 1]\n"
    ],
    "input_output": {"fn_name": "findKthPositive", "inputs": [[[2, 3, 4, 7, 11], 5]], "outputs": [9]},
}
# An APPS stdin problem: its harness compares case-sensitively ("YES", not "yes").
APPS_CASE_ROW = {
    "question": "Print YES if the number is even, else NO.",
    "solutions": ["print('YES' if int(input()) % 2 == 0 else 'NO')\n"],
    "input_output": {"inputs": ["4\n", "7\n"], "outputs": ["YES\n", "NO\n"]},
}


def write_jsonl(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_code_references_have_the_verifier_forms(tmp_path):
    he = load_task("humaneval", data_files=write_jsonl(tmp_path, "he.jsonl", [HUMANEVAL_ROW]))
    he_ref = {"test_code": HUMANEVAL_ROW["test"], "entry_point": "add", "prompt": HUMANEVAL_ROW["prompt"]}
    assert he.examples()[0]["reference"] == he_ref
    mbpp = load_task("mbpp", data_files=write_jsonl(tmp_path, "mbpp.jsonl", [MBPP_ROW]))
    ref = mbpp.examples()[0]["reference"]
    assert ref == {"test_code": "\n".join(MBPP_ROW["test_list"]) + "\n", "entry_point": "max_of_three"}
    assert "max_of_three(1, 2, 3)" in mbpp.prompt(MBPP_ROW) and "```python" in mbpp.prompt(MBPP_ROW)
    stdio = load_task("code_stdio", data_files=write_jsonl(tmp_path, "io.jsonl", [APPS_STDIO_ROW, APPS_CALL_ROW]))
    refs = [e["reference"] for e in stdio.examples()]
    apps = {"prompt": APPS_HEADER}
    sums = [{"stdin": "1 2\n", "stdout": "3\n"}, {"stdin": "10 -3\n", "stdout": "7\n"}]
    assert refs[0] == {"tests": sums, "case_sensitive": True, **apps}
    assert refs[1] == {
        "fn_name": "double",
        "tests": [{"args": [1], "expected": 2}, {"args": [4], "expected": 8}],
        **apps,
    }
    limited = load_task("code_stdio", data_files=write_jsonl(tmp_path, "t.jsonl", [TESTS_ROW]), time_limit=2.0)
    assert limited.examples()[0]["reference"] == {"tests": TESTS_ROW["tests"], "time_limit": 2.0}
    assert all(
        t.reward_weights == [1.0] and [f.__name__ for f in t.reward_funcs()] == ["code"] for t in (he, mbpp, stdio)
    )
    if importlib.util.find_spec("rlvr.verifiers.code") is not None:  # the verifier accepts every form (no Docker)
        code = rlvr.get_verifier("code")
        for form in [he.examples()[0]["reference"], ref, *refs, limited.examples()[0]["reference"]]:
            assert code.check_reference(form) is None, form


def test_code_contests_rows_are_judged_by_its_rules(tmp_path):
    """code_contests' three test blocks become the tests, with its judge's 1e-5 tolerance; the Python 3 solution is the
    gold; a row's own judging fields reach the reference (its {"seconds", "nanos"} time limit does not)."""
    task = load_task("code_stdio", data_files=write_jsonl(tmp_path, "cc.jsonl", [CODE_CONTESTS_ROW]))
    ref = task.examples()[0]["reference"]
    assert [t["stdout"] for t in ref["tests"]] == ["0.5000000000\n", "2.000000000000000\n"]
    assert ref["float_tolerance"] == {"abs": 1e-5} and "time_limit" not in ref
    assert "print(0.5" in task.solution(CODE_CONTESTS_ROW) and "Minimum Diameter" not in task.solution(
        CODE_CONTESTS_ROW
    )
    assert "minimum diameter" in task.prompt(CODE_CONTESTS_ROW)
    own = {**TESTS_ROW, "case_sensitive": True, "compare": "lines", "time_limit": 3}
    ref = load_task("code_stdio", data_files=write_jsonl(tmp_path, "own.jsonl", [own])).examples()[0]["reference"]
    assert ref == {"tests": TESTS_ROW["tests"], "case_sensitive": True, "compare": "lines", "time_limit": 3}
    if importlib.util.find_spec("rlvr.verifiers.code") is not None:
        assert rlvr.get_verifier("code").check_reference(ref) is None


def test_mbpp_tests_run_as_written():
    """MBPP's asserts are the test code as its harness runs them (setup first); the entry point is bound by the judge."""
    from environments.code import MBPP

    row = {**MBPP_ROW, "test_list": ["assert f(g.f(2)) == my_f(1) + f (3)"], "code": "def f(x):\n    return x"}
    row["test_setup_code"] = "import math"
    assert MBPP().tests(row) == {"test_code": "import math\nassert f(g.f(2)) == my_f(1) + f (3)\n", "entry_point": "f"}


def test_mbpp_test_imports_and_challenge_tests():
    """The sanitized config's test_imports come first (its math.isclose asserts need them; the official harnesses
    prepend them); the full config's challenge_test_list is run only on request, as no official harness runs it."""
    from environments.code import MBPP

    ref = MBPP().tests(MBPP_SANITIZED_ROW)
    assert ref["test_code"] == "import math\n" + MBPP_SANITIZED_ROW["test_list"][0] + "\n"
    assert "area of a circle" in MBPP().prompt(MBPP_SANITIZED_ROW)
    row = {**MBPP_ROW, "challenge_test_list": ["assert max_of_three(0, 0, 7) == 7"]}
    assert "0, 0, 7" not in MBPP().tests(row)["test_code"]
    challenged = MBPP()
    challenged.challenge_tests = True
    assert challenged.tests(row)["test_code"].endswith("assert max_of_three(0, 0, 7) == 7\n")


def test_code_row_without_tests_is_a_clear_error(tmp_path):
    task = load_task("code_stdio", data_files=write_jsonl(tmp_path, "bad.jsonl", [{"question": "q"}]))
    with pytest.raises(TaskDataError, match="row 0.*input_output"):
        task.examples()


@pytest.mark.docker
@pytest.mark.parametrize(
    "name, rows, wrong",
    [
        ("humaneval", [HUMANEVAL_ROW], "```python\ndef add(a, b):\n    return a - b\n```"),
        ("mbpp", [MBPP_ROW], "```python\ndef max_of_three(a, b, c):\n    return min(a, b, c)\n```"),
        ("mbpp", [MBPP_SANITIZED_ROW], "```python\ndef circle_area(r):\n    return 3.14 * r\n```"),
        ("code_stdio", [APPS_STDIO_ROW], "```python\nprint(0)\n```"),
        ("code_stdio", [APPS_CALL_ROW], "```python\ndef double(x):\n    return x\n```"),
        ("code_stdio", [TESTS_ROW], "```python\nprint('no')\n```"),
        ("code_stdio", [CODE_CONTESTS_ROW], "```python\nprint(0.4999)\n```"),
        (
            "code_stdio",
            [APPS_LEETCODE_ROW],
            "```python\nclass Solution:\n    def findKthPositive(self, a, k):\n        return k\n```",
        ),
        ("code_stdio", [APPS_CASE_ROW], "```python\nprint('yes' if int(input()) % 2 == 0 else 'no')\n```"),
    ],
    ids=[
        "humaneval",
        "mbpp",
        "mbpp_sanitized",
        "apps_stdio",
        "apps_call",
        "tests_stdio",
        "code_contests",
        "apps_header",
        "apps_case",
    ],
)
def test_code_gold_scores_one_and_wrong_scores_zero(tmp_path, name, rows, wrong):
    require_sandbox()
    task = load_task(name, data_files=write_jsonl(tmp_path, "rows.jsonl", rows))
    assert rewards_for(task, [task.solution(r) for r in task.rows()]) == [1.0]
    assert rewards_for(task, [wrong]) == [0.0]


# -------------------------------------------------------------------------------------------------- registry


def test_rlvr_tasks_lists_the_training_tasks(capsys):
    assert cli_main(["tasks"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert {"demo", "math_train", "humaneval", "mbpp", "code_stdio"} <= listed
