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


def _ppo_term(ratio, advantage: float, eps_low: float, eps_high: float, delta: float | None = None):
    """min(r A, clip(r, 1 - eps_low, 1 + eps_high) A): PPO eq. 7 with DAPO's decoupled range (DAPO eq. 10); with
    ``delta`` the unclipped ratio is capped at delta as well (two-sided clipping)."""
    unclipped = (ratio if delta is None or ratio <= delta else ratio * 0 + delta) * advantage
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


# ----------------------------------------------------------------------------------------------------------------
# The TRL-named losses, in one loop each: ratio at token or sequence level, the paper's per-token term, the paper's
# normalisation. ``level`` picks r_{i,t} or s_i (GSPO eq. 7).


def _ratio_at(logps, old_logps, mask, i: int, t: int, level: str):
    if level == "sequence":
        return _sequence_ratio(logps, old_logps, mask, i)
    return torch.exp(logps[i][t] - float(old_logps[i][t]))


def _terms(logps, old_logps, advantages, mask, term, level="token"):
    """[[term(i, t, ratio, A) for each unmasked token] for each sequence]."""
    return [
        [term(i, t, _ratio_at(logps, old_logps, mask, i, t, level), _adv(advantages, i, t)) for t in _tokens(mask[i])]
        for i in range(len(mask))
    ]


def _ppo(eps_low, eps_high, delta=None):
    return lambda i, t, r, a: _ppo_term(r, a, eps_low, eps_high, delta)


def _mean_of_means(rows):
    return sum(sum(row) / max(len(row), 1) for row in rows) / len(rows)


def _all_tokens_mean(rows, num_tokens=None):
    count = sum(len(row) for row in rows) if num_tokens is None else num_tokens
    return sum(sum(row) for row in rows) / max(count, 1)


def grpo_level(logps, old_logps, advantages, mask, eps_low, eps_high, level="token", delta=None):
    """GRPO eq. 3 with the ratio at ``level`` and optional two-sided clipping."""
    return -_mean_of_means(_terms(logps, old_logps, advantages, mask, _ppo(eps_low, eps_high, delta), level))


def bnpo(logps, old_logps, advantages, mask, eps_low, eps_high, level="token", delta=None):
    """1 / sum_i |o_i| sum_i sum_t min(r A, clip(r) A) over the batch at hand."""
    return -_all_tokens_mean(_terms(logps, old_logps, advantages, mask, _ppo(eps_low, eps_high, delta), level))


def luspo(logps, old_logps, advantages, mask, eps_low, eps_high, level="sequence", delta=None):
    """LUSPO: 1/G sum_i |o_i| min(s_i A_i, clip(s_i) A_i) = 1/G sum_i sum_t (per-token term)."""
    rows = _terms(logps, old_logps, advantages, mask, _ppo(eps_low, eps_high, delta), level)
    return -sum(sum(row) for row in rows) / len(rows)


def cispo(logps, old_logps, advantages, mask, eps_low, eps_high, level="token", num_tokens=None):
    """MiniMax-M1 eq. 4-5: 1 / sum|o_i| sum sg(min(r, eps_high)) A log pi."""

    def term(i, t, r, a):
        return min(float(r.detach()), eps_high) * a * logps[i][t]

    return -_all_tokens_mean(_terms(logps, old_logps, advantages, mask, term, level), num_tokens)


def sapo(logps, old_logps, advantages, mask, eps_low, eps_high, level="token", tau_pos=1.0, tau_neg=1.05):
    """SAPO eq. 5-7: 1/G sum_i 1/|o_i| sum_t (4 / tau) sigmoid(tau (r - 1)) A, tau by the sign of A."""

    def term(i, t, r, a):
        tau = tau_pos if a > 0 else tau_neg
        return 4.0 / tau / (1.0 + torch.exp(-tau * (r - 1.0))) * a

    return -_mean_of_means(_terms(logps, old_logps, advantages, mask, term, level))


def vespo(logps, old_logps, advantages, mask, eps_low, eps_high, k_pos=2.0, lam_pos=3.0, k_neg=3.0, lam_neg=2.0):
    """VESPO: 1 / sum|o_i| sum_i sum_t sg(phi(w_i)) A_i log pi, w_i = prod_t r_{i,t}, phi(w) = e^lam w^k e^(-lam w)."""
    total, count = 0.0, 0
    for i in range(len(mask)):
        tokens = _tokens(mask[i])
        w = math.exp(sum(float(logps[i][t].detach()) - float(old_logps[i][t]) for t in tokens))
        a = float(advantages[i])
        k, lam = (k_pos, lam_pos) if a >= 0 else (k_neg, lam_neg)
        phi = math.exp(lam) * w**k * math.exp(-lam * w)
        for t in tokens:
            total = total + phi * a * logps[i][t]
            count += 1
    return -total / max(count, 1)


