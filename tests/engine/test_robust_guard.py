"""Engine safety: poisoned weights are refused, a probe frame is checked, a failing backend
falls back, and a hot-swap's crossfade blends real frames without ever going black."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from livegan.engine import Engine
from livegan.engine.guard import Failover, check_weights, load_checked, probe
from livegan.errors import ModelFileError
from livegan.modelfile import load_model
from livegan.stage.crossfade import Crossfade, blend, fit


class Still:
    """An engine stand-in that renders one flat colour (or fails)."""

    def __init__(self, value: int, size: int = 8, z_dim: int = 4, fails: bool = False) -> None:
        self.value, self.size, self.z_dim, self.fails = value, size, z_dim, fails
        self.closed = False

    def render(self, z: np.ndarray, label: int | None = None) -> np.ndarray:
        if self.fails:
            raise RuntimeError("CUDA out of memory")
        return np.full((self.size, self.size, 3), self.value, np.uint8)

    def close(self) -> None:
        self.closed = True


def test_blend_and_fit() -> None:
    old = np.full((4, 4, 3), 200, np.uint8)
    new = np.full((8, 8, 3), 100, np.uint8)
    assert fit(old, new.shape).shape == (8, 8, 3)
    half = blend(old, new, 0.5)
    assert half.dtype == np.uint8 and half.shape == (8, 8, 3) and np.all(half == 150)
    assert np.all(blend(old, new, 0.0) == 200) and np.all(blend(old, new, 1.0) == 100)
    assert np.all(blend(old, new, 7.0) == 100)  # clamped


def test_crossfade_blends_the_outgoing_model_then_closes_it() -> None:
    old, fade = Still(200, size=4), Crossfade(seconds=0.5)
    fade.start(old, np.full((4, 4, 3), 200, np.uint8), now=10.0)
    assert fade.active and not old.closed
    new = np.full((8, 8, 3), 100, np.uint8)
    z = np.zeros(4, np.float32)
    seen = [int(fade.mix(new, z, 0, 10.0 + t)[0, 0, 0]) for t in (0.0, 0.125, 0.25, 0.375)]
    assert seen == [200, 175, 150, 125]  # a quarter of the way per eighth of a second
    assert fade.mix(new, z, 0, 10.5) is new and not fade.active and old.closed


def test_a_failing_outgoing_model_holds_its_last_frame() -> None:
    old, fade = Still(0, fails=True), Crossfade(seconds=1.0)
    fade.start(old, np.full((8, 8, 3), 240, np.uint8), now=0.0)
    mixed = fade.mix(np.full((8, 8, 3), 40, np.uint8), np.zeros(4, np.float32), 0, 0.5)
    assert np.all(mixed == 140) and old.closed


def test_no_frame_yet_or_no_fade_switches_at_once() -> None:
    old = Still(1)
    Crossfade().start(old, None, now=0.0)
    assert old.closed
    other = Still(1)
    fade = Crossfade(seconds=0.0)
    fade.start(other, np.zeros((8, 8, 3), np.uint8), now=0.0)
    assert other.closed and not fade.active


def test_poisoned_weights_are_refused(tiny_model: Path) -> None:
    model = load_model(tiny_model)
    check_weights(model)
    with torch.no_grad():
        next(model.generator.parameters()).view(-1)[0] = float("inf")
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        check_weights(model)


def test_load_checked_probes_a_frame(tiny_model: Path, models_dir: Path) -> None:
    (models_dir / "tiny.safetensors").write_bytes(tiny_model.read_bytes())
    engine = load_checked("tiny", "cpu")
    frame = probe(engine)
    assert frame.dtype == np.uint8 and frame.shape == (32, 32, 3)
    engine.close()
    with pytest.raises(ModelFileError, match="only model names"):
        load_checked(str(tiny_model), "cpu")


@pytest.mark.parametrize("failing", ["cuda", "mps", "openvino"])
def test_failover_rebuilds_on_the_next_backend_once(tiny_model: Path, failing: str) -> None:
    engine = Engine(load_model(tiny_model), "cpu")
    engine.backend.name = failing  # pretend: the next one in the chain is the cpu
    ready = threading.Event()
    handed: list[tuple[Engine, Engine]] = []
    failover = Failover(lambda failed, new: (handed.append((failed, new)), ready.set()),
                        limit=3)
    assert not failover.failed(engine) and not failover.failed(engine)
    failover.succeeded()  # a good frame ends the streak
    assert not failover.failed(engine) and not failover.failed(engine)
    assert failover.failed(engine)  # the third in a row
    assert ready.wait(60)
    (failed, new), = handed
    assert failed is engine and new.backend.name == "cpu" and failover.fallbacks == 1
    assert probe(new).shape == (32, 32, 3)
    new.close()


def test_the_cpu_has_nowhere_to_fall_back_to(tiny_model: Path, caplog) -> None:
    engine = Engine(load_model(tiny_model), "cpu")
    failover = Failover(lambda failed, new: None, limit=2)
    assert not any(failover.failed(engine) for _ in range(10))
    assert caplog.text.count("no backend to fall back to") == 1
    engine.close()
