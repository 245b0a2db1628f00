"""Engine safety: a model is checked before it goes on stage, and a failing backend falls back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np
import torch

from livegan.engine import Engine
from livegan.engine.cpu import CpuCaches
from livegan.errors import LiveganError, ModelFileError
from livegan.library import in_w, open_model
from livegan.modelfile import Model, load_model

log = logging.getLogger(__name__)

#: Consecutive render failures after which the engine is rebuilt on the next backend.
FALLBACK_AFTER = 5
#: Where a failing backend falls back to; the CPU has nowhere further to go.
NEXT_BACKEND = {"tensorrt": "cuda", "cuda": "cpu", "mps": "cpu", "openvino": "cpu"}


def check_weights(model: Model) -> None:
    """Refuse a model whose weights or directions hold NaN or infinities.

    Such a file loads without complaint and then renders black frames on stage.

    Raises:
        ModelFileError: naming the file and the first bad tensor.
    """
    tensors = dict(model.generator.state_dict())
    if model.directions is not None:
        tensors["directions"] = model.directions
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelFileError(f"{model.info.path}: weight '{name}' holds NaN or infinite "
                                 "values (a diverged or damaged model); export it again")


def probe(engine: Engine) -> np.ndarray:
    """Render one frame off stage and check it is a uint8 [H, W, 3] frame.

    Raises:
        ModelFileError: the engine cannot render this model, or renders nothing.
    """
    z = np.random.default_rng(0).standard_normal(engine.z_dim).astype(np.float32)
    try:
        frame = engine.render(z, 0)
    except Exception as exc:  # noqa: BLE001 - any failure here keeps the old model playing
        raise ModelFileError(f"{engine.info.path}: the model loads but cannot render "
                             f"({type(exc).__name__}: {exc})") from None
    shape = getattr(frame, "shape", ())
    if getattr(frame, "dtype", None) != np.uint8 or len(shape) != 3 or shape[2] != 3:
        raise ModelFileError(f"{engine.info.path}: the model renders {shape}, not an "
                             "RGB image")
    return frame


def load_checked(name: str, backend: str = "auto", allow_paths: bool = False,
                 space: str = "z", caches: CpuCaches | None = None) -> Engine:
    """Find, load, check and probe a model: what a hot-swap may put on stage.

    Args:
        name: model name in the model folders (a path only when `allow_paths`).
        backend: backend to build it on.
        allow_paths: accept paths (the command line), not only names (OSC).
        space: play a style model from "z" or "w" (other models play from z).
        caches: the show's CPU caches (a model played before reuses its path).

    Raises:
        LiveganError: one sentence saying what is wrong with the model and what to do.
    """
    model = open_model(name, allow_paths=allow_paths, space=space, strict=False)
    check_weights(model)
    try:
        engine = Engine(model, backend, caches=caches)
    except LiveganError:
        raise
    except Exception as exc:  # noqa: BLE001 - a network that fails to build is the file's fault
        raise ModelFileError(f"{model.info.path}: cannot build the model "
                             f"({type(exc).__name__}: {exc})") from None
    try:
        probe(engine)
    except LiveganError:
        engine.close()
        raise
    return engine


class Failover:
    """Rebuilds a failing engine on the next backend (tensorrt -> cuda -> cpu).

    The render thread calls `failed()` after each render error and `succeeded()` after
    each frame. After `limit` failures in a row, the same model file is loaded again and
    built on the next backend on a thread of its own (the last good frame stays on
    screen meanwhile); `on_ready(failed, replacement)` then hands the new engine over.
    An engine on the last backend keeps being retried; the errors are reported.

    Args:
        on_ready: called as on_ready(failed_engine, new_engine) from the builder thread.
        limit: consecutive failures that trigger the rebuild.
    """

    def __init__(self, on_ready: Callable[[Engine, Engine], None],
                 limit: int = FALLBACK_AFTER) -> None:
        self.on_ready = on_ready
        self.limit = limit
        self.in_a_row = 0
        self.fallbacks = 0  # engines rebuilt so far
        self._building: threading.Thread | None = None
        self._given_up: set[int] = set()  # ids of engines with nowhere to fall back to

    def succeeded(self) -> None:
        """A frame rendered: the failure streak is over."""
        self.in_a_row = 0

    def failed(self, engine: Engine) -> bool:
        """A render failed on `engine`; True when this starts a rebuild."""
        self.in_a_row += 1
        if self.in_a_row < self.limit or self.building or id(engine) in self._given_up:
            return False
        target = NEXT_BACKEND.get(getattr(engine.backend, "name", ""))
        if target is None:
            self._given_up.add(id(engine))
            log.error("rendering keeps failing on %s and there is no backend to fall back "
                      "to; the last frame stays on screen while it retries",
                      engine.backend.describe())
            return False
        self._building = threading.Thread(target=self._build, args=(engine, target),
                                          name="livegan-failover", daemon=True)
        self._building.start()
        return True

    @property
    def building(self) -> bool:
        """Whether a replacement engine is being built."""
        return self._building is not None and self._building.is_alive()

    def _build(self, failed: Engine, backend: str) -> None:
        log.error("rendering failed %d times in a row on %s; rebuilding %s on %s",
                  self.in_a_row, failed.backend.describe(), failed.info.name, backend)
        try:
            model = load_model(failed.info.path, int(failed.info.config.get("max_res") or 0))
            if failed.info.space == "w":
                model = in_w(model)
            engine = Engine(model, backend, failed.canvas_request, failed.caches)
            probe(engine)
        except Exception as exc:  # noqa: BLE001 - reported; the last frame stays up
            log.error("falling back to %s failed: %s", backend, exc)
            self._given_up.add(id(failed))
            return
        if engine.backend.name == failed.backend.name:  # the chain had nothing better
            engine.close()
            self._given_up.add(id(failed))
            log.error("falling back failed: no backend other than %s could be built",
                      failed.backend.name)
            return
        self.fallbacks += 1
        self.in_a_row = 0
        self.on_ready(failed, engine)
