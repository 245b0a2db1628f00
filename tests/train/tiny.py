"""Shared pieces of the trainer tests: a tiny synthetic set and a Trainer built on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from livegan.train.loop import TrainConfig, Trainer
from livegan.train.synth import synthesize

# A trainer small enough for a test: fp32 (so runs compare exactly), no grids, no checkpoints.
# Flips on, as before --mirror auto (tests of auto ask for it).
TINY = {"ngf": 4, "z_dim": 16, "batch": 4, "quality": False, "precision": "fp32",
        "mirror": "on"}


def tiny_data(factory: pytest.TempPathFactory, name: str, count: int, res: int) -> Path:
    folder = factory.mktemp(name) / "synth"
    synthesize(folder, count, res, progress=False)
    return folder


def tiny_trainer(data: Path, out: Path, **settings: object) -> Trainer:
    return Trainer(TrainConfig(data=str(data), **{**TINY, **settings}), out, progress=False)


def data_fixture(name: str, count: int, res: int):
    """A module-scoped fixture with `count` synthetic images at `res`."""

    @pytest.fixture(scope="module")
    def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return tiny_data(tmp_path_factory, name, count, res)

    return data


def trainer_maker(**base: object):
    """tiny_trainer with these settings, which each call may change."""
    return lambda data, out, **changes: tiny_trainer(data, out, **{**base, **changes})
