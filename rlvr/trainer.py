"""RLVRConfig / RLVRTrainer: TRL's GRPOConfig / GRPOTrainer with rlvr's losses, advantage estimators and DAPO extras.

One name space for the objective. ``policy_loss`` and TRL's ``loss_type`` name the same thing: every TRL 1.16 loss
(grpo, bnpo, dr_grpo, dapo, cispo, sapo, luspo, vespo) is an rlvr loss of the same name and objective (tests train
both trainers side by side to the same weights), and rlvr adds gspo, gspo_token, gmpo, dppo and plugins.
``policy_loss=None`` (the default) means "TRL's ``loss_type``", so a GRPOConfig user keeps their objective; setting
both to different names is an error; after construction both hold the resolved name.

Nothing silently ignored. ``TRL_OPTIONS`` below lists every GRPOConfig field that TRL's ``_compute_loss`` and
advantage code read (a test reads them from TRL's source with ``ast`` and fails on a field missing here) and what
rlvr does with it; an option the chosen loss or estimator would not use is refused at construction with the fix.

TRL methods overridden, and why (each calls TRL's own method, except ``_compute_loss``):

- ``__init__(model, reward_funcs=None, args=None, **kwargs)``: converts ``args`` to RLVRConfig and appends the
  overlong-penalty reward (and its weight) *before* TRL's constructor, so TRL builds its reward lists itself; with
  ``advantage="process"`` wraps plain reward functions to keep their ``StepRewards``.
- ``_compute_loss``: the loss is ``rlvr.losses.policy_loss(args.policy_loss, ...)`` on the per-token log-probs TRL's
  own helper computes (its optional model inputs read from that helper's signature). TRL's entropy mask, off-policy
  sequence mask and vLLM importance weights enter as ``sample_weights``; KL (beta), two-sided clipping (delta), the
  ratio level and the entropy bonus (static or adaptive, on TRL's controller state) are applied as TRL applies them.
- ``_generate``: timing, and the start of grading (``prefetch`` of reward functions that have it, e.g.
  ``VerifierReward`` through ``Scorer.submit``, and of the audit) as soon as completions are decoded, so that grading
  runs while TRL computes the old/reference log-probs (``overlap_rewards``); hands TRL a round generated ahead of
  time (``speculative_resampling``).
- ``_calculate_rewards``: collects the verdicts; a row with a None reward from any grading function is ungraded as a
  whole (TRL only skips rows where *every* function returned None, counting a partly graded row's missing verdict
  as 0), so TRL's nan-aware group statistics skip it; logs per-verifier status fractions and extracted-answer
  length, runs the optional audit, warns once when timeouts or errors pass ``reward_alert_fraction``; with
  ``speculative_resampling``, while a dynamic-sampling round is still being graded, generates the next round first
  (put back as if never generated when it is not needed).
- ``_generate_and_score_completions``: masks ungraded rows out of the loss; replaces TRL's z-score advantages when
  ``advantage`` is not "grpo" (``rlvr.advantages``); DAPO dynamic sampling (drop zero-spread groups, refill from
  fresh prompts, re-batch TRL's batch dict by its own key conventions, refusing a key that fits none).
- ``training_step``: per-optimizer-step timing.

Metrics beside TRL's own: clip_ratio/*, ratio/mean, approx_kl, rewards/frac_ungraded, rewards/<name>/status/<status>,
rewards/<name>/extracted_length, rewards/<name>/audit_disagreement, dynamic_sampling/* (speculative_rounds and
speculative_rounds_used with speculative_resampling), and, in seconds per optimizer
step, time/generation, time/rewards (grading), time/rewards_wait (how long the step waited for it), time/logps
(no-grad old/reference log-probs), time/update (forward + backward).
"""

from __future__ import annotations

import copy
import inspect
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

from rlvr.advantages import ADVANTAGES, compute_advantages, process_advantages  # noqa: E402
from rlvr.losses import LOSSES, loss_accepts, policy_loss  # noqa: E402
from rlvr.rewards import OverlongPenalty, StepCapture, VerifierReward, completion_text  # noqa: E402
from rlvr.scoring import get_scorer  # noqa: E402

# TRL 1.16's unwrap_model_for_generation reads the deprecated `model.is_gradient_checkpointing`; transformers then
# warns at every generation step. Nothing for a user to do (TRL's call, not theirs): silence exactly that message.
warnings.filterwarnings("ignore", message=r".*`is_gradient_checkpointing` is deprecated", category=FutureWarning)

# The losses TRL 1.16 has under the same name (``loss_type``).
TRL_LOSSES = ("grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo", "luspo", "vespo")
_TRL_DEFAULT_LOSS = "dapo"

