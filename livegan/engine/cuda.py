"""The CUDA backend (placeholder until the GPU engines land): refuses cleanly without CUDA."""

from __future__ import annotations

import torch

from livegan.engine.base import Backend
from livegan.errors import BackendError


class CudaBackend(Backend):
    name = "cuda"

    def __init__(self, *args, **kwargs) -> None:
        if not torch.cuda.is_available():
            raise BackendError("no CUDA GPU visible to PyTorch")
        raise BackendError("the cuda backend is not built yet")
