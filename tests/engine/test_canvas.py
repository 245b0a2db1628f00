"""Live canvases: the canvas latent, engines rendering a spatial latent against eager, a model
that cannot grow, a backend that renders one shape only."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from livegan import nets
from livegan.engine import Engine
from livegan.engine.canvas import Canvas, CanvasRequest, canvas_request, parse_canvas
from livegan.engine.cpu import CpuBackend
from livegan.errors import BackendError
from livegan.modelfile import load_model

Z = 128


pytestmark = pytest.mark.usefixtures("one_thread")


def _eager(model, zc: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        x = model.generator.float()(torch.from_numpy(zc)[None], None)[0]
    return x.mul(127.5).add(127.5).clamp(0, 255).permute(1, 2, 0).numpy()


def test_the_canvas_latent_follows_z_and_its_cells_agree():
    canvas = Canvas(Z, (2, 7), (60, 20))
    z = np.random.default_rng(0).standard_normal(Z).astype(np.float32)
    first = canvas.latent(z)
    assert first.shape == (Z, 2, 7) and canvas.shape == (1, Z, 2, 7)
    assert np.allclose(np.linalg.norm(first, axis=0), np.linalg.norm(z), rtol=1e-4)
    cells = first.reshape(Z, -1).T
    cos = cells @ z / (np.linalg.norm(cells, axis=1) * np.linalg.norm(z))
    assert (cos > 0.5).all()  # every cell leans towards the live latent
    neighbour = np.linalg.norm(np.diff(first, axis=2), axis=0).mean()
    assert neighbour < 0.5 * np.linalg.norm(z)  # neighbouring cells agree: no seams
    kept = first.copy()
    again = canvas.latent(-z)
    assert again is first  # one buffer, reused frame after frame
    assert np.linalg.norm(again - kept) > np.linalg.norm(kept)  # steering moves every cell


def test_canvas_settings_parse_and_resolve():
    assert parse_canvas("auto") == "auto" and parse_canvas("OFF") is None
    assert parse_canvas("1920x1080") == (1920, 1080)
    for bad in ("wide", "10x10", "1920x", "x1080"):
        with pytest.raises(ValueError):
            parse_canvas(bad)
    assert canvas_request("off", (640, 360)) is None
    assert canvas_request("auto", (1920, 1080)).target(256) == (456, 256)  # even: H.264
    assert canvas_request((96, 40), (640, 360)) == CanvasRequest((96, 40))


@pytest.mark.parametrize("backend", ["cpu", "openvino", "eager"])
def test_backends_render_a_canvas_like_eager(backend, tiny_model: Path):
    model = load_model(tiny_model)
    if backend == "openvino":
        pytest.importorskip("openvino")
        from livegan.engine.openvino import OpenVinoBackend

        runner = OpenVinoBackend(model.generator, Z, precision="fp32")
    else:
        runner = CpuBackend(model.generator, Z, precision="fp32" if backend == "cpu" else "eager")
    canvas = Canvas(Z, (2, 5), (56, 40))
    rng = np.random.default_rng(1)
    for _ in range(2):  # the second frame runs the variant built for the canvas's shape
        zc = canvas.latent(rng.standard_normal(Z).astype(np.float32)).copy()
        frame = runner.render(zc)
        ref = _eager(model, zc)
        assert frame.shape == ref.shape and frame.shape[1] > frame.shape[0]
        assert np.abs(frame.astype(np.float32) - ref).max() <= 2.0
    square = runner.render(rng.standard_normal(Z).astype(np.float32))
    assert square.shape == (32, 32, 3)  # the square path is still there
    runner.close()


def test_an_engine_renders_frames_of_the_canvas_size(tiny_model: Path):
    engine = Engine(load_model(tiny_model), "cpu", CanvasRequest((320, 180), auto=True))
    z = np.random.default_rng(2).standard_normal(Z).astype(np.float32)
    frame = engine.render(z)
    assert frame.shape == (32, 56, 3) and frame.flags.c_contiguous  # 16:9 at 32 px high
    assert frame[:, :28].std() > 0 and frame[:, 29:].std() > 0
    engine.set_canvas(None)
    assert engine.render(z).shape == (32, 32, 3)
    engine.close()


class _Flat(nn.Module):
    """A generator whose first layer is a Linear on the flat latent: it cannot grow."""

    def __init__(self, z_dim: int = 128, resolution: int = 32, ngf: int = 8,
                 n_labels: int = 0) -> None:
        super().__init__()
        self.resolution = resolution
        self.linear = nn.Linear(z_dim, 3 * resolution * resolution)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        r = self.resolution
        return torch.tanh(self.linear(z.reshape(z.shape[0], -1))).reshape(-1, 3, r, r)


def test_a_model_that_cannot_grow_says_so_and_stays_square(make_tiny_model, tmp_path, caplog,
                                                           monkeypatch):
    monkeypatch.setitem(nets.ARCHS, "flat", _Flat)
    path = make_tiny_model(tmp_path / "flat.safetensors", arch="flat", directions=False)
    with caplog.at_level(logging.WARNING, logger="livegan.engine"):
        engine = Engine(load_model(path), "cpu", CanvasRequest((640, 360), auto=True))
    lines = [r.getMessage() for r in caplog.records if "canvas" in r.getMessage()]
    assert len(lines) == 1 and "letterboxed" in lines[0] and "\n" not in lines[0]
    assert engine.canvas is None
    assert engine.render(np.ones(Z, np.float32)).shape == (32, 32, 3)
    engine.close()


class _OneShape(CpuBackend):
    """A backend built for [1, Z] only, as the CUDA graph and TensorRT paths are."""

    name = "oneshape"

    def prepare(self, shape):
        raise BackendError("oneshape renders one latent shape, not a canvas")


def test_a_backend_of_one_shape_hands_the_canvas_to_eager_cpu(tiny_model, caplog, monkeypatch):
    model = load_model(tiny_model)
    engine = Engine(model, "cpu")
    engine.backend = _OneShape(model.generator, Z, precision="fp32")
    with caplog.at_level(logging.WARNING, logger="livegan.engine"):
        engine.set_canvas(CanvasRequest((48, 32)))
    assert any("oneshape cannot render a canvas" in r.getMessage() for r in caplog.records)
    z = np.random.default_rng(3).standard_normal(Z).astype(np.float32)
    frame = engine.render(z)
    assert frame.shape == (32, 48, 3)
    ref = engine.canvas.crop(_eager(model, engine.canvas.latent(z)).round().astype(np.uint8))
    assert np.abs(frame.astype(np.int16) - ref).max() <= 1
    engine.close()
