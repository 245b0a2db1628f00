"""A live canvas in a real headless show: frames of the window's shape, steering that moves the
whole picture, snapshots of the canvas frame; the patch key and the flag."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from showdriver import drive, headless_show

from livegan.cli import main
from livegan.errors import PatchError
from livegan.patchfile.load import PatchConfig, parse_patch
from livegan.perform import Performance
from livegan.performconfig import perform_config
from livegan.show.outputs import OutputsConfig
from livegan.show.window import WindowConfig


@pytest.fixture
def make_show(dummy_video, tiny_model: Path, tmp_path: Path) -> Callable[..., Performance]:
    def make(**overrides: object) -> Performance:
        return headless_show(str(tiny_model), str(tmp_path / "out"), (128, 72), 100_000,
                             **overrides)
    return make


def test_auto_canvas_fills_a_wide_window_and_steering_moves_all_of_it(make_show, tmp_path):
    show = make_show(window=WindowConfig(size=(128, 72), canvas="auto"))
    seen: dict[str, object] = {}

    def script(show: Performance):
        frame = yield
        assert frame.pixels.shape == (32, 56, 3)  # 16:9 at the model's 32 px height, even (56.9 -> 56)
        show.controls.set_mode("hold")
        for _ in range(3):
            frame = yield
        before = frame.pixels.astype(np.int16)
        show.controls.set_z([2.0] * 128)
        for _ in range(60):
            frame = yield
            moved = np.abs(frame.pixels.astype(np.int16) - before).mean(axis=(0, 2))
            if (moved[:19] > 1).all() and (moved[-19:] > 1).all():
                break
        else:
            raise AssertionError("steering did not move both ends of the canvas")
        show._snapshot()
        seen["window"] = show.window.screenshot()

    drive(show, script, limit=120)
    window = seen["window"]
    assert window.shape[:2] == (72, 128)
    assert window[:, :2].max() > 0 and window[:, -2:].max() > 0  # no letterbox bars
    snaps = sorted((tmp_path / "out").glob("snapshot*.png"))
    frame_png = [p for p in snaps if not p.stem.endswith("-window")]
    assert frame_png and Image.open(frame_png[0]).size == (56, 32)


def test_without_a_canvas_the_frames_stay_square(make_show):
    show = make_show()

    def script(show: Performance):
        frame = yield
        assert frame.pixels.shape == (32, 32, 3) and show.engine.canvas is None

    drive(show, script, limit=60)


def test_the_patch_key_and_the_flag(dummy_video, tiny_model, tmp_path, monkeypatch):
    patch = parse_patch('[window]\ncanvas = "48x32"\n', "wide.toml")
    assert perform_config(patch, {}).window.canvas == (48, 32)
    assert perform_config(patch, {"canvas": "off"}).window.canvas == "off"  # the flag wins
    assert perform_config(parse_patch('[window]\ncanvas = "auto"\n'), {}).window.canvas == "auto"
    assert perform_config(PatchConfig(), {}).window.canvas == "off"
    monkeypatch.chdir(tmp_path)
    assert main(["perform", "--model", str(tiny_model), "--frames", "10", "--osc-port", "0",
                 "--size", "96x54", "--backend", "cpu", "--canvas", "auto"]) == 0


@pytest.mark.parametrize("value", ['"wide"', "3", '"8x8"', "[1920]"])
def test_a_bad_canvas_value_names_file_line_and_key(value):
    text = f'model = "default"\n\n[window]\nhud = true\ncanvas = {value}\n'
    with pytest.raises(PatchError) as caught:
        parse_patch(text, "wide.toml")
    assert str(caught.value).startswith("wide.toml:5: window.canvas:")


def test_a_bad_canvas_flag_is_one_sentence(capsys):
    with pytest.raises(SystemExit):
        main(["perform", "--canvas", "wide", "--frames", "1"])
    assert "canvas must be auto, off or WxH" in capsys.readouterr().err


def test_a_hot_swap_keeps_the_canvas(make_show, make_tiny_model, models_dir):
    make_tiny_model(models_dir / "plain.safetensors", name="plain", seed=1, directions=False)
    show = make_show(window=WindowConfig(size=(128, 72), canvas="auto"))

    def script(show: Performance):
        frame = yield
        show.controls.push_app("model", "plain")
        while show.stage.engine.info.name != "plain" or not show.stage.settled:
            frame = yield
            assert frame.pixels.shape == (32, 56, 3)  # through the crossfade too
        frame = yield
        assert frame.pixels.shape == (32, 56, 3) and show.engine.canvas is not None

    drive(show, script, limit=120)


def test_a_replay_renders_the_show_s_canvas(make_show, tmp_path):
    """The control log names the canvas the show rendered; a replay grows the picture the
    same way instead of writing squares."""
    from livegan.render import Replay
    from livegan.show.controllog import read_log

    show = make_show(window=WindowConfig(size=(128, 72), canvas="auto"),
                     outputs=OutputsConfig(out_dir=str(tmp_path / "out"), record="wide.mp4"))
    shown: dict[int, np.ndarray] = {}

    def script(show: Performance):
        for _ in range(12):
            frame = yield
            shown[frame.index] = frame.pixels.copy()

    drive(show, script, limit=120)
    log_path = tmp_path / "out" / "wide.controls.jsonl"
    timeline = read_log(log_path)
    assert timeline.models[0].canvas == (56, 32)
    replay = Replay(log_path)
    t, index = next((float(t), i) for t, i in zip(timeline.times, timeline.indices)
                    if i in shown)
    again = replay.frame(t)
    replay.close()
    assert again.shape == shown[index].shape == (32, 56, 3)
    assert np.abs(again.astype(int) - shown[index].astype(int)).mean() < 2.0
