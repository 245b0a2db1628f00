"""`livegan render --bend` and `livegan bench --bend`: bends offline, and what they cost."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from livegan.cli import main
from livegan.modelfile import load_model
from livegan.render import Renderer


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


def test_render_with_bends(tmp_path: Path, tiny_model: Path) -> None:
    def render(name: str, *bends: str) -> np.ndarray:
        flags = [arg for bend in bends for arg in ("--bend", bend)]
        assert main(["render", str(tiny_model), str(tmp_path / name), "--seeds", "5",
                     "--no-progress", *flags]) == 0
        return _png(tmp_path / name)

    plain = render("plain.png")
    bent = render("bent.png", "8/rotate=90", "16/translate=0.25")
    again = render("again.png", "8/rotate=90", "16/translate=0.25,0")  # y given as 0
    assert plain.shape == bent.shape and np.abs(plain - bent).mean() > 1.0
    assert np.abs(again - bent).max() <= 2  # the same bends: the same picture


def test_render_bends_a_canvas_too(tmp_path: Path, tiny_model: Path) -> None:
    renderer = Renderer(load_model(tiny_model), "cpu")
    z = np.random.default_rng(0).standard_normal((128, 2, 3)).astype(np.float32)
    plain = renderer.frame(z)
    renderer.set_bends({("8", "flip"): (1.0, 0.0)})
    bent = renderer.frame(z)
    renderer.set_bends({})
    assert np.array_equal(renderer.frame(z), plain)
    renderer.close()
    assert bent.shape == plain.shape and np.abs(bent.astype(int) - plain).mean() > 1.0


@pytest.mark.parametrize("flag, words", [
    ("8/rotate", "write layer/op=amount"),
    ("8/wobble=1", "unknown op 'wobble'"),
    ("8/rotate=1,2", "rotate takes 1 amount"),
])
def test_a_bad_bend_flag_is_one_sentence(tmp_path: Path, tiny_model: Path, capsys, flag: str,
                                         words: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["render", str(tiny_model), str(tmp_path / "x.png"), "--bend", flag])
    assert exc.value.code == 2 and words in capsys.readouterr().err


def test_a_layer_the_model_lacks_is_one_sentence(tmp_path: Path, tiny_model: Path,
                                                 capsys) -> None:
    code = main(["render", str(tiny_model), str(tmp_path / "x.png"), "--bend", "64/rotate=9",
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "no layer 64" in err and "4, 8, 16, 32" in err
    assert "Traceback" not in err and not (tmp_path / "x.png").exists()


def test_bench_bend_times_bends_on_and_off(dummy_video, tiny_model: Path, tmp_path: Path,
                                          monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--bend", "--model", str(tiny_model), "--frames", "21", "--json",
                 "--backend", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    result = json.loads(out)
    assert result["model"] == "tiny" and result["layers"] == ["4", "8", "16", "32"]
    assert len(result["bends"]) == 9  # every op once
    for key in ("generator_fps_on", "generator_fps_off", "relative_fps"):
        assert isinstance(result[key], float) and math.isfinite(result[key]) and result[key] > 0
    assert result["bend_ms_per_frame"] == pytest.approx(
        1000 / result["generator_fps_on"] - 1000 / result["generator_fps_off"], abs=0.2)
    from livegan.bench.bend import format_bends

    line = format_bends(result).splitlines()[0]
    assert "9 bends on 4 layers" in line and "fps on" in line and "fps off" in line


def test_a_replay_bends_as_the_show_did(tmp_path: Path, tiny_model: Path) -> None:
    """The control log notes each change of the bends; a replay renders them again, and
    --bend adds its own on top."""
    from livegan.render import Replay
    from livegan.show.controllog import ControlLog, ModelRef

    ref = ModelRef("tiny", str(tiny_model.resolve()), 32, 128, "cpu", "fp32")
    rng = np.random.default_rng(1)
    zs = [rng.standard_normal(128).astype(np.float32) for _ in range(4)]
    rotate = {("8", "rotate"): (90.0,)}
    path = tmp_path / "show.controls.jsonl"
    log = ControlLog(path, 10).start(t0=0.0)
    for i, z in enumerate(zs):
        log.record(ref, i, i * 0.1, z, 0, rotate if i in (1, 2) else {})
    log.stop(t=0.4)
    assert sum('"bends"' in line for line in path.read_text().splitlines()) == 2  # on, off

    renderer = Renderer(load_model(tiny_model), "cpu", "fp32")
    flip = {("16", "flip"): (1.0, 0.0)}
    want = []
    for i, z in enumerate(zs):
        renderer.set_bends({**(rotate if i in (1, 2) else {}), **flip})
        want.append(renderer.frame(z))
    renderer.close()
    replay = Replay(path, bends=flip)
    got = [replay.frame(i * 0.1) for i in range(4)]
    replay.close()
    for i in range(4):
        assert np.array_equal(got[i], want[i]), i
    assert np.abs(got[1].astype(int) - got[0]).mean() > 0  # the bend made a difference
