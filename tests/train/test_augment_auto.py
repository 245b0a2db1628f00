"""`--augment auto`: the augmentation policy chosen by the size of the training set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from livegan.errors import LiveganError
from livegan.train import augment
from livegan.train.augment import POLICIES, parse_policy, resolve_policy
from livegan.train.data import distinct_pictures, prepare
from livegan.train.loop import Trainer
from livegan.train.recipes import RECIPES
from tests.train.tiny import data_fixture, trainer_maker

data = data_fixture("autodata", 8, 16)
_trainer = trainer_maker(res=16, ndf=4, steps=2, sample_every=100, augment="auto")


def test_auto_is_translation_alone_from_many_images_and_all_three_below() -> None:
    assert resolve_policy("auto", augment.MANY_IMAGES) == "translation"
    assert resolve_policy("AUTO", 50_000) == "translation"
    assert parse_policy(resolve_policy("auto", augment.MANY_IMAGES - 1)) == POLICIES
    assert resolve_policy("color,cutout", 50_000) == "color,cutout"  # given policies stay
    assert resolve_policy("none", 10) == "none"
    assert parse_policy("auto") == POLICIES  # before the set is read: validates as all three
    with pytest.raises(LiveganError, match="or auto"):
        parse_policy("auto,sparkle")


def test_the_projected_recipe_augments_by_the_set_size() -> None:
    assert RECIPES["projected"]["augment"] == "auto"
    assert "augment" not in RECIPES["v1"] or RECIPES["v1"]["augment"] != "auto"


def test_a_run_resolves_auto_from_its_images_and_records_it(data: Path, tmp_path: Path,
                                                            monkeypatch) -> None:
    small = _trainer(data, tmp_path / "small")  # 8 images: a small set
    assert small.policy == POLICIES
    saved = json.loads((tmp_path / "small" / "config.json").read_text())
    assert saved["augment"] == "auto" and saved["augment_policy"] == "color,translation,cutout"

    monkeypatch.setattr(augment, "MANY_IMAGES", 8)  # the same 8 images now count as many
    large = _trainer(data, tmp_path / "large")
    assert large.policy == ("translation",)
    large.run()
    saved = json.loads((tmp_path / "large" / "config.json").read_text())
    assert saved["augment_policy"] == "translation"
    again = Trainer(large.cfg, tmp_path / "large", resume=True, progress=False)
    assert again.policy == ("translation",) and again.step == 2


def test_mirrored_copies_count_once(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i, colour in enumerate(("red", "green", "blue", "white", "navy")):
        Image.new("RGB", (40, 40), colour).save(src / f"pic{i}.png")
    prepare(src, tmp_path / "set", 16, mirror=True)
    files = sorted((tmp_path / "set").glob("*.png"))
    assert len(files) == 10 and distinct_pictures(files) == 5
    assert distinct_pictures([tmp_path / "x_mirror.png"]) == 1  # no original beside it

    monkeypatch.setattr(augment, "MANY_IMAGES", 8)  # 10 files, but 5 pictures: a small set
    small = _trainer(tmp_path / "set", tmp_path / "run")
    assert small.data.pictures == 5 and small.policy == POLICIES
