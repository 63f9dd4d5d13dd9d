"""GRPO-family policy losses as pure functions on tensors, registered by name.

Every loss takes per-token log-probabilities under the current policy (``logps``, with grad) and under the policy
that sampled the completions (``old_logps``), the advantages, and the completion mask, and returns
``(loss, metrics)``. Nothing here knows about TRL or a model: the trainer computes the log-probabilities and calls
``policy_loss(name, ...)``; tests check each loss against hand-computed values, an independent oracle and, for the
names TRL also has, TRL's own ``GRPOTrainer``.

The names form one space with TRL's ``loss_type``: every TRL 1.16 loss (grpo, bnpo, dr_grpo, dapo, cispo, sapo, luspo,
vespo) is registered here under the same name with the same objective, plus gspo, gspo_token, gmpo and dppo.

Shapes: B sequences, T completion tokens. ``logps``, ``old_logps``, ``mask``: (B, T). ``advantages``: (B,) (one per
sequence, as GRPO computes them) or (B, T) for the token-level losses.

Notation (all losses are minimised, i.e. they are the negated objectives of the papers):
  r_{i,t} = exp(logp_{i,t} - old_logp_{i,t})          per-token importance ratio
  s_i     = exp(mean_t log r_{i,t})                   sequence-level ratio (GSPO eq. 7), used when level="sequence"
  clip(x) = clamp(x, 1 - epsilon_low, 1 + epsilon_high)
  L_{i,t} = -min(r_{i,t} A_i, clip(r_{i,t}) A_i)      PPO's clipped surrogate (Schulman et al. 2017, eq. 7)

Options every loss accepts (anything else a loss does not name in its signature is an error, never ignored):
  ``ref_logps`` (B, T) and ``beta``: adds ``beta`` times the k3 estimator of KL(pi || pi_ref) per token
  (DeepSeekMath, Shao et al. 2024, eq. 4), aggregated the same way as the loss itself (as TRL does);
  ``kl_importance_weighting``: multiply that per-token KL by the loss's importance ratio (TRL's
  ``use_bias_correction_kl``), which makes it unbiased when the tokens were sampled from pi_old.
  ``sample_weights`` (B, T) or (B, 1): detached per-token / per-sequence multipliers on the policy term, applied
  before the KL term is added. The trainer folds into it, as TRL does inside its own loss: the entropy mask
  (``top_entropy_quantile``), the off-policy sequence mask (``off_policy_mask_threshold``) and the truncated vLLM
  importance weights.

Options some losses accept (see each signature): ``level`` ("token" or "sequence": the ratio r_{i,t} or s_i, TRL's
``importance_sampling_level``), ``delta`` (two-sided clipping: the unclipped ratio is capped at ``delta`` too, for
negative advantages; Li et al. 2025, TRL's ``delta``), ``num_tokens`` (the token count of the whole accumulation
window for token-mean losses), ``max_length`` (Dr. GRPO's constant), the SAPO temperatures, the VESPO gamma shape.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import torch

from rlvr.registry import Registry

LossFn = Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]]

LOSSES: Registry[LossFn] = Registry("loss", "rlvr.losses")

# The options ``_with_penalty`` consumes; every loss accepts them through **penalty.
PENALTY_OPTIONS = ("beta", "ref_logps", "kl_importance_weighting", "sample_weights")


def register_loss(name: str) -> Callable[[LossFn], LossFn]:
    """Decorator: register a policy loss under ``name`` (a duplicate name is an error)."""
    return LOSSES.register(name)  # type: ignore[return-value]


def loss_accepts(name: str, option: str) -> bool:
    """Does loss ``name`` take keyword ``option``? (The trainer refuses a TRL option the chosen loss would not use.)"""
    return option in PENALTY_OPTIONS or option in _parameters(LOSSES.get(name))


@functools.lru_cache(maxsize=256)
def _parameters(fn: LossFn) -> frozenset[str]:
    return frozenset(inspect.signature(fn).parameters)


def policy_loss(
    name: str,
    *,
    logps: torch.Tensor,
    old_logps: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    epsilon_low: float = 0.2,
    epsilon_high: float = 0.2,
    **options: Any,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Compute the registered loss ``name``; returns the scalar loss and detached scalar metrics.

    Metrics: ``clip_ratio/low``, ``clip_ratio/high`` (fraction of tokens, or of sequences for sequence-level ratios,
    whose ratio is clipped or masked in the direction that zeroes the gradient), ``ratio/mean``, ``approx_kl`` (k3
    estimate of KL(pi_old || pi) over the completion tokens) and, when ``beta`` > 0, ``kl`` (k3 estimate of
    KL(pi || pi_ref)).
    """
    _check_shapes(name, logps, old_logps, advantages, mask)
    fn = LOSSES.get(name)
    mask = mask.to(logps.dtype)
    return fn(
        logps=logps,
        old_logps=old_logps,
        advantages=advantages.to(logps.dtype),
        mask=mask,
        epsilon_low=epsilon_low,
        epsilon_high=epsilon_high,
        **options,
    )


