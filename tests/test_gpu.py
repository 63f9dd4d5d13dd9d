"""The CUDA path: what a user with a GPU runs, on a tiny model built in the test (marked ``gpu``; skipped without CUDA).

CI has no GPU, so these run only where one is lent (the README says how). They check what the CPU suite cannot:
- every policy loss of the GRPO family takes real TRL steps on CUDA in bfloat16 (TRL's default there) and moves the
  parameters, with finite losses and logs;
- our GSPO equals TRL's sequence-level GRPO on CUDA too (float32: same loss and gradients);
- a real verifier reward (the scoring engine's worker processes) grades during CUDA training: the workers are forked
  from a forkserver that never touched CUDA, so a CUDA-initialised trainer process does not break them;
- ``HFGenerator.load`` puts a checkpoint on the GPU in bfloat16 and ``evaluate`` grades what it generates;
- ``rlvr train`` on a machine with CUDA keeps TRL's bf16 default (the CPU-only override does not apply).
"""

from __future__ import annotations

import math

import pytest
import torch
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from rlvr.eval import Problem, evaluate
from rlvr.generation import HFGenerator, Sampling
from rlvr.rewards import VerifierReward
from rlvr.scoring import Scorer
from rlvr.tiny import save_tiny_checkpoint
from rlvr.trainer import RLVRConfig
from rlvr.verifiers import get_verifier
from tests.test_trainer import MAX_LEN, G, _loss_and_grads, distinct_chars, make_trainer, prompts
from tests.test_trainer import config as cpu_config

pytestmark = pytest.mark.gpu

LOSSES = [
    ("grpo", {}),
    ("dr_grpo", {}),
    ("bnpo", {}),
    ("dapo", {"epsilon_high": 0.28, "steps_per_generation": 2, "per_device_train_batch_size": G}),
    ("gspo", {"epsilon": 3e-4, "epsilon_high": 4e-4}),
    ("gspo_token", {"epsilon": 3e-4, "epsilon_high": 4e-4}),
    ("gmpo", {"epsilon": 0.4, "epsilon_high": 0.4}),
    ("dppo", {"epsilon": 0.2, "epsilon_high": 0.2}),
    ("cispo", {"epsilon_high": 1.2}),
    ("luspo", {"epsilon": 0.03, "epsilon_high": 0.04}),
    ("sapo", {}),
    ("vespo", {}),
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return save_tiny_checkpoint(str(tmp_path_factory.mktemp("tiny") / "ckpt"))


def config(tmp_path, **overrides) -> RLVRConfig:
    """test_trainer's settings, on the GPU in bf16 (TRL's default there)."""
    return cpu_config(tmp_path, **{"bf16": True, "use_cpu": False, **overrides})


def snapshot(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().float().cpu().clone() for k, v in model.named_parameters()}


def test_every_registered_loss_is_covered():
    from rlvr.losses import LOSSES as REGISTRY

    assert sorted(name for name, _ in LOSSES) == REGISTRY.names()


@pytest.mark.parametrize(("loss", "extra"), LOSSES, ids=[name for name, _ in LOSSES])
def test_every_loss_takes_bf16_steps_on_cuda(checkpoint, tmp_path, loss, extra):
    trainer = make_trainer(checkpoint, config(tmp_path, policy_loss=loss, beta=0.04, num_iterations=2, **extra),
                           [distinct_chars], prompts(8))  # fmt: skip
    assert trainer.accelerator.device.type == "cuda"
    before = snapshot(trainer.model)
    trainer.train()
    assert trainer.state.global_step == 2
    assert next(trainer.model.parameters()).device.type == "cuda"
    after = snapshot(trainer.model)
    assert sum(not torch.equal(before[k], after[k]) for k in before) > 0
    assert all(torch.isfinite(v).all() for v in after.values())
    for entry in trainer.state.log_history[:2]:
        assert math.isfinite(entry["loss"]) and math.isfinite(entry["kl"]), entry


def test_gspo_equals_trl_sequence_level_grpo_on_cuda(checkpoint, tmp_path):
    common = dict(
        output_dir=str(tmp_path / "out"), bf16=False, per_device_train_batch_size=2 * G, num_generations=G,
        max_completion_length=MAX_LEN, report_to=[], epsilon=3e-3, epsilon_high=4e-3, beta=0.04,
    )  # fmt: skip
    ours = make_trainer(checkpoint, RLVRConfig(policy_loss="gspo", **common), [distinct_chars], prompts(4))
    theirs = make_trainer(
        checkpoint,
        GRPOConfig(importance_sampling_level="sequence", loss_type="grpo", **common),
        [distinct_chars],
        prompts(4),
        cls=GRPOTrainer,
    )
    ours.model.train()
    batch = next(iter(ours.get_train_dataloader()))
    inputs = ours._generate_and_score_completions(batch)
    assert inputs["completion_ids"].device.type == "cuda"
    with torch.no_grad():
        ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1)
        mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
        logps, _, _ = ours._get_per_token_logps_and_entropies(ours.model, ids, mask, inputs["completion_ids"].shape[1])
    g = torch.Generator(device="cuda").manual_seed(1)
    inputs["old_per_token_logps"] = logps + 0.01 * torch.randn(logps.shape, generator=g, device="cuda")
    inputs["ref_per_token_logps"] = logps + 0.1 * torch.randn(logps.shape, generator=g, device="cuda")
    inputs["advantages"] = torch.randn(logps.shape[0], generator=g, device="cuda")
    our_loss, our_grads = _loss_and_grads(ours, dict(inputs))
    their_loss, their_grads = _loss_and_grads(theirs, dict(inputs))
    assert our_loss == pytest.approx(their_loss, abs=1e-5)
    assert our_grads.keys() == their_grads.keys() and our_grads
    for name in our_grads:
        torch.testing.assert_close(our_grads[name], their_grads[name], atol=1e-5, rtol=1e-4)


