"""The CPU backend: all cores, inference mode, the faster memory layout picked by measuring."""

from __future__ import annotations

import logging
import os
import time

import torch
from torch import nn

from livegan.engine.base import Backend, to_frame

log = logging.getLogger(__name__)


def cpu_threads() -> int:
    """Cores this process may use (respects taskset/cgroup affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class CpuBackend(Backend):
    """Eager PyTorch on the CPU in fp32."""

    name = "cpu"

    def __init__(self, generator: nn.Module, z_dim: int, n_labels: int = 0,
                 threads: int | None = None) -> None:
        super().__init__(generator, z_dim, n_labels)
        torch.set_num_threads(threads or cpu_threads())
        self.generator = generator.float().eval().requires_grad_(False)
        self.layout = self._pick_layout()

    def describe(self) -> str:
        return f"cpu ({torch.get_num_threads()} threads, {self.layout})"

    def _time(self, z: torch.Tensor, repeats: int = 3) -> float:
        with torch.inference_mode():
            self.generator(z, None if not self.n_labels else torch.zeros(1, dtype=torch.long))
            start = time.perf_counter()
            for _ in range(repeats):
                self.generator(z, None if not self.n_labels else torch.zeros(1, dtype=torch.long))
        return time.perf_counter() - start

    def _pick_layout(self) -> str:
        """channels_last helps some convolution shapes on some CPUs: measure, keep the faster."""
        z = torch.zeros(1, self.z_dim)
        contiguous = self._time(z)
        self.generator.to(memory_format=torch.channels_last)
        last = self._time(z)
        if last < contiguous * 0.95:
            return "channels_last"
        self.generator.to(memory_format=torch.contiguous_format)
        return "contiguous"

    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        with torch.inference_mode():
            return to_frame(self.generator(z, labels))
