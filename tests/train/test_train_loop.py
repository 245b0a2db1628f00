"""The trainer end to end through the CLI: a tiny real run, resume, refusals, export, render."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from livegan.cli import main
from livegan.engine import Engine
from livegan.errors import LiveganError
from livegan.modelfile import load_model
from livegan.train import checkpoint as ckpt
from livegan.train.augment import POLICIES, diff_augment, parse_policy
from livegan.train.synth import synthesize

RES, STEPS, MORE = 32, 30, 40
TINY = ["--res", str(RES), "--batch", "8", "--ngf", "8", "--ndf", "8", "--no-progress"]


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 procedural 32x32 paintings."""
    folder = tmp_path_factory.mktemp("data") / "synth"
    synthesize(folder, 64, RES, progress=False)
    return folder


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def run(synth_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A 30-step run, then --resume --steps 40 in the same folder; what each left behind."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    first = main(["train", str(synth_data), "--out", str(out), "--steps", str(STEPS), *TINY])
    after_first = {
        "checkpoints": [step for step, _ in ckpt.list_checkpoints(out / "checkpoints")],
        "metrics": (out / "metrics.jsonl").read_text() if (out / "metrics.jsonl").is_file()
        else "",
    }
    handler = _Lines()
    logger = logging.getLogger("livegan")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        second = main(["train", str(synth_data), "--out", str(out), "--resume",
                       "--steps", str(MORE), "--no-progress"])
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return {"out": out, "first": first, "second": second, "after_first": after_first,
            "resume_log": handler.lines}


def _metric_steps(out: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()
            if line.strip()]


def test_train_writes_a_run(run: dict) -> None:
    out = run["out"]
    assert run["first"] == 0
    assert run["after_first"]["checkpoints"][-1] == STEPS
    assert list((out / "samples").glob("*.png"))
    config = json.loads((out / "config.json").read_text())
    assert (config["res"], config["ngf"], config["ndf"], config["batch"]) == (RES, 8, 8, 8)
    assert config["images"] == 64
    first_steps = [json.loads(line)["step"] for line in
                   run["after_first"]["metrics"].splitlines() if line.strip()]
    assert first_steps and max(first_steps) <= STEPS
    row = json.loads(run["after_first"]["metrics"].splitlines()[0])
    assert {"d_loss", "g_loss", "images_per_s"} <= set(row)
    assert all(np.isfinite(v) for v in row.values() if isinstance(v, float))


def test_resume_continues_from_the_checkpoint(run: dict) -> None:
    out = run["out"]
    assert run["second"] == 0
    steps = [step for step, _ in ckpt.list_checkpoints(out / "checkpoints")]
    assert steps[-1] == MORE and STEPS in steps
    state = ckpt.load_checkpoint(out / "checkpoints" / f"ckpt_{MORE:08d}.pt")
    assert state["step"] == MORE
    assert any("resumed" in line and str(STEPS) in line for line in run["resume_log"]), \
        run["resume_log"]
    metric_steps = _metric_steps(out)
    assert max(metric_steps) == MORE and any(s > STEPS for s in metric_steps)
    assert metric_steps == sorted(metric_steps)  # one run, no step twice
    config = json.loads((out / "config.json").read_text())
    assert config["res"] == RES and config["ngf"] == 8  # the run's own settings were kept


def test_refuses_to_overwrite_a_run(run: dict, synth_data: Path,
                                    capsys: pytest.CaptureFixture) -> None:
    out = run["out"]
    before = ckpt.list_checkpoints(out / "checkpoints")
    code = main(["train", str(synth_data), "--out", str(out), "--steps", "5", *TINY])
    err = capsys.readouterr().err
    assert code == 2
    assert "--resume" in err and str(out) in err and "Traceback" not in err
    assert ckpt.list_checkpoints(out / "checkpoints") == before


def test_export_writes_a_playable_model(run: dict, tmp_path: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "models" / "tiny_run.safetensors"
    assert main(["export", str(run["out"]), "--out", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    model = load_model(target)
    z_dim = model.info.z_dim
    assert model.info.name == "tiny_run" and model.info.resolution == RES
    assert model.directions is not None and tuple(model.directions.shape) == (16, z_dim)
    assert model.info.direction_names == [f"pc{i}" for i in range(16)]
    assert model.info.training["steps"] == MORE
    assert torch.isfinite(model.directions).all()

    engine = Engine(model, "cpu")
    try:
        rng = np.random.default_rng(0)
        a = engine.render(rng.standard_normal(z_dim).astype(np.float32))
        b = engine.render(rng.standard_normal(z_dim).astype(np.float32))
        moved = engine.render(rng.standard_normal(z_dim).astype(np.float32)
                              + engine.directions[0] * 3)
    finally:
        engine.close()
    assert a.shape == (RES, RES, 3) and a.dtype == np.uint8
    assert a.std() > 1.0  # not a constant frame
    assert np.abs(a.astype(int) - b).mean() > 0.5
    assert moved.std() > 1.0


def test_export_without_a_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["export", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.safetensors")])
    err = capsys.readouterr().err
    assert code == 2 and "livegan train" in err and "Traceback" not in err
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.parametrize(
    ("flags", "expect"),
    [
        (["--res", "48"], "--res 48"),
        (["--res", "2048"], "--res 2048"),
        (["--arch", "stylegan9"], "--arch"),
        (["--augment", "sparkle"], "sparkle"),
        (["--lr", "0"], "--lr"),
    ],
)
def test_bad_flags_exit_2_with_a_sentence(synth_data: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture, flags: list[str],
                                          expect: str) -> None:
    out = tmp_path / "run"
    code = main(["train", str(synth_data), "--out", str(out), "--steps", "1", "--no-progress",
                 *flags])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expect in err and "Traceback" not in err and err.count("\n") == 1
    assert not list(out.glob("checkpoints/*.pt"))


def test_missing_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["train", str(tmp_path / "nope"), "--out", str(tmp_path / "run"), "--steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "livegan data" in err


# -- DiffAugment ----------------------------------------------------------------------------

@pytest.mark.parametrize("policy", [(), *((p,) for p in POLICIES), POLICIES])
def test_diff_augment_keeps_shape_and_gradients(policy: tuple[str, ...]) -> None:
    torch.manual_seed(0)
    x = (torch.rand(4, 3, RES, RES) * 2 - 1).requires_grad_(True)
    y = diff_augment(x, policy)
    assert y.shape == x.shape and y.dtype == x.dtype
    (y * torch.randn_like(y)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    if policy:
        assert not torch.equal(y.detach(), x.detach())


def test_diff_augment_policy_text() -> None:
    assert parse_policy("color, translation,cutout") == POLICIES
    assert parse_policy("none") == parse_policy("") == parse_policy("OFF") == ()
    with pytest.raises(LiveganError, match="sparkle"):
        parse_policy("color,sparkle")
