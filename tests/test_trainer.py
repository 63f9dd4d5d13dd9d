"""RLVRTrainer on a tiny model built in the test: our GSPO equals TRL's, real training steps move the parameters,
dynamic sampling keeps the batch size, ungraded rows stay out of the group statistics, overlong shaping is applied."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

from rlvr.rewards import VerifierReward, overlong_penalty
from rlvr.tiny import save_tiny_checkpoint
from rlvr.trainer import RLVRConfig, RLVRTrainer

G = 4  # completions per prompt
MAX_LEN = 8  # max_completion_length


# --------------------------------------------------------------------------------------------------------------------
# Trivial reward functions: module-level callables (TRL may pickle them), no dependence on other helpers


def distinct_chars(completions, **kwargs):
    """Number of distinct characters: random completions from the tiny model almost always differ."""
    return [float(len(set(c))) for c in completions]


def easy_prompts_constant(prompts, completions, **kwargs):
    """1.0 for every completion of an 'easy' prompt (zero spread), distinct characters otherwise."""
    return [1.0 if "easy" in p else float(len(set(c))) for p, c in zip(prompts, completions, strict=True)]


def always_one(completions, **kwargs):
    return [1.0] * len(completions)


class GradeUnlessMarked:
    """Distinct characters, but None (could not grade) for every completion of a prompt marked 'outage', and for the
    first completion of every other group. Remembers what it returned."""

    __name__ = "flaky"

    def __init__(self) -> None:
        self.returned: list[float | None] = []

    def __call__(self, prompts, completions, **kwargs):
        out = [
            None if ("outage" in p or i % G == 0) else float(len(set(c)))
            for i, (p, c) in enumerate(zip(prompts, completions, strict=True))
        ]
        self.returned = out
        return out


def two_point_five(completions, **kwargs):
    return [2.5] * len(completions)


# --------------------------------------------------------------------------------------------------------------------
# Set-up


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return save_tiny_checkpoint(str(tmp_path_factory.mktemp("tiny") / "ckpt"))


def prompts(n: int, tag: str = "q") -> Dataset:
    return Dataset.from_dict({"prompt": [f"{tag}{i}:" for i in range(n)]})


def config(tmp_path, **overrides) -> RLVRConfig:
    values = dict(
        output_dir=str(tmp_path / "out"),
        bf16=False,
        use_cpu=True,
        per_device_train_batch_size=2 * G,
        num_generations=G,
        max_completion_length=MAX_LEN,
        max_steps=2,
        learning_rate=5e-3,
        report_to=[],
        logging_steps=1,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    values.update(overrides)
    return RLVRConfig(**values)


def make_trainer(checkpoint, args, reward_funcs, dataset, cls=RLVRTrainer):
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForCausalLM.from_pretrained(checkpoint)
    return cls(model=model, reward_funcs=reward_funcs, args=args, train_dataset=dataset, processing_class=tokenizer)


def generation_batch(trainer) -> list[dict]:
    trainer.model.train()
    return next(iter(trainer.get_train_dataloader()))


def snapshot(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def changed(before: dict[str, torch.Tensor], model) -> int:
    return sum(not torch.equal(before[k], v) for k, v in model.named_parameters())


# --------------------------------------------------------------------------------------------------------------------
# The same loss as TRL where TRL has it


def test_constructor_is_a_narrow_seam_that_passes_every_trl_argument(checkpoint, tmp_path):
    params = inspect.signature(RLVRTrainer.__init__).parameters
    assert list(params) == ["self", "model", "reward_funcs", "args", "kwargs"]
    assert params["kwargs"].kind is inspect.Parameter.VAR_KEYWORD
    # GRPOTrainer's keyword arguments reach TRL unchanged, and a misspelt one is TRL's error, not swallowed
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    trainer = RLVRTrainer(
        model=AutoModelForCausalLM.from_pretrained(checkpoint),
        reward_funcs=distinct_chars,  # TRL also takes a single function
        args=config(tmp_path, overlong_buffer=2, reward_weights=[0.5]),
        train_dataset=prompts(4),
        eval_dataset=prompts(2, "e"),
        processing_class=tokenizer,
        reward_processing_classes=[None],
    )
    assert trainer.eval_dataset is not None and trainer.processing_class is tokenizer
    assert trainer.reward_func_names == ["distinct_chars", "overlong_penalty"]
    assert trainer.reward_weights.tolist() == [0.5, 1.0]
    assert trainer.args.reward_weights == [0.5, 1.0] and trainer._graded_columns == [0]
    with pytest.raises(TypeError, match="no_such_argument"):
        RLVRTrainer(AutoModelForCausalLM.from_pretrained(checkpoint), [distinct_chars], config(tmp_path),
                    no_such_argument=1)  # fmt: skip


def _prepared_inputs(tokenizer, seed: int = 0) -> dict[str, torch.Tensor]:
    """A prepared batch as TRL's _generate_and_score_completions returns it, off-policy (old logps differ) and with a
    reference model's logps, built by hand so both trainers see identical tensors."""
    g = torch.Generator().manual_seed(seed)
    batch, prompt_len, completion_len = 2 * G, 3, MAX_LEN
    vocab = len(tokenizer)
    prompt_ids = torch.randint(7, vocab, (batch, prompt_len), generator=g)
    completion_ids = torch.randint(7, vocab, (batch, completion_len), generator=g)
    lengths = torch.randint(2, completion_len + 1, (batch,), generator=g)
    completion_mask = (torch.arange(completion_len)[None] < lengths[:, None]).long()  # (B, T), right padded
    completion_ids = torch.where(completion_mask.bool(), completion_ids, tokenizer.pad_token_id)
    return {
        "prompt_ids": prompt_ids,
        "prompt_mask": torch.ones_like(prompt_ids),
        "completion_ids": completion_ids,
        "completion_mask": completion_mask,
        "advantages": torch.randn(batch, generator=g),
        "num_items_in_batch": completion_mask.sum(),
        # filled in from the model below
        "old_per_token_logps": None,
        "ref_per_token_logps": None,
    }


