"""Rewards off the critical path, and watched: Scorer.submit, grading that overlaps the step (same weights as without),
time/rewards and time/rewards_wait, per-verifier status fractions, the audit and the grader alert."""

from __future__ import annotations

import threading
import warnings

import pytest
import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer

import tests.overlap_verifiers  # noqa: F401  (registers test_shares_chars, test_long_answer)
from rlvr.rewards import VerifierReward
from rlvr.scoring import Scorer, score
from rlvr.tiny import save_tiny_checkpoint
from rlvr.trainer import RLVRConfig, RLVRTrainer
from rlvr.verifiers.base import get_verifier

G = 4
ANSWERS = [r"\boxed{2}", r"the answer is \boxed{3}", "", r"\boxed{\frac{1}{2}}", r"\boxed{0.5}"] * 8
REFERENCES = ["2", "4", "1", "0.5", "1/2"] * 8


# --------------------------------------------------------------------------------------------------------------------
# Scorer.submit


def test_submit_gives_scores_verdicts_in_order_from_many_threads():
    scorer = Scorer(get_verifier("math"), workers=2)
    try:
        expected = scorer.score(ANSWERS, REFERENCES)
        assert {v.status for v in expected} >= {"correct", "wrong", "no_answer"}
        results: dict[int, list] = {}

        def worker(k: int) -> None:
            shift = k % len(ANSWERS)
            answers, refs = ANSWERS[shift:] + ANSWERS[:shift], REFERENCES[shift:] + REFERENCES[:shift]
            results[k] = (shift, scorer.submit(answers, refs).result(timeout=120))

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for shift, verdicts in results.values():
            assert verdicts == expected[shift:] + expected[:shift]
    finally:
        scorer.close()


def test_submit_shares_the_cache_and_reports_its_own_stats():
    scorer = Scorer(get_verifier("math"), workers=1)
    try:
        first = scorer.submit(ANSWERS[:5], REFERENCES[:5])
        second = scorer.submit(ANSWERS[:5], REFERENCES[:5])  # queued behind the first: all cache hits
        assert first.result(timeout=120) == second.result(timeout=120)
        assert first.stats.graded == 4 and first.stats.cache_hits == 0  # the empty answer never reaches a grader
        assert second.stats.graded == 0 and second.stats.cache_hits == 4
        with pytest.raises(ValueError, match="references"):
            scorer.submit(ANSWERS[:2], REFERENCES[:1])  # a mismatch is the caller's error now, not the future's
    finally:
        scorer.close()


def test_submit_keeps_the_time_limit():
    scorer = Scorer(get_verifier("test_shares_chars", delay=30.0), workers=1, timeout=1.0)
    try:
        (verdict,) = scorer.submit(["abc"], ["a"]).result(timeout=60)
        assert verdict.status == "timeout"
    finally:
        scorer.close()


# --------------------------------------------------------------------------------------------------------------------
# The trainer


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return save_tiny_checkpoint(str(tmp_path_factory.mktemp("tiny") / "ckpt"))


def data(n: int = 8) -> Dataset:
    return Dataset.from_dict({"prompt": [f"q{i}:" for i in range(n)], "reference": ["aeiou"] * n})


def train(checkpoint, tmp_path, reward, **overrides):
    values = dict(
        output_dir=str(tmp_path / "out"), bf16=False, use_cpu=True, per_device_train_batch_size=2 * G,
        num_generations=G, max_completion_length=8, max_steps=3, learning_rate=5e-3, beta=0.04, report_to=[],
        logging_steps=1, save_strategy="no", disable_tqdm=True, seed=0,
    )  # fmt: skip
    values.update(overrides)
    trainer = RLVRTrainer(
        model=AutoModelForCausalLM.from_pretrained(checkpoint),
        reward_funcs=[reward],
        args=RLVRConfig(**values),
        train_dataset=data(),
        processing_class=AutoTokenizer.from_pretrained(checkpoint),
    )
    trainer.train()
    return {k: v.detach().clone() for k, v in trainer.model.named_parameters()}, trainer


