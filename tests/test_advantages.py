"""Advantage estimators against the independent oracle (tests/loss_oracle.py), ungraded rows, and their use in the
trainer on a real generation batch."""

from __future__ import annotations

import math
import random

import pytest
import torch

from rlvr.advantages import ADVANTAGES, compute_advantages, process_advantages
from tests import loss_oracle as oracle

G = 4


def batch(seed: int, binary: bool = False, groups: int = 5):
    rng = random.Random(seed)
    rewards = [float(rng.random() < 0.5) if binary else round(rng.uniform(-1, 2), 3) for _ in range(groups * G)]
    for i in rng.sample(range(len(rewards)), 4):  # four ungraded rows, somewhere
        rewards[i] = None
    lengths = [rng.randint(1, 30) for _ in rewards]
    return rewards, lengths


def ours(name, rewards, lengths=None, **options):
    tensor = torch.tensor([math.nan if r is None else r for r in rewards], dtype=torch.float64)
    lengths = None if lengths is None else torch.tensor(lengths, dtype=torch.float64)
    return compute_advantages(name, tensor, G, lengths=lengths, **options).tolist()


CASES = [
    ("grpo", lambda r, n: oracle.adv_grpo(r, G), {}),
    ("grpo", lambda r, n: oracle.adv_grpo(r, G, "batch"), {"scale": "batch"}),
    ("grpo", lambda r, n: oracle.adv_grpo(r, G, "none"), {"scale": "none"}),
    ("rloo", lambda r, n: oracle.adv_rloo(r, G), {}),
    ("reinforce_pp", lambda r, n: oracle.adv_reinforce_pp(r, G, n), {}),
    ("reinforce_pp_baseline", lambda r, n: oracle.adv_reinforce_pp_baseline(r, G, n), {}),
    ("opo", lambda r, n: oracle.adv_opo(r, G, n), {}),
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("name", "reference", "options"), CASES, ids=lambda c: c if isinstance(c, str) else "")
def test_estimators_match_the_oracle(name, reference, options, seed):
    rewards, lengths = batch(seed)
    expected = reference(rewards, lengths)
    got = ours(name, rewards, lengths, **options)
    assert got == pytest.approx(expected, abs=1e-5)
    assert all(a == 0.0 for a, r in zip(got, rewards, strict=True) if r is None), "ungraded rows get 0"
    assert any(abs(a) > 1e-3 for a in got)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_passk_matches_subset_enumeration(seed, k):
    rewards, _ = batch(seed, binary=True, groups=6)
    assert ours("passk", rewards, k=k) == pytest.approx(oracle.adv_passk(rewards, G, k), abs=1e-5)


def test_passk_refuses_non_binary_rewards():
    with pytest.raises(ValueError, match="binary"):
        ours("passk", [0.5, 1.0, 0.0, 1.0])


def test_ungraded_rows_stay_out_of_every_baseline():
    # one group: 1, 0, ungraded; the ungraded row's absent value must not move anyone's advantage
    rewards = [1.0, 0.0, None, 1.0]
    same = [1.0, 0.0, 1.0]
    for name in ("rloo", "opo", "grpo", "reinforce_pp_baseline"):
        with_none = ours(name, rewards, [3, 5, 7, 2])
        without = compute_advantages(
            name,
            torch.tensor(same, dtype=torch.float64),
            3,
            lengths=torch.tensor([3.0, 5.0, 2.0], dtype=torch.float64),
        ).tolist()
        assert [with_none[0], with_none[1], with_none[3]] == pytest.approx(without, abs=1e-9), name
        assert with_none[2] == 0.0


def test_rloo_by_hand():
    assert ours("rloo", [1.0, 0.0, 0.0, 1.0]) == pytest.approx([1 - 1 / 3, -2 / 3, -2 / 3, 1 - 1 / 3])
    assert ours("rloo", [1.0, None, None, None]) == [0.0, 0.0, 0.0, 0.0]  # no sibling: no baseline, no signal


@pytest.mark.parametrize("seed", [0, 1])
def test_process_advantages_match_the_oracle(seed):
    rng = random.Random(seed)
    steps = []
    for _ in range(2 * G):
        ends = sorted(rng.sample(range(1, 12), rng.randint(1, 3)))
        steps.append([(end, round(rng.uniform(-1, 1), 3)) for end in ends])
    steps[3] = None  # ungraded
    got = process_advantages(steps, G, 12)
    expected = torch.tensor(oracle.adv_process(steps, G, 12), dtype=torch.float64)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    assert got[3].abs().sum() == 0
    # a token after the last step of its completion gets 0: nothing is left to reward
    last = steps[0][-1][0]
    assert got[0, last:].abs().sum() == 0 and got[0, :last].abs().sum() > 0


def test_registry():
    assert {"grpo", "rloo", "reinforce_pp", "reinforce_pp_baseline", "passk", "opo"} <= set(ADVANTAGES.names())