def dppo(logps, old_logps, advantages, mask, eps_low, eps_high):
    """DPPO Binary-TV: 1 / sum|o_i| sum M r A, M = 0 where p - p_old leaves [-eps_low, eps_high] in A's direction."""

    def term(i, t, r, a):
        moved = math.exp(float(logps[i][t].detach())) - math.exp(float(old_logps[i][t]))
        outside = (a > 0 and moved > eps_high) or (a <= 0 and moved < -eps_low)
        return r * a * (0.0 if outside else 1.0)

    return -_all_tokens_mean(_terms(logps, old_logps, advantages, mask, term))


# ----------------------------------------------------------------------------------------------------------------
# Advantage estimators, from the papers, on plain lists (None = ungraded, left out of every statistic, advantage 0)


def _mean(xs):
    return sum(xs) / len(xs)


def _sample_std(xs):
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _by_group(rewards, group_size):
    return [rewards[s : s + group_size] for s in range(0, len(rewards), group_size)]


def adv_grpo(rewards, group_size, scale="group"):
    graded_all = [r for r in rewards if r is not None]
    out = []
    for group in _by_group(rewards, group_size):
        graded = [r for r in group if r is not None]
        for r in group:
            if r is None:
                out.append(0.0)
                continue
            centred = r - _mean(graded)
            if scale == "none":
                out.append(centred)
            else:
                std = _sample_std(graded if scale == "group" else graded_all) if len(graded) > 1 else math.nan
                out.append(0.0 if math.isnan(std) else centred / (std + 1e-4))
    return out


def adv_rloo(rewards, group_size):
    out = []
    for group in _by_group(rewards, group_size):
        for i, r in enumerate(group):
            others = [x for j, x in enumerate(group) if j != i and x is not None]
            out.append(0.0 if r is None or not others else r - _mean(others))
    return out


def _whiten_tokens(values, lengths):
    """Every token of completion i carries values[i]; whiten over all tokens (unbiased variance)."""
    tokens = [v for v, n in zip(values, lengths, strict=True) if v is not None for _ in range(int(n))]
    m = _mean(tokens)
    var = sum((t - m) ** 2 for t in tokens) / (len(tokens) - 1)
    return [0.0 if v is None else (v - m) / math.sqrt(var + 1e-8) for v in values]


def adv_reinforce_pp(rewards, group_size, lengths):
    return _whiten_tokens(rewards, lengths)


def adv_reinforce_pp_baseline(rewards, group_size, lengths):
    centred = []
    for group in _by_group(rewards, group_size):
        graded = [r for r in group if r is not None]
        centred += [None if r is None else r - _mean(graded) for r in group]
    return _whiten_tokens(centred, lengths)


def adv_passk(rewards, group_size, k):
    """Pass@k by enumerating every k-subset of the group's graded rows instead of the closed form: R = the mean over
    subsets of max(subset) (pass@k), sigma = sqrt(R (1 - R)); a correct row gets (1 - R) / sigma, a wrong row
    (1 - R - the fraction of the subsets containing it that are all wrong) / sigma."""
    from itertools import combinations

    out = []
    for group in _by_group(rewards, group_size):
        rows = [i for i, r in enumerate(group) if r is not None]
        values = {i: group[i] for i in rows}
        subsets = list(combinations(rows, k)) if len(rows) >= k else []
        if not subsets:
            out += [0.0] * len(group)
            continue
        mean = _mean([max(values[i] for i in s) for s in subsets])
        sigma = math.sqrt(mean * (1 - mean))
        for i, r in enumerate(group):
            if r is None or sigma == 0:
                out.append(0.0)
            elif r == 1:
                out.append((1 - mean) / sigma)
            else:
                with_i = [s for s in subsets if i in s]
                all_wrong = _mean([1.0 if max(values[j] for j in s) == 0 else 0.0 for s in with_i])
                out.append((1 - mean - all_wrong) / sigma)
    return out


def adv_opo(rewards, group_size, lengths):
    out = []
    for group, lens in zip(_by_group(rewards, group_size), _by_group(lengths, group_size), strict=True):
        pairs = [(r, n) for r, n in zip(group, lens, strict=True) if r is not None]
        baseline = sum(r * n for r, n in pairs) / sum(n for _, n in pairs)
        out += [0.0 if r is None else r - baseline for r in group]
    return out


def adv_process(steps, group_size, num_tokens):
    """GRPO process supervision: normalise every step reward of the group, then each token sums the normalised
    rewards of the steps ending after it."""
    out = [[0.0] * num_tokens for _ in steps]
    for s in range(0, len(steps), group_size):
        group = [(i, st) for i, st in enumerate(steps[s : s + group_size], s) if st]
        values = [r for _, st in group for _, r in st]
        if not values:
            continue
        m = _mean(values)
        std = _sample_std(values) if len(values) > 1 else 0.0
        for i, st in group:
            for t in range(num_tokens):
                out[i][t] = sum((r - m) / (std + 1e-4) for end, r in st if t < end)
    return out