def _loss_and_grads(trainer, inputs):
    trainer.model.train()
    trainer.model.zero_grad()
    trainer.current_gradient_accumulation_steps = 1
    loss = trainer.compute_loss(trainer.model, inputs)
    loss.backward()
    grads = {k: p.grad.detach().clone() for k, p in trainer.model.named_parameters() if p.grad is not None}
    return loss.item(), grads


@pytest.mark.parametrize("beta", [0.0, 0.04])
def test_gspo_equals_trl_sequence_level_grpo(checkpoint, tmp_path, beta):
    common = dict(
        output_dir=str(tmp_path / "out"), bf16=False, use_cpu=True, per_device_train_batch_size=2 * G,
        num_generations=G, max_completion_length=MAX_LEN, report_to=[], epsilon=3e-3, epsilon_high=4e-3, beta=beta,
    )  # fmt: skip
    ours = make_trainer(checkpoint, RLVRConfig(policy_loss="gspo", **common), [distinct_chars], prompts(4))
    theirs = make_trainer(
        checkpoint,
        GRPOConfig(importance_sampling_level="sequence", loss_type="grpo", **common),
        [distinct_chars],
        prompts(4),
        cls=GRPOTrainer,
    )
    inputs = _prepared_inputs(ours.processing_class)
    with torch.no_grad():  # old and reference logps near the current policy, so some sequences clip and some don't
        ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1)
        mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
        logps, _, _ = ours._get_per_token_logps_and_entropies(ours.model, ids, mask, MAX_LEN)
    g = torch.Generator().manual_seed(1)
    inputs["old_per_token_logps"] = logps + 0.01 * torch.randn(logps.shape, generator=g)
    inputs["ref_per_token_logps"] = logps + 0.1 * torch.randn(logps.shape, generator=g)
    if beta == 0.0:
        del inputs["ref_per_token_logps"]

    our_loss, our_grads = _loss_and_grads(ours, dict(inputs))
    their_loss, their_grads = _loss_and_grads(theirs, dict(inputs))
    assert our_loss == pytest.approx(their_loss, abs=1e-6)
    assert our_grads.keys() == their_grads.keys() and our_grads
    for name in our_grads:
        torch.testing.assert_close(our_grads[name], their_grads[name], atol=1e-6, rtol=1e-5)
    clipped = ours._metrics["train"]["clip_ratio/region_mean"][-1]
    assert 0.0 < clipped < 1.0, "the comparison must exercise both clipped and unclipped sequences"
    assert ours._metrics["train"]["clip_ratio/region_mean"][-1] == pytest.approx(
        theirs._metrics["train"]["clip_ratio/region_mean"][-1]
    )
    if beta:
        assert ours._metrics["train"]["kl"][-1] == pytest.approx(theirs._metrics["train"]["kl"][-1], rel=1e-5)


