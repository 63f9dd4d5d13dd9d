"""RLVRConfig / RLVRTrainer: TRL's GRPOConfig / GRPOTrainer with rlvr's loss family and the DAPO extras TRL lacks.

What this module adds to TRL 1.16, and where it hooks in (every override calls TRL's own method first):

- ``policy_loss``: any loss registered in ``rlvr.losses`` (grpo, dr_grpo, dapo, gspo, gspo_token, gmpo, plugins)
  replaces TRL's loss. ``_compute_loss`` computes per-token log-probabilities with TRL's own helper, then calls
  ``rlvr.losses.policy_loss``; KL (beta > 0), old log-probabilities for off-policy steps (``steps_per_generation``,
  ``num_iterations``) and vLLM importance weights come from TRL's prepared inputs unchanged.
- Overlong shaping (DAPO eq. 13): with ``overlong_buffer`` > 0 an ``OverlongPenalty`` reward function (weight 1) is
  appended to the reward functions, so it enters the reward before the group advantages and is logged on its own.
  ``overlong_filtering`` masks truncated completions out of the loss (TRL's ``mask_truncated_completions``).
- Ungraded rows: a reward function returns None when the grader could not grade (e.g. a sandbox outage). TRL turns
  None into NaN and leaves a row out of the group mean/std only when *every* function returned None; with several
  reward functions (or the overlong penalty, which is never None) a partly graded row would silently count the
  missing verdict as 0. ``_calculate_rewards`` marks the whole row ungraded instead, so TRL's nan-aware group
  statistics skip it and its advantage is 0; the row is also masked out of the loss.
- Dynamic sampling (DAPO sec. 3.2): groups whose rewards have zero spread carry no signal; they are dropped and the
  batch is refilled from fresh prompts, at most ``max_resample_rounds`` extra generation rounds, after which the
  batch is completed with dropped groups (zero advantage) and a warning: never a crash, never a smaller batch.
- Metrics beside TRL's own (reward, reward_std, frac_reward_zero_std, rewards/<verifier>/mean, completions/*,
  kl, entropy): clip_ratio/*, ratio/mean, approx_kl, rewards/frac_ungraded, dynamic_sampling/*, and
  time/generation, time/rewards, time/logps (no-grad old/reference log-probs), time/update (forward + backward),
  in seconds per optimizer step.
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import torch
import trl
from packaging.version import Version

_TRL_RANGE = (Version("1.16"), Version("1.17"))
if not (_TRL_RANGE[0] <= Version(trl.__version__) < _TRL_RANGE[1]):
    raise ImportError(
        f"rlvr.trainer subclasses TRL's GRPOTrainer and needs trl>=1.16,<1.17; found trl {trl.__version__}. "
        "Install a matching version: pip install 'trl>=1.16,<1.17'"
    )

from trl import GRPOConfig, GRPOTrainer  # noqa: E402  (after the version check, which names the fix)
from trl.trainer.utils import RepeatSampler  # noqa: E402

from rlvr.losses import LOSSES, policy_loss  # noqa: E402
from rlvr.rewards import OverlongPenalty  # noqa: E402

# Losses that average over every token of the accumulation window (DAPO eq. 8): the trainer hands them the window's
# token count instead of dividing by the number of accumulation steps.
_WINDOW_TOKEN_MEAN = {"dapo"}

# TRL options that act inside TRL's own loss; with an rlvr loss they would be silently ignored, so they are refused.
_UNSUPPORTED = {
    "top_entropy_quantile": (1.0, "entropy masking"),
    "off_policy_mask_threshold": (None, "off-policy sequence masking"),
    "delta": (None, "two-sided clipping"),
    "entropy_coef": (0.0, "the entropy bonus"),
    "use_adaptive_entropy": (False, "the adaptive entropy bonus"),
}


@dataclass
class RLVRConfig(GRPOConfig):
    """GRPOConfig plus rlvr's loss choice, overlong shaping, ungraded-row policy and dynamic sampling."""

    policy_loss: str = field(
        default="dapo",
        metadata={
            "help": "Policy loss from rlvr.losses: grpo, dr_grpo, dapo, gspo, gspo_token, gmpo (or a plugin). "
            "Default 'dapo', the objective TRL's GRPOConfig uses by default (loss_type='dapo'), so switching to "
            "RLVRConfig changes nothing until you choose. For gspo/gspo_token use the paper's tiny clip range "
            "(epsilon=3e-4, epsilon_high=4e-4); for gmpo epsilon=epsilon_high=0.4 (log space)."
        },
    )
    overlong_buffer: int = field(
        default=0,
        metadata={
            "help": "DAPO overlong shaping: the last N tokens before max_completion_length where the reward "
            "penalty ramps linearly from 0 to -overlong_penalty (DAPO eq. 13). 0 turns shaping off."
        },
    )
    overlong_penalty: float = field(
        default=1.0, metadata={"help": "Size of the overlong penalty at max_completion_length (DAPO uses 1.0)."}
    )
    overlong_filtering: bool = field(
        default=False,
        metadata={
            "help": "Mask truncated completions (no EOS within max_completion_length) out of the loss "
            "(DAPO overlong filtering; sets TRL's mask_truncated_completions)."
        },
    )
    dynamic_sampling: bool = field(
        default=False,
        metadata={
            "help": "DAPO dynamic sampling: drop groups whose rewards have zero spread and refill the batch with "
            "groups from fresh prompts, keeping the batch size."
        },
    )
    max_resample_rounds: int = field(
        default=3,
        metadata={
            "help": "Cap on extra generation rounds per batch for dynamic sampling. When hit, the batch is "
            "completed with zero-spread groups (zero advantage) and a warning is logged."
        },
    )
    ungraded_if_any_none: bool = field(
        default=True,
        metadata={
            "help": "A row is left out of the group statistics (advantage 0, masked from the loss) when ANY "
            "reward function returned None for it (True), or only when all did (False, TRL's rule)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.policy_loss not in LOSSES:
            raise ValueError(f"unknown policy_loss {self.policy_loss!r}; known: {', '.join(LOSSES.names())}")
        for name, (default, what) in _UNSUPPORTED.items():
            if getattr(self, name, default) != default:
                raise ValueError(
                    f"{name}={getattr(self, name)!r} ({what}) acts inside TRL's own loss, which policy_loss="
                    f"{self.policy_loss!r} replaces; leave {name} at {default!r}"
                )
        if self.max_completion_length is not None and not 0 <= self.overlong_buffer <= self.max_completion_length:
            raise ValueError(
                f"overlong_buffer={self.overlong_buffer} must be between 0 and max_completion_length="
                f"{self.max_completion_length}"
            )
        if self.max_resample_rounds < 0:
            raise ValueError(f"max_resample_rounds must be >= 0; got {self.max_resample_rounds}")
        if self.overlong_filtering:
            self.mask_truncated_completions = True
        if self.importance_sampling_level != "token":
            warnings.warn(
                f"importance_sampling_level={self.importance_sampling_level!r} is ignored: the ratio level comes "
                f"from policy_loss={self.policy_loss!r} (use 'gspo' or 'gspo_token' for sequence level)",
                stacklevel=2,
            )


class RLVRTrainer(GRPOTrainer):
    """GRPOTrainer whose loss is ``args.policy_loss``; adds overlong shaping, ungraded-row masking, dynamic sampling.

    The constructor is GRPOTrainer's, unchanged; pass an ``RLVRConfig`` as ``args`` (a plain GRPOConfig is
    converted, with rlvr's defaults for the extra fields).
    """

    def __init__(
        self,
        model,
        reward_funcs=None,
        args: GRPOConfig | None = None,
        train_dataset=None,
        eval_dataset=None,
        processing_class=None,
        reward_processing_classes=None,
        callbacks=None,
        optimizers=(None, None),
        quantization_config=None,
        peft_config=None,
        tools=None,
        rollout_func=None,
        environment_factory=None,
    ) -> None:
        args = _as_rlvr_config(args, model)
        super().__init__(
            model,
            reward_funcs=reward_funcs,
            args=args,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processing_class,
            reward_processing_classes=reward_processing_classes,
            callbacks=callbacks,
            optimizers=optimizers,
            quantization_config=quantization_config,
            peft_config=peft_config,
            tools=tools,
            rollout_func=rollout_func,
            environment_factory=environment_factory,
        )
        self._num_graded_funcs = len(self.reward_funcs)  # columns whose None means "could not grade"
        if args.overlong_buffer > 0:
            self._add_reward(
                OverlongPenalty(
                    max_length=self.max_completion_length, buffer=args.overlong_buffer, factor=args.overlong_penalty
                )
            )
        if args.dynamic_sampling:
            self._check_dynamic_sampling()
        self._timers: dict[str, float] = defaultdict(float)
        self._last_rewards: torch.Tensor | None = None
        self._last_ungraded: torch.Tensor | None = None
        self._resample_iter = None
        self._resample_epoch = 0

    # ----------------------------------------------------------------------------------------------------------------
    # Set-up

    def _add_reward(self, func: Any) -> None:
        """Append a reward function with weight 1, the way TRL itself appends an environment's reward."""
        self.reward_funcs.append(func)
        self.reward_func_names.append(func.__name__)
        self.reward_processing_classes.append(None)
        self.reward_weights = torch.cat([self.reward_weights, torch.ones(1)])

    def _check_dynamic_sampling(self) -> None:
        local_rows = self.args.per_device_train_batch_size * self.args.steps_per_generation
        if local_rows % self.num_generations:
            raise ValueError(
                f"dynamic_sampling needs whole groups on each process: per_device_train_batch_size * "
                f"steps_per_generation = {local_rows} must be a multiple of num_generations={self.num_generations}"
            )
        if self.train_dataset is not None and not hasattr(self.train_dataset, "__len__"):
            raise ValueError("dynamic_sampling needs a map-style train_dataset (it draws fresh prompts by index)")

    # ----------------------------------------------------------------------------------------------------------------
    # Rewards: ungraded rows, timing

    def _generate(self, prompts: list):
        start = time.perf_counter()
        try:
            return super()._generate(prompts)
        finally:
            self._timers["generation"] += time.perf_counter() - start

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        start = time.perf_counter()
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)  # (N, F)
        missing = torch.isnan(rewards_per_func[:, : self._num_graded_funcs])  # (N, F_graded)
        ungraded = missing.any(dim=1) if self.args.ungraded_if_any_none else missing.all(dim=1)  # (N,)
        rewards_per_func[ungraded] = torch.nan  # TRL's nan-aware group mean/std skip the row; advantage -> 0
        self._last_ungraded = ungraded
        self._last_rewards = rewards_per_func
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["rewards/frac_ungraded"].append(ungraded.float().mean().item())
        self._timers["rewards"] += time.perf_counter() - start
        return rewards_per_func

    def _local_slice(self, n_local: int) -> slice:
        start = self.accelerator.process_index * n_local
        return slice(start, start + n_local)

    # ----------------------------------------------------------------------------------------------------------------
    # Generation + scoring: ungraded masking, dynamic sampling

    def _generate_and_score_completions(self, inputs):
        if not self.model.training:  # evaluation: no dynamic sampling, and its time stays out of the step timers
            saved = dict(self._timers)
            output = self._score_batch(inputs)
            self._timers = defaultdict(float, saved)
            return output
        start = time.perf_counter()
        generation_before, rewards_before = self._timers["generation"], self._timers["rewards"]
        output = self._dynamic_sample(inputs) if self.args.dynamic_sampling else self._score_batch(inputs)
        elapsed = time.perf_counter() - start
        inner = (self._timers["generation"] - generation_before) + (self._timers["rewards"] - rewards_before)
        self._timers["logps"] += elapsed - inner  # the no-grad forward passes for old / reference log-probs
        self._timers["in_prepare"] += elapsed
        return output

    def _score_batch(self, inputs) -> dict[str, Any]:
        """One TRL generation + scoring round, with the ungraded rows masked out of the loss."""
        output = super()._generate_and_score_completions(inputs)
        ungraded = self._last_ungraded[self._local_slice(len(inputs))]  # (B_local,)
        if ungraded.any():
            keep = (~ungraded).to(output["completion_mask"].device, output["completion_mask"].dtype)  # (B_local,)
            output["completion_mask"] = output["completion_mask"] * keep.unsqueeze(1)  # (B_local, T)
            output["num_items_in_batch"] = self._count_loss_tokens(output)
        return output

    def _local_spread(self, n_local: int) -> torch.Tensor:
        """(B_local,) bool for the last scored batch: does the row's group have reward spread (weighted sum)?"""
        rewards = self._last_rewards  # (N, F), ungraded rows all NaN
        weighted = (rewards * self.reward_weights.to(rewards.device)).nansum(dim=1)  # (N,)
        weighted[torch.isnan(rewards).all(dim=1)] = torch.nan
        return _group_has_spread(weighted[self._local_slice(n_local)], self.num_generations)

    def _count_loss_tokens(self, output: dict[str, Any]) -> torch.Tensor:
        mask = output["completion_mask"]
        if "tool_mask" in output:
            mask = mask * output["tool_mask"]
        return self.accelerator.gather(mask.sum()).sum()

    def _dynamic_sample(self, inputs) -> dict[str, Any]:
        """DAPO dynamic sampling: keep groups with reward spread, refill from fresh prompts, keep the batch size."""
        target = len(inputs)
        output = self._score_batch(inputs)
        keep = self._local_spread(target)
        kept, spare = [(output, keep)], [(output, ~keep)]
        generated, dropped, rounds = int(keep.numel()), int((~keep).sum()), 0
        while self._any_process_short(sum(int(k.sum()) for _, k in kept) < target):
            if rounds >= self.args.max_resample_rounds:
                break
            rounds += 1
            fresh = self._next_resample_batch()
            output = self._score_batch(fresh)
            keep = self._local_spread(len(fresh))
            kept.append((output, keep))
            spare.append((output, ~keep))
            generated, dropped = generated + int(keep.numel()), dropped + int((~keep).sum())
        n_kept = sum(int(k.sum()) for _, k in kept)
        if n_kept < target:
            warnings.warn(
                f"dynamic sampling: only {n_kept // self.num_generations} of {target // self.num_generations} groups "
                f"had reward spread after {rounds} extra generation rounds (max_resample_rounds="
                f"{self.args.max_resample_rounds}); filling the batch with zero-spread groups (zero advantage). "
                "Raise max_resample_rounds, or use easier/harder prompts.",
                stacklevel=2,
            )
        pieces = _take_rows(kept, target) + _take_rows(spare, max(0, target - n_kept))
        batch = _concat_outputs([_select(out, rows) for out, rows in pieces], self._tokenizer.pad_token_id)
        batch["num_items_in_batch"] = self._count_loss_tokens(batch)
        self._metrics["train"]["dynamic_sampling/frac_groups_dropped"].append(dropped / max(generated, 1))
        self._metrics["train"]["dynamic_sampling/extra_rounds"].append(float(rounds))
        return batch

    def _any_process_short(self, short: bool) -> bool:
        flag = torch.tensor([1.0 if short else 0.0], device=self.accelerator.device)
        return bool(self.accelerator.gather(flag).sum().item() > 0)

    def _next_resample_batch(self) -> list[dict[str, Any]]:
        """A fresh generation batch of prompts (each repeated num_generations times) from a separately seeded
        sampler, so that refills do not replay the prompts the main loop is about to see."""
        while True:
            if self._resample_iter is None:
                self._resample_epoch += 1
                loader = self._get_dataloader(
                    dataset=self.train_dataset,
                    description="Resampling",
                    batch_size=self._train_batch_size * self.args.steps_per_generation,
                    sampler_fn=self._resample_sampler,
                    is_training=True,
                )
                self._resample_iter = iter(loader)
            try:
                return next(self._resample_iter)
            except StopIteration:
                self._resample_iter = None

    def _resample_sampler(self, dataset) -> RepeatSampler:
        return RepeatSampler(
            data_source=dataset,
            mini_repeat_count=self.num_generations,
            batch_size=self.args.generation_batch_size // self.num_generations,
            repeat_count=1,
            shuffle=True,
            seed=self.args.seed + 7919 * self._resample_epoch,
        )

    # ----------------------------------------------------------------------------------------------------------------
    # Loss

    def _compute_loss(self, model, inputs):
        prompt_ids, prompt_mask = inputs["prompt_ids"], inputs["prompt_mask"]
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)  # (B, P + T)
        attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)  # (B, P + T)
        mask = completion_mask if "tool_mask" not in inputs else completion_mask * inputs["tool_mask"]  # (B, T)
        logps, entropies, aux_loss = self._get_per_token_logps_and_entropies(
            model,
            input_ids,
            attention_mask,
            completion_ids.size(1),
            compute_entropy=True,
            compute_aux_loss=self.aux_loss_enabled,
            **_multimodal_kwargs(inputs),
        )  # (B, T)
        old_logps = inputs.get("old_per_token_logps")
        old_logps = logps.detach() if old_logps is None else old_logps  # on-policy step: ratio 1, gradient intact
        mode = "train" if self.model.training else "eval"
        loss, metrics = policy_loss(
            self.args.policy_loss,
            logps=logps,
            old_logps=old_logps,
            advantages=inputs["advantages"],
            mask=mask,
            epsilon_low=self.epsilon_low,
            epsilon_high=self.epsilon_high,
            **self._loss_options(inputs, mode),
        )
        if self.args.policy_loss not in _WINDOW_TOKEN_MEAN and mode == "train":
            loss = loss / self.current_gradient_accumulation_steps
        if self.aux_loss_enabled:
            normalizer = self.current_gradient_accumulation_steps if mode == "train" else 1.0
            loss = loss + self.router_aux_loss_coef * aux_loss / normalizer
            self._metrics[mode]["aux_loss"].append(self.accelerator.gather(aux_loss.detach()).mean().item())
        self._log_loss_metrics(mode, metrics, entropies, mask)
        return loss

    def _loss_options(self, inputs: dict[str, Any], mode: str) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.beta != 0.0:
            options.update(
                beta=self.beta,
                ref_logps=inputs["ref_per_token_logps"],
                kl_importance_weighting=self.args.use_bias_correction_kl,
            )
        if "importance_sampling_ratio" in inputs:  # vLLM sampler correction, computed by TRL
            options["sample_weights"] = inputs["importance_sampling_ratio"]
        if self.args.policy_loss == "dr_grpo":
            options["max_length"] = self.max_completion_length
        if self.args.policy_loss in _WINDOW_TOKEN_MEAN:
            # num_items_in_batch counts the loss tokens of the whole generation batch on all processes; one optimizer
            # step sees gradient_accumulation_steps of its steps_per_generation slices (TRL's DAPO normaliser).
            tokens = inputs["num_items_in_batch"] / self.accelerator.num_processes
            if mode == "train":
                tokens = tokens * self.current_gradient_accumulation_steps / self.args.steps_per_generation
            options["num_tokens"] = tokens
        return options

    def _log_loss_metrics(self, mode: str, metrics: dict[str, torch.Tensor], entropies, mask) -> None:
        for name, value in metrics.items():
            key = {"clip_ratio/low": "clip_ratio/low_mean", "clip_ratio/high": "clip_ratio/high_mean"}.get(name, name)
            self._metrics[mode][key].append(self.accelerator.gather(value.detach().reshape(1)).mean().item())
        region = metrics["clip_ratio/low"] + metrics["clip_ratio/high"]
        self._metrics[mode]["clip_ratio/region_mean"].append(self.accelerator.gather(region.reshape(1)).mean().item())
        totals = torch.stack([(entropies * mask).sum(), mask.sum().float()]).detach()
        totals = self.accelerator.reduce(totals, reduction="sum")
        self._metrics[mode]["entropy"].append((totals[0] / totals[1].clamp(min=1.0)).item())

    # ----------------------------------------------------------------------------------------------------------------
    # Timing per optimizer step

    def training_step(self, model, inputs, num_items_in_batch):
        start = time.perf_counter()
        in_prepare_before = self._timers["in_prepare"]
        output = super().training_step(model, inputs, num_items_in_batch)
        elapsed = time.perf_counter() - start
        self._timers["update"] += elapsed - (self._timers["in_prepare"] - in_prepare_before)
        if self._step % self.current_gradient_accumulation_steps == 0:  # TRL counts _step in its training_step
            for name in ("generation", "rewards", "logps", "update"):
                self._metrics["train"][f"time/{name}"].append(self._timers[name])
            self._timers.clear()
        return output


