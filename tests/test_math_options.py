"""Options of the ``math`` verifier (issue 9, item 4): answer format, answer pattern, relative tolerance, prose
fallback; validated with messages that say what to do, reachable from ``rlvr score --option`` and from task fields."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import pytest

from rlvr.tasks import TASKS, load_task
from rlvr.verifiers import get_verifier
from rlvr.verifiers.math import MathVerifier

GSM8K_FEW_SHOT = "Roger has 5 balls. He buys 2 cans of 3 balls each.\n5 + 6 = 11\nA: 11"
MINERVA = (
    "The energy is computed as above.\n\nFinal Answer: The final answer is $3.5 \\times 10^{4}$. I hope it is correct."
)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "latex"}, "format must be one of auto, boxed, gsm8k, minerva"),
        ({"answer_pattern": "ANSWER: .*"}, "exactly one capturing group"),
        ({"answer_pattern": "(a)(b)"}, "exactly one capturing group"),
        ({"answer_pattern": "(unclosed"}, "is not a regular expression"),
        ({"answer_pattern": "(x)", "format": "gsm8k"}, "either format or answer_pattern"),
        ({"rel_tol": -0.1}, "rel_tol must be a number in [0, 1)"),
        ({"rel_tol": "1%"}, "rel_tol must be a number in [0, 1)"),
        ({"rel_tol": True}, "rel_tol must be a number in [0, 1)"),
        ({"prose_fallback": "yes"}, "prose_fallback must be true or false"),
    ],
)
def test_bad_options_say_what_to_do(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)").replace("(", r"\(")):
        get_verifier("math", **options)


def test_unknown_option_names_the_accepted_ones() -> None:
    with pytest.raises(TypeError, match="format, answer_pattern, rel_tol, prose_fallback"):
        get_verifier("math", tolerance=0.1)


def test_named_formats() -> None:
    assert MathVerifier(format="gsm8k")(GSM8K_FEW_SHOT, "11").status == "correct"
    assert MathVerifier(format="gsm8k")("We get 7.\n#### 7", "7").status == "correct"
    assert MathVerifier(format="gsm8k")("So the answer is 7.\nThe answer is 7.", "7").status == "correct"
    assert MathVerifier(format="minerva")(MINERVA, "3.5 \\times 10^{4}").status == "correct"
    # boxed only, no prose: an unboxed answer line is no answer
    strict = MathVerifier(format="boxed", prose_fallback=False)
    assert strict("The answer is 7.", "7").status == "no_answer"
    assert strict("The answer is \\boxed{7}.", "7").status == "correct"
    assert MathVerifier(format="boxed")("The answer is 7.", "7").status == "correct"  # prose fallback on by default


def test_prose_fallback_off_reads_no_concluding_sentence() -> None:
    text = "We add the two amounts.\n\nTherefore, Janet makes $18 every day."
    assert MathVerifier()(text, "18").status == "correct"
    assert MathVerifier(prose_fallback=False)(text, "18").status == "no_answer"


def test_answer_pattern() -> None:
    verifier = MathVerifier(answer_pattern=r"<answer>(.*?)</answer>")
    assert verifier("think... <answer>12</answer> more <answer>\\frac{1}{2}</answer>", "0.5").status == "correct"
    assert verifier("<answer>12</answer>", "13").status == "wrong"
    assert MathVerifier(answer_pattern=r"<answer>(.*?)</answer>", prose_fallback=False)("\\boxed{3}", "3").status == (
        "no_answer"
    )


def test_relative_tolerance_applies_to_decimal_references_only() -> None:
    assert MathVerifier()("\\boxed{6.63}", "6.626").status == "wrong"
    assert MathVerifier(rel_tol=0.01)("\\boxed{6.63}", "6.626").status == "correct"
    assert MathVerifier(rel_tol=0.01)("\\boxed{6.8}", "6.626").status == "wrong"
    assert MathVerifier(rel_tol=0.01)("\\boxed{6.63 \\times 10^{-34}}", "6.626 \\times 10^{-34}").status == "correct"
    assert MathVerifier(rel_tol=0.01)("\\boxed{\\sqrt{44}}", "6.626").status == "correct"  # 6.633
    assert MathVerifier(rel_tol=0.01)("\\boxed{100}", "99").status == "wrong"  # an integer reference is exact


def test_options_are_part_of_the_cache_key_and_survive_pickling() -> None:
    verifier = MathVerifier(format="gsm8k", rel_tol=0.02)
    clone = pickle.loads(pickle.dumps(verifier))
    assert clone == verifier and clone.cache_key() == verifier.cache_key() != MathVerifier().cache_key()


def test_options_from_the_command_line(tmp_path) -> None:
    rows = [{"completion": GSM8K_FEW_SHOT, "reference": "11"}, {"completion": "\\boxed{6.63}", "reference": "6.626"}]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cmd = [sys.executable, "-m", "rlvr.cli", "score", "--verifier", "math", "--input", str(src), "--output", str(out)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd + ["--option", "rel_tol=0.01", "--no-progress"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["reward"] for x in out.read_text().splitlines()] == [1.0, 1.0]
    bad = subprocess.run(cmd + ["--option", "format=latex"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "format must be one of" in bad.stderr


def test_benchmark_tasks_declare_their_format() -> None:
    for name in ("math500", "aime24", "aime25", "amc23", "gsm8k", "minerva_math", "olympiadbench"):
        task = TASKS.get(name)
        assert task.verifier_options["math"]["format"] == "boxed", name
        assert "\\boxed{{}}" in task.prompt_template
    reward = load_task("gsm8k", data_dir=os.devnull).reward_funcs()[0]
    assert reward._verifier == MathVerifier(format="boxed")
