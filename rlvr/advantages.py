"""Advantage estimators as pure functions on reward tensors, registered by name (like ``rlvr.losses``).

Every outcome estimator takes ``rewards`` (N,) with NaN for rows the grader could not grade, ``group_size`` G (the N
rows are N / G consecutive groups of completions of one prompt) and, for the length-aware ones, ``lengths`` (N,)
completion token counts; it returns (N,) advantages. Ungraded (NaN) rows stay out of every baseline, mean and
standard deviation, and their advantage is 0. The trainer picks one with ``RLVRConfig(advantage=...)``.

Registered: ``grpo`` (z-score, scale "group" | "batch" | "none"), ``rloo``, ``reinforce_pp``,
``reinforce_pp_baseline``, ``passk``, ``opo``. ``process_advantages`` computes token-level advantages from per-step
rewards (GRPO's process supervision).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from rlvr.registry import Registry

AdvantageFn = Callable[..., torch.Tensor]

ADVANTAGES: Registry[AdvantageFn] = Registry("advantage estimator", "rlvr.advantages")

EPS = 1e-4  # TRL's (and DeepSeekMath's) epsilon in the z-score denominator


def register_advantage(name: str) -> Callable[[AdvantageFn], AdvantageFn]:
    """Decorator: register an advantage estimator under ``name`` (a duplicate name is an error)."""
    return ADVANTAGES.register(name)  # type: ignore[return-value]


def compute_advantages(name: str, rewards: torch.Tensor, group_size: int, **options: Any) -> torch.Tensor:
    """(N,) rewards, NaN = ungraded -> (N,) advantages from the registered estimator ``name``; ungraded rows get 0."""
    if rewards.dim() != 1 or rewards.numel() % group_size:
        raise ValueError(
            f"rewards must be (N,) with N a multiple of group_size={group_size}; got {tuple(rewards.shape)}"
        )
    advantages = ADVANTAGES.get(name)(rewards.to(torch.float64), group_size, **options)
    return torch.nan_to_num(advantages, nan=0.0).masked_fill(torch.isnan(rewards), 0.0).to(rewards.dtype)


# --------------------------------------------------------------------------------------------------------------------
# NaN-aware statistics


def _groups(x: torch.Tensor, group_size: int) -> torch.Tensor:
    return x.view(-1, group_size)  # (N / G, G)


def _count(x: torch.Tensor, dim=None, keepdim=False) -> torch.Tensor:
    return (~torch.isnan(x)).sum(dim=dim, keepdim=keepdim) if dim is not None else (~torch.isnan(x)).sum()


def _nanstd(x: torch.Tensor, dim=None, keepdim=False) -> torch.Tensor:
    """Sample standard deviation (Bessel) over non-NaN entries; NaN where fewer than two."""
    if dim is None:
        x, dim = x.reshape(-1), 0
    mean = torch.nanmean(x, dim=dim, keepdim=True)
    n = _count(x, dim=dim, keepdim=True).to(x.dtype)
    var = torch.nansum((x - mean) ** 2, dim=dim, keepdim=True) / (n - 1)
    var = torch.where(n > 1, var, torch.full_like(var, math.nan))
    return var.sqrt() if keepdim else var.sqrt().squeeze(dim)


def _whiten(x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """(x - mean) / std over the non-NaN entries of the batch, each entry weighted by ``weights`` (token counts: the
    whitening REINFORCE++ applies over every token of the batch, where each token of a completion carries its
    return). Unbiased variance over the total weight, as verl's masked_whiten; NaN entries stay NaN."""
    graded = ~torch.isnan(x)
    w = torch.ones_like(x) if weights is None else weights.to(x.dtype)
    w = torch.where(graded, w, torch.zeros_like(w))
    total = w.sum()
    if total <= 1:
        return torch.zeros_like(x).masked_fill(~graded, math.nan)
    values = torch.nan_to_num(x, nan=0.0)
    mean = (w * values).sum() / total
    var = (w * (values - mean) ** 2).sum() / total * total / (total - 1)
    return (x - mean) * torch.rsqrt(var + 1e-8)