# --------------------------------------------------------------------------------------------------------------------
# Shared pieces


def _check_shapes(name: str, logps, old_logps, advantages, mask) -> None:
    if logps.dim() != 2 or old_logps.shape != logps.shape or mask.shape != logps.shape:
        raise ValueError(
            f"loss {name!r}: logps, old_logps and mask must all be (B, T); got {tuple(logps.shape)}, "
            f"{tuple(old_logps.shape)}, {tuple(mask.shape)}"
        )
    if advantages.shape not in (logps.shape[:1], logps.shape):
        raise ValueError(
            f"loss {name!r}: advantages must be (B,) or (B, T) = {tuple(logps.shape)}; got {tuple(advantages.shape)}"
        )


def _per_sequence(name: str, advantages: torch.Tensor) -> torch.Tensor:
    """(B,) -> (B, 1); sequence-level losses refuse token-level advantages instead of silently averaging them."""
    if advantages.dim() != 1:
        raise ValueError(f"loss {name!r} needs one advantage per sequence, shape (B,); use 'gspo_token' for (B, T)")
    return advantages.unsqueeze(1)  # (B, 1)


def _as_column(advantages: torch.Tensor) -> torch.Tensor:
    return advantages.unsqueeze(1) if advantages.dim() == 1 else advantages  # (B, 1) or (B, T)


def _clipped_surrogate(
    ratio: torch.Tensor, advantages: torch.Tensor, eps_low: float, eps_high: float, delta: float | None = None
) -> torch.Tensor:
    """PPO's per-element loss -min(r A, clip(r) A) (Schulman et al. 2017, eq. 7), with DAPO's decoupled bounds.

    ``delta``: two-sided clipping; the unclipped branch uses min(r, delta), so a negative advantage cannot push an
    already large ratio further without bound (TRL's ``delta``)."""
    clipped = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high)
    if delta is not None:
        ratio = torch.clamp(ratio, max=delta)
    return -torch.min(ratio * advantages, clipped * advantages)  # (B, T) or (B, 1)


def _seq_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over each sequence's tokens: (B, T) -> (B,). A (B, 1) input broadcasts (its value is per sequence)."""
    x = x.expand_as(mask)  # (B, T)
    return (x * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)  # (B,)


def _sample_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """GRPO aggregation (Shao et al. 2024, eq. 3): mean over each sequence's tokens, then over sequences."""
    return _seq_mean(x, mask).mean()


def _token_sum(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x.expand_as(mask) * mask).sum()


def _token_mean(x: torch.Tensor, mask: torch.Tensor, num_tokens: Any = None) -> torch.Tensor:
    """DAPO aggregation (eq. 8): one mean over every token of the batch, or of ``num_tokens`` when given."""
    denominator = mask.sum().clamp(min=1.0) if num_tokens is None else torch.as_tensor(num_tokens).clamp(min=1.0)
    return _token_sum(x, mask) / denominator


