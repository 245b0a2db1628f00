"""Stand-ins for what this machine lacks: a CUDA device, torch-tensorrt and TensorRT's runtime.

The backends' own code runs; only the device (the CPU plays the GPU) and the TensorRT
library are replaced. Engines "built" here are bytes the fake runtime recognises.
"""

from __future__ import annotations

import sys
import types

import torch

FAKE_GPU = "Fake GPU 24GB"
ENGINE_PREFIX = b"FAKE-TRT-ENGINE:"


class CpuFramePath:
    """CudaFramePath's interface on the CPU: a static input, the frame handed back as is."""

    def __init__(self, device, z_dim, resolution, n_labels, dtype) -> None:
        self.device = device
        self.stream = types.SimpleNamespace(cuda_stream=0, synchronize=lambda: None)
        self.z = torch.zeros(1, z_dim, dtype=dtype)
        self.labels = torch.zeros(1, dtype=torch.long) if n_labels else None

    def upload(self, z, labels) -> None:
        self.z.copy_(z)
        if self.labels is not None and labels is not None:
            self.labels.copy_(labels)

    def download(self, frame):
        return frame.clone()


class FakeTensorRT:
    """The fake `tensorrt` module's state: what was built and loaded, and what fails."""

    def __init__(self, version: str = "10.3.0") -> None:
        self.version = version
        self.builds = 0
        self.loads = 0
        self.build_error: BaseException | None = None
        self.refuse_engines = False  # deserialize_cuda_engine returns None (TensorRT's way)

    def module(self) -> types.ModuleType:
        fake = self
        trt = types.ModuleType("tensorrt")
        trt.__version__ = self.version

        class Logger:
            WARNING = 2

            def __init__(self, level) -> None:
                self.level = level

        class Runtime:
            def __init__(self, logger) -> None:
                self.logger = logger

            def deserialize_cuda_engine(self, data: bytes):
                fake.loads += 1
                if fake.refuse_engines or not bytes(data).startswith(ENGINE_PREFIX):
                    return None
                return FakeEngine()

        trt.Logger, trt.Runtime = Logger, Runtime
        trt.TensorIOMode = types.SimpleNamespace(INPUT="input", OUTPUT="output")
        return trt

    def build(self, generator, z_dim, device) -> bytes:
        self.builds += 1
        if self.build_error is not None:
            raise self.build_error
        with torch.no_grad():  # the fp16 copy must be a working generator
            generator(torch.zeros(1, z_dim, dtype=torch.float16, device=device))
        return ENGINE_PREFIX + f"{self.version}|{self.builds}".encode()


class FakeEngine:
    num_io_tensors = 2

    def get_tensor_name(self, i: int) -> str:
        return ("z", "image")[i]

    def get_tensor_mode(self, name: str) -> str:
        return "input" if name == "z" else "output"

    def create_execution_context(self):
        return FakeContext()


class FakeContext:
    def __init__(self) -> None:
        self.addresses: dict[str, int] = {}

    def set_input_shape(self, name, shape) -> None:
        self.shape = shape

    def set_tensor_address(self, name, pointer) -> None:
        self.addresses[name] = pointer

    def execute_async_v3(self, stream) -> bool:
        return True


def install(monkeypatch, tmp_path, trt: FakeTensorRT | None = None) -> FakeTensorRT:
    """Make this process look like a machine with one CUDA GPU and torch-tensorrt."""
    from livegan.engine import cuda, tensorrt

    trt = trt or FakeTensorRT()
    monkeypatch.setitem(sys.modules, "tensorrt", trt.module())
    monkeypatch.setitem(sys.modules, "torch_tensorrt", types.ModuleType("torch_tensorrt"))
    monkeypatch.setenv("LIVEGAN_CACHE", str(tmp_path / "cache"))
    cpu = torch.device("cpu")
    for module in (cuda, tensorrt):
        monkeypatch.setattr(module, "require_cuda", lambda: cpu)
        monkeypatch.setattr(module, "CudaFramePath", CpuFramePath)
    monkeypatch.setattr(tensorrt, "build_engine_bytes", trt.build)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: FAKE_GPU)
    # CUDA graphs need the driver; the eager path is the same code without the replay
    monkeypatch.setattr(cuda.CudaBackend, "_capture", _warm_up)
    return trt


def _warm_up(self) -> None:
    with torch.inference_mode():
        self._forward()
