"""Backend selection, fallback, output parity against eager fp32, and the engine cache key."""

from __future__ import annotations

import builtins
import logging

import numpy as np
import pytest
import torch
from torch import nn

from livegan import engine as engine_module
from livegan.engine import Engine, create_backend
from livegan.engine.base import looks_the_same
from livegan.engine.cpu import CpuBackend, RecentCache, bf16_supported
from livegan.engine.tensorrt import engine_cache_key, weights_hash
from livegan.errors import BackendError
from livegan.modelfile import Model, ModelInfo
from livegan.nets import build_generator, generator_config

CUDA = torch.cuda.is_available()


def _model(res: int = 32, n_labels: int = 0) -> Model:
    config = generator_config("lite", resolution=res, ngf=8, n_labels=n_labels)
    torch.manual_seed(0)
    g = build_generator("lite", config).eval()
    info = ModelInfo(path=__import__("pathlib").Path("mem.safetensors"), name="mem",
                     arch="lite", config=config, resolution=res, z_dim=config["z_dim"])
    return Model(info, g, None)


def _reference(model: Model, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        x = model.generator(torch.from_numpy(z)[None])[0]
    return ((x.clamp(-1, 1) + 1) * 127.5).round().permute(1, 2, 0).numpy()


def test_auto_on_a_cpu_machine_picks_cpu_and_says_why(caplog, monkeypatch):
    if CUDA:
        pytest.skip("this machine has a GPU")
    # timed afresh: an engine's caches are its own unless a show hands it the show's
    with caplog.at_level(logging.INFO, logger="livegan.engine"):
        backend = create_backend(_model(), "auto")
    assert backend.name in ("cpu", "openvino")  # the fastest CPU path, timed at start
    text = caplog.text
    assert "tensorrt backend unavailable" in text and "cuda backend unavailable" in text
    assert "CPU paths (median ms a frame" in text
    assert "pip install 'livegan[tensorrt]'" in text or "tensorrt" in text


def test_explicit_gpu_backend_without_gpu_falls_back_with_a_warning(caplog):
    if CUDA:
        pytest.skip("this machine has a GPU")
    with caplog.at_level(logging.WARNING, logger="livegan.engine"):
        backend = create_backend(_model(), "cuda")
    assert backend.name == "cpu"
    assert any("cuda backend unavailable" in r.message for r in caplog.records)


def test_a_backend_that_fails_to_build_falls_back_to_the_next(monkeypatch, caplog):
    real = engine_module._make
    tried = []

    def flaky(name, model, measure=False, caches=None):
        tried.append(name)
        if name in ("tensorrt", "cuda"):
            raise RuntimeError(f"simulated {name} build failure\nsecond line")
        return real(name, model, measure, caches)

    monkeypatch.setattr(engine_module, "_make", flaky)
    with caplog.at_level(logging.INFO, logger="livegan.engine"):
        backend = create_backend(_model(), "auto")
    assert tried == ["tensorrt", "cuda", "mps", "cpu"]
    assert backend.name in ("cpu", "openvino")
    lines = [r.message for r in caplog.records if "unavailable" in r.message]
    assert len(lines) == 3 and all("second line" not in m for m in lines)  # one line each


def test_missing_torch_tensorrt_is_a_clear_message(monkeypatch):
    real_import = builtins.__import__

    def no_trt(name, *args, **kwargs):
        if name.startswith(("tensorrt", "torch_tensorrt")):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_trt)
    from livegan.engine.tensorrt import TensorRTBackend

    with pytest.raises(BackendError, match=r"pip install 'livegan\[tensorrt\]'"):
        TensorRTBackend(_model().generator, 128)


def test_unknown_backend_is_refused():
    with pytest.raises(BackendError, match="choose from"):
        create_backend(_model(), "metal")


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cpu_backend_matches_eager_fp32(precision):
    if precision == "bf16" and not bf16_supported():
        pytest.skip("no bf16 units on this CPU")
    model = _model()
    backend = CpuBackend(model.generator, 128, precision=precision)
    rng = np.random.default_rng(3)
    for _ in range(3):
        z = rng.standard_normal(128).astype(np.float32)
        frame = backend.render(z)
        assert frame.dtype == np.uint8 and frame.shape == (32, 32, 3)
        if precision == "fp32":
            diff = np.abs(frame.astype(np.float32) - _reference(model, z)).max()
            assert diff <= 1.0, f"fp32 differs by {diff} levels"
        else:
            same, words = looks_the_same(_reference(model, z), frame)
            assert same, f"bf16: {words}"


def test_engine_falls_back_to_fixed_directions_when_the_model_has_none():
    engine = Engine(_model(), "cpu")
    assert engine.directions.shape == (16, 128)
    gram = engine.directions @ engine.directions.T
    assert np.allclose(gram - np.diag(np.diag(gram)), 0, atol=1e-3)  # orthogonal


def test_conditional_label_reaches_the_generator():
    engine = Engine(_model(n_labels=3), "cpu")
    z = np.random.default_rng(0).standard_normal(128).astype(np.float32)
    a, b = engine.render(z, 0), engine.render(z, 2)
    assert np.abs(a.astype(int) - b.astype(int)).max() > 0


