"""RLVRTrainer against TRL's own GRPOTrainer: the same loss names train to the same weights, every TRL option that
TRL's loss and advantage code read is honoured or refused (the field list is read from TRL's source), and the
loss-side options (entropy mask, entropy bonus, delta, off-policy masking, vLLM importance weights) match TRL.

The tiny model is built here with a strong end-of-sequence token, so completions have different lengths: with equal
lengths grpo, dapo, bnpo and dr_grpo would all train to the same weights and a parity test could not tell them
apart (``test_the_comparison_can_tell_losses_apart`` checks that it can).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect

import pytest
import torch
import trl.trainer.grpo_trainer as trl_grpo
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

from rlvr.tiny import save_tiny_checkpoint
from rlvr.trainer import TRL_LOSSES, TRL_OPTIONS, RLVRConfig, RLVRTrainer

G = 4
STEPS = 3


def distinct_chars(completions, **kwargs):
    return [float(len(set(c))) for c in completions]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    """The tiny model with its <eos> embedding scaled up (tied weights), so that about one token in five ends the
    completion and lengths vary from 1 to the maximum."""
    path = save_tiny_checkpoint(str(tmp_path_factory.mktemp("tiny") / "eos"))
    model = AutoModelForCausalLM.from_pretrained(path)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        row = torch.randn(model.config.hidden_size, generator=g)
        model.get_input_embeddings().weight[model.config.eos_token_id] = 6.0 * row / row.norm()
    model.save_pretrained(path)
    return path


_TRL_RUNS: dict[tuple, tuple] = {}  # TRL's own runs, reused as baselines by the option tests


def train(checkpoint, tmp_path, cls, config_cls, **overrides):
    key = (checkpoint, cls.__name__, tuple(sorted(overrides.items())))
    if cls is GRPOTrainer and key in _TRL_RUNS:
        return _TRL_RUNS[key]
    result = _train(checkpoint, tmp_path, cls, config_cls, **overrides)
    if cls is GRPOTrainer:
        _TRL_RUNS[key] = result
    return result


def _train(checkpoint, tmp_path, cls, config_cls, **overrides):
    """STEPS optimizer steps; returns (parameters, trainer). SGD, so that a loss's scale shows in the weights (Adam
    would normalise it away); two updates per batch and a reference model, so that ratios move off 1 and clip."""
    values = dict(
        output_dir=str(tmp_path / cls.__name__),
        bf16=False,
        use_cpu=True,
        per_device_train_batch_size=2 * G,
        num_generations=G,
        max_completion_length=12,
        max_steps=STEPS,
        optim="sgd",
        learning_rate=1.0,
        num_iterations=2,
        beta=0.04,
        report_to=[],
        logging_steps=1,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    values.update(overrides)
    trainer = cls(
        model=AutoModelForCausalLM.from_pretrained(checkpoint),
        reward_funcs=[distinct_chars],
        args=config_cls(**values),
        train_dataset=Dataset.from_dict({"prompt": [f"q{i}:" for i in range(8)]}),
        processing_class=AutoTokenizer.from_pretrained(checkpoint),
    )
    trainer.train()
    return {k: v.detach().clone() for k, v in trainer.model.named_parameters()}, trainer


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a)


def assert_same_training(checkpoint, tmp_path, **overrides):
    theirs, trl_trainer = train(checkpoint, tmp_path, GRPOTrainer, GRPOConfig, **overrides)
    ours, _ = train(checkpoint, tmp_path, RLVRTrainer, RLVRConfig, **overrides)
    initial = {k: v.detach() for k, v in AutoModelForCausalLM.from_pretrained(checkpoint).named_parameters()}
    assert max_difference(theirs, initial) > 1e-2, "the run must move the weights"
    assert max_difference(ours, theirs) < 1e-6
    return trl_trainer


# --------------------------------------------------------------------------------------------------------------------
# Every TRL loss name trains to TRL's weights


@pytest.mark.parametrize("loss_type", TRL_LOSSES)
def test_every_trl_loss_trains_like_trl(checkpoint, tmp_path, loss_type):
    extra = {"importance_sampling_level": "sequence"} if loss_type == "luspo" else {}
    extra |= {"epsilon_high": 1.1} if loss_type == "cispo" else {}  # CISPO's cap on the ratio, active here
    trl_trainer = assert_same_training(checkpoint, tmp_path, loss_type=loss_type, **extra)
    lengths = trl_trainer.state.log_history[0]
    assert lengths["completions/min_length"] < lengths["completions/max_length"], "lengths must vary"


def test_gspo_trains_like_trl_sequence_level_grpo(checkpoint, tmp_path):
    theirs, _ = train(
        checkpoint, tmp_path, GRPOTrainer, GRPOConfig, loss_type="grpo", importance_sampling_level="sequence"
    )
    ours, _ = train(checkpoint, tmp_path, RLVRTrainer, RLVRConfig, policy_loss="gspo")
    assert max_difference(ours, theirs) < 1e-6


def test_the_comparison_can_tell_losses_apart(checkpoint, tmp_path):
    runs = {
        name: train(checkpoint, tmp_path, GRPOTrainer, GRPOConfig, loss_type=name)[0] for name in ("grpo", "dr_grpo")
    }
    ours, _ = train(checkpoint, tmp_path, RLVRTrainer, RLVRConfig, loss_type="dapo")
    assert max_difference(runs["grpo"], runs["dr_grpo"]) > 1e-3
    assert max_difference(ours, runs["grpo"]) > 1e-3


# --------------------------------------------------------------------------------------------------------------------
# TRL's loss-side and advantage options: the same weights as TRL


@pytest.mark.parametrize(
    "overrides",
    [
        {"loss_type": "dapo", "top_entropy_quantile": 0.5},
        {"loss_type": "grpo", "delta": 1.05},
        {"loss_type": "bnpo", "off_policy_mask_threshold": 0.01},
        {"loss_type": "sapo", "entropy_coef": 0.05},
        {"loss_type": "dapo", "use_adaptive_entropy": True, "entropy_coef": 0.05, "entropy_target": 10.0},
        {"loss_type": "luspo", "importance_sampling_level": "sequence", "top_entropy_quantile": 0.3, "delta": 1.05},
        {"loss_type": "grpo", "scale_rewards": "batch", "use_bias_correction_kl": False},
        {"loss_type": "dr_grpo", "scale_rewards": "none"},
        {"loss_type": "dapo", "steps_per_generation": 2, "per_device_train_batch_size": G},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_trl_options_train_like_trl(checkpoint, tmp_path, overrides):
    assert_same_training(checkpoint, tmp_path, **overrides)
    # the option must matter here, or ignoring it would pass too: TRL without it trains to other weights
    baseline = {"loss_type": overrides["loss_type"]}
    if overrides.get("importance_sampling_level"):
        baseline["importance_sampling_level"] = overrides["importance_sampling_level"]
    with_option, _ = train(checkpoint, tmp_path, GRPOTrainer, GRPOConfig, **overrides)
    without, _ = train(checkpoint, tmp_path, GRPOTrainer, GRPOConfig, **baseline)
    assert max_difference(with_option, without) > 1e-4


# --------------------------------------------------------------------------------------------------------------------
# vLLM importance-sampling correction: TRL computes the weights at generation (vLLM only); here both trainers'
# _compute_loss get the same prepared batch with weights and must agree on loss and gradients.


def _prepared_inputs(trainer, seed: int, sequence_level: bool) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    batch, prompt_len, completion_len = 2 * G, 3, 8
    vocab = len(trainer.processing_class)
    prompt_ids = torch.randint(7, vocab, (batch, prompt_len), generator=g)
    completion_ids = torch.randint(7, vocab, (batch, completion_len), generator=g)
    lengths = torch.randint(2, completion_len + 1, (batch,), generator=g)
    completion_mask = (torch.arange(completion_len)[None] < lengths[:, None]).long()
    inputs = {
        "prompt_ids": prompt_ids,
        "prompt_mask": torch.ones_like(prompt_ids),
        "completion_ids": completion_ids,
        "completion_mask": completion_mask,
        "advantages": torch.randn(batch, generator=g),
        "num_items_in_batch": completion_mask.sum(),
    }
    with torch.no_grad():
        ids = torch.cat([prompt_ids, completion_ids], 1)
        mask = torch.cat([inputs["prompt_mask"], completion_mask], 1)
        logps, _, _ = trainer._get_per_token_logps_and_entropies(trainer.model, ids, mask, completion_len)
    inputs["old_per_token_logps"] = logps + 0.1 * torch.randn(logps.shape, generator=g)
    inputs["sampling_per_token_logps"] = logps + 0.1 * torch.randn(logps.shape, generator=g)
    inputs["ref_per_token_logps"] = logps + 0.1 * torch.randn(logps.shape, generator=g)
    shape = (batch, 1) if sequence_level else (batch, completion_len)
    inputs["importance_sampling_ratio"] = 0.5 + torch.rand(shape, generator=g)
    return inputs


def _loss_and_grads(trainer, inputs):
    trainer.model.train()
    trainer.model.zero_grad()
    trainer.current_gradient_accumulation_steps = 1
    loss = trainer.compute_loss(trainer.model, dict(inputs))
    loss.backward()
    return loss.item(), {k: p.grad.detach().clone() for k, p in trainer.model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("loss_type", TRL_LOSSES)
@pytest.mark.parametrize("sequence_level", [False, True])
def test_vllm_importance_weights_like_trl(checkpoint, tmp_path, loss_type, sequence_level):
    if loss_type == "vespo" and sequence_level:
        pytest.skip("TRL refuses sequence-level sampler weights for vespo")
    common = dict(
        output_dir=str(tmp_path), bf16=False, use_cpu=True, per_device_train_batch_size=2 * G, num_generations=G,
        max_completion_length=8, report_to=[], beta=0.04, loss_type=loss_type, off_policy_mask_threshold=0.05,
    )  # fmt: skip
    trainers = []
    for cls, config_cls in ((RLVRTrainer, RLVRConfig), (GRPOTrainer, GRPOConfig)):
        trainer = cls(
            model=AutoModelForCausalLM.from_pretrained(checkpoint),
            reward_funcs=[distinct_chars],
            args=config_cls(**common),
            train_dataset=Dataset.from_dict({"prompt": ["q"]}),
            processing_class=AutoTokenizer.from_pretrained(checkpoint),
        )
        trainer.use_vllm = trainer.vllm_importance_sampling_correction = True  # what TRL sets with vLLM
        trainers.append(trainer)
    inputs = _prepared_inputs(trainers[0], seed=3, sequence_level=sequence_level)
    (our_loss, our_grads), (their_loss, their_grads) = (_loss_and_grads(t, inputs) for t in trainers)
    assert our_loss == pytest.approx(their_loss, abs=1e-6)
    for name in their_grads:
        torch.testing.assert_close(our_grads[name], their_grads[name], atol=1e-5, rtol=1e-4)  # float32 sums
    plain = dict(inputs, importance_sampling_ratio=torch.ones_like(inputs["importance_sampling_ratio"]))
    assert _loss_and_grads(trainers[0], plain)[0] != pytest.approx(our_loss, abs=1e-6), "the weights must matter"


# --------------------------------------------------------------------------------------------------------------------
# The canary for the next TRL release: every config field TRL's loss and advantage code read is in TRL_OPTIONS


def _trl_fields_read() -> set[str]:
    """GRPOConfig fields read by GRPOTrainer._compute_loss (and the methods it calls) and by the advantage code of
    _generate_and_score_completions (from the _calculate_rewards call to the nan_to_num of the advantages), read
    with ast: ``self.args.X``, ``self.X`` for a field X, and ``self.Y`` where __init__ set ``self.Y = f(args.X)``."""
    tree = ast.parse(inspect.getsource(trl_grpo))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "GRPOTrainer")
    methods = {f.name: f for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    fields = {f.name for f in dataclasses.fields(GRPOConfig)}

    def is_self(node) -> bool:
        return isinstance(node, ast.Name) and node.id == "self"

    aliases: dict[str, set[str]] = {}
    for node in ast.walk(methods["__init__"]):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and is_self(target.value):
                    for sub in ast.walk(node.value):
                        if (
                            isinstance(sub, ast.Attribute)
                            and isinstance(sub.value, ast.Name)
                            and sub.value.id == "args"
                        ):
                            aliases.setdefault(target.attr, set()).update({sub.attr} & fields)

    def reads(nodes, seen: set[str]) -> set[str]:
        found: set[str] = set()
        for top in nodes:
            for node in ast.walk(top):
                if not isinstance(node, ast.Attribute):
                    continue
                value = node.value
                if isinstance(value, ast.Attribute) and value.attr == "args" and is_self(value.value):
                    found |= {node.attr} & fields
                elif is_self(value):
                    found |= aliases.get(node.attr, set()) | ({node.attr} & fields)
                    if node.attr in methods and node.attr not in seen:
                        seen.add(node.attr)
                        found |= reads([methods[node.attr]], seen)
        return found

    generate = methods["_generate_and_score_completions"]

    def line(attr: str) -> int:
        return next(
            n.lineno
            for n in ast.walk(generate)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == attr
        )

    start, end = line("_calculate_rewards"), line("nan_to_num")
    headers = {ast.If: "test", ast.While: "test", ast.For: "iter"}
    region = []
    for node in ast.walk(generate):
        if isinstance(node, ast.stmt) and start <= node.lineno <= end:
            region.append(getattr(node, headers[type(node)]) if type(node) in headers else node)
    return reads([methods["_compute_loss"]], {"_compute_loss"}) | reads(region, {"_calculate_rewards"})


def test_every_field_trl_loss_and_advantage_code_read_is_honoured_or_refused():
    read = _trl_fields_read()
    assert {"loss_type", "beta", "delta", "top_entropy_quantile", "scale_rewards"} <= read, "the walk found TRL's code"
    missing = read - set(TRL_OPTIONS)
    assert not missing, f"TRL reads {sorted(missing)}, which rlvr neither honours nor refuses: add them to TRL_OPTIONS"
    unknown = set(TRL_OPTIONS) - {f.name for f in dataclasses.fields(GRPOConfig)}
    assert not unknown, f"TRL_OPTIONS names {sorted(unknown)}, which GRPOConfig does not have"
