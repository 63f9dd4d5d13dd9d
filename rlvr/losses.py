"""GRPO-family policy losses as pure functions on tensors, registered by name.

Every loss takes per-token log-probabilities under the current policy (``logps``, with grad) and under the policy
that sampled the completions (``old_logps``), the advantages, and the completion mask, and returns
``(loss, metrics)``. Nothing here knows about TRL or a model: the trainer computes the log-probabilities and calls
``policy_loss(name, ...)``; tests check each loss against hand-computed values and an independent oracle.

Shapes: B sequences, T completion tokens. ``logps``, ``old_logps``, ``mask``: (B, T). ``advantages``: (B,) (one per
sequence, as GRPO computes them) or (B, T) for the token-level losses.

Notation (all losses are minimised, i.e. they are the negated objectives of the papers):
  r_{i,t} = exp(logp_{i,t} - old_logp_{i,t})          per-token importance ratio
  clip(x) = clamp(x, 1 - epsilon_low, 1 + epsilon_high)
  L_{i,t} = -min(r_{i,t} A_i, clip(r_{i,t}) A_i)      PPO's clipped surrogate (Schulman et al. 2017, eq. 7)

Options every loss accepts:
  ``ref_logps`` (B, T) and ``beta``: adds ``beta`` times the k3 estimator of KL(pi || pi_ref) per token
  (DeepSeekMath, Shao et al. 2024, eq. 4), aggregated the same way as the loss itself (as TRL does);
  ``kl_importance_weighting``: multiply that per-token KL by the loss's importance ratio (TRL's
  ``use_bias_correction_kl``), which makes it unbiased when the tokens were sampled from pi_old.
  ``sample_weights`` (B, T) or (B, 1): detached per-token / per-sequence multipliers on the policy term (e.g. the
  truncated importance weights that correct for a vLLM sampler); not applied to the KL term.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rlvr.registry import Registry

LossFn = Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]]

LOSSES: Registry[LossFn] = Registry("loss", "rlvr.losses")


def register_loss(name: str) -> Callable[[LossFn], LossFn]:
    """Decorator: register a policy loss under ``name`` (a duplicate name is an error)."""
    return LOSSES.register(name)  # type: ignore[return-value]


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

    Metrics: ``clip_ratio/low``, ``clip_ratio/high`` (fraction of tokens, or of sequences for sequence-level losses,
    whose ratio is clipped in the direction that zeroes the gradient), ``ratio/mean``, ``approx_kl`` (k3 estimate of
    KL(pi_old || pi) over the completion tokens) and, when ``beta`` > 0, ``kl`` (k3 estimate of KL(pi || pi_ref)).
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


def _clipped_surrogate(ratio: torch.Tensor, advantages: torch.Tensor, eps_low: float, eps_high: float) -> torch.Tensor:
    """PPO's per-element loss -min(r A, clip(r) A) (Schulman et al. 2017, eq. 7), with DAPO's decoupled bounds."""
    clipped = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high)
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


def _k3(logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """Unbiased, non-negative KL(pi || pi_ref) estimator, per token (Schulman 2020; DeepSeekMath eq. 4)."""
    delta = ref_logps - logps  # (B, T)
    return torch.exp(delta) - delta - 1.0  # (B, T)


def _with_penalty(
    policy_term: torch.Tensor, options: dict[str, Any], logps: torch.Tensor, ratio: torch.Tensor
) -> torch.Tensor:
    """Apply ``sample_weights`` to the policy term, then add ``beta * KL`` per token (both as TRL orders them).

    With ``kl_importance_weighting`` the per-token KL is multiplied by the loss's own importance ratio: the tokens were
    sampled from pi_old, so this makes the estimate unbiased for KL(pi || pi_ref) (DeepSeek-V3.2 report, sec. 3.1;
    TRL's ``use_bias_correction_kl``)."""
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
    eps_low: float,
    eps_high: float,
    options: dict[str, Any],
    logps: torch.Tensor,
    *,
    low_bound: float | None = None,
    high_bound: float | None = None,
) -> dict[str, torch.Tensor]:
    """Clip fractions, mean ratio and approximate KLs; token-weighted for (B, T) ratios, per sequence for (B, 1)."""
    with torch.no_grad():
        low = 1.0 - eps_low if low_bound is None else low_bound
        high = 1.0 + eps_high if high_bound is None else high_bound
        is_low = ((ratio < low) & (advantages < 0)).to(mask.dtype)
        is_high = ((ratio > high) & (advantages > 0)).to(mask.dtype)
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


# --------------------------------------------------------------------------------------------------------------------
# Token-level losses: one ratio per token, the same clipped surrogate, three normalisations


def _token_surrogate(logps, old_logps, advantages, epsilon_low, epsilon_high):
    log_ratio = logps - old_logps  # (B, T)
    ratio = torch.exp(log_ratio)  # (B, T)
    advantages = _as_column(advantages)  # (B, 1) or (B, T)
    return log_ratio, ratio, advantages, _clipped_surrogate(ratio, advantages, epsilon_low, epsilon_high)


@register_loss("grpo")
def grpo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, **options):
    """GRPO (Shao et al. 2024, DeepSeekMath eq. 3): per-token clipped ratio, mean over each sequence's tokens, then
    mean over sequences."""
    log_ratio, ratio, adv, per_token = _token_surrogate(logps, old_logps, advantages, epsilon_low, epsilon_high)
    per_token = _with_penalty(per_token, options, logps, ratio)  # (B, T)
    loss = _sample_mean(per_token, mask)
    return loss, _metrics(ratio, adv, mask, log_ratio, epsilon_low, epsilon_high, options, logps)