# --------------------------------------------------------------------------------------------------------------------
# Helpers on TRL's batch dicts


def _as_rlvr_config(args: GRPOConfig | None, model: Any) -> RLVRConfig:
    if isinstance(args, RLVRConfig):
        return args
    if args is None:
        name = model if isinstance(model, str) else getattr(getattr(model, "config", None), "_name_or_path", "model")
        return RLVRConfig(output_dir=f"{str(name).rstrip('/').split('/')[-1] or 'model'}-RLVR")
    raise TypeError(
        f"RLVRTrainer needs args=rlvr.trainer.RLVRConfig(...), got {type(args).__name__}; RLVRConfig takes every "
        "GRPOConfig field plus policy_loss, overlong_*, dynamic_sampling, max_resample_rounds"
    )


def _group_has_spread(rewards: torch.Tensor, group_size: int, tol: float = 1e-6) -> torch.Tensor:
    """(N,) rewards, NaN = ungraded -> (N,) bool: does the row's group hold two graded rewards that differ?"""
    grouped = rewards.view(-1, group_size)  # (N / G, G)
    graded = ~torch.isnan(grouped)
    high = torch.where(graded, grouped, torch.full_like(grouped, -torch.inf)).max(dim=1).values  # (N / G,)
    low = torch.where(graded, grouped, torch.full_like(grouped, torch.inf)).min(dim=1).values  # (N / G,)
    spread = (graded.sum(dim=1) >= 2) & ((high - low) > tol)  # (N / G,)
    return spread.repeat_interleave(group_size)  # (N,)


