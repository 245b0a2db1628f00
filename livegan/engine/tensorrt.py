"""The TensorRT backend: the generator compiled by torch-tensorrt to an fp16 engine, cached on disk.

The engine is serialized as raw TensorRT bytes (never a pickle) under the cache folder,
keyed by everything that makes an engine invalid: the model's weights, resolution,
batch size, TensorRT version and GPU name. The first build takes a minute and says so;
later shows load it in a second.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from livegan.engine.base import Backend, to_frame, weights_hash
from livegan.engine.cuda import CudaFramePath, require_cuda
from livegan.errors import BackendError

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where engines are kept: $LIVEGAN_CACHE, else $XDG_CACHE_HOME/livegan, else ~/.cache."""
    if os.environ.get("LIVEGAN_CACHE"):
        return Path(os.environ["LIVEGAN_CACHE"]) / "tensorrt"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "livegan" / "tensorrt"


def engine_cache_key(model_hash: str, resolution: int, batch: int, trt_version: str,
                     gpu_name: str, precision: str = "fp16") -> str:
    """The file name of a cached engine: changes when any input that invalidates it changes."""
    text = "|".join([model_hash, str(resolution), str(batch), trt_version, gpu_name, precision])
    return hashlib.sha256(text.encode()).hexdigest()[:32] + ".engine"


def _import_tensorrt():
    try:
        import tensorrt as trt
        import torch_tensorrt  # noqa: F401
    except ImportError as exc:
        raise BackendError("torch-tensorrt is not installed "
                           f"(pip install 'livegan[tensorrt]'): {exc}") from None
    return trt


class _Ticker:
    """A line every few seconds while a long build runs, so a first start never looks hung."""

    def __init__(self, what: str) -> None:
        self.what, self.stop = what, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self.stop.wait(5.0):
            log.info("%s… %.0f s", self.what, time.monotonic() - start)

    def __enter__(self) -> Self:
        log.info("%s (first run of this model on this GPU; cached afterwards)", self.what)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()


def build_engine_bytes(generator: nn.Module, z_dim: int, device: torch.device) -> bytes:
    """Export the fp16 generator and compile it to serialized TensorRT engine bytes."""
    import torch_tensorrt

    z = torch.zeros(1, z_dim, device=device, dtype=torch.float16)
    exported = torch.export.export(generator, (z,))
    return torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine(
        exported, arg_inputs=[z], enabled_precisions={torch.float16},
    )


class TensorRTBackend(Backend):
    """A cached TensorRT engine run through TensorRT's own runtime on one CUDA stream."""

    name = "tensorrt"

    def __init__(self, generator: nn.Module, z_dim: int, n_labels: int = 0,
                 model_path: Path | None = None) -> None:
        super().__init__(generator, z_dim, n_labels)
        if n_labels:
            raise BackendError("conditional models run on the cuda backend for now")
        trt = _import_tensorrt()
        self.device = require_cuda()
        resolution = generator.resolution
        generator = generator.to(self.device).half().eval().requires_grad_(False)
        key = engine_cache_key(weights_hash(generator), resolution, 1, trt.__version__,
                               torch.cuda.get_device_name(self.device))
        self.engine_path = cache_dir() / key
        data = self._load_or_build(generator, z_dim, trt)
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = runtime.deserialize_cuda_engine(data)
        if self.engine is None:
            self.engine_path.unlink(missing_ok=True)
            raise BackendError(f"cached engine {self.engine_path} did not load; it was removed "
                               "and will be rebuilt next start")
        self.context = self.engine.create_execution_context()
        self.path = CudaFramePath(self.device, z_dim, resolution, 0, torch.float16)
        self.images = torch.empty(1, 3, resolution, resolution, device=self.device,
                                  dtype=torch.float16)
        self._bind(trt)
        self.generator = None  # the engine holds the weights now

    def _load_or_build(self, generator: nn.Module, z_dim: int, trt) -> bytes:
        if self.engine_path.is_file():
            log.info("loading TensorRT engine %s", self.engine_path)
            return self.engine_path.read_bytes()
        with _Ticker("building TensorRT engine"):
            data = bytes(build_engine_bytes(generator, z_dim, self.device))
        self.engine_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.engine_path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.engine_path)
        return data

    def _bind(self, trt) -> None:
        """Point the engine's one input and one output at our static device tensors."""
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if n not in inputs]
        if len(inputs) != 1 or len(outputs) != 1:
            raise BackendError(f"unexpected engine signature {names}")
        self.context.set_input_shape(inputs[0], tuple(self.path.z.shape))
        self.context.set_tensor_address(inputs[0], self.path.z.data_ptr())
        self.context.set_tensor_address(outputs[0], self.images.data_ptr())

    def describe(self) -> str:
        return f"{torch.cuda.get_device_name(self.device)} (TensorRT fp16)"

    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        with torch.inference_mode(), torch.cuda.stream(self.path.stream):
            self.path.upload(z, None)
            if not self.context.execute_async_v3(self.path.stream.cuda_stream):
                raise BackendError("TensorRT execution failed")
            return self.path.download(to_frame(self.images))

    def close(self) -> None:
        self.context = None
        self.engine = None
        torch.cuda.empty_cache()