def test_engine_cache_key_changes_with_each_input():
    base = {"model_hash": "abc", "resolution": 512, "batch": 1, "trt_version": "10.3", "gpu_name": "H100"}
    key = engine_cache_key(**base)
    assert key == engine_cache_key(**base)
    for field, other in [("model_hash", "abd"), ("resolution", 1024), ("batch", 2),
                         ("trt_version", "10.4"), ("gpu_name", "RTX 5000")]:
        assert engine_cache_key(**{**base, field: other}) != key, field


def test_weights_hash_follows_the_weights():
    model = _model()
    h = weights_hash(model.generator)
    assert h == weights_hash(model.generator)
    with torch.no_grad():
        next(model.generator.parameters()).add_(1e-3)
    assert weights_hash(model.generator) != h


def test_off_main_thread_builds_elsewhere_and_returns_or_raises():
    import threading

    from livegan.engine import off_main_thread

    main = threading.get_ident()
    assert off_main_thread(threading.get_ident) != main
    with pytest.raises(BackendError, match="no such backend"):
        off_main_thread(lambda: (_ for _ in ()).throw(BackendError("no such backend")))


def test_cpu_backend_reuses_its_frozen_generator_per_weights():
    """TorchScript never frees a frozen graph, so a model swapped in again must reuse the
    first one (memory stays flat over weeks of swaps); other weights get their own."""
    from livegan.engine.cpu import CpuCaches

    model = _model()
    show = CpuCaches()  # a show's: every engine it builds shares it
    first = CpuBackend(model.generator, model.info.z_dim, caches=show)
    again = CpuBackend(model.generator, model.info.z_dim, caches=show)
    assert again.generator is first.generator and again.layout == first.layout
    z = np.random.default_rng(3).standard_normal(model.info.z_dim).astype(np.float32)
    assert np.array_equal(first.render(z), again.render(z))
    fp32 = CpuBackend(model.generator, model.info.z_dim, precision="fp32",
                      caches=show)  # other choices
    assert fp32.dtype == torch.float32
    assert fp32.generator is not first.generator or first.dtype == torch.float32
    with torch.no_grad():
        next(model.generator.parameters()).add_(0.5)
    other = CpuBackend(model.generator, model.info.z_dim, caches=show)
    assert other.generator is not first.generator
    assert not np.array_equal(other.render(z), first.render(z))


def test_the_frozen_generator_cache_keeps_only_the_most_recently_used(monkeypatch):
    """An installation cycling through many models holds a bounded number of frozen
    generators: the least recently played one goes first."""
    from livegan.engine.cpu import CpuCaches

    caches = CpuCaches(frozen=RecentCache(size=2))  # a show's, shared by its engines
    models = [_model() for _ in range(3)]
    for i, model in enumerate(models):
        with torch.no_grad():
            next(model.generator.parameters()).add_(0.1 * i)  # three sets of weights

    def build(model):
        return CpuBackend(model.generator, 128, precision="fp32", caches=caches)

    a = build(models[0])
    b = build(models[1])
    assert build(models[0]).generator is a.generator
    c = build(models[2])  # evicts b, used longest ago
    assert len(caches.frozen) == 2
    assert build(models[0]).generator is a.generator
    assert build(models[2]).generator is c.generator
    assert build(models[1]).generator is not b.generator
    assert len(caches.frozen) == 2
    # an engine with caches of its own shares nothing with them
    assert CpuBackend(models[0].generator, 128, precision="fp32").generator is not a.generator


def test_a_frame_looks_the_same_despite_a_few_moved_edge_pixels_but_not_a_wrong_patch():
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 256, (256, 256, 3)).astype(np.float32)
    edges = reference.copy()
    edges.reshape(-1)[rng.choice(edges.size, 40, replace=False)] += 60  # an edge moved
    assert looks_the_same(reference, edges)[0]
    patch = reference.copy()
    patch[:12, :12] = 255 - patch[:12, :12]  # 0.2 % of the frame wrong
    same, words = looks_the_same(reference, patch)
    assert not same and "PSNR" in words
    assert not looks_the_same(reference, reference + 2)[0]  # the whole frame off by 2 levels
    assert looks_the_same(reference, reference)[0]


class _Coarse(nn.Module):
    """A generator whose last step spoils bf16: near 300, bf16 keeps steps of 2, so every
    pixel lands on -1, 1 or 0 (fp32 keeps the picture)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, z, labels=None):
        return (self.inner(z, labels) * 0.9 + 300) - 300


def test_auto_precision_keeps_fp32_for_a_model_that_bf16_would_spoil(caplog):
    if not bf16_supported():
        pytest.skip("no bf16 units on this CPU")
    model = _model()
    with caplog.at_level(logging.INFO, logger="livegan.engine.cpu"):
        backend = CpuBackend(_Coarse(model.generator), 128, precision="auto")
    assert backend.dtype == torch.float32
    assert any("bf16 frames differ from fp32 (PSNR" in m for m in caplog.messages)