# --------------------------------------------------------------------------------------------------------------------
# Real training steps


@pytest.mark.slow
@pytest.mark.parametrize(
    ("loss", "extra"),
    [
        ("grpo", {}),
        ("dr_grpo", {}),
        ("dapo", {"epsilon_high": 0.28, "steps_per_generation": 2, "per_device_train_batch_size": G}),
        ("gspo", {"epsilon": 3e-4, "epsilon_high": 4e-4}),
        ("gspo_token", {"epsilon": 3e-4, "epsilon_high": 4e-4}),
        ("gmpo", {"epsilon": 0.4, "epsilon_high": 0.4}),
        ("dppo", {"epsilon": 0.2, "epsilon_high": 0.2}),
    ],
)
def test_two_training_steps_change_the_parameters(checkpoint, tmp_path, loss, extra):
    args = config(tmp_path, policy_loss=loss, beta=0.04, num_iterations=2, **extra)
    trainer = make_trainer(checkpoint, args, [distinct_chars], prompts(8))
    before = snapshot(trainer.model)
    trainer.train()
    assert trainer.state.global_step == 2
    assert changed(before, trainer.model) > 0
    logs = {k for entry in trainer.state.log_history for k in entry}
    expected = {
        "reward", "reward_std", "frac_reward_zero_std", "rewards/distinct_chars/mean", "clip_ratio/low_mean",
        "clip_ratio/high_mean", "kl", "approx_kl", "ratio/mean", "completions/mean_length",
        "completions/max_length", "completions/clipped_ratio", "time/generation", "time/rewards", "time/update",
    }  # fmt: skip
    assert expected <= logs
    second = trainer.state.log_history[1]  # the reused batch: off-policy, the ratio has moved away from 1
    assert second["approx_kl"] > 0


# --------------------------------------------------------------------------------------------------------------------
# Dynamic sampling


def test_dynamic_sampling_drops_zero_spread_groups_and_keeps_the_batch_size(checkpoint, tmp_path):
    data = Dataset.from_dict({"prompt": [f"{'easy' if i % 2 else 'hard'}{i}:" for i in range(16)]})
    args = config(tmp_path, dynamic_sampling=True, max_resample_rounds=4)
    trainer = make_trainer(checkpoint, args, [easy_prompts_constant], data)
    trainer.model.train()
    batch = [{"prompt": "easy0:"}] * G + [{"prompt": "hard1:"}] * G  # one group without spread, one with
    output = trainer._generate_and_score_completions(batch)
    assert output["completion_ids"].shape[0] == len(batch) == 2 * G
    assert output["advantages"].shape == (2 * G,)
    groups = output["advantages"].view(-1, G)
    assert (groups.abs().sum(dim=1) > 0).all(), "every kept group carries signal"
    metrics = trainer._metrics["train"]
    assert metrics["dynamic_sampling/frac_groups_dropped"][-1] > 0
    assert metrics["dynamic_sampling/extra_rounds"][-1] >= 1
    assert metrics["frac_reward_zero_std"][0] == 0.5  # TRL's own view of the first round
    assert output["num_items_in_batch"].item() == output["completion_mask"].sum().item()