# Every GRPOConfig field TRL's _compute_loss (and the helpers it calls) or its advantage code reads, and what rlvr
# does with it. tests/test_trainer.py derives the set from TRL's source and fails on a field missing here.
TRL_OPTIONS: dict[str, str] = {
    "loss_type": "one name space with policy_loss (None = loss_type); both hold the resolved name",
    "beta": "honoured: k3 KL to the reference model, aggregated as the loss",
    "use_bias_correction_kl": "honoured: the KL term is weighted by the loss's importance ratio",
    "epsilon": "honoured: the loss's lower clip (epsilon_low)",
    "epsilon_high": "honoured: the loss's upper clip (CISPO: the ratio cap, as in TRL)",
    "delta": "honoured by the clipped losses (two-sided clipping); refused with any other loss",
    "importance_sampling_level": "honoured by losses that take level=; redundant 'sequence' with gspo/gspo_token/"
    "gmpo; refused otherwise",
    "sapo_temperature_pos": "honoured by sapo; refused (non-default) with any other loss",
    "sapo_temperature_neg": "honoured by sapo; refused (non-default) with any other loss",
    "vespo_k_pos": "honoured by vespo; refused (non-default) with any other loss",
    "vespo_k_neg": "honoured by vespo; refused (non-default) with any other loss",
    "vespo_lambda_pos": "honoured by vespo; refused (non-default) with any other loss",
    "vespo_lambda_neg": "honoured by vespo; refused (non-default) with any other loss",
    "max_completion_length": "honoured: dr_grpo's constant denominator",
    "steps_per_generation": "honoured: the accumulation-window token count of token-mean losses",
    "top_entropy_quantile": "honoured: TRL's entropy mask, as sample_weights, with every loss and the entropy bonus",
    "off_policy_mask_threshold": "honoured: TRL's off-policy sequence mask, as sample_weights, with every loss",
    "use_vllm": "honoured: with vllm_importance_sampling_correction, TRL's IS weights enter every loss",
    "vllm_importance_sampling_correction": "honoured: sample_weights (vespo: inside its gamma weight, as TRL)",
    "entropy_coef": "honoured: entropy bonus, as TRL adds it",
    "use_adaptive_entropy": "honoured: TRL's adaptive entropy controller state",
    "entropy_target": "honoured: adaptive entropy controller",
    "entropy_coef_min": "honoured: adaptive entropy controller",
    "entropy_coef_max": "honoured: adaptive entropy controller",
    "entropy_coef_delta": "honoured: adaptive entropy controller",
    "router_aux_loss_coef": "honoured: MoE router auxiliary loss",
    "scale_rewards": "honoured by advantage='grpo' (TRL's own computation); refused (non-default) with others",
    "multi_objective_aggregation": "honoured by advantage='grpo'; refused (non-default) with other estimators",
    "num_generations": "honoured: the group size of every estimator",
    "num_generations_eval": "honoured: TRL's own evaluation path",
    "reward_weights": "honoured: the weighted reward sum every estimator reads (overlong shaping appends weight 1)",
}

# Per-loss options read from the config: config field -> the loss keyword it feeds.
_LOSS_KEYWORDS = {
    "delta": "delta",
    "sapo_temperature_pos": "sapo_temperature_pos",
    "sapo_temperature_neg": "sapo_temperature_neg",
    "vespo_k_pos": "vespo_k_pos",
    "vespo_k_neg": "vespo_k_neg",
    "vespo_lambda_pos": "vespo_lambda_pos",
    "vespo_lambda_neg": "vespo_lambda_neg",
}


