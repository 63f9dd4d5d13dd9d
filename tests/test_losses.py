"""Policy losses: hand-computed values, the independent oracle (values and gradients, clipping active), contracts."""

from __future__ import annotations

import math

import pytest
import torch

from rlvr.losses import LOSSES, policy_loss, register_loss
from rlvr.registry import DuplicateNameError, UnknownNameError
from rlvr.rewards import overlong_penalty
from tests import loss_oracle as oracle

LN2 = math.log(2.0)

# Two sequences, old policy log-prob 0 everywhere: row 0 has ratios (2, 1), row 1 one token with ratio 1 (or 0.5).
OLD = torch.zeros(2, 2, dtype=torch.float64)
MASK = torch.tensor([[1.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
ADV = torch.tensor([1.0, -1.0], dtype=torch.float64)


def hand_logps(second_row_ratio: float = 1.0) -> torch.Tensor:
    return torch.tensor([[LN2, 0.0], [math.log(second_row_ratio), 0.0]], dtype=torch.float64, requires_grad=True)


def run(name: str, logps: torch.Tensor, eps_low: float = 0.2, eps_high: float = 0.2, adv=ADV, **options):
    return policy_loss(
        name,
        logps=logps,
        old_logps=OLD,
        advantages=adv,
        mask=MASK,
        epsilon_low=eps_low,
        epsilon_high=eps_high,
        **options,
    )


# --------------------------------------------------------------------------------------------------------------------
# Hand-computed values
#   row 0 (A = +1): token ratios 2 and 1 -> clipped terms min(2, 1.2) = 1.2 and 1
#   row 1 (A = -1): one token, ratio 1 -> -1


@pytest.mark.parametrize(
    ("name", "eps_high", "options", "expected"),
    [
        ("grpo", 0.2, {}, -((1.2 + 1.0) / 2 + -1.0) / 2),  # per-sequence token mean, then mean over sequences
        ("dapo", 0.2, {}, -(1.2 + 1.0 - 1.0) / 3),  # one token mean over the batch
        ("dapo", 0.28, {}, -(1.28 + 1.0 - 1.0) / 3),  # clip-higher moves the upper bound only
        ("dapo", 0.2, {"num_tokens": 6}, -(1.2 + 1.0 - 1.0) / 6),  # an accumulation window's token count
        ("dr_grpo", 0.2, {"max_length": 4}, -(1.2 + 1.0 - 1.0) / (2 * 4)),  # constant denominator B * max_length
        ("gspo", 0.2, {}, -(1.2 + -1.0) / 2),  # s_0 = sqrt(2) clipped to 1.2; s_1 = 1
        ("gspo", 0.5, {}, -(math.sqrt(2) - 1.0) / 2),  # s_0 = sqrt(2) inside the range
        ("gspo_token", 0.5, {}, -(math.sqrt(2) - 1.0) / 2),
        # GMPO: log-ratios clipped to [-0.4, 0.4]: row 0 -> exp((0.4 + 0) / 2); row 1 -> -exp(0) = -1
        ("gmpo", 0.4, {}, -(math.exp(0.2) - 1.0) / 2),
    ],
)
def test_hand_computed_values(name, eps_high, options, expected):
    eps_low = 0.4 if name == "gmpo" else 0.2
    loss, _ = run(name, hand_logps(), eps_low=eps_low, eps_high=eps_high, **options)
    assert loss.item() == pytest.approx(expected, abs=1e-12)


def test_gspo_lower_clip_for_negative_advantage():
    # row 1 ratio 0.5 < 1 - 0.2 with A = -1: the pessimistic term is clip(0.5) * -1 = -0.8, and its gradient is 0
    logps = hand_logps(second_row_ratio=0.5)
    loss, metrics = run("gspo", logps, eps_high=0.5)
    assert loss.item() == pytest.approx(-(math.sqrt(2) - 0.8) / 2, abs=1e-12)
    loss.backward()
    assert logps.grad[1, 0].item() == 0.0
    assert metrics["clip_ratio/low"].item() == pytest.approx(0.5)  # one of two sequences
    assert metrics["clip_ratio/high"].item() == 0.0


def test_gspo_gradient_weights_every_token_of_a_sequence_equally():
    # d(-s A / B) / d logp_t = -A s / (B |y|) for each token t: -sqrt(2) / 4 on both tokens of row 0
    logps = hand_logps()
    loss, _ = run("gspo", logps, eps_high=0.5)
    loss.backward()
    assert logps.grad[0].tolist() == pytest.approx([-math.sqrt(2) / 4] * 2, abs=1e-12)
    assert logps.grad[1, 1].item() == 0.0  # padding gets no gradient


def test_grpo_metrics_by_hand():
    _, metrics = run("grpo", hand_logps())
    assert metrics["clip_ratio/high"].item() == pytest.approx(1 / 3)  # the ratio-2 token, A > 0
    assert metrics["clip_ratio/low"].item() == 0.0
    assert metrics["ratio/mean"].item() == pytest.approx((2 + 1 + 1) / 3)
    assert metrics["approx_kl"].item() == pytest.approx((2 - 1 - LN2) / 3)  # (r - 1) - log r
    assert "kl" not in metrics


def test_kl_term_by_hand():
    # policy == old == ref except one token where pi_ref / pi = 1/2: k3 = 1/2 - log(1/2) - 1 = log 2 - 1/2
    logps = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    ref = torch.tensor([[-LN2, 0.0], [0.0, 0.0]], dtype=torch.float64)
    loss, metrics = run("grpo", logps, beta=0.1, ref_logps=ref)
    k3 = LN2 - 0.5
    assert loss.item() == pytest.approx(-(1.0 - 1.0) / 2 + 0.1 * (k3 / 2) / 2, abs=1e-12)
    assert metrics["kl"].item() == pytest.approx(k3 / 3)


def test_sample_weights_scale_the_policy_term_only():
    weights = torch.tensor([[2.0], [1.0]], dtype=torch.float64)
    plain, _ = run("gspo", hand_logps(), eps_high=0.5)
    weighted, _ = run("gspo", hand_logps(), eps_high=0.5, sample_weights=weights)
    assert weighted.item() == pytest.approx(-(2 * math.sqrt(2) - 1.0) / 2, abs=1e-12)
    assert weighted.item() != pytest.approx(plain.item())


# --------------------------------------------------------------------------------------------------------------------
# The independent oracle: random inputs with clipping active on both sides, float64, values and gradients to 1e-5


def random_batch(seed: int, batch: int = 6, tokens: int = 7, token_advantages: bool = False):
    g = torch.Generator().manual_seed(seed)
    old = -torch.rand(batch, tokens, generator=g, dtype=torch.float64) * 3  # (B, T)
    logps = old + 0.35 * torch.randn(batch, tokens, generator=g, dtype=torch.float64)  # (B, T): ratios ~ e^+-0.35
    lengths = torch.randint(1, tokens + 1, (batch,), generator=g)
    mask = (torch.arange(tokens)[None, :] < lengths[:, None]).to(torch.float64)  # (B, T), right padded
    shape = (batch, tokens) if token_advantages else (batch,)
    advantages = torch.randn(*shape, generator=g, dtype=torch.float64)
    ref = old + 0.2 * torch.randn(batch, tokens, generator=g, dtype=torch.float64)
    return logps, old, advantages, mask, ref


ORACLE_CASES = [
    # name, oracle function, eps_low, eps_high, extra options for the library, extra kwargs for the oracle
    ("grpo", oracle.grpo, 0.2, 0.28, {}, {}),
    ("dapo", oracle.dapo, 0.2, 0.28, {}, {}),
    ("dr_grpo", oracle.dr_grpo, 0.2, 0.28, {"max_length": 9}, {"max_length": 9}),
    ("gspo", oracle.gspo, 0.03, 0.04, {}, {}),
    ("gspo_token", oracle.gspo_token, 0.03, 0.04, {}, {}),
    ("gmpo", oracle.gmpo, 0.2, 0.25, {}, {}),
    ("bnpo", oracle.bnpo, 0.2, 0.28, {}, {}),
    ("luspo", oracle.luspo, 0.03, 0.04, {}, {}),
    ("luspo", oracle.luspo, 0.2, 0.28, {"level": "token"}, {"level": "token"}),
    ("cispo", oracle.cispo, 0.2, 1.2, {}, {}),
    (
        "cispo",
        oracle.cispo,
        0.2,
        0.85,
        {"num_tokens": 50, "level": "sequence"},
        {"num_tokens": 50, "level": "sequence"},
    ),
    ("dppo", oracle.dppo, 0.05, 0.05, {}, {}),
    # the TRL options every clipped loss takes: sequence-level ratio, two-sided clipping (delta)
    ("grpo", oracle.grpo_level, 0.03, 0.04, {"level": "sequence"}, {"level": "sequence"}),
    ("grpo", oracle.grpo_level, 0.2, 0.28, {"delta": 1.1}, {"delta": 1.1}),
    ("bnpo", oracle.bnpo, 0.2, 0.28, {"delta": 1.1}, {"delta": 1.1}),
    ("dapo", oracle.bnpo, 0.03, 0.04, {"level": "sequence", "delta": 1.02}, {"level": "sequence", "delta": 1.02}),
]
# Losses with no hard clip: SAPO's gate is smooth, VESPO's weight is a smooth function of w. Checked on ratios far
# from 1 instead (the oracle cases above use ratios of e^+-0.35).
SMOOTH_CASES = [
    ("sapo", oracle.sapo, {}, {}),
    (
        "sapo",
        oracle.sapo,
        {"sapo_temperature_pos": 0.5, "sapo_temperature_neg": 2.0},
        {"tau_pos": 0.5, "tau_neg": 2.0},
    ),
    ("sapo", oracle.sapo, {"level": "sequence"}, {"level": "sequence"}),
    ("vespo", oracle.vespo, {}, {}),
    (
        "vespo",
        oracle.vespo,
        {"vespo_k_pos": 1.5, "vespo_lambda_pos": 1.0, "vespo_k_neg": 4.0, "vespo_lambda_neg": 3.0},
        {"k_pos": 1.5, "lam_pos": 1.0, "k_neg": 4.0, "lam_neg": 3.0},
    ),
]


def _value_and_grad(fn, logps: torch.Tensor, *args, **kwargs):
    leaf = logps.detach().clone().requires_grad_(True)
    value = fn(leaf, *args, **kwargs)
    value = value[0] if isinstance(value, tuple) else value
    value.backward()
    return value.item(), leaf.grad


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("name", "reference", "eps_low", "eps_high", "options", "oracle_kwargs"), ORACLE_CASES)
def test_matches_oracle(name, reference, eps_low, eps_high, options, oracle_kwargs, seed):
    logps, old, adv, mask, _ = random_batch(seed)

    def ours(leaf):
        return policy_loss(
            name,
            logps=leaf,
            old_logps=old,
            advantages=adv,
            mask=mask,
            epsilon_low=eps_low,
            epsilon_high=eps_high,
            **options,
        )

    value, grad = _value_and_grad(ours, logps)
    ref_value, ref_grad = _value_and_grad(reference, logps, old, adv, mask, eps_low, eps_high, **oracle_kwargs)
    assert value == pytest.approx(ref_value, abs=1e-5)
    torch.testing.assert_close(grad, ref_grad, atol=1e-5, rtol=0)
    _, metrics = ours(logps)
    assert metrics["clip_ratio/low"] + metrics["clip_ratio/high"] > 0, "the case must exercise clipping"


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("name", "reference", "options", "oracle_kwargs"), SMOOTH_CASES)
def test_smooth_losses_match_oracle(name, reference, options, oracle_kwargs, seed):
    logps, old, adv, mask, _ = random_batch(seed)

    def ours(leaf):
        return policy_loss(
            name, logps=leaf, old_logps=old, advantages=adv, mask=mask, epsilon_low=0.2, epsilon_high=0.28, **options
        )

    value, grad = _value_and_grad(ours, logps)
    ref_value, ref_grad = _value_and_grad(reference, logps, old, adv, mask, 0.2, 0.28, **oracle_kwargs)
    assert value == pytest.approx(ref_value, abs=1e-5)
    torch.testing.assert_close(grad, ref_grad, atol=1e-5, rtol=0)
    assert (grad.abs() > 1e-6).sum() > mask.sum() / 2, "most tokens carry a gradient"


def test_oracle_cases_clip_on_both_sides():
    hits = {"low": 0.0, "high": 0.0}
    for seed in range(3):
        logps, old, adv, mask, _ = random_batch(seed)
        for name, _, eps_low, eps_high, options, _ in ORACLE_CASES:
            if name == "cispo":  # CISPO has no lower bound
                continue
            _, m = policy_loss(
                name,
                logps=logps,
                old_logps=old,
                advantages=adv,
                mask=mask,
                epsilon_low=eps_low,
                epsilon_high=eps_high,
                **options,
            )
            hits["low"] += m["clip_ratio/low"].item()
            hits["high"] += m["clip_ratio/high"].item()
    assert hits["low"] > 0 and hits["high"] > 0


@pytest.mark.parametrize("seed", [3, 4])
def test_gspo_token_with_token_advantages_matches_oracle(seed):
    logps, old, adv, mask, _ = random_batch(seed, token_advantages=True)

    def ours(leaf):
        return policy_loss(
            "gspo_token", logps=leaf, old_logps=old, advantages=adv, mask=mask, epsilon_low=0.03, epsilon_high=0.04
        )

    value, grad = _value_and_grad(ours, logps)
    ref_value, ref_grad = _value_and_grad(oracle.gspo_token, logps, old, adv, mask, 0.03, 0.04)
    assert value == pytest.approx(ref_value, abs=1e-5)
    torch.testing.assert_close(grad, ref_grad, atol=1e-5, rtol=0)


@pytest.mark.parametrize("seed", [5, 6])
def test_grpo_kl_term_matches_oracle(seed):
    logps, old, adv, mask, ref = random_batch(seed)

    def ours(leaf):
        return policy_loss(
            "grpo",
            logps=leaf,
            old_logps=old,
            advantages=adv,
            mask=mask,
            epsilon_low=0.2,
            epsilon_high=0.2,
            beta=0.04,
            ref_logps=ref,
        )

    value, grad = _value_and_grad(ours, logps)
    ref_value, ref_grad = _value_and_grad(oracle.grpo, logps, old, adv, mask, 0.2, 0.2, beta=0.04, ref_logps=ref)
    assert value == pytest.approx(ref_value, abs=1e-5)
    torch.testing.assert_close(grad, ref_grad, atol=1e-5, rtol=0)


@pytest.mark.parametrize("seed", [0, 7])
def test_gspo_token_equals_gspo_for_sequence_advantages(seed):
    logps, old, adv, mask, ref = random_batch(seed)
    results = []
    for name in ("gspo", "gspo_token"):
        leaf = logps.detach().clone().requires_grad_(True)
        loss, _ = policy_loss(
            name,
            logps=leaf,
            old_logps=old,
            advantages=adv,
            mask=mask,
            epsilon_low=0.03,
            epsilon_high=0.04,
            beta=0.1,
            ref_logps=ref,
        )
        loss.backward()
        results.append((loss.item(), leaf.grad))
    assert results[0][0] == pytest.approx(results[1][0], abs=1e-12)
    torch.testing.assert_close(results[0][1], results[1][1], atol=1e-12, rtol=0)


# --------------------------------------------------------------------------------------------------------------------
# Overlong penalty (DAPO eq. 13) against the oracle, on ints and on tensors


@pytest.mark.parametrize(("max_length", "buffer", "factor"), [(16, 4, 1.0), (10, 10, 0.5), (8, 3, 2.0)])
def test_overlong_penalty_matches_oracle(max_length, buffer, factor):
    lengths = list(range(0, max_length + 4))
    expected = [oracle.overlong_penalty(n, max_length, buffer, factor) for n in lengths]
    scalars = [overlong_penalty(n, max_length=max_length, buffer=buffer, factor=factor) for n in lengths]
    assert scalars == pytest.approx(expected, abs=1e-12)
    tensor = overlong_penalty(torch.tensor(lengths), max_length=max_length, buffer=buffer, factor=factor)
    assert tensor.tolist() == pytest.approx(expected, abs=1e-6)


def test_overlong_penalty_by_hand():
    values = [overlong_penalty(n, max_length=10, buffer=4) for n in (0, 6, 7, 8, 10, 12)]
    assert values == pytest.approx([0.0, 0.0, -0.25, -0.5, -1.0, -1.0])
    assert overlong_penalty(11, max_length=10, buffer=0, factor=0.5) == -0.5
    assert overlong_penalty(10, max_length=10, buffer=0, factor=0.5) == 0.0
    with pytest.raises(ValueError, match="buffer"):
        overlong_penalty(3, max_length=10, buffer=11)


# --------------------------------------------------------------------------------------------------------------------
# Contracts


def test_registry_names_and_errors():
    assert {"grpo", "dr_grpo", "dapo", "gspo", "gspo_token", "gmpo"} <= set(LOSSES.names())
    with pytest.raises(UnknownNameError, match="gspo"):
        run("no_such_loss", hand_logps())
    with pytest.raises(DuplicateNameError):
        register_loss("grpo")(lambda **kw: None)


def test_shape_errors_name_the_fix():
    with pytest.raises(ValueError, match="gspo_token"):
        run("gspo", hand_logps(), adv=torch.ones(2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        policy_loss("grpo", logps=torch.zeros(2, 3), old_logps=torch.zeros(2, 2), advantages=ADV, mask=MASK)
    with pytest.raises(ValueError, match="max_length"):
        run("dr_grpo", hand_logps())


def test_token_advantages_accepted_by_token_level_losses():
    adv = torch.tensor([[1.0, 1.0], [-1.0, 5.0]], dtype=torch.float64)  # the padded position's value must not count
    for name, options in (("grpo", {}), ("dapo", {}), ("dr_grpo", {"max_length": 4})):
        token_level, _ = run(name, hand_logps(), adv=adv, **options)
        per_sequence, _ = run(name, hand_logps(), **options)
        assert token_level.item() == pytest.approx(per_sequence.item(), abs=1e-12)