def test_dynamic_sampling_cap_warns_and_keeps_the_batch(checkpoint, tmp_path):
    args = config(tmp_path, dynamic_sampling=True, max_resample_rounds=1)
    trainer = make_trainer(checkpoint, args, [always_one], prompts(8))
    batch = generation_batch(trainer)
    with pytest.warns(UserWarning, match="max_resample_rounds"):
        output = trainer._generate_and_score_completions(batch)
    assert output["completion_ids"].shape[0] == 2 * G
    assert torch.all(output["advantages"] == 0)
    assert trainer._metrics["train"]["dynamic_sampling/extra_rounds"][-1] == 1
    assert trainer._metrics["train"]["dynamic_sampling/frac_groups_dropped"][-1] == 1.0


@pytest.mark.slow
def test_dynamic_sampling_trains(checkpoint, tmp_path):
    data = Dataset.from_dict({"prompt": [f"{'easy' if i % 4 else 'hard'}{i}:" for i in range(16)]})
    args = config(tmp_path, dynamic_sampling=True, policy_loss="gspo", epsilon=3e-4, epsilon_high=4e-4)
    trainer = make_trainer(checkpoint, args, [easy_prompts_constant], data)
    before = snapshot(trainer.model)
    trainer.train()
    assert changed(before, trainer.model) > 0
    dropped = [entry["dynamic_sampling/frac_groups_dropped"] for entry in trainer.state.log_history[:2]]
    assert max(dropped) > 0  # three prompts in four have no spread


# --------------------------------------------------------------------------------------------------------------------
# Ungraded rows (None rewards)


def test_none_rewards_stay_out_of_the_group_statistics(checkpoint, tmp_path):
    data = Dataset.from_dict({"prompt": ["outage0:", "fine1:"]})
    flaky = GradeUnlessMarked()
    args = config(tmp_path)
    # two reward functions: TRL alone would count the partly graded rows as flaky = 0 (its nansum)
    trainer = make_trainer(checkpoint, args, [flaky, two_point_five], data)
    batch = generation_batch(trainer)
    output = trainer._generate_and_score_completions(batch)
    advantages, mask = output["advantages"], output["completion_mask"]
    returned = flaky.returned
    for row, value in enumerate(returned):
        if value is None:
            assert advantages[row] == 0 and mask[row].sum() == 0, f"row {row} could not be graded"
    groups_checked = 0
    for start in range(0, len(returned), G):
        graded = [(r, v + 2.5) for r, v in enumerate(returned[start : start + G], start) if v is not None]
        if len(graded) < 2:
            continue
        values = torch.tensor([v for _, v in graded])
        expected = (values - values.mean()) / (values.std() + 1e-4)
        assert advantages[[r for r, _ in graded]].tolist() == pytest.approx(expected.tolist(), abs=1e-5)
        groups_checked += 1
    assert groups_checked >= 1
    assert trainer._metrics["train"]["rewards/frac_ungraded"][-1] == pytest.approx(
        returned.count(None) / len(returned)
    )
    assert output["num_items_in_batch"].item() == mask.sum().item()


# --------------------------------------------------------------------------------------------------------------------
# Overlong shaping and filtering


