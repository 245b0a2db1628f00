"""Parity on real GPUs (marked gpu; skipped without one): each device backend's frame against
eager fp32 on the CPU, for a small model and the bundled one. scripts/gpu_check.sh runs these.

Tolerance: the one the CPU paths use for bf16 (livegan.engine.base.looks_the_same): at least
40 dB PSNR and under one level of 255 off on average. fp16 rounding moves a few edge pixels
by many levels, as a 0.1 % change of the latent does, and the picture as a whole by well
under one.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from livegan import engine as engine_module
from livegan.engine.base import looks_the_same
from livegan.modelfile import Model, ModelInfo, find_model, load_model
from livegan.nets import build_generator, generator_config

CUDA = torch.cuda.is_available()
MPS = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def _small() -> Model:
    config = generator_config("lite", resolution=64, ngf=8)
    torch.manual_seed(0)
    g = build_generator("lite", config).eval()
    info = ModelInfo(path=__import__("pathlib").Path("mem.safetensors"), name="mem",
                     arch="lite", config=config, resolution=64, z_dim=config["z_dim"])
    return Model(info, g, None)


def _reference(model: Model, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        x = model.generator.float().cpu()(torch.from_numpy(z)[None])[0]
    return ((x.clamp(-1, 1) + 1) * 127.5).round().permute(1, 2, 0).numpy()


def _needs(name: str) -> None:
    if name in ("cuda", "tensorrt") and not CUDA:
        pytest.skip("needs a CUDA GPU")
    if name == "tensorrt":
        pytest.importorskip("torch_tensorrt", reason="needs livegan[tensorrt]")
    if name == "mps" and not MPS:
        pytest.skip("needs an Apple GPU (mps)")


@pytest.mark.gpu
@pytest.mark.parametrize("which", ["small", "bundled"])
@pytest.mark.parametrize("name", ["cuda", "tensorrt", "mps"])
def test_a_gpu_backend_matches_eager_fp32(name, which):
    _needs(name)
    model = _small() if which == "small" else load_model(find_model("default"))
    backend = engine_module._make(name, model)  # no fallback: this backend or an error
    assert backend.name == name
    rng = np.random.default_rng(5)
    for _ in range(3):
        z = rng.standard_normal(model.info.z_dim).astype(np.float32)
        frame = backend.render(z)
        res = model.info.resolution
        assert frame.dtype == np.uint8 and frame.shape == (res, res, 3)
        same, words = looks_the_same(_reference(model, z), frame)
        assert same, f"{name}: {words} from fp32"
    backend.close()


@pytest.mark.gpu
def test_the_naive_loop_runs_beside_the_cuda_backend():
    """The bench's baseline feeds the model's own generator CPU fp32 latents."""
    _needs("cuda")
    model = load_model(find_model("default"))
    engine = engine_module.Engine(model, "cuda")
    assert engine.backend.name == "cuda"
    p = next(model.generator.parameters())
    assert p.device.type == "cpu" and p.dtype == torch.float32
    with torch.no_grad():
        model.generator(torch.randn(1, model.info.z_dim))
    engine.close()