def _take_rows(pieces: list[tuple[dict[str, Any], torch.Tensor]], n: int) -> list[tuple[dict[str, Any], torch.Tensor]]:
    """The first ``n`` selected rows across pieces (whole groups stay whole when n is a multiple of the group size)."""
    taken = []
    for output, rows in pieces:
        if n <= 0:
            break
        index = rows.nonzero(as_tuple=True)[0][:n]
        if index.numel():
            taken.append((output, index))
            n -= index.numel()
    return taken


# How each key of TRL's batch dict is re-batched: (side, padding value) for (B, width) tensors, None for (B,) rows.
_PADDING: dict[str, tuple[str, float | None] | None] = {
    "prompt_ids": ("left", None),  # None: the tokenizer's pad id
    "prompt_mask": ("left", 0),
    "completion_ids": ("right", None),
    "completion_mask": ("right", 0),
    "old_per_token_logps": ("right", 0.0),
    "ref_per_token_logps": ("right", 0.0),
    "sampling_per_token_logps": ("right", 0.0),
    "importance_sampling_ratio": ("right", 1.0),  # (B, T) token-level, or (B, 1) sequence-level
    "tool_mask": ("right", 1),
    "advantages": None,
}
_RECOMPUTED = {"num_items_in_batch"}  # a batch total: recounted after re-batching