def test_overlong_penalty_enters_the_reward(checkpoint, tmp_path):
    args = config(tmp_path, overlong_buffer=4, overlong_penalty=0.5)
    trainer = make_trainer(checkpoint, args, [distinct_chars], prompts(4))
    assert trainer.reward_func_names == ["distinct_chars", "overlong_penalty"]
    batch = generation_batch(trainer)
    output = trainer._generate_and_score_completions(batch)
    lengths = output["completion_mask"].sum(dim=1)  # (B,)
    expected = overlong_penalty(lengths, max_length=MAX_LEN, buffer=4, factor=0.5)
    torch.testing.assert_close(trainer._last_rewards[:, 1], expected.float())
    assert (expected < 0).any(), "the tiny model runs into the length limit"
    logged = trainer._metrics["train"]["rewards/overlong_penalty/mean"][-1]
    assert logged == pytest.approx(expected.mean().item(), abs=1e-6)


def test_overlong_filtering_masks_truncated_completions(checkpoint, tmp_path):
    args = config(tmp_path, overlong_filtering=True)
    trainer = make_trainer(checkpoint, args, [distinct_chars], prompts(4))
    batch = generation_batch(trainer)
    output = trainer._generate_and_score_completions(batch)
    eos = trainer.processing_class.eos_token_id
    pad = trainer.processing_class.pad_token_id
    for ids, mask in zip(output["completion_ids"], output["completion_mask"], strict=True):
        truncated = ids[-1].item() not in (eos, pad)
        assert (mask.sum() == 0) == truncated


# --------------------------------------------------------------------------------------------------------------------
# A real verifier reward, config and version checks


@pytest.mark.slow
def test_one_step_with_the_format_verifier(checkpoint, tmp_path):
    data = Dataset.from_dict({"prompt": [f"q{i}:" for i in range(4)], "reference": ["1"] * 4})
    args = config(tmp_path, max_steps=1, policy_loss="grpo")
    trainer = make_trainer(checkpoint, args, [VerifierReward("format", workers=1)], data)
    trainer.train()
    history = trainer.state.log_history[0]
    assert history["rewards/format/mean"] == 0.0  # a random tiny model never writes <think>...</think> \boxed{}
    assert history["rewards/frac_ungraded"] == 0.0


def test_config_validation(tmp_path):
    with pytest.raises(ValueError, match="unknown policy_loss 'ppo'"):
        config(tmp_path, policy_loss="ppo")
    with pytest.raises(ValueError, match="overlong_buffer"):
        config(tmp_path, overlong_buffer=MAX_LEN + 1)
    assert config(tmp_path, overlong_filtering=True).mask_truncated_completions is True
    assert RLVRConfig.__dataclass_fields__["policy_loss"].metadata["help"]


