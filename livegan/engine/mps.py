"""The Apple GPU backend: torch's Metal (mps) device in fp16, on Apple Silicon Macs."""

from __future__ import annotations

import logging
import platform

import torch
from torch import nn

from livegan.engine.base import Backend, to_frame
from livegan.errors import BackendError

log = logging.getLogger(__name__)

DEVICE = "mps"  # torch's name for the Metal device


def require_mps() -> torch.device:
    """The Metal device, or BackendError saying why there is none."""
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_built():
        raise BackendError("this PyTorch build has no Apple GPU (mps) support")
    if not mps.is_available():
        raise BackendError("no Apple GPU (mps) visible to PyTorch (needs an Apple Silicon "
                           "Mac with macOS 12.3 or later)")
    return torch.device(DEVICE)


class MpsBackend(Backend):
    """Eager fp16 on the Apple GPU; the frame is converted to uint8 there and copied back.

    A first frame is rendered at build, so an operator Metal lacks or a model too big for
    the GPU's share of memory fails here, and the chain falls back to the CPU.
    """

    name = "mps"

    def __init__(self, generator: nn.Module, z_dim: int, n_labels: int = 0) -> None:
        device = require_mps()
        super().__init__(generator, z_dim, n_labels)  # our own copy, still fp32 on the CPU
        self.device = device
        try:
            self.generator = self.generator.to(device).half()
            self._generate(torch.zeros(1, z_dim), self._first_labels())
        except Exception as exc:  # noqa: BLE001 - any failure here: fall back to the CPU
            self.close()
            lines = str(exc).strip().splitlines()
            raise BackendError(f"the Apple GPU cannot run this model "
                               f"({lines[0] if lines else type(exc).__name__})") from None

    def _first_labels(self) -> torch.Tensor | None:
        return torch.zeros(1, dtype=torch.long) if self.n_labels else None

    def describe(self) -> str:
        return f"Apple GPU {platform.machine()} (mps, fp16)"

    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        with torch.inference_mode():
            z = z.to(self.device, torch.float16)
            labels = labels.to(self.device) if labels is not None else None
            return to_frame(self.generator(z, labels)).cpu()  # waits for the GPU

    def close(self) -> None:
        self.generator = None
        mps = getattr(torch, "mps", None)
        if self.device.type == "mps" and mps is not None and hasattr(mps, "empty_cache"):
            mps.empty_cache()