@register_loss("dr_grpo")
def dr_grpo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, max_length=None, **options):
    """Dr. GRPO (Liu et al. 2025, "Understanding R1-Zero-Like Training", eq. 3): GRPO without the per-sequence 1/|o_i|,
    the token sum divided by a constant, B * ``max_length`` (the generation budget), so long and short answers carry
    the same weight per token."""
    if not max_length:
        raise ValueError("loss 'dr_grpo' needs max_length= (the maximum completion length, a constant)")
    log_ratio, ratio, adv, per_token = _token_surrogate(logps, old_logps, advantages, epsilon_low, epsilon_high)
    per_token = _with_penalty(per_token, options, logps, ratio)  # (B, T)
    loss = _token_sum(per_token, mask) / (mask.shape[0] * float(max_length))
    return loss, _metrics(ratio, adv, mask, log_ratio, epsilon_low, epsilon_high, options, logps)


@register_loss("dapo")
def dapo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, num_tokens=None, **options):
    """DAPO (Yu et al. 2025, eq. 8): token-level mean over the whole batch, 1 / sum_i |o_i|, with clip-higher
    (epsilon_high > epsilon_low, DAPO section 3.1). ``num_tokens`` replaces the denominator when the batch is a slice
    of a larger one (gradient accumulation: the trainer passes the token count of the whole accumulation window)."""
    log_ratio, ratio, adv, per_token = _token_surrogate(logps, old_logps, advantages, epsilon_low, epsilon_high)
    per_token = _with_penalty(per_token, options, logps, ratio)  # (B, T)
    denominator = mask.sum().clamp(min=1.0) if num_tokens is None else torch.as_tensor(num_tokens).clamp(min=1.0)
    loss = _token_sum(per_token, mask) / denominator
    return loss, _metrics(ratio, adv, mask, log_ratio, epsilon_low, epsilon_high, options, logps)


# --------------------------------------------------------------------------------------------------------------------
# Sequence-level losses


def _sequence_log_ratio(logps: torch.Tensor, old_logps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """GSPO eq. 7: log s_i = (1/|y_i|) sum_t log(pi(y_t) / pi_old(y_t)), a length-normalised sequence log-ratio."""
    return _seq_mean(logps - old_logps, mask).unsqueeze(1)  # (B, 1)


@register_loss("gspo")
def gspo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, **options):
    """GSPO (Zheng et al. 2025, eqs. 5-7): one importance ratio per sequence, s_i = exp(mean_t log r_{i,t}), clipped at
    the sequence level, -min(s_i A_i, clip(s_i) A_i), mean over sequences. The paper's clip range is tiny
    (epsilon_low 3e-4, epsilon_high 4e-4) because s_i is a geometric mean of token ratios."""
    adv = _per_sequence("gspo", advantages)  # (B, 1)
    seq_log_ratio = _sequence_log_ratio(logps, old_logps, mask)  # (B, 1)
    ratio = torch.exp(seq_log_ratio)  # (B, 1)
    per_seq = _clipped_surrogate(ratio, adv, epsilon_low, epsilon_high)  # (B, 1)
    per_token = _with_penalty(per_seq, options, logps, ratio)  # (B, 1), or (B, T) with weights / KL
    loss = _sample_mean(per_token, mask)  # a (B, 1) term averages to itself: mean over sequences
    return loss, _metrics(ratio, adv, mask, logps - old_logps, epsilon_low, epsilon_high, options, logps)


@register_loss("gspo_token")
def gspo_token_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, **options):
    """GSPO-token (Zheng et al. 2025, eqs. 13-14): s_{i,t} = sg[s_i] * pi(y_t) / sg[pi(y_t)]. Its value is s_i and,
    when every token of a sequence has the same advantage, its value and gradient equal GSPO's (eq. 15-16); unlike GSPO
    it accepts one advantage per token (B, T)."""
    seq_log_ratio = _sequence_log_ratio(logps, old_logps, mask).detach()  # (B, 1): sg[log s_i]
    token_log_ratio = seq_log_ratio + logps - logps.detach()  # (B, T): value log s_i, gradient d logp_t
    ratio = torch.exp(token_log_ratio)  # (B, T)
    adv = _as_column(advantages)  # (B, 1) or (B, T)
    per_token = _clipped_surrogate(ratio, adv, epsilon_low, epsilon_high)  # (B, T)
    per_token = _with_penalty(per_token, options, logps, ratio)  # (B, T)
    loss = _sample_mean(per_token, mask)
    metrics = _metrics(ratio, adv, mask, logps - old_logps, epsilon_low, epsilon_high, options, logps)
    return loss, metrics


@register_loss("gmpo")
def gmpo_loss(*, logps, old_logps, advantages, mask, epsilon_low, epsilon_high, **options):
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
    per_token = _with_penalty(per_seq, options, logps, torch.exp(log_ratio))  # (B, T)
    loss = _sample_mean(per_token, mask)
    token_ratio = torch.exp(log_ratio)  # (B, T): clip fractions are counted per token, in ratio space
    metrics = _metrics(
        token_ratio,
        adv,
        mask,
        log_ratio,
        epsilon_low,
        epsilon_high,
        options,
        logps,
        low_bound=float(torch.exp(torch.tensor(-epsilon_low))),
        high_bound=float(torch.exp(torch.tensor(epsilon_high))),
    )
    metrics["ratio/mean"] = geo_ratio.detach().mean()
    return loss, metrics