def test_one_name_space_for_loss_type_and_policy_loss(tmp_path):
    assert (config(tmp_path).policy_loss, config(tmp_path).loss_type) == ("dapo", "dapo")  # TRL's default
    assert config(tmp_path, loss_type="sapo").policy_loss == "sapo"  # a GRPOConfig user keeps their objective
    both = config(tmp_path, policy_loss="gspo")
    assert (both.policy_loss, both.loss_type) == ("gspo", "gspo")
    with pytest.raises(ValueError, match="name different objectives"):
        config(tmp_path, policy_loss="grpo", loss_type="cispo")
    with pytest.raises(ValueError, match="unknown policy_loss 'ppo'"):
        config(tmp_path, loss_type="ppo")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"policy_loss": "sapo", "delta": 1.5}, "delta=1.5 has no effect on policy_loss='sapo'"),
        ({"policy_loss": "gmpo", "delta": 1.5}, "delta"),
        ({"loss_type": "dapo", "sapo_temperature_pos": 2.0}, "sapo_temperature_pos"),
        ({"loss_type": "grpo", "vespo_k_pos": 1.0}, "vespo_k_pos"),
        ({"policy_loss": "dppo", "importance_sampling_level": "sequence"}, "importance_sampling_level"),
        ({"loss_type": "vespo", "importance_sampling_level": "sequence"}, "importance_sampling_level"),
        ({"advantage": "rloo", "scale_rewards": "batch"}, "scale_rewards"),
        ({"advantage": "opo", "multi_objective_aggregation": "normalize_then_sum"}, "multi_objective_aggregation"),
        ({"advantage": "vtrace"}, "unknown advantage 'vtrace'"),
    ],
)
def test_options_a_loss_would_ignore_are_refused_with_the_fix(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        config(tmp_path, **overrides)


def test_options_a_loss_uses_are_accepted(tmp_path):
    config(tmp_path, policy_loss="gspo", importance_sampling_level="sequence")  # redundant, not contradictory
    config(tmp_path, loss_type="grpo", importance_sampling_level="sequence", delta=1.5, top_entropy_quantile=0.2)
    config(tmp_path, loss_type="sapo", sapo_temperature_pos=2.0, entropy_coef=0.01, off_policy_mask_threshold=0.5)
    config(tmp_path, loss_type="vespo", vespo_k_pos=1.0, use_adaptive_entropy=True)


def test_plain_grpo_config_is_refused_with_the_fix(checkpoint, tmp_path):
    args = GRPOConfig(output_dir=str(tmp_path), bf16=False, use_cpu=True, report_to=[])
    with pytest.raises(TypeError, match="RLVRConfig"):
        make_trainer(checkpoint, args, [distinct_chars], prompts(4))


def test_config_parses_from_the_command_line(tmp_path):
    from trl import TrlParser

    (args,) = TrlParser((RLVRConfig,)).parse_args_into_dataclasses(
        ["--output_dir", str(tmp_path), "--use_cpu", "true", "--bf16", "false", "--policy_loss", "gspo",
         "--dynamic_sampling", "true", "--overlong_buffer", "64", "--max_resample_rounds", "2"]
    )  # fmt: skip
    assert (args.policy_loss, args.dynamic_sampling, args.overlong_buffer, args.max_resample_rounds) == (
        "gspo", True, 64, 2,
    )  # fmt: skip


def test_trl_version_pin_names_the_fix():
    code = "import trl; trl.__version__ = '1.17.0'; import rlvr.trainer"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "trl>=1.16,<1.17" in result.stderr


# --------------------------------------------------------------------------------------------------------------------
# Advantage estimators in the trainer


@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_grpo_estimator_equals_trls_advantages(checkpoint, tmp_path, scale):
    from rlvr.advantages import compute_advantages

    trainer = make_trainer(checkpoint, config(tmp_path, scale_rewards=scale), [GradeUnlessMarked()], prompts(4))
    output = trainer._generate_and_score_completions(generation_batch(trainer))
    expected = compute_advantages("grpo", trainer._weighted_rewards(), G, scale=scale)
    torch.testing.assert_close(output["advantages"], expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["rloo", "opo", "reinforce_pp_baseline"])
def test_estimator_replaces_trls_advantages(checkpoint, tmp_path, name):
    from tests import loss_oracle as oracle

    flaky = GradeUnlessMarked()
    trainer = make_trainer(checkpoint, config(tmp_path, advantage=name), [flaky], prompts(4))
    output = trainer._generate_and_score_completions(generation_batch(trainer))
    lengths = output["completion_mask"].sum(dim=1).tolist()  # ungraded rows are masked: their length is unused
    reference = {
        "rloo": lambda: oracle.adv_rloo(flaky.returned, G),
        "opo": lambda: oracle.adv_opo(flaky.returned, G, lengths),
        "reinforce_pp_baseline": lambda: oracle.adv_reinforce_pp_baseline(flaky.returned, G, lengths),
    }[name]()
    assert output["advantages"].tolist() == pytest.approx(reference, abs=1e-5)
    assert list(trainer._logs["advantages"])[-len(reference) :] == pytest.approx(reference, abs=1e-5)


class TwoSteps:
    """Process reward: a step ending after token 2 (1 if it holds a letter) and one at the end (distinct chars),
    None for the first completion of each group. Remembers the steps it gave."""

    __name__ = "two_steps"

    def __init__(self) -> None:
        self.steps: list = []

    def __call__(self, prompts, completions, completion_ids, **kwargs):
        from rlvr.rewards import StepRewards

        out = []
        for i, (text, ids) in enumerate(zip(completions, completion_ids, strict=True)):
            if i % G == 0:
                out.append(None)
                continue
            first = (min(2, len(ids)), float(any(ch.isalpha() for ch in text[:2])))
            out.append(StepRewards([first, (len(ids), float(len(set(text))))]))
        self.steps = [None if r is None else r.steps for r in out]
        return out


def test_process_advantages_from_step_rewards(checkpoint, tmp_path):
    from tests import loss_oracle as oracle

    steps = TwoSteps()
    args = config(tmp_path, advantage="process", max_steps=1)
    trainer = make_trainer(checkpoint, args, [steps], prompts(4))
    output = trainer._generate_and_score_completions(generation_batch(trainer))
    width = output["completion_ids"].shape[1]
    expected = torch.tensor(oracle.adv_process(steps.steps, G, width), dtype=torch.float32)
    torch.testing.assert_close(output["advantages"], expected, atol=1e-5, rtol=0)
    assert output["advantages"].shape == output["completion_mask"].shape
    before = snapshot(trainer.model)
    trainer.train()  # the token-level advantages train
    assert changed(before, trainer.model) > 0
    with pytest.raises(ValueError, match="one per sequence"):
        config(tmp_path, advantage="process", policy_loss="gspo")


# --------------------------------------------------------------------------------------------------------------------
# Re-batching for dynamic sampling: derived from TRL's key conventions, not a copied list


def test_rebatching_follows_trls_conventions_for_keys_it_has_never_seen():
    from rlvr.trainer import _concat_outputs, _select

    def piece(rows: int, prompt: int, completion: int, fill: float) -> dict:
        return {
            "prompt_ids": torch.full((rows, prompt), 7),
            "prompt_mask": torch.ones(rows, prompt, dtype=torch.long),
            "prompt_new_feature": torch.full((rows, prompt), fill),  # a key a future TRL might add
            "completion_ids": torch.full((rows, completion), 8),
            "completion_mask": torch.ones(rows, completion, dtype=torch.long),
            "new_per_token_thing": torch.full((rows, completion), fill),
            "importance_sampling_ratio": torch.full((rows, 1), fill),  # sequence level: no padding
            "advantages": torch.full((rows,), fill),
            "num_items_in_batch": torch.tensor(rows * completion),
        }

    a, b = piece(2, 3, 4, 1.0), piece(2, 5, 2, 2.0)
    out = _concat_outputs([_select(a, torch.tensor([1])), _select(b, torch.tensor([0, 1]))], pad_id=0)
    assert out["prompt_ids"][0].tolist() == [0, 0, 7, 7, 7]  # prompts: left-padded with the pad id
    assert out["prompt_new_feature"][0].tolist() == [0, 0, 1, 1, 1]
    assert out["completion_ids"][1].tolist() == [8, 8, 0, 0]  # completions: right-padded
    assert out["new_per_token_thing"][1].tolist() == [2, 2, 0, 0]
    assert out["completion_mask"][1].tolist() == [1, 1, 0, 0]
    assert out["importance_sampling_ratio"].shape == (3, 1) and out["advantages"].tolist() == [1, 2, 2]
    assert "num_items_in_batch" not in out  # recounted by the trainer
    odd = dict(a, pixel_values=torch.zeros(5, 3))  # not one row per completion: cannot be re-batched by row
    with pytest.raises(ValueError, match="pixel_values"):
        _select(odd, torch.tensor([0]))
    skewed = dict(a, new_per_token_thing=torch.zeros(2, 9))  # aligned with nothing: refused, not guessed
    with pytest.raises(ValueError, match="new_per_token_thing"):
        _concat_outputs([_select(skewed, torch.tensor([0])), _select(skewed, torch.tensor([1]))], pad_id=0)
