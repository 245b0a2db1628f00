"""The CUDA backend: fp16, channels_last, the whole frame captured as one CUDA graph."""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from livegan.engine.base import Backend, to_frame
from livegan.errors import BackendError

log = logging.getLogger(__name__)

HOST_BUFFERS = 2  # pinned staging buffers, alternated so a copy never waits on the last


def require_cuda() -> torch.device:
    """The current CUDA device, or BackendError saying why there is none."""
    if not torch.cuda.is_available():
        raise BackendError("no CUDA GPU visible to PyTorch (CPU-only build or no driver)")
    return torch.device("cuda", torch.cuda.current_device())


class CudaFramePath:
    """Latent in, uint8 frame out on one stream: a static input, an on-device uint8
    conversion, and an async copy into one of a ring of pinned host buffers.

    `run(module)` is the generator call; subclasses (TensorRT) reuse the same path.
    """

    def __init__(self, device: torch.device, z_dim: int, resolution: int, n_labels: int,
                 dtype: torch.dtype) -> None:
        self.device = device
        self.stream = torch.cuda.Stream(device)
        self.z = torch.zeros(1, z_dim, device=device, dtype=dtype)
        self.labels = torch.zeros(1, dtype=torch.long, device=device) if n_labels else None
        self.z_host = torch.zeros(1, z_dim, dtype=dtype).pin_memory()
        self.host = [torch.empty(resolution, resolution, 3, dtype=torch.uint8).pin_memory()
                     for _ in range(HOST_BUFFERS)]
        self.done = torch.cuda.Event()
        self.slot = 0

    def upload(self, z: torch.Tensor, labels: torch.Tensor | None) -> None:
        self.z_host.copy_(z)
        self.z.copy_(self.z_host, non_blocking=True)
        if self.labels is not None and labels is not None:
            self.labels.copy_(labels, non_blocking=True)

    def download(self, frame: torch.Tensor) -> torch.Tensor:
        out = self.host[self.slot]
        self.slot = (self.slot + 1) % HOST_BUFFERS
        out.copy_(frame, non_blocking=True)
        self.done.record(self.stream)
        self.done.synchronize()
        return out


class CudaBackend(Backend):
    """Eager fp16 on CUDA, replayed from a CUDA graph when capture succeeds."""

    name = "cuda"

    def __init__(self, generator: nn.Module, z_dim: int, n_labels: int = 0,
                 use_graph: bool = True) -> None:
        device = require_cuda()
        super().__init__(generator, z_dim, n_labels)  # our own copy, still fp32 on the CPU
        self.device = device
        torch.backends.cudnn.benchmark = True  # one input shape: let cuDNN pick its fastest kernels
        self.graph: torch.cuda.CUDAGraph | None = None
        self.frame: torch.Tensor | None = None
        try:
            self.generator = self.generator.to(self.device).half()
            self.generator = self.generator.to(memory_format=torch.channels_last)
            self.path = CudaFramePath(self.device, z_dim, generator.resolution, n_labels,
                                      torch.float16)
            if use_graph:
                self._capture()
        except torch.cuda.OutOfMemoryError as exc:
            self.close()
            raise BackendError(f"the model does not fit in the GPU's memory "
                               f"({str(exc).splitlines()[0] if str(exc) else 'out of memory'})"
                               ) from None

    def prepare(self, shape: tuple[int, ...]) -> None:
        if len(shape) == 4:  # a canvas: the engine renders it on the CPU instead
            raise BackendError(f"{self.name} renders one latent shape (its CUDA graph and buffers are "
                               "built for [1, Z]), not a canvas")

    def set_bends(self, amounts: np.ndarray) -> bool:
        """Hooks bend the layers; the amounts live on the GPU, so a captured graph reads the
        new ones at its next replay, and is captured again when other ops come on or off."""
        before = self.hooks.active if self.hooks is not None else None
        super().set_bends(amounts)
        if self.graph is not None and self.hooks is not None and self.hooks.active != before:
            self._capture()
        return True

    def set_style(self, truncation: float, noise: str) -> bool:
        """Set on the eager generator; a captured graph holds the old values as constants,
        so it is captured again (once per change, not per frame)."""
        super().set_style(truncation, noise)
        if self.graph is not None:
            self._capture()
        return True

    def describe(self) -> str:
        mode = "cuda graph" if self.graph is not None else "eager"
        return f"{torch.cuda.get_device_name(self.device)} (fp16, channels_last, {mode})"

    def _forward(self) -> torch.Tensor:
        return to_frame(self.generator(self.path.z, self.path.labels))

    def _capture(self) -> None:
        """Record one frame's kernels; a failure leaves eager mode (logged, not fatal)."""
        try:
            with torch.inference_mode(), torch.cuda.stream(self.path.stream):
                for _ in range(3):  # warm up cuDNN autotuning outside the graph
                    self._forward()
                self.path.stream.synchronize()
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph, stream=self.path.stream):
                    self.frame = self._forward()
            self.graph = graph
        except RuntimeError as exc:
            if isinstance(exc, torch.cuda.OutOfMemoryError):
                raise  # too big for this GPU: the backend falls back (see __init__)
            log.warning("CUDA graph capture failed, rendering eagerly: %s", exc)
            self.graph = None

    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        with torch.inference_mode(), torch.cuda.stream(self.path.stream):
            self.path.upload(z, labels)
            if self.graph is not None:
                self.graph.replay()
                frame = self.frame
            else:
                frame = self._forward()
            return self.path.download(frame)

    def close(self) -> None:
        self.graph = None
        self.frame = None
        self.generator = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
