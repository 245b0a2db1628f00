"""GPU paths on a machine without one: the cuda and tensorrt backends' own code with the
device and torch-tensorrt faked (tests/engine/fakegpu.py); their own generator copy, the
TensorRT engine cache, and each fault as one log line then a rebuild or a fallback."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
import torch

from livegan import engine as engine_module
from livegan.bench import show as bench
from livegan.engine import Engine, create_backend
from livegan.engine.tensorrt import TensorRTBackend, cache_dir, pack_engine
from livegan.modelfile import Model, ModelInfo
from livegan.nets import build_generator, generator_config
from tests.engine import fakegpu


def _model(res: int = 32) -> Model:
    config = generator_config("lite", resolution=res, ngf=8)
    torch.manual_seed(0)
    g = build_generator("lite", config).eval()
    info = ModelInfo(path=__import__("pathlib").Path("mem.safetensors"), name="mem",
                     arch="lite", config=config, resolution=res, z_dim=config["z_dim"])
    return Model(info, g, None)


def _state(g: torch.nn.Module) -> list[tuple]:
    return [(n, p.dtype, p.device, p.requires_grad) for n, p in g.named_parameters()] + \
        [(n, b.dtype, b.device) for n, b in g.named_buffers()] + [g.training]


@pytest.fixture
def gpu(monkeypatch, tmp_path):
    return fakegpu.install(monkeypatch, tmp_path)


def _trt_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "livegan.engine.tensorrt"
            and r.levelno >= logging.WARNING]


def _unavailable(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]


@pytest.mark.parametrize("name", ["cpu", "cuda", "tensorrt"])
def test_a_backend_converts_its_own_copy_and_leaves_the_models_generator(gpu, name):
    model = _model()
    model.generator.train()
    before = _state(model.generator)
    backend = engine_module._make(name, model)
    assert backend.name == name
    assert _state(model.generator) == before  # fp32, on the CPU, as it was
    if backend.generator is not None:
        assert backend.generator is not model.generator
    z = np.zeros(model.info.z_dim, np.float32)
    assert backend.render(z).shape == (32, 32, 3)


def test_the_bench_naive_loop_runs_beside_a_gpu_backend(gpu, monkeypatch):
    """The naive loop feeds the model's generator a CPU fp32 latent while the engine runs
    its fp16 copy: with the generator converted in place this raised before any figure."""
    import pygame

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    engine = Engine(_model(), "cuda")
    assert engine.backend.name == "cuda"
    assert next(engine.backend.generator.parameters()).dtype == torch.float16
    pygame.display.init()
    try:
        assert bench.baseline_fps(engine.model, 3) > 0
    finally:
        pygame.display.quit()


def test_tensorrt_builds_once_then_loads_from_the_cache(gpu, caplog):
    model = _model()
    first = TensorRTBackend(model.generator, model.info.z_dim)
    assert gpu.builds == 1 and first.engine_path.is_file()
    assert first.engine_path.read_bytes().startswith(b"LIVEGAN-TRT ")
    with caplog.at_level(logging.INFO, logger="livegan.engine.tensorrt"):
        again = TensorRTBackend(model.generator, model.info.z_dim)
    assert gpu.builds == 1  # a cache hit: nothing rebuilt
    assert any("loaded TensorRT engine" in m for m in caplog.messages)
    assert again.engine_path == first.engine_path and not _trt_lines(caplog)
    assert again.render(np.zeros(model.info.z_dim, np.float32)).shape == (32, 32, 3)


def test_a_build_failure_falls_back_to_cuda_with_one_line(gpu, caplog):
    gpu.build_error = RuntimeError("Unsupported operator aten::weird\n  at line 3\n  at line 9")
    model = _model()
    with caplog.at_level(logging.INFO):
        backend = create_backend(model, "tensorrt")
    assert backend.name == "cuda"
    lines = _unavailable(caplog)
    assert len(lines) == 1 and lines[0].startswith("tensorrt backend unavailable")
    assert "aten::weird" in lines[0] and "line 3" not in lines[0]
    assert not cache_dir().exists() or not os.listdir(cache_dir())  # nothing half-written


@pytest.mark.parametrize("damage", ["garbage", "truncated", "refused"])
def test_a_damaged_cache_file_is_rebuilt_with_one_line(gpu, caplog, damage):
    model = _model()
    path = TensorRTBackend(model.generator, model.info.z_dim).engine_path
    blob = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"\x00\x01 not an engine")
    elif damage == "truncated":
        path.write_bytes(blob[:-5])
    else:
        gpu.refuse_engines = True  # header fine, TensorRT itself cannot read the bytes
    with caplog.at_level(logging.INFO):
        backend = create_backend(model, "tensorrt")
    if damage == "refused":
        assert backend.name == "cuda"  # the rebuilt engine is refused too: fall back
        assert len(_unavailable(caplog)) == 1
    else:
        assert backend.name == "tensorrt" and gpu.builds == 2
        assert path.read_bytes().startswith(b"LIVEGAN-TRT ")
    lines = _trt_lines(caplog)
    assert len(lines) == 1 and "cannot be used" in lines[0] and "rebuilding" in lines[0]


@pytest.mark.parametrize("field,value", [("tensorrt", "8.6.1"), ("gpu", "Other GPU 8GB")])
def test_a_cache_built_elsewhere_is_rebuilt_with_one_line(gpu, caplog, field, value):
    model = _model()
    path = TensorRTBackend(model.generator, model.info.z_dim).engine_path
    foreign = {"tensorrt": gpu.version, "gpu": fakegpu.FAKE_GPU, field: value}
    path.write_bytes(pack_engine(fakegpu.ENGINE_PREFIX + b"old", foreign))
    with caplog.at_level(logging.INFO):
        backend = create_backend(model, "tensorrt")
    assert backend.name == "tensorrt" and gpu.builds == 2
    lines = _trt_lines(caplog)
    assert len(lines) == 1 and value in lines[0] and "rebuilding" in lines[0]


def test_a_new_tensorrt_version_builds_its_own_engine(monkeypatch, tmp_path):
    model = _model()
    old = fakegpu.install(monkeypatch, tmp_path, fakegpu.FakeTensorRT("10.3.0"))
    first = TensorRTBackend(model.generator, model.info.z_dim).engine_path
    new = fakegpu.install(monkeypatch, tmp_path, fakegpu.FakeTensorRT("10.7.0"))
    second = TensorRTBackend(model.generator, model.info.z_dim).engine_path
    assert first != second and old.builds == 1 and new.builds == 1


def test_a_model_too_big_for_the_gpu_falls_back_one_line_each(gpu, monkeypatch, caplog):
    from livegan.engine import cuda

    gpu.build_error = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9 GiB")

    def no_room(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9 GiB")

    monkeypatch.setattr(cuda, "CudaFramePath", no_room)
    model = _model()
    with caplog.at_level(logging.INFO):
        backend = create_backend(model, "auto")
    assert backend.name in ("cpu", "openvino")  # the show starts, on the fastest CPU path
    lines = _unavailable(caplog)
    assert [m.split()[0] for m in lines] == ["tensorrt", "cuda", "mps"]
    assert all("does not fit in the GPU's memory" in m for m in lines[:2])
    assert _state(model.generator)[-1] is False and not _trt_lines(caplog)