@dataclass
class RLVRConfig(GRPOConfig):
    """GRPOConfig plus rlvr's loss choice, advantage estimator, overlong shaping, ungraded-row policy and dynamic
    sampling."""

    policy_loss: str | None = field(
        default=None,
        metadata={
            "help": "Policy loss from rlvr.losses: TRL's grpo, bnpo, dr_grpo, dapo, cispo, sapo, luspo, vespo, and "
            "gspo, gspo_token, gmpo, dppo (or a plugin). None (default): TRL's loss_type (default 'dapo'), so "
            "switching from GRPOConfig changes nothing. For gspo/gspo_token use the paper's tiny clip range "
            "(epsilon=3e-4, epsilon_high=4e-4); for gmpo epsilon=epsilon_high=0.4 (log space); for dppo the bounds "
            "are probability differences (e.g. 0.2)."
        },
    )
    advantage: str = field(
        default="grpo",
        metadata={
            "help": "Advantage estimator from rlvr.advantages: grpo (TRL's z-score; scale_rewards picks group, batch "
            "or none), rloo, reinforce_pp, reinforce_pp_baseline, passk, opo; or process (token advantages from "
            "per-step rewards: reward functions return rlvr.rewards.StepRewards)."
        },
    )
    passk_k: int = field(default=4, metadata={"help": "k of the pass@k advantage (advantage='passk')."})
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
    overlap_rewards: bool = field(
        default=True,
        metadata={
            "help": "Start grading (reward functions with a prefetch method, e.g. VerifierReward) as soon as "
            "completions are decoded, so it runs during the old/reference log-prob passes; the rewards are the same."
        },
    )
    speculative_resampling: bool = field(
        default=False,
        metadata={
            "help": "With dynamic_sampling and overlap_rewards: when a round's grading is still running after its "
            "log-prob passes, generate the next resampling round meanwhile, as if it will be needed. If it is not, "
            "that generation is thrown away and the random state, the resampling prompts and the generation metrics "
            "are put back, so training is the same as without; the cost is a wasted generation. One process only."
        },
    )
    reward_alert_fraction: float = field(
        default=0.2,
        metadata={
            "help": "Warn (once per verifier and status) when more than this fraction of a step's rows are "
            "graded 'timeout' or 'error'."
        },  # fmt: skip
    )
    audit_fraction: float = field(
        default=0.0,
        metadata={
            "help": "Fraction of rows per step re-graded by audit_verifier; the disagreement rate with the "
            "first verifier reward is logged (rewards/<name>/audit_disagreement)."
        },  # fmt: skip
    )
    audit_verifier: str | None = field(
        default=None, metadata={"help": "Registered verifier for the audit (e.g. 'math_verify' beside 'math')."}
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
        self.policy_loss = _resolve_loss(self.policy_loss, self.loss_type)
        self.loss_type = self.policy_loss  # one name: whoever reads either sees the objective that is trained
        _check_loss_options(self)
        _check_advantage_options(self)
        if self.max_completion_length is not None and not 0 <= self.overlong_buffer <= self.max_completion_length:
            raise ValueError(
                f"overlong_buffer={self.overlong_buffer} must be between 0 and max_completion_length="
                f"{self.max_completion_length}"
            )
        if self.max_resample_rounds < 0:
            raise ValueError(f"max_resample_rounds must be >= 0; got {self.max_resample_rounds}")
        if self.overlong_filtering:
            self.mask_truncated_completions = True
        if self.speculative_resampling and not (self.dynamic_sampling and self.overlap_rewards):
            raise ValueError("speculative_resampling needs dynamic_sampling=True and overlap_rewards=True")
        if not 0.0 <= self.audit_fraction <= 1.0:
            raise ValueError(f"audit_fraction must be in [0, 1]; got {self.audit_fraction}")
        if self.audit_fraction > 0 and not self.audit_verifier:
            raise ValueError("audit_fraction > 0 needs audit_verifier= (a registered verifier to re-grade with)")


def _resolve_loss(policy_loss: str | None, loss_type: str) -> str:
    if policy_loss is None:
        name = loss_type
    elif loss_type not in (_TRL_DEFAULT_LOSS, policy_loss):
        raise ValueError(
            f"policy_loss={policy_loss!r} and loss_type={loss_type!r} name different objectives; set one of them "
            "(policy_loss=None uses loss_type)"
        )
    else:
        name = policy_loss
    if name not in LOSSES:
        raise ValueError(f"unknown policy_loss {name!r}; known: {', '.join(LOSSES.names())}")
    return name


def _check_loss_options(args: RLVRConfig) -> None:
    name = args.policy_loss
    defaults = {f: GRPOConfig.__dataclass_fields__[f].default for f in _LOSS_KEYWORDS}
    for config_field, keyword in _LOSS_KEYWORDS.items():
        value = getattr(args, config_field)
        if value != defaults[config_field] and not loss_accepts(name, keyword):
            raise ValueError(
                f"{config_field}={value!r} has no effect on policy_loss={name!r} (it would be silently ignored); "
                f"leave it at {defaults[config_field]!r} or choose a loss that uses it"
            )
    level = args.importance_sampling_level
    fixed = getattr(LOSSES.get(name), "ratio_level", None)
    if level != "token" and not loss_accepts(name, "level") and level != fixed:
        raise ValueError(
            f"importance_sampling_level={level!r} cannot apply to policy_loss={name!r}, whose ratio level is fixed; "
            "leave it at 'token'"
        )
    if name == "vespo" and level != "token":
        raise ValueError("vespo computes its own sequence weight from token ratios; leave importance_sampling_level "
                         "at 'token'")  # fmt: skip


def _check_advantage_options(args: RLVRConfig) -> None:
    if args.advantage not in ADVANTAGES and args.advantage != "process":
        raise ValueError(f"unknown advantage {args.advantage!r}; known: {', '.join(ADVANTAGES.names())}, process")
    if args.advantage == "process" and getattr(LOSSES.get(args.policy_loss), "sequence_advantages_only", False):
        raise ValueError(
            f"advantage='process' gives one advantage per token, which policy_loss={args.policy_loss!r} cannot use "
            "(it takes one per sequence); use a token-level loss or gspo_token"
        )
    if args.advantage == "grpo":
        return
    for config_field in ("scale_rewards", "multi_objective_aggregation"):
        default = GRPOConfig.__dataclass_fields__[config_field].default
        if getattr(args, config_field) != default:
            raise ValueError(
                f"{config_field}={getattr(args, config_field)!r} applies to advantage='grpo' only; with "
                f"advantage={args.advantage!r} leave it at {default!r}"
            )


class RLVRTrainer(GRPOTrainer):
    """GRPOTrainer whose loss is ``args.policy_loss`` and whose advantages come from ``args.advantage``; adds overlong
    shaping, ungraded-row masking and dynamic sampling. Every GRPOTrainer keyword argument passes through unchanged;
    ``args`` must be an ``RLVRConfig`` (None: one with defaults)."""

    def __init__(self, model, reward_funcs=None, args: GRPOConfig | None = None, **kwargs: Any) -> None:
        args = _as_rlvr_config(args, model)
        funcs = list(reward_funcs) if isinstance(reward_funcs, (list, tuple)) else [reward_funcs]
        funcs = [f for f in funcs if f is not None]
        if args.advantage == "process":  # keep the raw StepRewards, which TRL turns into floats
            funcs = [StepCapture(f) if _is_sync_function(f) else f for f in funcs]
        shaping = []
        if args.overlong_buffer > 0:
            shaping.append(
                OverlongPenalty(
                    max_length=args.max_completion_length, buffer=args.overlong_buffer, factor=args.overlong_penalty
                )
            )
            args = _with_extra_weights(args, len(funcs), len(shaping))
            processing = kwargs.get("reward_processing_classes")
            if isinstance(processing, (list, tuple)):
                kwargs["reward_processing_classes"] = [*processing, *([None] * len(shaping))]
        super().__init__(model, reward_funcs=[*funcs, *shaping] if funcs or shaping else None, args=args, **kwargs)
        # Columns whose None means "could not grade": all but the shaping terms, which never abstain.
        self._graded_columns = [i for i, f in enumerate(self.reward_funcs) if not any(f is s for s in shaping)]
        if args.dynamic_sampling:
            self._check_dynamic_sampling()
        if args.speculative_resampling and (self.accelerator.num_processes > 1 or self.use_vllm):
            raise NotImplementedError(
                "speculative_resampling runs on one process with transformers generation for now (a thrown-away "
                "round's random state cannot be put back across processes or in vLLM); turn it off"
            )
        if args.advantage == "process" and self.accelerator.num_processes > 1:
            raise NotImplementedError(
                "advantage='process' runs on one process for now (step rewards are not gathered)"
            )
        self._forward_keys = _forward_keywords(self._get_per_token_logps_and_entropies)
        self._batch_inputs: list[dict[str, Any]] | None = None  # the rows being generated, for prefetching rewards
        self._alerted: set[tuple[str, str]] = set()
        self._audit = _audit_scorer(args, self.reward_funcs)
        self._audit_rng = torch.Generator().manual_seed(args.seed)
        self._audit_pending: list[tuple[list[int], list[str], Any]] = []  # audits started with the grading
        self._speculated = [0, 0]  # speculative rounds generated, and used, in this step
        self._audit_clock = (0.0, 0.0)  # the last audit's grading seconds, and how long the step waited for it
        self._timers: dict[str, float] = defaultdict(float)
        self._last_rewards: torch.Tensor | None = None
        self._last_ungraded: torch.Tensor | None = None
        self._resample_iter = None
        self._resample_epoch = 0
        self._resample_stash: list[dict[str, Any]] | None = None  # a batch drawn for a speculation thrown away
        self._rounds_left = 0  # extra generation rounds dynamic sampling may still run in this step
        self._speculation: _Speculation | None = None

    # ----------------------------------------------------------------------------------------------------------------
    # Set-up

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
        speculation = self._speculation
        if speculation is not None and self._batch_inputs is speculation.inputs:
            self._speculation, self._batch_inputs = None, None  # generated (and its grading started) ahead of time
            self._speculated[1] += 1
            return speculation.result
        start = time.perf_counter()
        try:
            result = super()._generate(prompts)
        finally:
            self._timers["generation"] += time.perf_counter() - start
        self._prefetch_rewards(prompts, result[1], result[3])
        return result

    def _prefetch_rewards(self, prompts, completion_ids, completions) -> None:
        """Start grading now, as TRL will later ask for it (same prompts, completions and dataset columns); TRL then
        runs its log-prob passes while the graders work, and ``_calculate_rewards`` collects the verdicts."""
        inputs, self._batch_inputs = self._batch_inputs, None
        if not self.args.overlap_rewards or inputs is None or self.rollout_func is not None or self.environments:
            return
        keys = [k for k in inputs[0] if k not in ("prompt", "completion", "completion_ids")]
        columns = {k: [row[k] for row in inputs] for k in keys}
        for func in self.reward_funcs:
            if hasattr(func, "prefetch"):
                func.prefetch(prompts=prompts, completions=completions, completion_ids=completion_ids, **columns)
        if self._audit is not None:
            self._audit_pending = [*self._audit_pending[-1:], self._submit_audit(inputs, completions)]

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        if self._may_speculate(inputs):
            self._speculate()
        start = time.perf_counter()
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)  # (N, F)
        missing = torch.isnan(rewards_per_func[:, self._graded_columns])  # (N, F_graded)
        ungraded = missing.any(dim=1) if self.args.ungraded_if_any_none else missing.all(dim=1)  # (N,)
        rewards_per_func[ungraded] = torch.nan  # TRL's nan-aware group mean/std skip the row; advantage -> 0
        self._last_ungraded = ungraded
        self._last_rewards = rewards_per_func
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["rewards/frac_ungraded"].append(ungraded.float().mean().item())
        self._watch_verdicts(mode)
        if self._audit is not None:
            self._run_audit(mode, inputs, completions)
        waited = time.perf_counter() - start
        graders = [f for f in self.reward_funcs if hasattr(f, "last_seconds")]
        clocks = [(f.last_seconds, f.last_wait) for f in graders] + ([self._audit_clock] if self._audit else [])
        self._timers["rewards_wait"] += waited
        # grading time: the graders' (and the audit's) own clocks, plus whatever else ran in here (other reward
        # functions), rather than the time waited for them
        self._timers["rewards"] += waited + sum(seconds - wait for seconds, wait in clocks)
        return rewards_per_func

    def _watch_verdicts(self, mode: str) -> None:
        """Per verifier reward: the fraction of each status and the mean extracted-answer length (all processes);
        a warning, once, when timeouts or errors pass reward_alert_fraction in a step."""
        for func in self.reward_funcs:
            verdicts = getattr(func, "last_verdicts", None)
            if not verdicts:
                continue
            lengths = [len(v.extracted) for v in verdicts if v.extracted is not None]
            local = [sum(v.status == s for v in verdicts) for s in _STATUSES] + [sum(lengths), len(lengths)]
            totals = self.accelerator.reduce(torch.tensor(local, dtype=torch.float64, device=self.accelerator.device))
            rows = float(totals[: len(_STATUSES)].sum())
            name = func.__name__
            for i, status in enumerate(_STATUSES):
                fraction = float(totals[i]) / max(rows, 1.0)
                self._metrics[mode][f"rewards/{name}/status/{status}"].append(fraction)
                if status in ("timeout", "error") and fraction > self.args.reward_alert_fraction:
                    self._alert(name, status, fraction)
            extracted = float(totals[-2]) / max(float(totals[-1]), 1.0)
            self._metrics[mode][f"rewards/{name}/extracted_length"].append(extracted)

    def _alert(self, name: str, status: str, fraction: float) -> None:
        if (name, status) in self._alerted:
            return
        self._alerted.add((name, status))
        warnings.warn(
            f"reward {name!r}: {fraction:.0%} of this step's rows were graded {status!r} (above reward_alert_fraction="
            f"{self.args.reward_alert_fraction}); the grader may be failing, and those rows train as "
            f"{'ungraded' if status == 'error' else 'wrong'}. Check rewards/{name}/status/* in the logs.",
            stacklevel=2,
        )

    def _submit_audit(self, inputs, completions) -> tuple[list[int], list[str], Any]:
        """Start re-grading a random audit_fraction of this process's rows with audit_verifier: (rows, their
        completions, the Future of the second verdicts)."""
        func, scorer = self._audit
        n = len(completions)
        k = min(n, max(1, round(self.args.audit_fraction * n)))
        rows = torch.randperm(n, generator=self._audit_rng)[:k].tolist()
        texts = [completion_text(completions[i]) for i in rows]
        references = [func._decode(inputs[i][func.reference_field]) for i in rows]
        return rows, texts, scorer.submit(texts, references)

    def _run_audit(self, mode: str, inputs, completions) -> None:
        """Log the disagreement rate of the audit (started with the grading when overlap_rewards is on) with the
        audited verifier reward, and put both statuses of each disagreement in the completions table."""
        func, _ = self._audit
        verdicts = func.last_verdicts
        n = len(verdicts)
        pending = next((job for job in self._audit_pending if self._audits(job, completions)), None)
        self._audit_pending = [job for job in self._audit_pending if job is not pending]
        if pending is None:  # nothing started for these rows: start it now
            pending = self._submit_audit(inputs, completions)
        rows, _, future = pending
        k = len(rows)
        start = time.perf_counter()
        second = future.result()
        waited = time.perf_counter() - start
        self._audit_clock = (future.stats.seconds if future.stats is not None else waited, waited)
        column = [""] * n
        disagree = 0
        for i, verdict in zip(rows, second, strict=True):
            if (verdicts[i].status == "correct") != (verdict.status == "correct"):
                disagree += 1
                column[i] = f"{func.__name__}: {verdicts[i].status}; {self.args.audit_verifier}: {verdict.status}"
        counts = self.accelerator.reduce(
            torch.tensor([disagree, k], dtype=torch.float64, device=self.accelerator.device)
        )
        self._metrics[mode][f"rewards/{func.__name__}/audit_disagreement"].append(float(counts[0] / counts[1]))
        self._log_completion_extra("audit", column)

    @staticmethod
    def _audits(job: tuple[list[int], list[str], Any], completions) -> bool:
        """Was this audit job started for these completions?"""
        rows, texts, _ = job
        return all(i < len(completions) for i in rows) and [completion_text(completions[i]) for i in rows] == texts

    def _local_slice(self, n_local: int) -> slice:
        start = self.accelerator.process_index * n_local
        return slice(start, start + n_local)

    # ----------------------------------------------------------------------------------------------------------------
    # Generation + scoring: ungraded masking, advantage estimators, dynamic sampling

    def _generate_and_score_completions(self, inputs):
        if not self.model.training:  # evaluation: no dynamic sampling, and its time stays out of the step timers
            saved = dict(self._timers)
            output = self._score_batch(inputs)
            self._timers = defaultdict(float, saved)
            return output
        start = time.perf_counter()
        generation_before, rewards_before = self._timers["generation"], self._timers["rewards_wait"]
        output = self._dynamic_sample(inputs) if self.args.dynamic_sampling else self._score_batch(inputs)
        elapsed = time.perf_counter() - start
        inner = (self._timers["generation"] - generation_before) + (self._timers["rewards_wait"] - rewards_before)
        self._timers["logps"] += elapsed - inner  # the no-grad forward passes for old / reference log-probs
        self._timers["in_prepare"] += elapsed
        return output

    def _score_batch(self, inputs) -> dict[str, Any]:
        """One TRL generation + scoring round: ungraded rows masked out of the loss, advantages from the estimator."""
        self._batch_inputs = inputs  # read by _generate, to start grading as soon as completions are decoded
        output = super()._generate_and_score_completions(inputs)
        if self.args.advantage != "grpo":
            self._replace_advantages(output, len(inputs))
        ungraded = self._last_ungraded[self._local_slice(len(inputs))]  # (B_local,)
        if ungraded.any():
            keep = (~ungraded).to(output["completion_mask"].device, output["completion_mask"].dtype)  # (B_local,)
            output["completion_mask"] = output["completion_mask"] * keep.unsqueeze(1)  # (B_local, T)
            output["num_items_in_batch"] = self._count_loss_tokens(output)
        return output

    def _weighted_rewards(self) -> torch.Tensor:
        """(N,) weighted reward sum of the last scored batch over all processes; NaN for ungraded rows."""
        rewards = self._last_rewards  # (N, F), ungraded rows all NaN
        weighted = (rewards * self.reward_weights.to(rewards.device)).nansum(dim=1)  # (N,)
        weighted[torch.isnan(rewards).all(dim=1)] = torch.nan
        return weighted

    def _replace_advantages(self, output: dict[str, Any], n_local: int) -> None:
        """Advantages from ``rlvr.advantages`` instead of TRL's z-score, on the rewards of all processes."""
        if self.args.advantage == "process":
            return self._process_advantages(output, n_local)
        lengths = self.accelerator.gather(output["completion_mask"].sum(dim=1).float())  # (N,)
        mode = "train" if self.model.training else "eval"
        group = self.num_generations if mode == "train" else self.num_generations_eval
        advantages = compute_advantages(
            self.args.advantage,
            self._weighted_rewards(),
            group,
            lengths=lengths.to(self._last_rewards.device),
            k=self.args.passk_k,
        )  # (N,)
        output["advantages"] = advantages[self._local_slice(n_local)].to(output["advantages"].device)
        logged = self._logs["advantages"]  # TRL's completions table: show the advantages that are trained on
        for _ in range(min(len(advantages), len(logged))):
            logged.pop()
        logged.extend(advantages.tolist())

    def _process_advantages(self, output: dict[str, Any], n_local: int) -> None:
        """Token-level advantages (B, T) from per-step rewards (GRPO process supervision): each reward function's
        StepRewards, weighted; a plain float reward is one step ending at the completion's last token."""
        lengths = output["completion_mask"].sum(dim=1).tolist()  # (B_local,)
        local = self._local_slice(n_local)
        weights = self.reward_weights.tolist()
        steps: list[list[tuple[int, float]] | None] = []
        for row, n_tokens in zip(range(local.start, local.stop), lengths, strict=True):
            if torch.isnan(self._last_rewards[row]).all():
                steps.append(None)
                continue
            parts: list[tuple[int, float]] = []
            for column, func in enumerate(self.reward_funcs):
                raw = func.last[row - local.start] if isinstance(func, StepCapture) else None
                if raw is not None and hasattr(raw, "steps"):
                    parts += [(end, weights[column] * r) for end, r in raw.steps]
                elif not torch.isnan(self._last_rewards[row, column]):
                    parts.append((max(int(n_tokens), 1), weights[column] * float(self._last_rewards[row, column])))
            steps.append(parts)
        group = self.num_generations if self.model.training else self.num_generations_eval
        width = output["completion_ids"].shape[1]
        advantages = process_advantages(steps, group, width).to(output["completion_mask"].device, torch.float32)
        output["advantages"] = advantages  # (B, T)
        logged = self._logs["advantages"]  # the completions table shows each row's advantage at its first token
        for _ in range(min(len(steps), len(logged))):
            logged.pop()
        logged.extend(advantages[:, 0].tolist())

    def _local_spread(self, n_local: int) -> torch.Tensor:
        """(B_local,) bool for the last scored batch: does the row's group have reward spread (weighted sum)?"""
        return _group_has_spread(self._weighted_rewards()[self._local_slice(n_local)], self.num_generations)

    def _count_loss_tokens(self, output: dict[str, Any]) -> torch.Tensor:
        mask = output["completion_mask"]
        if "tool_mask" in output:
            mask = mask * output["tool_mask"]
        return self.accelerator.gather(mask.sum()).sum()

    def _dynamic_sample(self, inputs) -> dict[str, Any]:
        """DAPO dynamic sampling: keep groups with reward spread, refill from fresh prompts, keep the batch size."""
        target = len(inputs)
        self._rounds_left, self._speculated = self.args.max_resample_rounds, [0, 0]
        output = self._score_batch(inputs)
        keep = self._local_spread(target)
        kept, spare = [(output, keep)], [(output, ~keep)]
        generated, dropped, rounds = int(keep.numel()), int((~keep).sum()), 0
        while self._any_process_short(sum(int(k.sum()) for _, k in kept) < target):
            if rounds >= self.args.max_resample_rounds:
                break
            rounds += 1
            self._rounds_left = self.args.max_resample_rounds - rounds
            fresh = self._speculation.inputs if self._speculation is not None else self._next_resample_batch()
            output = self._score_batch(fresh)
            keep = self._local_spread(len(fresh))
            kept.append((output, keep))
            spare.append((output, ~keep))
            generated, dropped = generated + int(keep.numel()), dropped + int((~keep).sum())
        self._rounds_left = 0
        if self._speculation is not None:
            self._undo_speculation()
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
        pad_id = self._tokenizer.pad_token_id
        batch = _concat_outputs([_select(out, rows) for out, rows in pieces], pad_id)
        batch["num_items_in_batch"] = self._count_loss_tokens(batch)
        self._metrics["train"]["dynamic_sampling/frac_groups_dropped"].append(dropped / max(generated, 1))
        self._metrics["train"]["dynamic_sampling/extra_rounds"].append(float(rounds))
        if self.args.speculative_resampling:
            self._metrics["train"]["dynamic_sampling/speculative_rounds"].append(float(self._speculated[0]))
            self._metrics["train"]["dynamic_sampling/speculative_rounds_used"].append(float(self._speculated[1]))
        return batch

    # ----------------------------------------------------------------------------------------------------------------
    # Speculative resampling: the next round is generated while this round is graded

    def _may_speculate(self, inputs) -> bool:
        """Only in a dynamic-sampling step with rounds left, while grading is still running, on one process, with
        plain text prompts generated by TRL itself (nothing whose state cannot be put back)."""
        if not (self.args.speculative_resampling and self._rounds_left > 0 and self.model.training):
            return False
        if self._speculation is not None:
            return False
        if self.rollout_func is not None or self.environments or self.tools or {"image", "images"} & set(inputs[0]):
            return False
        return any(getattr(f, "grading", lambda: False)() for f in self.reward_funcs)

    def _speculate(self) -> None:
        """Generate the next resampling round now (its grading starts at once), keeping what it moves: the random
        state, the resampling iterator, the generation metrics and token count, for ``_undo_speculation``."""
        state = _Snapshot(
            rng=torch.get_rng_state(),
            cuda_rng=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            audit_rng=self._audit_rng.get_state(),
            metrics={k: len(v) for k, v in self._metrics["train"].items()},
            num_tokens=list(self._metrics["train"].get("num_tokens", [])),
            tokens_seen=self.state.num_input_tokens_seen,
            iterator=self._resample_iter,
            epoch=self._resample_epoch,
        )
        fresh = self._next_resample_batch()
        self._batch_inputs = fresh  # read by _generate, which starts grading it at once
        result = self._generate([x["prompt"] for x in fresh])
        added = {k: (state.metrics.get(k, 0), len(v)) for k, v in self._metrics["train"].items()}
        self._speculation = _Speculation(fresh, result, state, added)
        self._speculated[0] += 1

    def _undo_speculation(self) -> None:
        """The speculative round was not needed: forget its grading and put back everything its generation moved,
        so the rest of training is what it would have been without it."""
        speculation, self._speculation = self._speculation, None
        fresh, result, state = speculation.inputs, speculation.result, speculation.state
        columns = {k: [row[k] for row in fresh] for k in fresh[0] if k not in ("prompt", "completion")}
        for func in self.reward_funcs:
            if hasattr(func, "discard"):
                func.discard(result[3], **columns)
        self._audit_pending = [job for job in self._audit_pending if not self._audits(job, result[3])]
        torch.set_rng_state(state.rng)
        if state.cuda_rng is not None:
            torch.cuda.set_rng_state_all(state.cuda_rng)
        self._audit_rng.set_state(state.audit_rng)
        metrics = self._metrics["train"]
        for key, (start, end) in speculation.added.items():  # entries logged since belong to the rounds kept
            del metrics[key][start:end]
            if not metrics[key]:
                del metrics[key]
        if state.num_tokens:
            metrics["num_tokens"] = state.num_tokens
        else:
            metrics.pop("num_tokens", None)
        self.state.num_input_tokens_seen = state.tokens_seen
        if self._resample_iter is state.iterator:  # the batch came from the running iterator: hand it out next
            self._resample_stash = fresh
        else:  # a new iterator (and its random seed) was drawn for it: draw it again when it is needed
            self._resample_iter, self._resample_epoch = None, state.epoch

    def _any_process_short(self, short: bool) -> bool:
        flag = torch.tensor([1.0 if short else 0.0], device=self.accelerator.device)
        return bool(self.accelerator.gather(flag).sum().item() > 0)

    def _next_resample_batch(self) -> list[dict[str, Any]]:
        """A fresh generation batch of prompts (each repeated num_generations times) from a separately seeded
        sampler, so that refills do not replay the prompts the main loop is about to see."""
        if self._resample_stash is not None:
            fresh, self._resample_stash = self._resample_stash, None
            return fresh
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
            **{key: inputs.get(key) for key in self._forward_keys},
        )  # (B, T)
        old_logps = inputs.get("old_per_token_logps")
        old_logps = logps.detach() if old_logps is None else old_logps  # on-policy step: ratio 1, gradient intact
        mode = "train" if self.model.training else "eval"
        name = self.args.policy_loss
        entropy_mask = None
        if self.top_entropy_quantile < 1.0:
            entropy_mask = self.get_high_entropy_mask(entropies, mask, 1 - self.top_entropy_quantile)  # (B, T)
        loss, metrics = policy_loss(
            name,
            logps=logps,
            old_logps=old_logps,
            advantages=inputs["advantages"],
            mask=mask,
            epsilon_low=self.epsilon_low,
            epsilon_high=self.epsilon_high,
            **self._loss_options(inputs, mode, logps, old_logps, mask, entropy_mask),
        )
        if not loss_accepts(name, "num_tokens") and mode == "train":
            loss = loss / self.current_gradient_accumulation_steps
        if self._entropy_bonus_enabled:
            loss = self._add_entropy_bonus(loss, entropies, mask, entropy_mask, mode)
        if self.aux_loss_enabled:
            normalizer = self.current_gradient_accumulation_steps if mode == "train" else 1.0
            loss = loss + self.router_aux_loss_coef * aux_loss / normalizer
            self._metrics[mode]["aux_loss"].append(self.accelerator.gather(aux_loss.detach()).mean().item())
        self._log_loss_metrics(mode, metrics, entropies, mask)
        return loss

    def _loss_options(self, inputs, mode, logps, old_logps, mask, entropy_mask) -> dict[str, Any]:
        """Keyword options for ``policy_loss``: only what the chosen loss takes (the config check refused the rest)."""
        name, args = self.args.policy_loss, self.args
        options: dict[str, Any] = {}
        if self.beta != 0.0:
            options.update(
                beta=self.beta,
                ref_logps=inputs["ref_per_token_logps"],
                kl_importance_weighting=args.use_bias_correction_kl,
            )
        weights = self._sample_weights(inputs, logps, old_logps, mask, entropy_mask)
        if weights is not None:
            options["sample_weights"] = weights
        if loss_accepts(name, "level"):
            options["level"] = args.importance_sampling_level
        for config_field, keyword in _LOSS_KEYWORDS.items():
            if loss_accepts(name, keyword) and getattr(args, config_field) is not None:
                options[keyword] = getattr(args, config_field)
        if loss_accepts(name, "max_length"):
            options["max_length"] = self.max_completion_length
        if loss_accepts(name, "is_ratio") and self.use_vllm and self.vllm_importance_sampling_correction:
            options["is_ratio"] = inputs.get("importance_sampling_ratio")
        if loss_accepts(name, "num_tokens"):
            # num_items_in_batch counts the loss tokens of the whole generation batch on all processes; one optimizer
            # step sees gradient_accumulation_steps of its steps_per_generation slices (TRL's DAPO normaliser).
            tokens = inputs["num_items_in_batch"] / self.accelerator.num_processes
            if mode == "train":
                tokens = tokens * self.current_gradient_accumulation_steps / args.steps_per_generation
            options["num_tokens"] = tokens
        return options

    def _sample_weights(self, inputs, logps, old_logps, mask, entropy_mask) -> torch.Tensor | None:
        """TRL's multipliers on the per-token policy term, in one tensor: the entropy mask, the off-policy sequence
        mask (DeepSeek-V3.2), and the vLLM importance weights (except for vespo, which takes them inside w)."""
        weights = None if entropy_mask is None else entropy_mask.to(logps.dtype)  # (B, T)
        if self.off_policy_mask_threshold is not None:
            advantages = inputs["advantages"]
            advantages = advantages.unsqueeze(1) if advantages.dim() == 1 else advantages
            off_policy = self.get_off_policy_mask(
                advantages=advantages,
                per_token_logps=logps,
                sampling_per_token_logps=inputs.get("sampling_per_token_logps", old_logps),
                mask=mask,
                off_policy_threshold=self.off_policy_mask_threshold,
            )  # (B, 1)
            weights = off_policy if weights is None else weights * off_policy
        if (
            self.use_vllm
            and self.vllm_importance_sampling_correction
            and not loss_accepts(self.args.policy_loss, "is_ratio")
        ):
            ratio = inputs["importance_sampling_ratio"]  # (B, T) or (B, 1)
            weights = ratio if weights is None else weights * ratio
        return weights

    def _add_entropy_bonus(self, loss, entropies, mask, entropy_mask, mode: str) -> torch.Tensor:
        """L - c * H: H the mean entropy of the tokens the policy term acts on, scaled for accumulation only; with
        use_adaptive_entropy, c follows TRL's controller (its state lives on the trainer TRL built)."""
        self._metrics[mode]["policy_loss"].append(self.accelerator.gather(loss.detach()).nanmean().item())
        effective = mask if entropy_mask is None else mask * entropy_mask
        accumulation = self.current_gradient_accumulation_steps if mode == "train" else 1.0
        entropy = (entropies * effective).sum() / effective.sum().clamp(min=1.0) / accumulation
        if self.use_adaptive_entropy:
            coef = self.entropy_coef if self._last_world_entropy <= self.args.entropy_target else 0.0
        else:
            coef = self.entropy_coef
        loss = loss - coef * entropy
        if self.use_adaptive_entropy and mode == "train":
            self._update_entropy_controller(entropies, effective)
        if mode == "train" and self.accelerator.sync_gradients:
            self._metrics[mode]["entropy_coef"].append(self.entropy_coef)
        return loss

    def _update_entropy_controller(self, entropies, effective) -> None:
        """Accumulate the window's entropy; at the optimizer-step boundary move the coefficient by entropy_coef_delta
        towards keeping the mean entropy at entropy_target (clamped to [entropy_coef_min, entropy_coef_max])."""
        stats = torch.stack([(entropies * effective).sum(), effective.sum()]).detach()
        window = self._entropy_window_stats
        self._entropy_window_stats = stats if window is None else window + stats
        if not self.accelerator.sync_gradients:
            return
        totals = self.accelerator.reduce(self._entropy_window_stats, reduction="sum")
        world_entropy = (totals[0] / totals[1].clamp(min=1.0)).item()
        args = self.args
        if world_entropy <= args.entropy_target:
            self.entropy_coef = min(self.entropy_coef + args.entropy_coef_delta, args.entropy_coef_max)
        else:
            self.entropy_coef = max(self.entropy_coef - args.entropy_coef_delta, args.entropy_coef_min)
        self._last_world_entropy = world_entropy
        self._entropy_window_stats = None

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
            for name in ("generation", "rewards", "rewards_wait", "logps", "update"):
                self._metrics["train"][f"time/{name}"].append(self._timers[name])
            self._timers.clear()
        return output


