"""The TensorRT backend (placeholder until the GPU engines land): refuses cleanly."""

from __future__ import annotations

from livegan.engine.base import Backend
from livegan.errors import BackendError


class TensorRTBackend(Backend):
    name = "tensorrt"

    def __init__(self, *args, **kwargs) -> None:
        raise BackendError("torch-tensorrt is not installed (pip install 'livegan[tensorrt]')")