def test_a_real_verifier_reward_grades_during_cuda_training(checkpoint, tmp_path):
    torch.zeros(1, device="cuda")  # CUDA is initialised in this process before the scoring workers start
    data = Dataset.from_dict({"prompt": [f"q{i}:" for i in range(8)], "reference": [str(i) for i in range(8)]})
    reward = VerifierReward("math", workers=2)
    trainer = make_trainer(checkpoint, config(tmp_path, max_steps=2, policy_loss="gspo"), [reward], data)
    trainer.train()
    assert trainer.state.global_step == 2
    for entry in trainer.state.log_history[:2]:
        assert entry["rewards/frac_ungraded"] == 0.0, entry  # every completion was graded, none lost to a worker
        assert entry["rewards/math/mean"] == 0.0  # a random tiny model never writes the answer
    assert len(reward.last_verdicts) == 2 * G and all(v.status in ("wrong", "no_answer") for v in reward.last_verdicts)


def test_generation_on_cuda_in_bf16_is_graded(checkpoint):
    gen = HFGenerator.load(checkpoint, batch_size=8)
    assert gen.model.device.type == "cuda" and gen.model.dtype == torch.bfloat16
    problems = [Problem(f"p{i}", str(i), f"What is {i} + 0?") for i in range(3)]
    scorer = Scorer(get_verifier("math"))
    try:
        greedy = evaluate(problems, gen, scorer.score, Sampling(samples=2, max_tokens=8), progress=False)
        hot = Sampling(samples=3, temperature=1.0, max_tokens=8, seed=7)
        a = evaluate(problems, gen, scorer.score, hot, progress=False)
        b = evaluate(problems, gen, scorer.score, hot, progress=False)
    finally:
        scorer.close()
    assert all(rs[0]["completion"] == rs[1]["completion"] for rs in greedy)
    assert [r["completion"] for rs in a for r in rs] == [r["completion"] for rs in b for r in rs]  # seeded on CUDA
    assert all(r["status"] in ("wrong", "no_answer") and r["tokens"] <= 8 for rs in a for r in rs)


def test_rlvr_train_keeps_trls_bf16_default_on_cuda(tmp_path):
    from rlvr.train import parse

    run = parse(["--model_name_or_path", "unused", "--task", "demo", "--output_dir", str(tmp_path)])
    assert run.config.bf16 is True
