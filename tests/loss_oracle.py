"""An independent oracle for the policy losses and the overlong penalty, written from the papers with plain loops.

It shares no code with rlvr/losses.py or rlvr/rewards.py: every quantity is built element by element from the
equations, one scalar at a time, so that a vectorisation or broadcasting slip in the library cannot hide here. Autograd
on these scalar graphs gives the reference gradients. Inputs are lists of lists (or tensors, read element-wise);
``logps`` must be a tensor that requires grad.

Objectives are written as in the papers and negated at the end (the library minimises).
"""

from __future__ import annotations

import math

import torch


def _tokens(mask_row) -> list[int]:
    return [t for t, m in enumerate(mask_row) if float(m) > 0]


def _adv(advantages, i: int, t: int) -> float:
    row = advantages[i]
    if isinstance(row, torch.Tensor):
        return float(row[t]) if row.dim() > 0 else float(row)
    return float(row[t]) if isinstance(row, (list, tuple)) else float(row)


def _clip(x, low: float, high: float):
    if x < low:
        return x * 0 + low  # keep it a tensor; the gradient through a clipped value is zero
    if x > high:
        return x * 0 + high
    return x


def _ppo_term(ratio, advantage: float, eps_low: float, eps_high: float):
    """min(r A, clip(r, 1 - eps_low, 1 + eps_high) A): PPO eq. 7 with DAPO's decoupled range (DAPO eq. 10)."""
    unclipped = ratio * advantage
    clipped = _clip(ratio, 1.0 - eps_low, 1.0 + eps_high) * advantage
    return unclipped if unclipped <= clipped else clipped


def _kl(logp, ref_logp: float):
    """DeepSeekMath eq. 4: pi_ref/pi - log(pi_ref/pi) - 1."""
    d = ref_logp - logp
    return torch.exp(d) - d - 1


def grpo(logps, old_logps, advantages, mask, eps_low, eps_high, beta=0.0, ref_logps=None):
    """DeepSeekMath eq. 3: 1/G sum_i 1/|o_i| sum_t [min(r A, clip(r) A) - beta KL]."""
    total = 0.0
    for i in range(len(mask)):
        tokens = _tokens(mask[i])
        seq = 0.0
        for t in tokens:
            ratio = torch.exp(logps[i][t] - float(old_logps[i][t]))
            seq = seq + _ppo_term(ratio, _adv(advantages, i, t), eps_low, eps_high)
            if beta:
                seq = seq - beta * _kl(logps[i][t], float(ref_logps[i][t]))
        total = total + seq / max(len(tokens), 1)
    return -total / len(mask)


def dapo(logps, old_logps, advantages, mask, eps_low, eps_high):
    """DAPO eq. 8: 1 / sum_i |o_i| * sum_i sum_t min(r A, clip(r, 1 - eps_low, 1 + eps_high) A)."""
    total, count = 0.0, 0
    for i in range(len(mask)):
        for t in _tokens(mask[i]):
            ratio = torch.exp(logps[i][t] - float(old_logps[i][t]))
            total = total + _ppo_term(ratio, _adv(advantages, i, t), eps_low, eps_high)
            count += 1
    return -total / max(count, 1)


def dr_grpo(logps, old_logps, advantages, mask, eps_low, eps_high, max_length):
    """Dr. GRPO eq. 3: 1/G sum_i sum_t min(r A, clip(r) A), the 1/|o_i| replaced by the constant 1/max_length."""
    total = 0.0
    for i in range(len(mask)):
        for t in _tokens(mask[i]):
            ratio = torch.exp(logps[i][t] - float(old_logps[i][t]))
            total = total + _ppo_term(ratio, _adv(advantages, i, t), eps_low, eps_high)
    return -total / (len(mask) * max_length)


def _sequence_ratio(logps, old_logps, mask, i: int):
    """GSPO eq. 7: s_i = (pi(y_i) / pi_old(y_i))^(1/|y_i|) = exp(1/|y_i| sum_t log(pi_t / pi_old_t))."""
    tokens = _tokens(mask[i])
    log_sum = 0.0
    for t in tokens:
        log_sum = log_sum + (logps[i][t] - float(old_logps[i][t]))
    return torch.exp(log_sum / max(len(tokens), 1)) if tokens else logps[i][0] * 0 + 1.0


def gspo(logps, old_logps, advantages, mask, eps_low, eps_high):
    """GSPO eqs. 5-7: 1/G sum_i min(s_i A_i, clip(s_i, 1 - eps_low, 1 + eps_high) A_i)."""
    total = 0.0
    for i in range(len(mask)):
        s = _sequence_ratio(logps, old_logps, mask, i)
        total = total + _ppo_term(s, float(advantages[i]), eps_low, eps_high)
    return -total / len(mask)


def gspo_token(logps, old_logps, advantages, mask, eps_low, eps_high):
    """GSPO eqs. 13-14: s_{i,t} = sg[s_i] * pi(y_t) / sg[pi(y_t)];
    1/G sum_i 1/|y_i| sum_t min(s_{i,t} A_{i,t}, clip(s_{i,t}) A_{i,t})."""
    total = 0.0
    for i in range(len(mask)):
        s = _sequence_ratio(logps, old_logps, mask, i).item()  # sg[s_i]
        tokens = _tokens(mask[i])
        seq = 0.0
        for t in tokens:
            s_t = s * torch.exp(logps[i][t] - logps[i][t].item())  # value s_i, gradient s_i * d log pi_t
            seq = seq + _ppo_term(s_t, _adv(advantages, i, t), eps_low, eps_high)
        total = total + seq / max(len(tokens), 1)
    return -total / len(mask)


def gmpo(logps, old_logps, advantages, mask, eps_low, eps_high):
    """GMPO (Zhao et al. 2025) eq. 4, literally: 1/G sum_i sgn(A_i) * prod_t |min(r A_i, clip(r, e^-eps_low,
    e^eps_high) A_i)|^(1/|o_i|)."""
    total = 0.0
    low, high = math.exp(-eps_low), math.exp(eps_high)
    for i in range(len(mask)):
        a = float(advantages[i])
        tokens = _tokens(mask[i])
        if a == 0 or not tokens:
            continue
        product = 1.0
        for t in tokens:
            ratio = torch.exp(logps[i][t] - float(old_logps[i][t]))
            unclipped, clipped = ratio * a, _clip(ratio, low, high) * a
            product = product * abs(unclipped if unclipped <= clipped else clipped)
        total = total + math.copysign(1.0, a) * product ** (1.0 / len(tokens))
    return -total / len(mask)


def overlong_penalty(length: float, max_length: int, buffer: int, factor: float = 1.0) -> float:
    """DAPO eq. 13: R_length(y) = 0 if |y| <= L_max - L_cache; (L_max - L_cache - |y|) / L_cache if
    L_max - L_cache < |y| <= L_max; -1 if |y| > L_max; scaled by ``factor``."""
    if length <= max_length - buffer:
        return 0.0
    if length <= max_length:
        return factor * ((max_length - buffer) - length) / buffer
    return -factor
