"""One training step: lazy R1, the EMA generator, fp32 on the CPU, a resumed step count."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from livegan.errors import LiveganError
from livegan.train.loop import Trainer
from tests.train.tiny import data_fixture, trainer_maker

data = data_fixture("stepdata", 8, 16)
_trainer = trainer_maker(res=16, ndf=4, steps=4, checkpoint_every=2, sample_every=2)


def _step(trainer: Trainer) -> dict[str, float]:
    torch.manual_seed(0)  # DiffAugment draws from the global generator: same draws for both
    return trainer.step_once()


def test_r1_penalty_is_added_every_16th_step(data: Path, tmp_path: Path) -> None:
    plain, penalised = _trainer(data, tmp_path / "a"), _trainer(data, tmp_path / "b", r1=10.0)
    without, with_r1 = _step(plain), _step(penalised)  # step 0: R1 is due
    assert with_r1["d_loss"] > without["d_loss"] + 1e-4  # the same hinge loss plus a penalty
    assert all(torch.isfinite(torch.tensor(v)) for v in with_r1.values())
    plain, lazy = _trainer(data, tmp_path / "c"), _trainer(data, tmp_path / "d", r1=10.0)
    plain.step = lazy.step = 1  # not a multiple of 16: no penalty, the same losses
    assert _step(lazy)["d_loss"] == pytest.approx(_step(plain)["d_loss"], rel=1e-5)


def test_ema_follows_the_generator(data: Path, tmp_path: Path) -> None:
    trainer = _trainer(data, tmp_path / "run")
    before = copy.deepcopy(dict(trainer.g_ema.named_parameters()))
    trainer.step_once()
    beta = min(trainer.cfg.ema, 1 / 10)  # warm-up at step 0: (1 + 0) / (10 + 0)
    weights = dict(trainer.g.named_parameters())
    for name, value in trainer.g_ema.named_parameters():
        expected = before[name] * beta + weights[name] * (1 - beta)
        assert torch.allclose(value, expected, atol=1e-6), name
    for (name, ema_buffer), (_, buffer) in zip(trainer.g_ema.named_buffers(),
                                               trainer.g.named_buffers()):
        assert torch.equal(ema_buffer, buffer), name  # statistics are copied, not averaged
    assert trainer.amp is False and trainer.device.type == "cpu"  # precision="fp32" holds


def test_run_checkpoints_and_resumes(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = _trainer(data, out, steps=2)
    assert first.run().name == "ckpt_00000002.pt"
    with pytest.raises(LiveganError, match="--resume"):
        _trainer(data, out, steps=4)  # never overwrites a run by accident
    again = Trainer(replace(first.cfg, steps=4), out, resume=True, progress=False)
    assert again.step == 2
    assert again.run().name == "ckpt_00000004.pt"
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "step_00000002.png", "step_00000004.png"]