def _k3(logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """Unbiased, non-negative KL(pi || pi_ref) estimator, per token (Schulman 2020; DeepSeekMath eq. 4)."""
    delta = ref_logps - logps  # (B, T)
    return torch.exp(delta) - delta - 1.0  # (B, T)


def _ratio(logps: torch.Tensor, old_logps: torch.Tensor, mask: torch.Tensor, level: str) -> torch.Tensor:
    """Importance ratio at ``level``: token r_{i,t} (B, T) or sequence s_i (B, 1) (GSPO eq. 7)."""
    log_ratio = logps - old_logps  # (B, T)
    if level == "token":
        return torch.exp(log_ratio)
    if level == "sequence":
        return torch.exp(_seq_mean(log_ratio, mask)).unsqueeze(1)  # (B, 1)
    raise ValueError(f"importance-sampling level must be 'token' or 'sequence'; got {level!r}")


def _with_penalty(
    name: str, policy_term: torch.Tensor, options: dict[str, Any], logps: torch.Tensor, ratio: torch.Tensor
) -> torch.Tensor:
    """Apply ``sample_weights`` to the policy term, then add ``beta * KL`` per token (both as TRL orders them).

    With ``kl_importance_weighting`` the per-token KL is multiplied by the loss's own importance ratio: the tokens were
    sampled from pi_old, so this makes the estimate unbiased for KL(pi || pi_ref) (DeepSeek-V3.2 report, sec. 3.1;
    TRL's ``use_bias_correction_kl``). An option nobody consumes is an error: a silently ignored option is a wrong
    run."""
    unknown = set(options) - set(PENALTY_OPTIONS)
    if unknown:
        raise TypeError(f"loss {name!r} does not take option(s) {sorted(unknown)}")
    weights = options.get("sample_weights")
    if weights is not None:
        policy_term = policy_term * weights.detach()
    beta = float(options.get("beta", 0.0) or 0.0)
    if beta != 0.0:
        kl = _k3(logps, options["ref_logps"])  # (B, T)
        if options.get("kl_importance_weighting", False):
            kl = kl * ratio  # (B, T)
        policy_term = policy_term + beta * kl  # (B, T)
    return policy_term


def _metrics(
    ratio: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    log_ratio: torch.Tensor,
    options: dict[str, Any],
    logps: torch.Tensor,
    *,
    is_low: torch.Tensor,
    is_high: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Clip fractions, mean ratio and approximate KLs; token-weighted for (B, T) ratios, per sequence for (B, 1)."""
    with torch.no_grad():
        is_low, is_high = is_low.to(mask.dtype), is_high.to(mask.dtype)
        if ratio.shape[1] == 1:  # sequence-level: one value per sequence (sequences with no tokens don't count)
            has_tokens = (mask.sum(-1, keepdim=True) > 0).to(mask.dtype)  # (B, 1)

            def average(x):
                return (x.expand_as(has_tokens) * has_tokens).sum() / has_tokens.sum().clamp(min=1.0)
        else:

            def average(x):
                return _token_sum(x, mask) / mask.sum().clamp(min=1.0)

        metrics = {
            "clip_ratio/low": average(is_low),
            "clip_ratio/high": average(is_high),
            "ratio/mean": average(ratio),
            # k3 estimate of KL(pi_old || pi) on tokens sampled from pi_old: (r - 1) - log r
            "approx_kl": _token_sum(torch.expm1(log_ratio) - log_ratio, mask) / mask.sum().clamp(min=1.0),
        }
        if float(options.get("beta", 0.0) or 0.0) != 0.0:
            kl = _k3(logps.detach(), options["ref_logps"])  # (B, T)
            if options.get("kl_importance_weighting", False):
                kl = kl * ratio  # (B, T): the same importance-weighted estimate the loss uses
            metrics["kl"] = _token_sum(kl, mask) / mask.sum().clamp(min=1.0)
        return metrics


def _clip_metrics(ratio, adv, mask, logps, old_logps, eps_low, eps_high, options, low=None, high=None):
    low = 1.0 - eps_low if low is None else low
    high = 1.0 + eps_high if high is None else high
    return _metrics(
        ratio,
        adv,
        mask,
        logps - old_logps,
        options,
        logps,
        is_low=(ratio < low) & (adv < 0),
        is_high=(ratio > high) & (adv > 0),
    )


# --------------------------------------------------------------------------------------------------------------------
# The clipped surrogate with five normalisations (TRL's grpo, bnpo, dr_grpo, dapo, luspo)


def _clipped_terms(logps, old_logps, advantages, mask, eps_low, eps_high, level, delta, penalty, name):
    ratio = _ratio(logps, old_logps, mask, level)  # (B, T) or (B, 1)
    adv = _as_column(advantages)  # (B, 1) or (B, T)
    per_token = _clipped_surrogate(ratio, adv, eps_low, eps_high, delta)
    per_token = _with_penalty(name, per_token, penalty, logps, ratio)
    return per_token, _clip_metrics(ratio, adv, mask, logps, old_logps, eps_low, eps_high, penalty)


@register_loss("grpo")
def grpo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, level="token", delta=None, **penalty):
    """GRPO (Shao et al. 2024, DeepSeekMath eq. 3):
    J = 1/G sum_i 1/|o_i| sum_t min(r_{i,t} A_i, clip(r_{i,t}) A_i) - beta KL:
    per-token clipped ratio, mean over each sequence's tokens, then mean over sequences. With level="sequence" the
    ratio is s_i and this is GSPO (Zheng et al. 2025, eq. 5)."""
    per_token, metrics = _clipped_terms(
        logps, old_logps, advantages, mask, epsilon_low, epsilon_high, level, delta, penalty, "grpo"
    )
    return _sample_mean(per_token, mask), metrics


@register_loss("bnpo")
def bnpo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, level="token", delta=None, **penalty):
    """BNPO as TRL defines the name (batch-normalised): the clipped surrogate averaged over every active token of the
    local batch, J = 1 / sum_i |o_i| sum_i sum_t min(r A, clip(r) A), i.e. DAPO's eq. 8 normalised per micro-batch
    instead of over the accumulation window (equal to GRPO for one sequence per micro-batch)."""
    per_token, metrics = _clipped_terms(
        logps, old_logps, advantages, mask, epsilon_low, epsilon_high, level, delta, penalty, "bnpo"
    )
    return _token_mean(per_token, mask), metrics


@register_loss("dr_grpo")
def dr_grpo_loss(
    *,
    logps,
    old_logps,
    advantages,
    mask,
    epsilon_low,
    epsilon_high,
    max_length=None,
    level="token",
    delta=None,
    **penalty,
):
    """Dr. GRPO (Liu et al. 2025, "Understanding R1-Zero-Like Training", eq. 3): GRPO without the per-sequence 1/|o_i|,
    J = 1/(G L_max) sum_i sum_t min(r A, clip(r) A): the token sum divided by a constant, B * ``max_length`` (the
    generation budget), so long and short answers carry the same weight per token."""
    if not max_length:
        raise ValueError("loss 'dr_grpo' needs max_length= (the maximum completion length, a constant)")
    per_token, metrics = _clipped_terms(
        logps, old_logps, advantages, mask, epsilon_low, epsilon_high, level, delta, penalty, "dr_grpo"
    )
    return _token_sum(per_token, mask) / (mask.shape[0] * float(max_length)), metrics


@register_loss("dapo")
def dapo_loss(
    *,
    logps,
    old_logps,
    advantages,
    mask,
    epsilon_low,
    epsilon_high,
    num_tokens=None,
    level="token",
    delta=None,
    **penalty,
):
    """DAPO (Yu et al. 2025, eq. 8): J = 1 / sum_i |o_i| sum_i sum_t min(r A, clip(r, 1 - eps_low, 1 + eps_high) A),
    a token-level mean over the whole batch, with clip-higher (epsilon_high > epsilon_low, DAPO section 3.1).
    ``num_tokens`` replaces the denominator when the batch is a slice of a larger one (gradient accumulation: the
    trainer passes the token count of the whole accumulation window)."""
    per_token, metrics = _clipped_terms(
        logps, old_logps, advantages, mask, epsilon_low, epsilon_high, level, delta, penalty, "dapo"
    )
    return _token_mean(per_token, mask, num_tokens), metrics


@register_loss("luspo")
def luspo_loss(
    *, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, level="sequence", delta=None, **penalty
):
    """LUSPO (Length-Unbiased Sequence Policy Optimization, arXiv 2602.05261): GSPO's sequence-clipped objective with each
    sequence's term weighted by its length, J = 1/G sum_i |o_i| min(s_i A_i, clip(s_i) A_i), i.e. the per-token terms
    summed over each sequence, then averaged over sequences; this removes GSPO's bias towards short responses.
    The paper's ratio is sequence-level (the default here); level="token" gives the token-ratio variant TRL allows."""
    per_token, metrics = _clipped_terms(
        logps, old_logps, advantages, mask, epsilon_low, epsilon_high, level, delta, penalty, "luspo"
    )
    return (per_token.expand_as(mask) * mask).sum(-1).mean(), metrics


# --------------------------------------------------------------------------------------------------------------------
# Policy-gradient losses with a detached weight: CISPO, VESPO, DPPO; and SAPO's soft gate


@register_loss("cispo")
def cispo_loss(
    *, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, num_tokens=None, level="token", **penalty
):
    """CISPO (MiniMax-M1, arXiv 2506.13585, sec. 3.1): clip the importance-sampling weight, not the token update,
    J = 1 / sum_i |o_i| sum_i sum_t sg(r_hat_{i,t}) A_i log pi(o_{i,t}), r_hat = min(r, epsilon_high).

    Every token keeps a gradient (PPO's clip drops the ones outside the range); the weight is detached. As in TRL,
    ``epsilon_high`` is the cap on the ratio itself (the paper's 1 + eps^IS_high), not an offset from 1, and the lower
    bound is not used (the paper sets eps^IS_low large). Aggregated like DAPO (token mean, ``num_tokens``)."""
    ratio = _ratio(logps, old_logps, mask, level)  # (B, T) or (B, 1)
    adv = _as_column(advantages)
    weight = torch.clamp(ratio, max=epsilon_high).detach()
    per_token = _with_penalty("cispo", -weight * adv * logps, penalty, logps, ratio)  # (B, T)
    metrics = _metrics(
        ratio,
        adv,
        mask,
        logps - old_logps,
        penalty,
        logps,
        is_low=torch.zeros_like(ratio, dtype=torch.bool),
        is_high=(ratio > epsilon_high) & (adv > 0),
    )
    return _token_mean(per_token, mask, num_tokens), metrics


@register_loss("sapo")
def sapo_loss(
    *,
    logps,
    old_logps,
    advantages,
    mask,
    epsilon_low,
    epsilon_high,
    level="token",
    sapo_temperature_pos=1.0,
    sapo_temperature_neg=1.05,
    **penalty,
):
    """SAPO (Soft Adaptive Policy Optimization, arXiv 2511.20347): replace the hard clip by a smooth gate,
    J = 1/G sum_i 1/|o_i| sum_t f_{i,t}(r_{i,t}) A_i, f(r) = (4 / tau) sigmoid(tau (r - 1)),
    tau = tau_pos for A > 0 and tau_neg for A <= 0 (tau_neg > tau_pos damps negative updates faster). At r = 1 the
    gate's value is 2 / tau and its slope 1, so on-policy it has the plain policy gradient. Aggregated like GRPO.
    ``epsilon_low`` / ``epsilon_high`` are not part of the objective (only used for the clip metrics, which are 0)."""
    ratio = _ratio(logps, old_logps, mask, level)
    adv = _as_column(advantages)
    tau = torch.where(adv > 0, sapo_temperature_pos, sapo_temperature_neg)
    gate = torch.sigmoid(tau * (ratio - 1.0)) * 4.0 / tau
    per_token = _with_penalty("sapo", -gate * adv, penalty, logps, ratio)
    never = torch.zeros_like(ratio, dtype=torch.bool)
    metrics = _metrics(ratio, adv, mask, logps - old_logps, penalty, logps, is_low=never, is_high=never)
    return _sample_mean(per_token, mask), metrics


def vespo_weights(
    advantages: torch.Tensor,
    log_ratio: torch.Tensor,
    mask: torch.Tensor,
    is_ratio: torch.Tensor | None,
    k_pos: float,
    lambda_pos: float,
    k_neg: float,
    lambda_neg: float,
) -> torch.Tensor:
    """VESPO's gamma weight phi(w) = exp(lambda + k log w - lambda w) (phi(1) = 1) of the sequence ratio
    w = prod_t r_{i,t} (times the sampler correction), computed in log space; (k, lambda) by the sign of A. (B, 1)."""
    floor = math.log(1e-8)
    log_w = (torch.clamp(log_ratio, -20.0, 20.0) * mask).sum(-1, keepdim=True)  # (B, 1)
    if is_ratio is not None:  # the vLLM sampler's token weights enter w: log w += sum_t log(pi_old / pi_sampler)
        log_w = log_w + torch.clamp(torch.log(is_ratio), floor, 20.0).sum(-1, keepdim=True)
    log_w = torch.clamp(log_w, floor, 20.0)
    positive = advantages >= 0
    k = torch.where(positive, k_pos, k_neg)
    lam = torch.where(positive, lambda_pos, lambda_neg).clamp(min=1e-4)
    log_phi = lam + k * log_w - lam * torch.exp(log_w)
    return torch.exp(log_phi).nan_to_num(nan=0.0, posinf=0.0, neginf=0.0)  # (B, 1)


@register_loss("vespo")
def vespo_loss(
    *,
    logps,
    old_logps,
    advantages,
    mask,
    epsilon_low,
    epsilon_high,
    num_tokens=None,
    is_ratio=None,
    vespo_k_pos=2.0,
    vespo_lambda_pos=3.0,
    vespo_k_neg=3.0,
    vespo_lambda_neg=2.0,
    **penalty,
):
    """VESPO (Variational Sequence-Level Soft Policy Optimization, arXiv 2602.10693): a policy gradient weighted by a smooth
    gamma-shaped function of the sequence ratio instead of a clip,
    J = 1 / sum_i |o_i| sum_i sum_t sg(phi(w_i)) A_i log pi(o_{i,t}), phi(w) = e^lambda w^k e^(-lambda w).
    phi peaks at w = k / lambda and vanishes for w -> 0 and w -> inf, so stale or off-policy sequences fade out.
    The vLLM sampler correction enters w (``is_ratio``), not as a multiplier. Aggregated like DAPO."""
    log_ratio = logps - old_logps  # (B, T)
    adv = _as_column(advantages)
    phi = vespo_weights(
        adv, log_ratio.detach(), mask, is_ratio, vespo_k_pos, vespo_lambda_pos, vespo_k_neg, vespo_lambda_neg
    ).detach()
    ratio = torch.exp(log_ratio)
    per_token = _with_penalty("vespo", -phi * adv * logps, penalty, logps, ratio)
    never = torch.zeros_like(ratio, dtype=torch.bool)
    metrics = _metrics(ratio, adv, mask, log_ratio, penalty, logps, is_low=never, is_high=never)
    metrics["vespo/phi_mean"] = phi.detach().mean()
    return _token_mean(per_token, mask, num_tokens), metrics


@register_loss("dppo")
def dppo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, num_tokens=None, **penalty):
    """DPPO, Binary-TV (Divergence PPO; "Rethinking the Trust Region in LLM RL", arXiv 2602.04879; prime-rl's default):
    the trust region is the total-variation distance on the sampled token, |pi(o_t) - pi_old(o_t)|, not the ratio:
    J = 1 / sum_i |o_i| sum_i sum_t M_{i,t} r_{i,t} A_i, with M = 0 where the update would leave the region in the
    direction the advantage pushes (A > 0 and pi - pi_old > epsilon_high, or A <= 0 and pi - pi_old < -epsilon_low)
    and 1 elsewhere. The mask is detached; inside the region the gradient is r A grad log pi. The bounds are
    probability differences (the paper uses about 0.15-0.2), unlike PPO's ratio offsets. Aggregated like DAPO."""
    log_ratio = logps - old_logps  # (B, T)
    ratio = torch.exp(log_ratio)
    adv = _as_column(advantages)
    with torch.no_grad():
        moved = torch.exp(logps) - torch.exp(old_logps)  # (B, T)
        out_high = (moved > epsilon_high) & (adv > 0)
        out_low = (moved < -epsilon_low) & (adv <= 0)
        keep = (~(out_high | out_low)).to(logps.dtype)
    per_token = _with_penalty("dppo", -keep * ratio * adv, penalty, logps, ratio)
    metrics = _metrics(ratio, adv, mask, log_ratio, penalty, logps, is_low=out_low & (adv < 0), is_high=out_high)
    return _token_mean(per_token, mask, num_tokens), metrics


# --------------------------------------------------------------------------------------------------------------------
# Sequence-level losses


def _sequence_log_ratio(logps: torch.Tensor, old_logps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """GSPO eq. 7: log s_i = (1/|y_i|) sum_t log(pi(y_t) / pi_old(y_t)), a length-normalised sequence log-ratio."""
    return _seq_mean(logps - old_logps, mask).unsqueeze(1)  # (B, 1)


@register_loss("gspo")
def gspo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, delta=None, **penalty):
    """GSPO (Zheng et al. 2025, eqs. 5-7): one importance ratio per sequence, s_i = exp(mean_t log r_{i,t}), clipped at
    the sequence level, J = 1/G sum_i min(s_i A_i, clip(s_i) A_i). The paper's clip range is tiny
    (epsilon_low 3e-4, epsilon_high 4e-4) because s_i is a geometric mean of token ratios."""
    adv = _per_sequence("gspo", advantages)  # (B, 1)
    ratio = torch.exp(_sequence_log_ratio(logps, old_logps, mask))  # (B, 1)
    per_seq = _clipped_surrogate(ratio, adv, epsilon_low, epsilon_high, delta)  # (B, 1)
    per_token = _with_penalty("gspo", per_seq, penalty, logps, ratio)  # (B, 1), or (B, T) with weights / KL
    loss = _sample_mean(per_token, mask)  # a (B, 1) term averages to itself: mean over sequences
    return loss, _clip_metrics(ratio, adv, mask, logps, old_logps, epsilon_low, epsilon_high, penalty)


gspo_loss.ratio_level = "sequence"  # type: ignore[attr-defined]
gspo_loss.sequence_advantages_only = True  # type: ignore[attr-defined]


@register_loss("gspo_token")
def gspo_token_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, delta=None, **penalty):
    """GSPO-token (Zheng et al. 2025, eqs. 13-14): s_{i,t} = sg[s_i] * pi(y_t) / sg[pi(y_t)]. Its value is s_i and,
    when every token of a sequence has the same advantage, its value and gradient equal GSPO's (eq. 15-16); unlike GSPO
    it accepts one advantage per token (B, T)."""
    seq_log_ratio = _sequence_log_ratio(logps, old_logps, mask).detach()  # (B, 1): sg[log s_i]
    token_log_ratio = seq_log_ratio + logps - logps.detach()  # (B, T): value log s_i, gradient d logp_t
    ratio = torch.exp(token_log_ratio)  # (B, T)
    adv = _as_column(advantages)  # (B, 1) or (B, T)
    per_token = _clipped_surrogate(ratio, adv, epsilon_low, epsilon_high, delta)  # (B, T)
    per_token = _with_penalty("gspo_token", per_token, penalty, logps, ratio)  # (B, T)
    loss = _sample_mean(per_token, mask)
    return loss, _clip_metrics(ratio, adv, mask, logps, old_logps, epsilon_low, epsilon_high, penalty)


