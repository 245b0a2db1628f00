"""`livegan train --from MODEL`: a run starts from a trained generator (its own file, a bundled
model), takes its arch and settings, resumes from its checkpoints, and a model it cannot train
from is one sentence with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from livegan.cli import main
from livegan.modelfile import find_model, load_model, save_model
from livegan.nets import build_generator, generator_config
from livegan.train.loop import TrainConfig, Trainer
from livegan.train.synth import synthesize
from tests.conftest import write_tiny_model

RES = 32
SMALL = ["--batch", "4", "--ndf", "8", "--precision", "fp32", "--set", "d_arch=residual",
         "--no-progress", "--no-quality", "--mirror", "on"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("start") / "synth"
    synthesize(folder, 16, RES, progress=False)
    return folder


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    """A model of the artist's own: 6 steps of a fastgan run, exported."""
    root = tmp_path_factory.mktemp("own")
    assert main(["train", str(data), "--out", str(root / "run"), "--res", str(RES), "--steps",
                 "6", "--arch", "fastgan", "--ngf", "8", "--g-options", "norm=pixel", *SMALL,
                 "--checkpoint-every", "6", "--sample-every", "6"]) == 0
    out = root / "own.safetensors"
    assert main(["export", str(root / "run"), "--out", str(out)]) == 0
    return out


def weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_a_run_starts_from_the_models_generator_and_takes_its_settings(
        model: Path, data: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(data=str(data), res=RES, arch="lite", ngf=16, g_options="norm=batch",
                      batch=4, ndf=8, d_arch="residual", precision="fp32", quality=False,
                      mirror="on", steps=4, checkpoint_every=2, sample_every=2,
                      start_from=str(model))
    trainer = Trainer(cfg, tmp_path / "run", progress=False)
    assert trainer.cfg.arch == "fastgan" and trainer.cfg.ngf == 8
    assert "norm=pixel" in trainer.cfg.g_options
    saved = load_model(model).generator.state_dict()
    for name, value in weights(trainer.g).items():
        assert torch.equal(value, saved[name]), name
    for name, value in weights(trainer.g_ema).items():
        assert torch.equal(value, saved[name]), name
    trainer.run()
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["start_from"] == str(model) and config["arch"] == "fastgan"
    after = weights(trainer.g)
    assert any(not torch.equal(after[k], saved[k]) for k in saved)  # it trained
    # --resume continues from the checkpoint, not from the model again
    assert main(["train", str(data), "--out", str(tmp_path / "run"), "--resume", "--steps",
                 "6", "--no-progress"]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["arch"] == "fastgan"


def test_the_bundled_model_starts_a_run_at_its_resolution(tmp_path: Path) -> None:
    synthesize(tmp_path / "big", 4, 256, progress=False)
    cfg = TrainConfig(data=str(tmp_path / "big"), res=256, batch=2, d_arch="residual",
                      ndf=8, precision="fp32", quality=False, mirror="on",
                      start_from="default")
    trainer = Trainer(cfg, tmp_path / "run", progress=False)
    bundled = load_model(find_model("default")).generator.state_dict()
    assert trainer.cfg.arch == "fastgan" and trainer.cfg.ngf == bundled_width()
    assert all(torch.equal(v, bundled[k]) for k, v in trainer.g.state_dict().items())


def bundled_width() -> int:
    from livegan.modelfile import read_info

    return int(read_info(find_model("default")).config["ngf"])


def stylegan2_file(path: Path) -> Path:
    """A small StyleGAN2 model file, as `livegan import` writes one."""
    config = generator_config("stylegan2", resolution=RES, z_dim=32, w_dim=32,
                              channel_base=512, channel_max=32, mapping_layers=2)
    return save_model(path, build_generator("stylegan2", config), "stylegan2", config, "sg2")


@pytest.mark.parametrize("case, says", [
    ("stylegan2", "a stylegan2 model, which livegan can play but not train"),
    ("resolution", "it draws 256x256 pictures and this run is --res 32"),
    ("labels", "it draws 2 classes and this run has none"),
    ("missing", "not found"),
])
def test_a_model_it_cannot_start_from_is_one_sentence_and_nothing_is_written(
        case: str, says: str, data: Path, tmp_path: Path, capsys) -> None:
    source = {"stylegan2": lambda: stylegan2_file(tmp_path / "sg2.safetensors"),
              "resolution": lambda: "default",
              "labels": lambda: write_tiny_model(tmp_path / "cond.safetensors",
                                                 labels=["a", "b"]),
              "missing": lambda: "no-such-model"}[case]()
    out = tmp_path / "run"
    code = main(["train", str(data), "--out", str(out), "--res", str(RES), "--steps", "2",
                 "--from", str(source), *SMALL])
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1
    assert not out.exists() or not any(out.iterdir())