# --------------------------------------------------------------------------------------------------------------------
# Helpers


def _as_rlvr_config(args: GRPOConfig | None, model: Any) -> RLVRConfig:
    if isinstance(args, RLVRConfig):
        return args
    if args is None:
        name = model if isinstance(model, str) else getattr(getattr(model, "config", None), "_name_or_path", "model")
        return RLVRConfig(output_dir=f"{str(name).rstrip('/').split('/')[-1] or 'model'}-RLVR")
    raise TypeError(
        f"RLVRTrainer needs args=rlvr.trainer.RLVRConfig(...), got {type(args).__name__}; RLVRConfig takes every "
        "GRPOConfig field plus policy_loss, advantage, overlong_*, dynamic_sampling, max_resample_rounds"
    )


def _with_extra_weights(args: RLVRConfig, n_funcs: int, n_extra: int) -> RLVRConfig:
    """A copy of ``args`` whose reward_weights cover the appended shaping functions (weight 1); the caller's config
    is left as it was, so it can build a second trainer."""
    if args.reward_weights is None:
        return args
    if len(args.reward_weights) != n_funcs:
        raise ValueError(f"reward_weights has {len(args.reward_weights)} entries for {n_funcs} reward functions")
    args = copy.copy(args)
    args.reward_weights = [*args.reward_weights, *([1.0] * n_extra)]
    return args