gspo_token_loss.ratio_level = "sequence"  # type: ignore[attr-defined]


@register_loss("gmpo")
def gmpo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, **penalty):
    """GMPO (Zhao et al. 2025, "Geometric-Mean Policy Optimization", eq. 4): maximise the geometric mean of the
    per-token clipped objectives, sgn(A_i) * prod_t |min(r_t A_i, clip(r_t, e^-eps_low, e^eps_high) A_i)|^(1/|o_i|).

    With one advantage per sequence this is A_i * exp(mean_t c_t), where c_t is the token log-ratio clipped in log
    space to [-epsilon_low, epsilon_high] on the side that limits the update (min for A > 0, max for A < 0). The
    paper's default range is epsilon_low = epsilon_high = 0.4 (log space)."""
    adv = _per_sequence("gmpo", advantages)  # (B, 1)
    log_ratio = logps - old_logps  # (B, T)
    sign = torch.sign(adv)  # (B, 1)
    clipped = torch.clamp(log_ratio, -epsilon_low, epsilon_high)  # (B, T)
    bounded = sign * torch.min(sign * log_ratio, sign * clipped)  # (B, T): pessimistic side, as in PPO's min
    geo_ratio = torch.exp(_seq_mean(bounded, mask)).unsqueeze(1)  # (B, 1)
    per_seq = -adv * geo_ratio  # (B, 1)
    token_ratio = torch.exp(log_ratio)  # (B, T): clip fractions are counted per token, in ratio space
    per_token = _with_penalty("gmpo", per_seq, penalty, logps, token_ratio)  # (B, T)
    loss = _sample_mean(per_token, mask)
    metrics = _clip_metrics(
        token_ratio,
        adv,
        mask,
        logps,
        old_logps,
        epsilon_low,
        epsilon_high,
        penalty,
        low=math.exp(-epsilon_low),
        high=math.exp(epsilon_high),
    )
    metrics["ratio/mean"] = geo_ratio.detach().mean()
    return loss, metrics


gmpo_loss.ratio_level = "sequence"  # type: ignore[attr-defined]
gmpo_loss.sequence_advantages_only = True  # type: ignore[attr-defined]
