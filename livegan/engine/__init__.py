"""Engines: pick a backend for a model (tensorrt, cuda, mps, cpu), falling back with one log line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

import numpy as np

from livegan.bendops import Key
from livegan.engine.base import STYLE_DEFAULT, Backend, is_style
from livegan.engine.bend import bend_amounts
from livegan.engine.canvas import CannotGrow, Canvas, CanvasRequest, cells_for, pixels_per_cell
from livegan.engine.cpu import CpuCaches
from livegan.errors import BackendError
from livegan.latent import random_directions
from livegan.modelfile import Model, SizedByInfo
from livegan.nets.taps import feature_layers

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


def _make(name: str, model: Model, measure: bool = False,
          caches: CpuCaches | None = None) -> Backend:
    """Build backend `name`; with `measure`, the CPU is the fastest of its timed paths."""
    g, info = model.generator, model.info
    n_labels = int(info.config.get("n_labels", 0))
    if name == "cpu" and measure:
        from livegan.engine.cpuchoice import fastest_cpu_backend

        return fastest_cpu_backend(g, info.z_dim, n_labels, caches)
    if name == "cpu":
        from livegan.engine.cpu import CpuBackend

        return CpuBackend(g, info.z_dim, n_labels, caches=caches)
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


def create_backend(model: Model, backend: str = "auto",
                   caches: CpuCaches | None = None) -> Backend:
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
            built = _make(name, model, measure=backend == "auto", caches=caches)
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


class Engine(SizedByInfo):
    """A loaded model on a backend: latent in, uint8 frame out. Owns its device and caches.

    With a canvas (`set_canvas`), each latent [Z] renders a frame of the canvas's size; a
    spatial latent [Z, h, w] (an offline canvas) renders as it is, on the same machinery.

    Args:
        model: the loaded model.
        backend: a name of BACKENDS, or a backend already built for this model (a replay
            builds the CPU path a show's log names).
        canvas: the canvas to render latents [Z] onto (None: the model's square).
        caches: what CPU engines keep between builds (a show shares one among its engines).
    """

    def __init__(self, model: Model, backend: str | Backend = "auto",
                 canvas: CanvasRequest | None = None, caches: CpuCaches | None = None) -> None:
        self.model = model
        self.info = model.info
        self.caches = caches or CpuCaches()  # a show passes its own: shared by its engines
        self.backend = backend if isinstance(backend, Backend) \
            else create_backend(model, backend, self.caches)
        self.canvas: Canvas | None = None  # the live canvas, when one is asked and possible
        self.canvas_request: CanvasRequest | None = None
        self._canvas_backend: Backend | None = None  # renders the canvas latent
        self._shaped: dict[tuple[int, ...], Backend] = {}  # spatial latent shape -> backend
        self._mapping: tuple[int, int] | None = None  # pixels per latent cell (cell_mapping)
        self.bend_layers = list(feature_layers(model.generator))  # livegan.nets.taps names
        self._bent: Backend | None = None  # renders bent frames where the backend cannot
        self._bent_on = False  # whether bent frames render on `_bent` now
        self._styled_on = False  # whether styled frames (truncation, noise) render on `_bent`
        self.style = is_style(model.generator)  # truncation and noise in w: set_style
        self._style = STYLE_DEFAULT  # (truncation, noise mode) as last set
        self._amounts: np.ndarray | None = None  # the bends last set, for a canvas made later
        self.bends: Mapping[Key, tuple[float, ...]] = {}  # as last set (the control log)
        if canvas is not None:
            self.set_canvas(canvas)
        if model.directions is not None and model.directions.shape[0] > 0:
            self.directions = model.directions.numpy().astype(np.float32)
            self.direction_names = list(model.info.direction_names)
        else:
            self.directions = random_directions(FALLBACK_DIRECTIONS, model.info.z_dim)
            self.direction_names = [f"dir{i}" for i in range(self.directions.shape[0])]

    def set_canvas(self, request: CanvasRequest | None) -> None:
        """Render frames of `request`'s size (None: the model's square). A model whose
        generator does not grow with a spatial latent says so in one line and stays square;
        a backend that renders one latent shape says so and the canvas renders on eager CPU.
        Renders a few frames: call it off the render thread, before the engine plays."""
        self._drop_canvas()
        self.canvas_request = request
        if request is None:
            return
        try:
            mapping = self.cell_mapping()
        except CannotGrow as exc:
            log.warning("%s: no canvas, %s; its square frames are letterboxed",
                        self.info.name, exc)
            return
        size = request.target(self.resolution)
        canvas = Canvas(self.z_dim, cells_for(mapping, *size), size)
        self.canvas, self._canvas_backend = canvas, self._backend_for(canvas.shape)
        log.info("rendering %s on a %s", self.info.name, canvas.describe())

    def cell_mapping(self) -> tuple[int, int]:
        """(a, b) with output size = a * cells + b, found once by rendering 1 and 2 latent
        cells; raises CannotGrow when the generator does not grow with a spatial latent."""
        if self._mapping is None:
            n_labels = int(self.info.config.get("n_labels", 0))
            self._mapping = pixels_per_cell(self.model.generator, self.z_dim, n_labels)
        return self._mapping

    def _backend_for(self, shape: tuple[int, ...]) -> Backend:
        """The backend for spatial latents of `shape` [1, Z, h, w]: this engine's where it
        takes the shape, else the eager CPU path (said in one line); made once a shape."""
        backend = self._shaped.get(shape)
        if backend is not None:
            return backend
        backend = self.backend
        try:
            backend.prepare(shape)
        except Exception as exc:  # noqa: BLE001 - any failure: the eager CPU path renders it
            from livegan.engine.cpu import CpuBackend

            log.warning("%s cannot render a canvas (%s); the canvas renders on eager cpu",
                        backend.name, _one_line(exc))
            backend = CpuBackend(self.model.generator, self.z_dim,
                                 int(self.info.config.get("n_labels", 0)), precision="eager",
                                 caches=self.caches)
        if self.style:
            backend.set_style(*self._style)
        if self._amounts is not None and backend is not self.backend:
            backend.set_bends(self._amounts)
        self._shaped[shape] = backend
        return backend

    def set_bends(self, bends: Mapping[Key, tuple[float, ...]]) -> None:
        """Bend the feature maps from the next frame on (the render thread, between frames).
        A backend whose compiled graph has no bends hands bent frames to an eager one (said
        in one line, the first time)."""
        self.bends = bends
        amounts = self._amounts = bend_amounts(self.bend_layers, bends)
        if self.backend.set_bends(amounts):
            self._bent_on = False
        else:
            if self._bent is None:
                self._bent = self._eager_twin()
                log.warning("%s has no bends in its compiled graph; bent frames render on %s",
                            self.backend.describe(), self._bent.describe())
            self._bent.set_bends(amounts)
            self._bent_on = bool(np.any(amounts))
        for backend in self._own_shaped():
            backend.set_bends(amounts)

    def set_style(self, truncation: float, noise: str) -> None:
        """A style model's truncation (psi) and noise mode (const, random, none) from the next
        frame on (the render thread, between frames); nothing for other models, whose
        truncation scales z. A backend that baked them into its graph hands such frames to
        an eager one (said in one line, the first time)."""
        style = (round(float(truncation), 4), noise)
        if not self.style or style == self._style:
            return
        self._style = style
        if self.backend.set_style(*style):
            self._styled_on = False
        else:
            if self._bent is None:
                self._bent = self._eager_twin()
                log.warning("%s bakes truncation and noise into its graph; frames with other "
                            "settings render on %s", self.backend.describe(),
                            self._bent.describe())
            self._bent.set_style(*style)
            self._styled_on = style != STYLE_DEFAULT
        for backend in self._own_shaped():
            backend.set_style(*style)

    def _own_shaped(self) -> list[Backend]:
        """The backends of spatial latents other than this engine's own."""
        return list(dict.fromkeys(b for b in self._shaped.values() if b is not self.backend))

    @property
    def style_now(self) -> tuple[float, str]:
        """The (truncation, noise mode) frames render with now (a style model)."""
        return self._style

    def bending_backend(self, bends: Mapping[Key, tuple[float, ...]]) -> Backend:
        """The backend that renders frames with `bends` on (bench, HUD)."""
        return self.backend if self._bent is None or not bends else self._bent

    def _eager_twin(self) -> Backend:
        twin = self._make_twin()
        if self.style:
            twin.set_style(*self._style)
        return twin

    def _make_twin(self) -> Backend:
        """An eager backend on the same device (bends as hooks): cuda for TensorRT, else cpu."""
        n_labels = int(self.info.config.get("n_labels", 0))
        if self.backend.name == "tensorrt":
            from livegan.engine.cuda import CudaBackend

            return CudaBackend(self.model.generator, self.z_dim, n_labels)
        from livegan.engine.cpu import CpuBackend

        return CpuBackend(self.model.generator, self.z_dim, n_labels, precision="eager",
                          caches=self.caches)

    def render(self, z: np.ndarray, label: int | None = None) -> np.ndarray:
        """uint8 [H, W, 3] for latent z [Z]: the canvas's size with a canvas, else the
        model's square; a spatial latent [Z, h, w] renders as it is (its picture grows)."""
        if z.ndim == 3:
            return self._backend_for((1, *z.shape)).render(z, label)
        canvas, backend = self.canvas, self._canvas_backend
        if canvas is None or backend is None:
            twin = self._bent_on or self._styled_on
            return (self._bent if twin else self.backend).render(z, label)
        return canvas.crop(backend.render(canvas.latent(z), label))

    def _drop_canvas(self) -> None:
        for backend in self._own_shaped():
            backend.close()
        self._shaped.clear()
        self.canvas, self._canvas_backend = None, None

    def close(self) -> None:
        self._drop_canvas()
        if self._bent is not None:
            self._bent.close()
        self.backend.close()