_STATUSES = ("correct", "wrong", "no_answer", "timeout", "error")


@dataclass
class _Snapshot:
    """What generating a speculative round moves, to put back when the round is not needed."""

    rng: torch.Tensor
    cuda_rng: list[torch.Tensor] | None
    audit_rng: torch.Tensor
    metrics: dict[str, int]  # length of each train metric's list
    num_tokens: list[float]  # TRL's num_tokens (a running total it re-sets, not a list it appends to)
    tokens_seen: int
    iterator: Any
    epoch: int


@dataclass
class _Speculation:
    inputs: list[dict[str, Any]]  # the resampled prompts (the batch TRL will be handed)
    result: tuple  # TRL's _generate output for them
    state: _Snapshot
    added: dict[str, tuple[int, int]]  # the train-metric entries its generation logged: list slices [start, end)


def _audit_scorer(args: RLVRConfig, reward_funcs: list[Any]) -> tuple[VerifierReward, Any] | None:
    """(the audited verifier reward, the audit verifier's scorer), or None without an audit."""
    if args.audit_fraction <= 0:
        return None
    audited = next((f for f in reward_funcs if isinstance(f, VerifierReward)), None)
    if audited is None:
        raise ValueError("audit_fraction > 0 needs a VerifierReward among the reward functions to audit")
    return audited, get_scorer(args.audit_verifier, workers=audited.workers, timeout=audited.timeout)