def test_overlap_changes_nothing_that_is_computed(checkpoint, tmp_path):
    overlapped = VerifierReward("test_shares_chars", workers=1)
    with_overlap, trainer = train(checkpoint, tmp_path, overlapped)
    assert overlapped.last_prefetched, "grading must have started before TRL asked for the rewards"
    plain = VerifierReward("test_shares_chars", workers=1)
    without, _ = train(checkpoint, tmp_path, plain, overlap_rewards=False)
    assert not plain.last_prefetched
    assert all(torch.equal(with_overlap[k], without[k]) for k in with_overlap)
    initial = AutoModelForCausalLM.from_pretrained(checkpoint).state_dict()
    assert any(not torch.equal(with_overlap[k], initial[k]) for k in with_overlap)
    rewards = [entry["rewards/test_shares_chars/mean"] for entry in trainer.state.log_history if "reward" in entry]
    assert 0 < min(rewards) and max(rewards) < 1, "the rewards must vary for the comparison to mean anything"


def test_every_step_says_how_it_was_graded(checkpoint, tmp_path):
    _, trainer = train(checkpoint, tmp_path, VerifierReward("test_shares_chars", workers=1), max_steps=2)
    for entry in [e for e in trainer.state.log_history if "reward" in e]:
        fractions = [entry[f"rewards/test_shares_chars/status/{s}"] for s in ("correct", "wrong", "no_answer")]
        assert (
            entry["rewards/test_shares_chars/status/timeout"] == entry["rewards/test_shares_chars/status/error"] == 0
        )
        assert sum(fractions) == pytest.approx(1.0)
        assert fractions[0] == pytest.approx(entry["rewards/test_shares_chars/mean"])  # reward 1 iff correct
        assert entry["rewards/test_shares_chars/extracted_length"] > 0
        assert entry["time/rewards"] > 0 and entry["time/rewards_wait"] >= 0


def test_audit_logs_the_disagreement_rate(checkpoint, tmp_path):
    _, trainer = train(
        checkpoint,
        tmp_path,
        VerifierReward("test_shares_chars", workers=1),
        max_steps=1,
        audit_fraction=1.0,
        audit_verifier="test_long_answer",
        log_completions=True,
    )
    completions = list(trainer._logs["completion"])
    first = score("test_shares_chars", completions, ["aeiou"] * len(completions), workers=1)
    second = score("test_long_answer", completions, ["aeiou"] * len(completions), workers=1)
    expected = sum((a.status == "correct") != (b.status == "correct") for a, b in zip(first, second, strict=True))
    logged = trainer.state.log_history[0]["rewards/test_shares_chars/audit_disagreement"]
    assert logged == pytest.approx(expected / len(completions))
    assert 0 < expected < len(completions), "both verdicts must occur for the rate to be tested"
    column = list(trainer._logs["extra"]["audit"])
    assert sum(bool(c) for c in column) == expected
    with pytest.raises(ValueError, match="audit_verifier"):
        RLVRConfig(output_dir=str(tmp_path), use_cpu=True, audit_fraction=0.5)


def test_a_failing_grader_is_reported_once(checkpoint, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, trainer = train(
            checkpoint, tmp_path, VerifierReward("test_shares_chars", workers=1, fail=True), max_steps=2
        )
    alerts = [w for w in caught if "graded 'error'" in str(w.message)]
    assert len(alerts) == 1
    assert trainer.state.log_history[0]["rewards/test_shares_chars/status/error"] == 1.0
    assert trainer.state.log_history[0]["rewards/frac_ungraded"] == 1.0


def test_eval_summary_carries_the_same_statuses():
    from rlvr.metrics import Sample, summarize

    verdicts = score("math", ANSWERS[:5], REFERENCES[:5], workers=1)
    problems = [[Sample(v.reward, v.status == "correct", v.extracted, v.status)] for v in verdicts]
    fractions = summarize(problems)["status_fractions"]
    assert fractions == {s: sum(v.status == s for v in verdicts) / 5 for s in fractions}
    assert set(fractions) == {"correct", "wrong", "no_answer", "timeout", "error"} and fractions["no_answer"] == 0.2
    assert "status_fractions" not in summarize([[Sample(1.0, True, "2")]])  # unknown statuses: no claim
