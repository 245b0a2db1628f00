"""Adaptive augmentation: each augmentation reaches a share p of the batch, and p follows how
sure the discriminator is of the reals (ADA's controller), through a run and its resume."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from livegan.errors import LiveganError
from livegan.train.augment import POLICIES, AugmentStrength, diff_augment
from livegan.train.loop import TrainConfig, Trainer
from tests.train.tiny import data_fixture, trainer_maker

data = data_fixture("adadata", 8, 16)
_trainer = trainer_maker(res=16, ndf=4, steps=12, checkpoint_every=6, sample_every=100,
                         ada_target=0.6)


def test_share_p_of_the_batch_is_augmented() -> None:
    x = torch.rand(64, 3, 16, 16) * 2 - 1
    assert torch.equal(diff_augment(x, POLICIES, 0.0), x)  # p = 0: nothing drawn, nothing done
    torch.manual_seed(3)
    every = diff_augment(x, POLICIES, 1.0)
    torch.manual_seed(3)
    assert torch.equal(every, diff_augment(x, POLICIES))  # p = 1 is the fixed policy
    torch.manual_seed(3)
    half = diff_augment(x, ("cutout",), 0.5)
    untouched = sum(torch.equal(a, b) for a, b in zip(half, x))
    assert 16 <= untouched <= 48  # about half of 64 images keep their pixels


def test_p_rises_while_the_reals_score_real_and_falls_when_they_do_not() -> None:
    strength = AugmentStrength(0.6, batch=8)
    assert strength.adaptive and strength.p == 0.0
    sure = torch.ones(8, 10)  # every patch of every real scored real: r = 1 > 0.6
    for _ in range(AugmentStrength.INTERVAL * 3):
        strength.observe(sure)
    assert strength.p == pytest.approx(3 * strength.delta)
    for _ in range(AugmentStrength.INTERVAL * 200):
        strength.observe(sure)
    assert strength.p == 1.0  # never above 1
    unsure = torch.tensor([[1.0, -1.0]]).repeat(8, 1)  # r = 0 < 0.6
    for _ in range(AugmentStrength.INTERVAL * 2):
        strength.observe(unsure)
    assert strength.p == pytest.approx(1.0 - 2 * strength.delta)
    fixed = AugmentStrength(0.0, batch=8)
    fixed.observe(sure)
    assert not fixed.adaptive and fixed.p == 1.0 and fixed.state_dict()["signs"] == []


def test_an_adaptive_run_moves_p_and_resumes_exactly(data: Path, tmp_path: Path) -> None:
    whole = _trainer(data, tmp_path / "whole")
    torch.manual_seed(0)
    seen = [whole.step_once()["augment_p"] for _ in range(12)]
    assert seen[0] == 0.0 and max(seen) > 0.0  # starts unaugmented; the reals move it

    first = _trainer(data, tmp_path / "split", steps=6)
    torch.manual_seed(0)
    first.run()
    assert first.strength.p == pytest.approx(seen[5])
    again = Trainer(replace(first.cfg, steps=12), tmp_path / "split", resume=True,
                    progress=False)
    assert again.strength.state_dict() == first.strength.state_dict()  # p and its readings
    again.run()
    assert again.strength.p == pytest.approx(seen[-1])
    for a, b in zip(again.g.parameters(), whole.g.parameters()):
        assert torch.equal(a, b)  # the same augmentations, so the same weights


def test_ada_target_outside_0_to_1_is_one_sentence() -> None:
    with pytest.raises(LiveganError, match="ada_target 1.5"):
        TrainConfig(data="x", ada_target=1.5).validate()
    assert AugmentStrength(TrainConfig(data="x").ada_target, 8).p == 1.0  # off by default
