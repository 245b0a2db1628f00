"""Imported models play like livegan's own: frames as the original code made them, truncation
and noise over OSC in a running show, --max-res, on-the-fly import with its cache, hot-swap,
recording and replay, render.

The fixtures (tests/fixtures/foreign) and how they were made: see test_stylegan2.py and
test_stylegan3.py.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from showdriver import drive, frames_after, headless_show, until

from livegan.cli import main
from livegan.control.osc.wire import encode_message
from livegan.control.oscquery.tree import build, find
from livegan.engine import Engine
from livegan.engine.base import frame_difference
from livegan.engine.cpu import CpuBackend
from livegan.foreign import import_file
from livegan.modelfile import load_model, read_info

FIXTURES = Path(__file__).parent.parent / "fixtures" / "foreign"
SKIP32 = FIXTURES / "sg2ada_skip32.pkl"


def _levels(images: np.ndarray) -> np.ndarray:
    """[N, 3, H, W] in [-1, 1] -> uint8 [N, H, W, 3], as the engine converts."""
    x = np.clip(np.asarray(images, np.float32) * 127.5 + 127.5, 0, 255).astype(np.uint8)
    return x.transpose(0, 2, 3, 1)


@pytest.fixture(scope="module")
def skip32(tmp_path_factory) -> Path:
    return import_file(SKIP32, tmp_path_factory.mktemp("imported") / "skip32.safetensors")


@pytest.mark.parametrize("name, frames, keys", [
    ("sg2ada_skip32.pkl", "sg2ada_skip32_frames.npz", ("psi1", "psi07")),
    ("sg3_r.pkl", "sg3_r_frames.npz", ("frames", "frames_psi07")),
    ("rosinality_train64.pt", "rosinality_train64_frames.npz", ("psi1", "psi07"))])
def test_the_engine_renders_the_original_frames(tmp_path: Path, name: str, frames: str,
                                                keys: tuple[str, str]) -> None:
    """Through the whole path: the file imported, the model file read back, the CPU engine's
    uint8 frames against the original code's, at truncation 1 and 0.7."""
    out = import_file(FIXTURES / name, tmp_path / "m.safetensors")
    ref = np.load(FIXTURES / frames)
    model = load_model(out)
    backend = CpuBackend(model.generator, model.info.z_dim, precision="eager")
    for psi, key in zip((1.0, 0.7), keys):
        backend.set_style(psi, "const")
        for i, z in enumerate(ref["z"]):
            label = int(ref["labels"][i]) if "labels" in ref and model.info.labels else None
            frame = backend.render(z, label)
            assert frame_difference(_levels(ref[key][i:i + 1])[0], frame)["psnr"] >= 40


def test_the_model_file_keeps_what_the_pickle_knew(skip32: Path) -> None:
    info = read_info(skip32)
    assert info.arch == "stylegan2" and info.resolution == 32 and info.z_dim == 64
    assert info.config["w_dim"] == 64 and info.config["architecture"] == "skip"
    assert info.source["format"] == "nvidia" and info.source["ema"] is True
    assert info.source["file"] == "sg2ada_skip32.pkl" and len(info.source["sha256"]) == 16
    assert [n for n in info.direction_names if n.startswith("sefa")]
    assert [n for n in info.direction_names if n.startswith("pca")]
    model = load_model(skip32)
    assert float(model.generator.mapping.w_avg.abs().sum()) > 0  # the average w came along
    # a direction moves the picture
    backend = CpuBackend(model.generator, info.z_dim, precision="eager")
    z = np.random.default_rng(1).standard_normal(info.z_dim).astype(np.float32)
    moved = backend.render(z + 2 * model.directions[0].numpy())
    assert frame_difference(backend.render(z), moved)["mean"] > 1.0


def test_noise_modes_on_the_engine(skip32: Path) -> None:
    model = load_model(skip32)
    engine = Engine(model, "cpu")
    z = np.random.default_rng(3).standard_normal(model.info.z_dim).astype(np.float32)
    const = [engine.render(z) for _ in range(2)]
    assert frame_difference(const[0], const[1])["mean"] == 0
    engine.set_style(1.0, "random")
    shimmer = [engine.render(z) for _ in range(2)]
    assert frame_difference(shimmer[0], shimmer[1])["mean"] > 0
    engine.set_style(1.0, "none")
    assert frame_difference(const[0], engine.render(z))["mean"] > 0
    engine.set_style(1.0, "const")
    assert frame_difference(const[0], engine.render(z))["psnr"] >= 40


