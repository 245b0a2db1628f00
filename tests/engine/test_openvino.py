"""The OpenVINO backend (livegan[openvino]) and the `auto` choice between the CPU paths."""

from __future__ import annotations

import logging
import sys
import time

import numpy as np
import pytest
import torch

from livegan.engine import cpuchoice, create_backend
from livegan.engine.base import looks_the_same
from livegan.engine.cpu import CpuBackend, CpuCaches
from livegan.errors import BackendError
from livegan.modelfile import Model, ModelInfo
from livegan.nets import build_generator, generator_config


def _model(n_labels: int = 0, seed: int = 0) -> Model:
    config = generator_config("lite", resolution=32, ngf=8, n_labels=n_labels)
    torch.manual_seed(seed)
    g = build_generator("lite", config).eval()
    info = ModelInfo(path=__import__("pathlib").Path("mem.safetensors"), name="mem",
                     arch="lite", config=config, resolution=32, z_dim=config["z_dim"])
    return Model(info, g, None)


def _reference(model: Model, z: np.ndarray, label: int | None = None) -> np.ndarray:
    labels = torch.tensor([label]) if label is not None else None
    with torch.no_grad():
        x = model.generator(torch.from_numpy(z)[None], labels)[0]
    return ((x.clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).numpy()


def _openvino():
    pytest.importorskip("openvino", reason="needs livegan[openvino]")
    from livegan.engine.openvino import OpenVinoBackend

    return OpenVinoBackend


@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_openvino_matches_eager_fp32(precision):
    backend_class = _openvino()
    model = _model()
    backend = backend_class(model.generator, model.info.z_dim, precision=precision)
    rng = np.random.default_rng(3)
    for _ in range(3):
        z = rng.standard_normal(model.info.z_dim).astype(np.float32)
        frame = backend.render(z)
        assert frame.dtype == np.uint8 and frame.shape == (32, 32, 3)
        again = backend.render(rng.standard_normal(model.info.z_dim).astype(np.float32))
        assert not np.array_equal(frame, again)  # each frame its own copy, not a shared buffer
        reference = _reference(model, z)
        if precision == "fp32":
            diff = np.abs(frame.astype(np.float32) - reference).max()
            assert diff <= 1.0, f"{backend.describe()} differs by {diff} levels"
        else:  # bf16 where it looks the same, else fp32
            same, words = looks_the_same(reference, frame)
            assert same, f"{backend.describe()}: {words}"
    assert next(model.generator.parameters()).dtype == torch.float32  # the model's own


def test_openvino_renders_a_conditional_models_labels():
    backend_class = _openvino()
    model = _model(n_labels=3)
    backend = backend_class(model.generator, model.info.z_dim, n_labels=3, precision="fp32")
    z = np.random.default_rng(0).standard_normal(128).astype(np.float32)
    for label in (0, 2):
        diff = np.abs(backend.render(z, label).astype(np.float32) - _reference(model, z, label))
        assert diff.max() <= 1.0


def test_the_converted_model_is_cached_and_a_damaged_cache_is_converted_again(engine_cache,
                                                                             caplog):
    backend_class = _openvino()
    model = _model()
    with caplog.at_level(logging.INFO, logger="livegan.engine.openvino"):
        first = backend_class(model.generator, 128, precision="fp32")
        assert sum("converting" in m for m in caplog.messages) == 1
        cached = sorted((engine_cache / "openvino").glob("*.xml"))
        assert len(cached) == 1 and cached[0].with_suffix(".bin").is_file()
        again = backend_class(model.generator, 128, precision="fp32")
        assert sum("converting" in m for m in caplog.messages) == 1  # read from the cache
        cached[0].write_text("<net>half a file")
        third = backend_class(model.generator, 128, precision="fp32")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "cannot be read" in warnings[0]
    z = np.random.default_rng(1).standard_normal(128).astype(np.float32)
    assert np.array_equal(first.render(z), again.render(z))
    assert np.array_equal(first.render(z), third.render(z))


def test_without_openvino_it_is_one_line_naming_the_extra(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "openvino", None)
    from livegan.engine.openvino import OpenVinoBackend

    with pytest.raises(BackendError, match=r"pip install 'livegan\[openvino\]'"):
        OpenVinoBackend(_model().generator, 128)
    with caplog.at_level(logging.INFO, logger="livegan.engine"):
        backend = create_backend(_model(), "openvino")
    assert backend.name == "cpu"
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(lines) == 1 and "livegan[openvino]" in lines[0]


def test_auto_times_the_cpu_paths_and_says_which_it_chose(caplog):
    model = _model()
    with caplog.at_level(logging.INFO, logger="livegan.engine"):
        backend = cpuchoice.fastest_cpu_backend(model.generator, 128)
    (line,) = [m for m in caplog.messages if m.startswith("CPU paths")]
    assert "contiguous, eager" in line and "chose " + backend.describe() in line
    if "openvino" in sys.modules and sys.modules["openvino"] is not None:
        assert "OpenVINO" in line
    z = np.random.default_rng(2).standard_normal(128).astype(np.float32)
    same, words = looks_the_same(_reference(model, z), backend.render(z))
    assert same, f"{backend.describe()}: {words}"


class _Slowed(CpuBackend):
    """A real CPU backend held back by a fixed delay a frame."""

    delay = 0.0

    def render(self, z, label=None):
        time.sleep(self.delay)
        return super().render(z, label)


@pytest.mark.parametrize("slow", ["eager", "other"])
def test_auto_never_keeps_a_path_slower_than_eager_fp32(monkeypatch, slow):
    """Two real backends that compute alike, one held back by half a second a frame: far
    more than a busy machine's noise on this tiny model, so the slower one never wins."""
    model = _model()

    def make(delay: float):
        def build():
            backend = _Slowed(model.generator, 128, precision="eager")
            backend.delay = delay
            return backend
        return build

    eager_delay, other_delay = (0.5, 0.0) if slow == "eager" else (0.0, 0.5)
    monkeypatch.setattr(cpuchoice, "_candidates", lambda g, z_dim, n, caches: [
        ("eager fp32", make(eager_delay)), ("other", make(other_delay))])
    backend = cpuchoice.fastest_cpu_backend(model.generator, 128)
    assert backend.delay == 0.0


def test_the_choice_needs_a_clear_win_over_eager_fp32():
    assert cpuchoice.choose([10.0, 9.8, 9.6]) == 0  # within the 5 % margin: eager
    assert cpuchoice.choose([10.0, 9.0, 8.0]) == 2  # the fastest clear winner
    assert cpuchoice.choose([10.0, 12.0]) == 0
    assert cpuchoice.choose([10.0]) == 0  # nothing else could be built


def test_a_busy_machine_cuts_the_timing_short_instead_of_stalling_the_start(monkeypatch):
    """Frames far slower than the warm-up promised: one timed round, then the choice."""
    model = _model()
    rendered: list[int] = []

    class Counted(_Slowed):
        delay = 0.03

        def render(self, z, label=None):
            rendered.append(id(self))
            return super().render(z, label)

    monkeypatch.setattr(cpuchoice, "TIMING_BUDGET_S", 0.01)
    backends = [Counted(model.generator, 128, precision="eager") for _ in range(2)]
    cpuchoice.time_interleaved(backends, 128)
    assert [rendered.count(id(b)) for b in backends] == [2, 2]  # a warm-up and one timed


def test_a_model_openvino_cannot_convert_falls_back_to_the_cpu_with_one_line(engine_cache,
                                                                            monkeypatch,
                                                                            caplog):
    _openvino()  # an empty cache of its own: the conversion is attempted, never read back
    import openvino

    def refuse(*args, **kwargs):
        raise RuntimeError("Check 'op' failed: no conversion rule for aten::weird_op\nstack")

    monkeypatch.setattr(openvino, "convert_model", refuse)
    with caplog.at_level(logging.INFO, logger="livegan.engine"):
        backend = create_backend(_model(seed=7), "openvino")
    assert backend.name == "cpu"
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(lines) == 1 and "OpenVINO cannot convert this model" in lines[0]
    assert "aten::weird_op" in lines[0] and "stack" not in lines[0]


def test_a_model_played_again_keeps_the_path_it_first_chose(monkeypatch, caplog):
    """A hot-swap back to a model does not time the paths again (its frame rate and memory
    stay as they were); a model with other weights is timed."""
    timed: list[int] = []
    real = cpuchoice.time_interleaved
    monkeypatch.setattr(cpuchoice, "time_interleaved",
                        lambda backends, z_dim: timed.append(len(backends)) or
                        real(backends, z_dim))
    model = _model()
    show = CpuCaches()  # what a show hands every engine it builds
    first = cpuchoice.fastest_cpu_backend(model.generator, 128, caches=show)
    with caplog.at_level(logging.INFO, logger="livegan.engine"):
        again = cpuchoice.fastest_cpu_backend(_model().generator, 128, caches=show)  # same
    assert len(timed) == 1 and again.describe() == first.describe()
    assert any("chosen when this model first played" in m for m in caplog.messages)
    other = _model()
    with torch.no_grad():
        next(other.generator.parameters()).add_(0.01)
    cpuchoice.fastest_cpu_backend(other.generator, 128, caches=show).close()
    assert len(timed) == 2
    cpuchoice.fastest_cpu_backend(model.generator, 128).close()  # caches of its own: timed
    assert len(timed) == 3
    first.close()
    again.close()
