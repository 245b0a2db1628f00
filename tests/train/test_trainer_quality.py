"""Quality figures, the metrics log and the timelapse helpers, on real files and images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from livegan.render import timelapse
from livegan.train.data import ImageDataset
from livegan.train.metrics import MetricsLog, read_metrics
from livegan.train.quality import QualityProbe, kid, warnings_for
from livegan.train.samples import save_grid
from livegan.train.synth import synthesize
from livegan.train.timelapse import frames_strip, sample_grids


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> torch.Tensor:
    """160 procedural paintings, uint8 [N, 3, 32, 32]."""
    folder = tmp_path_factory.mktemp("quality") / "synth"
    synthesize(folder, 160, 32, progress=False)
    return ImageDataset(folder, 32, progress=False).images


@pytest.fixture(scope="module")
def probe(images: torch.Tensor) -> QualityProbe:
    return QualityProbe(images[:96], features="random")


def _floats(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 127.5 - 1


def test_unseen_real_images_score_like_the_data(probe, images) -> None:
    figures = probe.measure(_floats(images[96:]))
    assert abs(figures["kid"]) < 0.5
    assert figures["precision"] > 0.7 and figures["recall"] > 0.5
    assert 0.7 < figures["diversity"] < 1.3 and figures["duplicates"] < 0.2
    assert figures["copies"] == 0 and figures["nn_ratio"] > 0.7
    assert warnings_for(figures) == {}


def test_collapse_is_flagged(probe, images) -> None:
    one = _floats(images[100:101]).repeat(64, 1, 1, 1)
    few = _floats(images[100:104]).repeat(16, 1, 1, 1)
    held = probe.measure(_floats(images[96:]))
    for collapsed in (one, few):
        figures = probe.measure(collapsed + 0.01 * torch.randn(collapsed.shape,
                                                               generator=torch.Generator()))
        assert figures["duplicates"] > 0.9 and figures["recall"] < held["recall"]
        assert figures["kid"] > held["kid"]
        assert "collapse" in warnings_for(figures)
        assert warnings_for(figures, progress=0.2) == {}  # early samples are alike anyway
    assert probe.measure(one)["diversity"] < 0.1


def test_copies_of_training_images_are_flagged(probe, images) -> None:
    figures = probe.measure(_floats(images[:64]))
    assert figures["copies"] == 1.0 and figures["nn_ratio"] < 0.01
    assert "memorising" in warnings_for(figures, progress=0.3)["memorising"]


def test_noise_is_far_from_the_data(probe, images) -> None:
    noise = torch.rand(64, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    figures = probe.measure(noise)
    held = probe.measure(_floats(images[96:]))
    assert figures["kid"] > 10 * max(held["kid"], 0.01)
    assert figures["precision"] < 0.2 and figures["color_dist"] > held["color_dist"]


def test_probe_leaves_the_global_random_state_alone(images) -> None:
    before = torch.get_rng_state()
    QualityProbe(images[:40], features="random").measure(_floats(images[40:56]))
    assert torch.equal(before, torch.get_rng_state())


def test_kid_is_zero_in_expectation_for_one_distribution() -> None:
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 16, generator=gen), torch.randn(200, 16, generator=gen)
    assert abs(kid(a, b)) < 0.05 < kid(a, b + 1.0)


def test_metrics_rewind_drops_rows_past_a_checkpoint_and_torn_lines(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    for step in range(1, 8):
        log.write({"step": step, "d_loss": 1.0, "kid": 0.5} if step == 4 else {"step": step})
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"step": 8, "d_lo')  # a kill in the middle of a line
    log.rewind(5)
    assert [r["step"] for r in read_metrics(tmp_path)] == [1, 2, 3, 4, 5]
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("step,time,") and len(lines) == 6
    assert lines[4].split(",")[0] == "4" and "0.5" in lines[4]
    log.write({"step": 6})
    assert [r["step"] for r in read_metrics(tmp_path)][-1] == 6


def test_metrics_csv_backfills_an_older_run(tmp_path: Path) -> None:
    rows = [{"step": s, "g_loss": 0.1 * s} for s in (25, 50)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    MetricsLog(tmp_path).write({"step": 75, "g_loss": 7.5})
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["25", "50", "75"]


def test_timelapse_of_sample_grids(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    gen = torch.Generator().manual_seed(0)
    for step in (250, 500, 750, 1000):
        save_grid(torch.rand(36, 3, 16, 16, generator=gen) * 2 - 1,
                  tmp_path / "samples" / f"step_{step:08d}.png", rows=6)
    assert [s for s, _ in sample_grids(tmp_path)] == [250, 500, 750, 1000]
    video = timelapse(tmp_path, tmp_path / "timelapse.mp4", fps=4)
    with av.open(str(video)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 3 + 4  # one frame per grid, the last held for a second
    assert frames[0].width % 2 == 0 and frames[0].height % 2 == 0
    strip = frames_strip(tmp_path, seeds=2, columns=3, tile=16)
    from PIL import Image

    assert Image.open(strip).size == (3 * 18 + 2, 2 * 18 + 2)
    assert not list(tmp_path.glob(".*.tmp"))