def _is_sync_function(func: Any) -> bool:
    """A plain synchronous reward callable (not a reward model, a model id or an async function)."""
    if isinstance(func, (str, torch.nn.Module)) or not callable(func):
        return False
    call = func if inspect.isfunction(func) or inspect.ismethod(func) else type(func).__call__
    return not inspect.iscoroutinefunction(call)


def _forward_keywords(method) -> tuple[str, ...]:
    """The optional model inputs (pixel_values, image_grid_thw, ...) TRL's log-prob helper takes: read from its
    signature, so that a key TRL adds is passed on without a copied list."""
    skip = {"self", "model", "input_ids", "attention_mask", "logits_to_keep", "batch_size", "compute_entropy",
            "compute_aux_loss"}  # fmt: skip
    return tuple(p for p in inspect.signature(method).parameters if p not in skip)


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


_RECOMPUTED = {"num_items_in_batch"}  # a batch total: recounted after re-batching


def _select(output: dict[str, Any], index: torch.Tensor) -> dict[str, Any]:
    """Rows ``index`` of a TRL batch dict. Every key must be a per-row tensor (first dimension = the batch); anything
    else (multimodal side inputs, counts) cannot be re-batched by row and is refused by name."""
    rows = output["completion_ids"].shape[0]
    bad = [
        k for k, v in output.items() if k not in _RECOMPUTED and not (torch.is_tensor(v) and v.shape[:1] == (rows,))
    ]
    if bad:
        raise ValueError(
            f"dynamic_sampling cannot re-batch {sorted(bad)} by row; turn dynamic_sampling off for this run"
        )
    return {k: v if k in _RECOMPUTED else v[index.to(v.device)] for k, v in output.items()}