def test_a_conditional_model_keeps_its_labels(tmp_path: Path) -> None:
    out = import_file(FIXTURES / "sg2ada_resnet_cond32.pkl", tmp_path / "c.safetensors")
    info = read_info(out)
    assert info.labels == ["class0", "class1", "class2"]
    model = load_model(out)
    backend = CpuBackend(model.generator, info.z_dim, n_labels=3, precision="eager")
    z = np.random.default_rng(2).standard_normal(info.z_dim).astype(np.float32)
    assert frame_difference(backend.render(z, 0), backend.render(z, 2))["mean"] > 0.5


def test_max_res_renders_the_skip_image_of_that_block(skip32: Path) -> None:
    ref = np.load(FIXTURES / "sg2ada_skip32_frames.npz")
    model = load_model(skip32, max_res=16)
    assert model.info.resolution == 16
    backend = CpuBackend(model.generator, model.info.z_dim, precision="eager")
    frame = backend.render(ref["z"][0])
    assert frame.shape == (16, 16, 3)
    assert frame_difference(_levels(ref["skip16"][:1])[0], frame)["psnr"] >= 40


def test_max_res_is_refused_where_it_cannot_work(tmp_path: Path, skip32: Path,
                                                 tiny_model: Path, capsys) -> None:
    out = import_file(FIXTURES / "sg2ada_resnet_cond32.pkl", tmp_path / "r.safetensors")
    for model, words in ((tiny_model, "needs a StyleGAN2 model with skip outputs"),
                         (skip32, "power of two")):
        code = main(["render", str(model), str(tmp_path / "x.png"), "--max-res",
                     "12" if model == skip32 else "16"])
        assert code == 2 and words in capsys.readouterr().err
    code = main(["render", str(out), str(tmp_path / "y.png"), "--max-res", "16"])
    assert code == 2 and "skip" in capsys.readouterr().err


def test_render_a_grid_of_a_pickle_at_max_res(tmp_path: Path, models_dir: Path,
                                              monkeypatch) -> None:
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "grid.png"
    assert main(["render", str(SKIP32), str(out), "--grid", "2x3", "--max-res", "16",
                 "--no-progress"]) == 0
    assert Image.open(out).size == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2)  # 16 px cells, 2 px gaps
    assert next(p.name for p in models_dir.iterdir()).startswith("sg2ada_skip32-")


def _send(port: int, address: str, *args: object) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(encode_message(address, *args), ("127.0.0.1", port))


def test_a_show_plays_a_pickle_steered_over_osc(dummy_video, tmp_path: Path,
                                                models_dir: Path, caplog) -> None:
    """perform --model FILE.pkl: imported on the fly into the models folder, then truncation
    and noise mode steer it over a real UDP socket; the cache is used the second time."""
    import logging

    caplog.set_level(logging.INFO, logger="livegan")
    show = headless_show(str(SKIP32), str(tmp_path / "out"), (64, 64), 100_000)
    cached = list(models_dir.iterdir())
    assert len(cached) == 1 and cached[0].name.startswith("sg2ada_skip32-")
    assert "imported once" in caplog.text
    assert show.engine.style and show.engine.info.arch == "stylegan2"

    def script(show):
        yield
        port = show.osc.port
        for address, value in (("/livegan/mode", "hold"), ("/livegan/speed", 0.0),
                               ("/livegan/smooth", 0.0)):
            _send(port, address, value)
        yield from until(lambda: show.controls.mode == "hold"
                         and show.controls.param("smooth") == 0.0)
        held = yield from frames_after(show, 3)
        assert all(frame_difference(held[0], f)["mean"] == 0 for f in held)
        _send(port, "/livegan/truncation", 0.0)  # psi 0: the average picture
        yield from until(lambda: show.controls.param("truncation") == 0.0)
        average = yield from frames_after(show, 2)
        assert frame_difference(held[0], average[-1])["mean"] > 1.0
        assert show.engine.style_now == (0.0, "const")
        _send(port, "/livegan/seed", 99)  # another latent, the same average picture
        yield from until(lambda: show.stage.rendered > 0 and show.stage.motion.glide is None)
        other = yield from frames_after(show, 2)
        assert frame_difference(average[-1], other[-1])["psnr"] >= 40
        _send(port, "/livegan/truncation", 1.0)
        _send(port, "/livegan/noise", "random")
        yield from until(lambda: show.engine.style_now == (1.0, "random"))
        shimmer = yield from frames_after(show, 3)
        assert frame_difference(shimmer[1], shimmer[2])["mean"] > 0
        tree = build(*show.inputs.oscquery())  # what OSCQuery clients read
        assert find(tree, "/livegan/noise")["VALUE"] == ["random"]
        assert find(tree, "/livegan/noise")["RANGE"] == [{"VALS": ["const", "random", "none"]}]
        assert find(tree, "/livegan/space") is not None
        _send(port, "/livegan/noise", 0)  # const, by index
        yield from until(lambda: show.engine.style_now == (1.0, "const"))
        _send(port, "/livegan/noise", "loud")  # not a mode: dropped, counted
        yield from frames_after(show, 2)
        assert show.engine.style_now == (1.0, "const")

    drive(show, script, 120)
    assert show.stage.errors == 0
    assert show.inputs.dispatcher.counts["bad_args"] >= 1
    caplog.clear()
    again = headless_show(str(SKIP32), str(tmp_path / "out2"), (64, 64), 3)
    assert len(list(models_dir.iterdir())) == 1 and "playing its import" in caplog.text
    assert again.engine.info.path == cached[0]


