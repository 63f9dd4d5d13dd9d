"""The `format` verifier: the default R1-style shape and a custom pattern, with reasons on failure."""

from __future__ import annotations

import pytest

from rlvr.verifiers import get_verifier

CASES = [
    ("ok", "<think>2+2 is 4</think> The answer is \\boxed{4}.", 1.0, "format ok"),
    ("ok_multiline", "<think>\nstep 1\nstep 2\n</think>\n\n**Answer** \\boxed{x^2}", 1.0, "format ok"),
    ("no_think", "The answer is \\boxed{4}.", 0.0, "no <think>"),
    ("no_box", "<think>hmm</think> The answer is 4.", 0.0, "no \\boxed{}"),
    ("box_only_inside_think", "<think>\\boxed{4}</think> so 4", 0.0, "no \\boxed{}"),
    ("two_blocks", "<think>a</think><think>b</think> \\boxed{1}", 0.0, "expected one <think> block"),
    ("text_before", "Sure! <think>a</think> \\boxed{1}", 0.0, "text before <think>"),
    ("empty_think", "<think></think> \\boxed{1}", 0.0, "empty <think> block"),
    ("unclosed", "<think>forever and ever \\boxed{1}", 0.0, "no <think>...</think> block"),
]


@pytest.mark.parametrize("completion,reward,reason", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_default_format(completion, reward, reason):
    verdict = get_verifier("format").judge(completion, None)
    assert verdict.reward == reward
    assert reason in verdict.detail


def test_custom_pattern():
    v = get_verifier("format", pattern=r"^Answer: \d+$", fullmatch=True)
    assert v.judge("Answer: 42", None).reward == 1.0
    verdict = v.judge("Answer: 42 maybe", None)
    assert verdict.reward == 0.0 and "does not match" in verdict.detail


def test_bad_regex_fails_when_built():
    with pytest.raises(ValueError, match="bad regex"):
        get_verifier("format", pattern="(unclosed")