def _layout(key: str, value: torch.Tensor, parts: list[dict[str, Any]]) -> str | None:
    """How a key of TRL's batch dict is re-padded, from TRL's own conventions: (B,) and (B, 1) tensors need none;
    (B, width) tensors aligned with the prompt (TRL names them prompt_*) are left-padded, those aligned with the
    completion are right-padded. A width matching neither is refused rather than guessed."""
    if value.dim() == 1 or all(p[key].shape[1] == 1 for p in parts):
        return None
    anchor = "prompt_ids" if key.startswith("prompt") else "completion_ids"
    if any(p[key].shape[1] != p[anchor].shape[1] for p in parts):
        raise ValueError(f"dynamic_sampling: {key!r} is not aligned with {anchor!r}; cannot re-batch it")
    return "left" if anchor == "prompt_ids" else "right"


def _concat_outputs(parts: list[dict[str, Any]], pad_id: int) -> dict[str, Any]:
    """Concatenate TRL batch dicts row-wise, re-padding prompts on the left and completions on the right. Padded
    positions are outside every mask; token ids get the pad id, everything else 0."""
    out: dict[str, Any] = {}
    for key in parts[0]:
        if key in _RECOMPUTED:
            continue
        values = [p[key] for p in parts]
        side = _layout(key, values[0], parts)
        if side is not None:
            width = max(v.shape[1] for v in values)
            filler = pad_id if key.endswith("_ids") else 0
            values = [_pad_to(v, width, filler, side) for v in values]
        out[key] = torch.cat(values, dim=0)
    return out


def _pad_to(x: torch.Tensor, width: int, value: float, side: str) -> torch.Tensor:
    extra = width - x.shape[1]
    if extra == 0:
        return x
    filler = torch.full((x.shape[0], extra), value, dtype=x.dtype, device=x.device)
    return torch.cat([filler, x] if side == "left" else [x, filler], dim=1)