# --------------------------------------------------------------------------------------------------------------------
# Estimators


@register_advantage("grpo")
def grpo_advantages(rewards: torch.Tensor, group_size: int, *, scale: str = "group", **_: Any) -> torch.Tensor:
    """GRPO (Shao et al. 2024, eq. 3 outcome supervision): A_i = (r_i - mean(r_group)) / (std(r_group) + 1e-4).

    ``scale``: "group" (the paper), "batch" (the std of the whole batch, Hu et al. 2025 / TRL's scale_rewards="batch")
    or "none" (no division: Dr. GRPO, Liu et al. 2025, sec. 3.1). Mean and std skip ungraded rows."""
    grouped = _groups(rewards, group_size)  # (N / G, G)
    centred = (grouped - torch.nanmean(grouped, dim=1, keepdim=True)).reshape(-1)  # (N,)
    if scale == "none":
        return centred
    if scale == "group":
        std = _nanstd(grouped, dim=1, keepdim=True).expand_as(grouped).reshape(-1)
    elif scale == "batch":
        std = _nanstd(rewards).expand_as(rewards)
    else:
        raise ValueError(f"grpo advantage scale must be 'group', 'batch' or 'none'; got {scale!r}")
    return centred / (std + EPS)


@register_advantage("rloo")
def rloo_advantages(rewards: torch.Tensor, group_size: int, **_: Any) -> torch.Tensor:
    """RLOO (Kool et al. 2019; Ahmadian et al. 2024, eq. 7): A_i = r_i - 1/(n-1) sum_{j != i} r_j, the mean of the
    other graded completions of the same prompt (n graded in the group). 0 when a row has no graded sibling."""
    grouped = _groups(rewards, group_size)
    n = _count(grouped, dim=1, keepdim=True).to(rewards.dtype)  # (N / G, 1)
    total = torch.nansum(grouped, dim=1, keepdim=True)
    others = (total - grouped) / (n - 1)  # mean of the others; inf/NaN when n < 2, zeroed below
    advantages = torch.where(n > 1, grouped - others, torch.zeros_like(grouped))
    return advantages.reshape(-1)


@register_advantage("reinforce_pp")
def reinforce_pp_advantages(
    rewards: torch.Tensor, group_size: int, *, lengths: torch.Tensor | None = None, **_: Any
) -> torch.Tensor:
    """REINFORCE++ (Hu et al. 2025, eq. 6-7), outcome reward, gamma = 1: every token's return is the sequence reward,
    normalised over all tokens of the global batch, A = (r - mean_batch) / std_batch (no per-prompt baseline).
    With ``lengths`` the batch statistics weigh each completion by its token count, as in the paper."""
    return _whiten(rewards, lengths)


@register_advantage("reinforce_pp_baseline")
def reinforce_pp_baseline_advantages(
    rewards: torch.Tensor, group_size: int, *, lengths: torch.Tensor | None = None, **_: Any
) -> torch.Tensor:
    """REINFORCE++-baseline (Hu et al. 2025, sec. 3.2): subtract the group mean reward, then normalise over the
    global batch: A = whiten(r_i - mean(r_group)), token-weighted with ``lengths``."""
    grouped = _groups(rewards, group_size)
    centred = (grouped - torch.nanmean(grouped, dim=1, keepdim=True)).reshape(-1)
    return _whiten(centred, lengths)


