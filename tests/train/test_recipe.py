"""The training recipe's parts: precision choice, checkpoints by time, old runs' configs."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from livegan.errors import ExtraMissingError, LiveganError
from livegan.nets import pretrained
from livegan.train import checkpoint as ckpt
from livegan.train import precision
from livegan.train.loop import TrainConfig, Trainer
from livegan.train.recipes import PROJECTED_ONLY, RECIPES, merge_options, recipe
from tests.train.tiny import data_fixture, trainer_maker

data = data_fixture("recipedata", 8, 32)
_trainer = trainer_maker(res=32, ndf=8, steps=8, checkpoint_every=1000, sample_every=1000)


def test_fastgan_recipe_trains_with_the_reconstruction_loss(data: Path, tmp_path: Path) -> None:
    trainer = _trainer(data, tmp_path / "run", **RECIPES["fastgan"])
    assert trainer.cfg.arch == "fastgan" and trainer.cfg.d_arch == "selfsup"
    losses = [trainer.step_once() for _ in range(3)]
    assert all(row["recon"] > 0 for row in losses)
    assert all(torch.isfinite(torch.tensor(list(row.values()))).all() for row in losses)
    v1 = _trainer(data, tmp_path / "v1", **{k: v for k, v in RECIPES["v1"].items()
                                             if k not in ("ngf", "ndf")})
    assert "recon" not in v1.step_once()  # the first recipe's residual D reconstructs nothing


def test_the_default_recipe_is_projected_where_the_extra_is_installed(monkeypatch,
                                                                    tmp_path: Path) -> None:
    monkeypatch.setattr(pretrained, "weights_path", lambda: tmp_path / "weights.pt")
    (tmp_path / "weights.pt").write_bytes(b"present")
    assert recipe("default") == RECIPES["projected"]
    assert recipe("default")["d_arch"] == "projected"
    (tmp_path / "weights.pt").unlink()  # without the extra: the first trainer's settings
    assert recipe("default") == {}
    with pytest.raises(ExtraMissingError, match=r"pip install 'livegan\[quality\]'"):
        recipe("projected")


def test_checkpoint_by_training_time(data: Path, tmp_path: Path) -> None:
    trainer = _trainer(data, tmp_path / "run", checkpoint_minutes=1.0)
    trainer.step_once()
    assert trainer.maybe_checkpoint() is None  # step 1 of 1000, a fraction of a second
    trainer.elapsed += 61.0  # as if a minute of steps had gone by
    path = trainer.maybe_checkpoint()
    assert path is not None and ckpt.load_checkpoint(path)["step"] == 1
    assert trainer.maybe_checkpoint() is None  # the clock starts again from that save
    off = _trainer(data, tmp_path / "off", checkpoint_minutes=0.0)
    off.step_once()
    off.elapsed += 3600.0
    assert off.maybe_checkpoint() is None


def test_precision_auto_times_both_and_leaves_no_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rng_before = torch.get_rng_state()
    calls: list[bool] = []

    def step(bf16: bool) -> None:
        calls.append(bf16)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            net(torch.randn(2, 3, 8, 8)).float().sum().backward()

    monkeypatch.setattr(precision, "cpu_has_bf16_units", lambda: True)
    choice = precision.choose_bf16("auto", torch.device("cpu"), step, (net,))
    assert isinstance(choice, bool)
    assert calls.count(True) == calls.count(False) == precision.REPEATS + 1
    for key, value in net.state_dict().items():  # BatchNorm statistics put back
        assert torch.equal(value, before[key]), key
    assert torch.equal(torch.get_rng_state(), rng_before)
    monkeypatch.setattr(precision, "cpu_has_bf16_units", lambda: False)
    calls.clear()
    assert precision.choose_bf16("auto", torch.device("cpu"), step, (net,)) is False
    assert not calls  # no bf16 units: nothing to time
    assert precision.choose_bf16("bf16", torch.device("cpu"), step) is True
    assert precision.choose_bf16("fp32", torch.device("cuda"), step) is False


def test_the_chosen_precision_is_kept_on_resume(data: Path, tmp_path: Path) -> None:
    trainer = _trainer(data, tmp_path / "run", precision="bf16")
    trainer.step_once()
    assert trainer.amp is True
    trainer.maybe_checkpoint(force=True)
    resumed = Trainer(trainer.cfg, tmp_path / "run", resume=True, progress=False)
    assert resumed.amp is True and resumed.step == 1


def test_a_run_from_before_the_new_recipe_resumes_as_it_started(tmp_path: Path) -> None:
    old = {k: v for k, v in asdict(TrainConfig(data="x")).items()
           if k not in ("d_arch", "recon", "precision", "beta1", "checkpoint_minutes")}
    old.update(arch="lite", ngf=16, ndf=16)
    (tmp_path / "config.json").write_text(json.dumps(old))
    cfg = TrainConfig.from_json(tmp_path / "config.json")
    assert (cfg.d_arch, cfg.recon, cfg.precision, cfg.beta1) == ("residual", 0.0, "fp32", 0.0)
    assert cfg.arch == "lite"


def test_widths_by_resolution_and_bad_settings() -> None:
    widths = [TrainConfig(data="x", res=r, arch="fastgan").generator_width()
              for r in (64, 128, 256, 512)]
    assert widths == [16, 16, 12, 8]
    assert TrainConfig(data="x", res=256).generator_width() == 16  # lite: as it always was
    assert TrainConfig(data="x", ngf=24).generator_width() == 24
    assert TrainConfig(data="x").discriminator_width() == 16
    assert TrainConfig(data="x", ndf=32).discriminator_width() == 32
    assert TrainConfig(data="x", d_arch="residual").discriminator_width() == 16
    for bad in ({"precision": "fp8"}, {"d_arch": "huge"}, {"recon": -1.0},
                {"g_options": "wings=2"}, {"g_options": "noise=perhaps"}):
        with pytest.raises(LiveganError):
            TrainConfig(data="x", **bad).validate()


def test_generator_options_reach_the_network(data: Path, tmp_path: Path) -> None:
    trainer = _trainer(data, tmp_path / "run", arch="fastgan", g_options="noise=1, double_up=8")
    assert trainer.g_config["noise"] is True and trainer.g_config["double_up"] == 8
    kinds = {type(m).__name__ for m in trainer.g.modules()}
    assert "NoiseInjection" in kinds
    assert torch.isfinite(torch.tensor(trainer.step_once()["g_loss"]))


def _train_one_step(data: Path, out: Path, *flags: str) -> dict:
    """`livegan train DATA --out OUT ... FLAGS` for one 32 px step; its saved config."""
    from livegan.cli import main

    code = main(["train", str(data), "--out", str(out), "--res", "32", "--steps", "1",
                 "--no-progress", "--no-quality", *flags])
    assert code == 0
    return json.loads((out / "config.json").read_text())


def test_train_command_takes_a_recipe_then_flags_then_settings(data: Path,
                                                              tmp_path: Path) -> None:
    from livegan.cli import main

    saved = _train_one_step(data, tmp_path / "run", "--recipe", "v1", "--lr", "3e-4",
                            "--set", "batch=4", "--set", "ngf=4", "--set", "ndf=4")
    assert (saved["arch"], saved["d_arch"], saved["precision"]) == ("lite", "residual", "fp32")
    assert saved["lr"] == 3e-4 and saved["lr_d"] == 4e-4  # the flag beats the recipe
    assert saved["batch"] == 4 and saved["ngf"] == 4  # --set beats both
    assert main(["train", str(data), "--out", str(tmp_path / "bad"), "--set", "wings=2"]) == 2


def test_a_flag_given_with_its_usual_value_still_beats_the_recipe(data: Path,
                                                                   tmp_path: Path) -> None:
    """`--batch 16` means 16, even where 16 was the old default and the recipe says 8."""
    saved = _train_one_step(data, tmp_path / "run", "--recipe", "fastgan", "--batch", "16",
                            "--lr", "1e-4", "--ngf", "4", "--ndf", "4")
    assert (saved["batch"], saved["lr"]) == (16, 1e-4)  # given: the flags' values
    assert (saved["lr_d"], saved["arch"]) == (2e-4, "fastgan")  # not given: the recipe's


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_precision_auto_counts_cpu_time_so_a_busy_machine_cannot_flip_it(monkeypatch) -> None:
    """bf16 does half fp32's work, but each of its steps also waits, as a step does while
    another program holds the core: CPU time still says bf16 is faster."""

    def step(bf16: bool) -> None:
        _busy(0.02 if bf16 else 0.04)
        if bf16:
            time.sleep(0.08)  # waiting for the CPU: wall time, no CPU time

    monkeypatch.setattr(precision, "cpu_has_bf16_units", lambda: True)
    assert precision.choose_bf16("auto", torch.device("cpu"), step) is True


def test_the_projected_recipe_trains_a_pixel_norm_generator_unless_told_otherwise(
        data: Path, tmp_path: Path) -> None:
    settings = {k: v for k, v in RECIPES["projected"].items()  # any D will do
                if k != "d_arch" and k not in PROJECTED_ONLY}
    trainer = _trainer(data, tmp_path / "run", **settings)
    assert trainer.cfg.g_options == "norm=pixel"
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in trainer.g.modules())
    assert torch.isfinite(torch.tensor(list(trainer.step_once().values()))).all()
    told = _trainer(data, tmp_path / "told", **{**settings, "g_options": "norm=batch"})
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in told.g.modules())


def test_generator_options_add_to_the_recipes_name_by_name() -> None:
    assert merge_options("norm=pixel", "noise=1") == "norm=pixel,noise=1"
    assert merge_options("norm=pixel", "norm=batch") == "norm=batch"
    assert merge_options("norm=pixel,cap=64", " cap = 32 ") == "norm=pixel,cap = 32"
    assert merge_options("", "noise=1") == "noise=1" and merge_options("norm=pixel", "") \
        == "norm=pixel"


def test_g_options_on_the_command_line_keep_the_recipes_own(data: Path, tmp_path: Path,
                                                           monkeypatch) -> None:
    """`--g-options noise=1` on a recipe that sets norm=pixel trains with both."""
    monkeypatch.setitem(RECIPES, "fastgan", {**RECIPES["fastgan"], "g_options": "norm=pixel"})
    small = ("--ngf", "4", "--ndf", "4", "--batch", "2")
    saved = _train_one_step(data, tmp_path / "both", "--recipe", "fastgan",
                            "--g-options", "noise=1", *small)
    assert saved["g_options"] == "norm=pixel,noise=1"
    saved = _train_one_step(data, tmp_path / "batch", "--recipe", "fastgan",
                            "--g-options", "norm=batch", *small)
    assert saved["g_options"] == "norm=batch"
