"""The Apple GPU (mps) backend with torch.backends.mps faked: selected by `auto` before the
CPU, falling back with one line when absent, failing with one clear line."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from livegan.engine import create_backend, mps
from livegan.errors import BackendError
from livegan.modelfile import Model, ModelInfo
from livegan.nets import build_generator, generator_config


def _model(n_labels: int = 0) -> Model:
    config = generator_config("lite", resolution=32, ngf=8, n_labels=n_labels)
    torch.manual_seed(0)
    g = build_generator("lite", config).eval()
    info = ModelInfo(path=__import__("pathlib").Path("mem.safetensors"), name="mem",
                     arch="lite", config=config, resolution=32, z_dim=config["z_dim"])
    return Model(info, g, None)


@pytest.fixture
def apple_gpu(monkeypatch):
    """torch says an Apple GPU is there; the CPU plays it (the same fp16 code runs)."""
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(mps, "DEVICE", "cpu")


def test_auto_picks_the_apple_gpu_before_the_cpu(apple_gpu, caplog):
    model = _model()
    with caplog.at_level(logging.INFO, logger="livegan.engine"):
        backend = create_backend(model, "auto")
    assert backend.name == "mps" and "mps, fp16" in backend.describe()
    assert next(backend.generator.parameters()).dtype == torch.float16
    assert next(model.generator.parameters()).dtype == torch.float32  # the model's own
    z = np.random.default_rng(1).standard_normal(model.info.z_dim).astype(np.float32)
    with torch.no_grad():
        ref = model.generator(torch.from_numpy(z)[None])[0]
    ref = ((ref.clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).numpy()
    frame = backend.render(z)
    assert frame.dtype == np.uint8 and frame.shape == (32, 32, 3)
    assert np.abs(frame.astype(np.float32) - ref).max() <= 4.0  # fp16 against fp32
    assert "rendering mem on Apple GPU" in caplog.text


def test_conditional_models_run_on_the_apple_gpu(apple_gpu):
    backend = create_backend(_model(n_labels=3), "mps")
    z = np.random.default_rng(0).standard_normal(128).astype(np.float32)
    assert backend.name == "mps"
    assert np.abs(backend.render(z, 0).astype(int) - backend.render(z, 2).astype(int)).max() > 0


@pytest.mark.parametrize("built", [True, False])
def test_without_an_apple_gpu_mps_falls_back_to_the_cpu_with_one_line(monkeypatch, caplog,
                                                                      built):
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: built)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with caplog.at_level(logging.INFO, logger="livegan.engine"):
        backend = create_backend(_model(), "mps")
    assert backend.name == "cpu"
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("mps backend unavailable")
    assert ("Apple Silicon" in lines[0]) if built else ("no Apple GPU" in lines[0])


def test_a_model_the_apple_gpu_cannot_run_is_one_clear_error(apple_gpu, monkeypatch):
    def broken(self, z, labels):
        raise RuntimeError("MPS backend out of memory (MPS allocated: 9 GB)\ndetails")

    monkeypatch.setattr(mps.MpsBackend, "_generate", broken)
    with pytest.raises(BackendError, match=r"Apple GPU cannot run this model \(MPS backend "
                                           r"out of memory \(MPS allocated: 9 GB\)\)$"):
        mps.MpsBackend(_model().generator, 128)