def _select(output: dict[str, Any], index: torch.Tensor) -> dict[str, Any]:
    unknown = set(output) - set(_PADDING) - _RECOMPUTED
    if unknown:
        raise ValueError(
            f"dynamic_sampling cannot yet re-batch inputs with {sorted(unknown)} (multimodal/tool batches); "
            "turn dynamic_sampling off for this run"
        )
    return {k: v if k in _RECOMPUTED else v[index.to(v.device)] for k, v in output.items()}


def _concat_outputs(parts: list[dict[str, Any]], pad_id: int) -> dict[str, Any]:
    """Concatenate TRL batch dicts row-wise, re-padding prompts on the left and completions on the right."""
    out: dict[str, Any] = {}
    for key in parts[0]:
        if key in _RECOMPUTED:
            continue
        values = [p[key] for p in parts]
        if _PADDING[key] is not None:
            side, value = _PADDING[key]
            width = max(v.shape[1] for v in values)
            values = [_pad_to(v, width, pad_id if value is None else value, side) for v in values]
        out[key] = torch.cat(values, dim=0)
    return out


def _pad_to(x: torch.Tensor, width: int, value: float, side: str) -> torch.Tensor:
    extra = width - x.shape[1]
    if extra == 0:
        return x
    filler = torch.full((x.shape[0], extra), value, dtype=x.dtype, device=x.device)
    return torch.cat([filler, x] if side == "left" else [x, filler], dim=1)


_MULTIMODAL_KEYS = (
    "pixel_values",
    "image_grid_thw",
    "num_images",
    "pixel_attention_mask",
    "spatial_shapes",
    "num_tiles",
    "image_sizes",
    "token_type_ids",
    "mm_token_type_ids",
    "image_position_ids",
)


def _multimodal_kwargs(inputs: dict[str, Any]) -> dict[str, Any]:
    return {key: inputs.get(key) for key in _MULTIMODAL_KEYS}