def test_hot_swap_between_a_livegan_model_and_an_imported_one(dummy_video, tmp_path: Path,
                                                               tiny_model: Path,
                                                               models_dir: Path) -> None:
    import shutil

    imported = import_file(SKIP32, models_dir / "portraits.safetensors")
    shutil.copy(tiny_model, models_dir / "tiny.safetensors")
    (models_dir / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not")
    show = headless_show(str(tiny_model), str(tmp_path / "out"), (64, 64), 100_000)

    def script(show):
        yield
        _send(show.osc.port, "/livegan/model", "portraits")
        yield from until(lambda: show.stage.engine.info.name == "portraits")
        yield from frames_after(show, 3)
        _send(show.osc.port, "/livegan/model", "broken")  # refused; portraits plays on
        rendered = show.stage.rendered
        yield from until(lambda: show.stage.rendered >= rendered + 10)
        assert show.stage.engine.info.name == "portraits"
        _send(show.osc.port, "/livegan/model", "tiny")
        yield from until(lambda: show.stage.engine.info.name == "tiny")
        yield from frames_after(show, 3)

    assert imported.exists()
    drive(show, script, 120)
    assert show.stage.errors == 0


def test_record_and_replay_keep_truncation_and_noise(dummy_video, tmp_path: Path,
                                                     skip32: Path) -> None:
    from livegan.render import Replay

    show = headless_show(str(skip32), str(tmp_path / "out"), (32, 32), 100_000)
    shown: list[np.ndarray] = []

    def script(show):
        yield
        for address, value in (("/livegan/mode", "hold"), ("/livegan/smooth", 0.0),
                               ("/livegan/truncation", 0.5)):
            _send(show.osc.port, address, value)
        yield from until(lambda: show.engine.style_now == (0.5, "const"))
        _send(show.osc.port, "/livegan/record", 1)
        yield from until(lambda: show.outputs.recording is not None)
        frames = yield from frames_after(show, 5)
        shown.extend(frames)
        _send(show.osc.port, "/livegan/record", 0)
        yield from until(lambda: show.outputs.recording is None)

    drive(show, script, 120)
    logs = sorted((tmp_path / "out").glob("*.controls.jsonl"))
    assert logs
    lines = [json.loads(line) for line in logs[0].read_text().splitlines()]
    assert any(line.get("style") == [0.5, "const"] for line in lines)
    replay = Replay(logs[0])
    timeline = replay.timeline
    assert timeline.style_at(timeline.duration) == (0.5, "const")
    frame = replay.frame(float(timeline.times[-1]))
    assert frame_difference(shown[-1], frame)["psnr"] >= 40


def test_network_bending_reaches_an_imported_model(skip32: Path) -> None:
    model = load_model(skip32)
    engine = Engine(model, "cpu")
    assert engine.bend_layers == ["4", "8", "16", "32"]
    z = np.random.default_rng(4).standard_normal(model.info.z_dim).astype(np.float32)
    plain = engine.render(z)
    engine.set_bends({("8", "invert"): (1.0,)})
    assert frame_difference(plain, engine.render(z))["mean"] > 1.0
    engine.set_bends({})
    assert frame_difference(plain, engine.render(z))["psnr"] >= 40


def test_walks_in_w(skip32: Path, tiny_model: Path) -> None:
    from livegan.errors import ModelFileError
    from livegan.library import open_model

    model = open_model(skip32, space="w")
    assert model.info.space == "w" and model.directions.shape == (16, model.info.z_dim)
    assert model.info.direction_names[:1] == ["sefa0"]
    engine_w = Engine(model, "cpu")
    engine_z = Engine(open_model(skip32), "cpu")
    u = np.random.default_rng(5).standard_normal(model.info.z_dim).astype(np.float32)
    # u scaled to 0 is w_avg: the same picture as truncation 0 in z
    engine_z.set_style(0.0, "const")
    assert frame_difference(engine_z.render(u), engine_w.render(u * 0))["psnr"] >= 40
    # w's spread: two different u's differ, and a direction is a straight move in w
    assert frame_difference(engine_w.render(u), engine_w.render(-u))["mean"] > 1.0
    moved = engine_w.render(u + model.directions[0].numpy())
    assert frame_difference(engine_w.render(u), moved)["mean"] > 0.5
    with pytest.raises(ModelFileError, match="walks in w need a style model"):
        open_model(tiny_model, space="w")
    assert open_model(tiny_model, space="w", strict=False).info.space == "z"


def test_a_show_switches_to_w_and_back(dummy_video, tmp_path: Path, skip32: Path) -> None:
    show = headless_show(str(skip32), str(tmp_path / "out"), (32, 32), 100_000)

    def script(show):
        yield
        _send(show.osc.port, "/livegan/space", "w")
        yield from until(lambda: show.stage.engine.info.space == "w")
        yield from frames_after(show, 3)
        assert show.controls.n_dirs == 16
        _send(show.osc.port, "/livegan/dir/pca0", 1.5)
        yield from frames_after(show, 3)
        _send(show.osc.port, "/livegan/space", "z")
        yield from until(lambda: show.stage.engine.info.space == "z")
        yield from frames_after(show, 3)

    drive(show, script, 120)
    assert show.stage.errors == 0


def test_bf16_on_the_cpu_keeps_weights_fp32_and_takes_the_style(skip32: Path) -> None:
    """A style model's bf16 path runs under autocast (fp32 weights, fp32 latent), and its
    truncation and noise still reach the network through the wrapper."""
    from livegan.engine.cpu import AutocastBf16

    model = load_model(skip32)
    backend = CpuBackend(model.generator, model.info.z_dim, precision="bf16")
    assert isinstance(backend._eager, AutocastBf16)
    assert all(p.dtype == torch.float32 for p in backend._eager.parameters())
    eager = CpuBackend(model.generator, model.info.z_dim, precision="eager")
    z = np.random.default_rng(6).standard_normal(model.info.z_dim).astype(np.float32)
    assert frame_difference(eager.render(z), backend.render(z))["psnr"] >= 30
    backend.set_style(0.0, "const")
    eager.set_style(0.0, "const")
    assert frame_difference(eager.render(z), backend.render(z))["psnr"] >= 30
    assert backend._eager.inner.truncation == 0.0


def test_bench_stops_times_every_max_res(skip32: Path, capsys) -> None:
    assert main(["bench", "--model", str(skip32), "--stops", "--backend", "cpu",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["stops"]
    assert [r["max_res"] for r in rows] == [8, 16, 32]
    gflop = [r["gflop_per_frame"] for r in rows]
    assert gflop == sorted(gflop) and rows[-1]["work_share"] == 1.0
    assert all(r["generator_fps"] > 0 for r in rows)


def test_a_backend_that_bakes_the_style_hands_other_settings_to_an_eager_twin(
        skip32: Path, monkeypatch) -> None:
    """TensorRT and OpenVINO compile truncation 1 and const noise into their graphs: other
    settings render on an eager twin, and the defaults go back to the compiled graph."""
    import livegan.engine as engines
    from livegan.engine.base import STYLE_DEFAULT

    class Baked(CpuBackend):
        name = "baked"
        rendered = 0

        def set_style(self, truncation: float, noise: str) -> bool:
            return (float(truncation), noise) == STYLE_DEFAULT

        def render(self, z, label=None):
            Baked.rendered += 1
            return super().render(z, label)

    model = load_model(skip32)
    monkeypatch.setattr(engines, "create_backend", lambda m, backend="auto", caches=None: Baked(
        m.generator, m.info.z_dim, precision="eager"))
    engine = Engine(model, "cpu")
    reference = CpuBackend(model.generator, model.info.z_dim, precision="eager")
    z = np.random.default_rng(7).standard_normal(model.info.z_dim).astype(np.float32)
    engine.render(z)
    assert Baked.rendered == 1
    engine.set_style(0.5, "const")
    reference.set_style(0.5, "const")
    assert frame_difference(reference.render(z), engine.render(z))["psnr"] >= 40
    assert Baked.rendered == 1 and engine._bent is not None
    engine.set_style(1.0, "const")
    engine.render(z)
    assert Baked.rendered == 2