@register_advantage("passk")
def passk_advantages(rewards: torch.Tensor, group_size: int, *, k: int = 4, **_: Any) -> torch.Tensor:
    """Pass@k training (Chen et al. 2025, "Pass@k Training for Adaptively Balancing Exploration and Exploitation",
    sec. 3.3, analytical form): with binary rewards, n graded rows and c correct in a group,
    R = 1 - C(n-c, k) / C(n, k) (the group's expected pass@k), sigma = sqrt(R (1 - R)),
    A_pos = (1 - R) / sigma, A_neg = (1 - R - C(n-c-1, k-1) / C(n-1, k-1)) / sigma. 0 when sigma = 0 or n < k."""
    graded = rewards[~torch.isnan(rewards)]
    if not torch.all((graded == 0) | (graded == 1)):
        raise ValueError("advantage 'passk' needs binary rewards (0 or 1); use a verifier reward without shaping")
    out = torch.zeros_like(rewards)
    for g, group in enumerate(_groups(rewards, group_size)):
        rows = (~torch.isnan(group)).nonzero(as_tuple=True)[0]
        n, c = rows.numel(), int(group[rows].sum().item())
        if n < k or k < 1:
            continue
        mean = 1.0 - math.comb(n - c, k) / math.comb(n, k)
        sigma = math.sqrt(mean * (1.0 - mean))
        if sigma == 0:
            continue
        a_pos = (1.0 - mean) / sigma
        a_neg = (1.0 - mean - math.comb(n - c - 1, k - 1) / math.comb(n - 1, k - 1)) / sigma
        for r in rows.tolist():
            out[g * group_size + r] = a_pos if group[r] == 1 else a_neg
    return out


@register_advantage("opo")
def opo_advantages(
    rewards: torch.Tensor, group_size: int, *, lengths: torch.Tensor | None = None, **_: Any
) -> torch.Tensor:
    """OPO (Hao et al. 2025, "On-Policy RL with Optimal Reward Baseline", eq. 6): the variance-minimising baseline
    for sequence-level rewards is the length-weighted mean reward of the group, b = sum_i l_i r_i / sum_i l_i,
    A_i = r_i - b. Needs ``lengths`` (completion token counts)."""
    if lengths is None:
        raise ValueError("advantage 'opo' needs lengths= (completion token counts)")
    grouped = _groups(rewards, group_size)
    weights = torch.where(torch.isnan(grouped), 0.0, _groups(lengths.to(rewards.dtype), group_size))
    total = weights.sum(dim=1, keepdim=True)
    baseline = (weights * torch.nan_to_num(grouped)).sum(dim=1, keepdim=True) / total.clamp(min=1e-12)
    return (grouped - baseline).reshape(-1)


# --------------------------------------------------------------------------------------------------------------------
# Process supervision


def process_advantages(
    steps: Sequence[Sequence[tuple[int, float]] | None], group_size: int, num_tokens: int
) -> torch.Tensor:
    """GRPO process supervision (Shao et al. 2024, sec. 4.1.3): each completion i has step rewards r_i^j, the j-th
    step ending at token index(j) (exclusive end offset). All step rewards of a group are normalised together,
    r~ = (r - mean(R_group)) / std(R_group), and token t's advantage is the sum of the normalised rewards of the
    steps ending after it, A_{i,t} = sum_{index(j) > t} r~_i^j. ``steps[i]`` is a list of (end offset, reward)
    or None (ungraded: advantage 0). Returns (N, num_tokens); std is the sample std, with 1e-4 added."""
    out = torch.zeros(len(steps), num_tokens, dtype=torch.float64)
    for start in range(0, len(steps), group_size):
        group = [(i, s) for i, s in enumerate(steps[start : start + group_size], start) if s]
        values = torch.tensor([r for _, s in group for _, r in s], dtype=torch.float64)
        if values.numel() == 0:
            continue
        mean = values.mean()
        std = values.std() if values.numel() > 1 else torch.tensor(0.0, dtype=torch.float64)
        for i, step_list in group:
            for end, reward in step_list:
                normalised = (reward - mean) / (std + EPS)
                out[i, : max(0, min(int(end), num_tokens))] += normalised
    return out
