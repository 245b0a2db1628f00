"""A conditional run end to end: labels, metrics, quality figures, timelapse, export, directions,
and the label switching what the engine renders."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch

from livegan.cli import main
from livegan.control.controls import Controls
from livegan.control.motion import Motion
from livegan.engine import Engine
from livegan.modelfile import load_model, read_info
from livegan.train.loop import TrainConfig, train
from livegan.train.metrics import COLUMNS, read_metrics
from livegan.train.synth import synthesize

pytestmark = pytest.mark.slow

RES, STEPS = 32, 30
LABELS = ["cool", "warm"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """48 synthetic paintings in two class folders, a 30-step conditional run, its export."""
    root = tmp_path_factory.mktemp("conditional")
    synthesize(root / "flat", 48, RES, progress=False)
    for i, image in enumerate(sorted((root / "flat").rglob("*.png"))):
        target = root / "data" / LABELS[i % 2]
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(image, target / image.name)
    cfg = TrainConfig(data=str(root / "data"), res=RES, ngf=8, ndf=8, batch=4, steps=STEPS,
                      labels=True, sample_every=10, checkpoint_every=10, log_every=5)
    out = root / "run"
    train(cfg, out, progress=False)
    model = root / "models" / "classes.safetensors"
    assert main(["export", str(out), "--out", str(model)]) == 0
    return {"out": out, "model": model, "root": root}


def test_run_folder_holds_config_metrics_and_samples(run: dict) -> None:
    out = run["out"]
    config = json.loads((out / "config.json").read_text())
    assert config["labels"] is True and config["label_names"] == LABELS
    rows = read_metrics(out)
    assert [r["step"] for r in rows] == [5, 10, 15, 20, 25, 30]
    with open(out / "metrics.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert tuple(table[0]) == COLUMNS
    assert [int(r["step"]) for r in table] == [r["step"] for r in rows]
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == [
        f"step_{s:08d}.png" for s in (10, 20, 30)]


def test_quality_figures_are_logged_at_each_sample_grid(run: dict) -> None:
    rows = {r["step"]: r for r in read_metrics(run["out"])}
    quality = ("kid", "color_dist", "precision", "recall", "diversity", "duplicates",
               "nn_ratio", "copies")
    for step in (10, 20, 30):
        assert all(np.isfinite(rows[step][k]) for k in quality), rows[step]
        assert 0 <= rows[step]["precision"] <= 1 and 0 <= rows[step]["copies"] <= 1
        assert rows[step]["collapse"] in (0, 1) and rows[step]["memorising"] in (0, 1)
    assert "kid" not in rows[5]


def test_timelapse_video_and_strip(run: dict) -> None:
    av = pytest.importorskip("av")
    out = run["out"]
    with av.open(str(out / "timelapse.mp4")) as video:
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(video=0)]
    assert len(frames) >= 3 and frames[0].std() > 1  # one grid (at least) per sample step
    from PIL import Image

    strip = Image.open(out / "timelapse_strip.png")
    assert strip.size == (3 * 98 + 2, 4 * 98 + 2)  # 4 seeds (rows) x 3 sample steps, 96px tiles


def test_model_file_stores_the_label_names(run: dict, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture) -> None:
    info = read_info(run["model"])
    assert info.labels == LABELS and info.resolution == RES
    assert info.training["steps"] == STEPS
    monkeypatch.setenv("LIVEGAN_MODELS", str(run["model"].parent))
    assert main(["models"]) == 0
    assert "labels: cool, warm" in capsys.readouterr().out


def test_generator_output_depends_on_the_label(run: dict) -> None:
    g = load_model(run["model"]).generator
    z = torch.randn(4, g.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        cool = g(z, torch.zeros(4, dtype=torch.long))
        warm = g(z, torch.ones(4, dtype=torch.long))
    assert (cool - warm).abs().mean() > 1e-3


def test_set_label_changes_the_rendered_frame(run: dict) -> None:
    """What a show does each frame: snapshot the controls, step the motion, render."""
    engine = Engine(load_model(run["model"]), "cpu")
    controls = Controls(engine.z_dim, engine.directions.shape[0])
    controls.set_mode("hold")
    motion = Motion(engine.z_dim, engine.directions)

    def frame() -> np.ndarray:
        snap = controls.snapshot()
        return engine.render(motion.step(snap, 0.02), snap.label)

    try:
        first, again = frame(), frame()
        controls.set_label(1)
        warm = frame()
        controls.set_label(0)
        back = frame()
    finally:
        engine.close()
    assert np.array_equal(first, again)  # holding still: only the label moves the picture
    assert np.abs(first.astype(int) - warm).mean() > 0.1
    assert np.array_equal(first, back)


def test_export_finds_directions_that_matter(run: dict) -> None:
    """pc0 moves the picture more than a random direction of the same length, on average."""
    model = load_model(run["model"])
    dirs, names = model.directions, model.info.direction_names
    assert dirs is not None and dirs.shape == (16, model.info.z_dim)
    assert names == [f"pc{i}" for i in range(16)] and torch.isfinite(dirs).all()
    g = model.generator
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(32, g.z_dim, generator=gen)
    random = torch.randn(16, g.z_dim, generator=gen)
    random = random / random.norm(dim=1, keepdim=True) * dirs[0].norm()
    with torch.no_grad():
        base = g(z)

        def change(d: torch.Tensor) -> float:
            return float((g(z + d) - base).abs().mean())

        along_pc0 = change(dirs[0])
        along_random = float(np.mean([change(r) for r in random]))
    assert along_pc0 > along_random, (along_pc0, along_random)
