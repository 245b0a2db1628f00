"""Engines: pick a backend for a model (tensorrt, cuda, mps, cpu), falling back with one log line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from livegan.engine.base import Backend
from livegan.errors import BackendError
from livegan.latent import random_directions
from livegan.modelfile import Model

log = logging.getLogger(__name__)

BACKENDS = ("auto", "tensorrt", "cuda", "mps", "openvino", "cpu")
CHAIN = ("tensorrt", "cuda", "mps", "cpu")  # the order `auto` tries, and each falls back along
FALLBACK_DIRECTIONS = 16
T = TypeVar("T")


def off_main_thread(build: Callable[[], T]) -> T:
    """Run `build` on a short-lived thread and return what it returns (or raise its error).

    OpenMP keeps a pool of worker threads for every thread that has run parallel work,
    and while the main thread owns one, parallel work on any other thread runs up to
    twice as slow on a small machine (the default model: about 1.8 ms a frame on the
    render thread of a fresh process, about 4 ms once the main thread has rendered).
    Building and timing engines on a thread that then exits frees its pool, so the
    render thread has the cores to itself.
    """
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = build()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=work, name="livegan-build", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _make(name: str, model: Model, measure: bool = False) -> Backend:
    """Build backend `name`; with `measure`, the CPU is the fastest of its timed paths."""
    g, info = model.generator, model.info
    n_labels = int(info.config.get("n_labels", 0))
    if name == "cpu" and measure:
        from livegan.engine.cpuchoice import fastest_cpu_backend

        return fastest_cpu_backend(g, info.z_dim, n_labels)
    if name == "cpu":
        from livegan.engine.cpu import CpuBackend

        return CpuBackend(g, info.z_dim, n_labels)
    if name == "openvino":
        from livegan.engine.openvino import OpenVinoBackend

        return OpenVinoBackend(g, info.z_dim, n_labels)
    if name == "cuda":
        from livegan.engine.cuda import CudaBackend

        return CudaBackend(g, info.z_dim, n_labels)
    if name == "mps":
        from livegan.engine.mps import MpsBackend

        return MpsBackend(g, info.z_dim, n_labels)
    if name == "tensorrt":
        from livegan.engine.tensorrt import TensorRTBackend

        return TensorRTBackend(g, info.z_dim, n_labels, model_path=info.path)
    raise BackendError(f"unknown backend '{name}'; choose from {', '.join(BACKENDS)}")


def create_backend(model: Model, backend: str = "auto") -> Backend:
    """Build the requested backend; `auto` walks tensorrt -> cuda -> mps -> the fastest CPU
    path (timed at start: OpenVINO, TorchScript variants, eager fp32; see cpuchoice).

    A backend that fails falls back to the next one in the chain with one log line saying
    why; asking for one explicitly that cannot be built falls back the same way, so a show
    always starts, and the log says what it runs on.
    """
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend '{backend}'; choose from {', '.join(BACKENDS)}")
    if backend == "auto":
        chain = CHAIN
    elif backend == "openvino":
        chain = ("openvino", "cpu")
    else:
        chain = CHAIN[CHAIN.index(backend):]
    for name in chain:
        try:
            built = _make(name, model, measure=backend == "auto")
        except Exception as exc:  # noqa: BLE001 - any failure means: try the next backend
            level = logging.INFO if backend == "auto" else logging.WARNING
            log.log(level, "%s backend unavailable (%s); falling back", name, _one_line(exc))
            continue
        log.info("rendering %s on %s", model.info.name, built.describe())
        return built
    raise BackendError("no backend could be built, not even cpu")  # cpu only fails on bugs


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class Engine:
    """A loaded model on a backend: latent in, uint8 frame out. Owns its device and caches."""

    def __init__(self, model: Model, backend: str = "auto") -> None:
        self.model = model
        self.info = model.info
        self.backend = create_backend(model, backend)
        if model.directions is not None and model.directions.shape[0] > 0:
            self.directions = model.directions.numpy().astype(np.float32)
            self.direction_names = list(model.info.direction_names)
        else:
            self.directions = random_directions(FALLBACK_DIRECTIONS, model.info.z_dim)
            self.direction_names = [f"dir{i}" for i in range(self.directions.shape[0])]

    @property
    def z_dim(self) -> int:
        return self.info.z_dim

    @property
    def resolution(self) -> int:
        return self.info.resolution

    def render(self, z: np.ndarray, label: int | None = None) -> np.ndarray:
        """uint8 [H, W, 3] for latent z [Z]."""
        return self.backend.render(z, label)

    def close(self) -> None:
        self.backend.close()
