"""--mirror on|off|auto: auto flips photographs and not letters, says so in one line, keeps
its decision in config.json and checkpoints, and bad values are one sentence."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from livegan.bench.realsets import real_data
from livegan.cli import main
from livegan.train.config import TrainConfig
from livegan.train.data import ImageDataset
from livegan.train.mirror import HANDED, decide, handedness
from tests.train.tiny import tiny_trainer

pytest.importorskip("skimage", reason="the bench's real sets need the quality extra")
pytest.importorskip("matplotlib", reason="the bench's real sets need the quality extra")

RES = 32


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("mirror")
    return {name: real_data(name, root, RES, 600, 8)[0] for name in ("glyphs", "photos")}


def images(folder: Path) -> torch.Tensor:
    return ImageDataset(folder, RES, progress=False).images


def test_letters_have_a_handedness_and_photographs_do_not(sets) -> None:
    glyphs, photos = images(sets["glyphs"]), images(sets["photos"])
    assert handedness(glyphs) >= HANDED
    assert handedness(photos) < HANDED
    state = torch.get_rng_state()
    letters = decide("auto", glyphs)
    assert torch.equal(torch.get_rng_state(), state)  # a run's seeds are untouched
    assert not letters.flip and "not mirroring" in letters.sentence()
    assert decide("auto", photos).flip
    assert decide("on", glyphs).flip and not decide("off", photos).flip  # no test asked
    assert decide("on", glyphs).accuracy is None


def test_a_mirrored_set_is_symmetric_and_a_tiny_one_is_flipped_untested(sets) -> None:
    glyphs = images(sets["glyphs"])[:300]
    both = torch.cat([glyphs, glyphs.flip(3)])  # what `data prepare --mirror` writes
    assert decide("auto", both).flip
    few = decide("auto", glyphs[:10])
    assert few.flip and few.accuracy is None and "too few" in few.sentence()


def test_a_run_on_letters_decides_once_and_resume_keeps_it(sets, tmp_path: Path,
                                                          caplog, monkeypatch) -> None:
    out = tmp_path / "run"
    with caplog.at_level(logging.INFO, logger="livegan.train.loop"):
        trainer = tiny_trainer(sets["glyphs"], out, res=RES, mirror="auto", steps=2,
                               checkpoint_every=2, sample_every=2)
    said = [r.getMessage() for r in caplog.records if "mirror" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("not mirroring")
    assert trainer.mirror is False
    real, _ = trainer._reals()
    assert real.shape[0] == 4
    trainer.run()
    config = json.loads((out / "config.json").read_text())
    assert config["mirror"] == "auto" and config["mirror_chosen"] is False
    assert config["mirror_accuracy"] >= HANDED

    def never(*args, **kwargs):
        raise AssertionError("a resumed run asks its checkpoint, not the data")

    monkeypatch.setattr("livegan.train.mirror.decide", never)
    again = type(trainer)(trainer.cfg, out, resume=True, progress=False)
    assert again.step == 2 and again.mirror is False


def test_mirror_values_and_old_runs(tmp_path: Path, capsys) -> None:
    assert TrainConfig(data="x").mirror == "auto"
    with pytest.raises(Exception, match="choose on"):
        TrainConfig(data="x", mirror="maybe").validate()
    old = tmp_path / "config.json"
    old.write_text(json.dumps({"data": "x", "mirror": False}))
    assert TrainConfig.from_json(old).mirror == "off"
    old.write_text(json.dumps({"data": "x", "mirror": True}))
    assert TrainConfig.from_json(old).mirror == "on"
    code = main(["train", str(tmp_path), "--out", str(tmp_path / "r"), "--set",
                 "mirror=maybe", "--no-progress"])
    assert code == 2 and "--mirror maybe: choose on" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", str(tmp_path), "--out", str(tmp_path / "r"), "--mirror", "sideways"])
