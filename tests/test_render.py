"""Offline renders: seed loops that close, grids, larger canvases, upscaling, timelapses, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from livegan.cli import main
from livegan.latent import slerp
from livegan.render import (
    RenderConfig,
    latent_field,
    load_renderer,
    loop_latents,
    render,
    timelapse,
)
from livegan.show.videofile import read_video

pytest.importorskip("av")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def model(tmp_path, make_tiny_model):
    return make_tiny_model(tmp_path / "m.safetensors", arch="dcgan")


def test_a_seed_loop_video_has_seconds_times_fps_frames_and_closes(tmp_path, model):
    cfg = RenderConfig(seconds=1.0, fps=12, seeds=(1, 2, 3), progress=False)
    out = render(str(model), tmp_path / "loop.mp4", cfg)
    frames = read_video(out)
    assert len(frames) == 12 and frames[0].shape == (32, 32, 3)
    latents = list(loop_latents(cfg, 128, None))
    step = np.linalg.norm(latents[1] - latents[0])
    assert np.linalg.norm(latents[0] - latents[-1]) <= 1.5 * step  # the last leads into the first
    assert np.array_equal(latents[0], latent_field(1, 128, None))  # a show's /livegan/seed 1


def test_a_grid_is_one_png_of_rows_by_columns(tmp_path, model):
    out = render(str(model), tmp_path / "grid.png",
                 RenderConfig(grid=(2, 3), seeds=(5, 6), progress=False))
    assert Image.open(out).size == (3 * 34 + 2, 2 * 34 + 2)  # 32 px tiles, 2 px gaps


def test_a_larger_canvas_has_the_exact_size_asked(tmp_path, model):
    out = render(str(model), tmp_path / "wide.png",
                 RenderConfig(canvas=(150, 70), seeds=(3,), progress=False))
    image = np.asarray(Image.open(out))
    assert image.shape == (70, 150, 3)
    assert image[:, :75].std() > 0 and image[:, 75:].std() > 0  # picture everywhere


def test_the_canvas_latent_is_smooth_and_on_the_sphere():
    field = latent_field(7, 16, (9, 13))
    assert field.shape == (16, 9, 13)
    assert np.allclose(np.linalg.norm(field, axis=0), 4.0, atol=1e-4)
    neighbour = np.linalg.norm(np.diff(field, axis=2), axis=0).mean()
    unrelated = np.linalg.norm(field[:, 0, 0] - latent_field(8, 16, (9, 13))[:, 0, 0])
    assert neighbour < unrelated / 3  # cells next to each other agree
    assert np.allclose(slerp(field, field * 2, 0.0), field, atol=1e-5)


def test_the_canvas_mapping_is_found_by_probing(model):
    renderer = load_renderer(model)
    assert renderer.pixels_per_cell() == (8, 24)  # (cells + 3) * R / 4 for R = 32
    assert renderer.cells_for(150, 70) == (6, 16)


def test_upscale_and_size_resample_each_frame(tmp_path, model):
    out = render(str(model), tmp_path / "up.gif",
                 RenderConfig(seconds=0.5, fps=6, upscale=3, progress=False))
    gif = Image.open(out)
    assert gif.size == (96, 96) and gif.n_frames == 3
    out = render(str(model), tmp_path / "frames",
                 RenderConfig(seconds=0.5, fps=4, size=(40, 24), progress=False))
    assert sorted(p.name for p in out.iterdir()) == [f"frame_0000{i}.png" for i in range(2)]
    assert Image.open(out / "frame_00000.png").size == (40, 24)


def test_timelapse_of_a_run_in_step_order(tmp_path):
    samples = tmp_path / "run" / "samples"
    samples.mkdir(parents=True)
    for step, grey in ((500, 200), (250, 100), (1000, 250)):
        Image.fromarray(np.full((36, 36, 3), grey, np.uint8)).save(samples / f"step_{step:08d}.png")
    frames = read_video(timelapse(tmp_path / "run", tmp_path / "t.mp4", fps=5))
    assert [round(float(f.mean()) / 10) for f in frames] == [10, 20, 25, 25, 25, 25, 25]


def test_cli_render_writes_video_grid_and_canvas(tmp_path, model, capsys):
    assert main(["render", str(model), str(tmp_path / "c.mp4"), "--seconds", "0.5", "--fps",
                 "8", "--seeds", "1-3", "--canvas", "64x40", "--no-progress"]) == 0
    assert read_video(tmp_path / "c.mp4")[0].shape == (40, 64, 3)
    assert main(["render", str(model), str(tmp_path / "g.png"), "--grid", "2x2",
                 "--no-progress"]) == 0
    assert Image.open(tmp_path / "g.png").size == (70, 70)
    assert main(["render", str(tmp_path / "out.mp4"), "--no-progress"]) == 2  # model missing
    assert main(["render", str(model), str(tmp_path / "x.mp4"), "--grid", "2x2"]) == 2
    assert "name it .png" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--truncation", "0.5"], ["--seeds", "1,2"],
                                   ["--seconds", "3"], ["--label", "2"], ["--ease", "linear"]])
def test_a_replay_refuses_the_flags_it_would_ignore(tmp_path: Path, flags: list[str],
                                                   capsys: pytest.CaptureFixture) -> None:
    log = tmp_path / "show.controls.jsonl"
    log.write_text("")
    code = main(["render", str(tmp_path / "out"), "--replay", str(log), *flags])
    err = capsys.readouterr().err
    assert code == 2 and flags[0] in err and "do not apply" in err
