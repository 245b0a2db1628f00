"""The TensorRT backend: the generator compiled by torch-tensorrt to an fp16 engine, cached on disk.

The engine is serialized as raw TensorRT bytes (never a pickle) under the cache folder,
keyed by everything that makes an engine invalid: the model's weights, resolution,
batch size, TensorRT version and GPU name. A one-line JSON header in front of the bytes
names the TensorRT version and GPU that built them and holds their checksum, so a copied,
stale or damaged file is caught before TensorRT reads it. The first build takes a minute
and says so; later shows load it in a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from livegan.engine.base import STYLE_DEFAULT, Backend, cache_root, to_frame, weights_hash
from livegan.engine.cuda import CudaFramePath, require_cuda
from livegan.errors import BackendError

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)

MAGIC = b"LIVEGAN-TRT "  # first bytes of a cache file, before its JSON header line
FORMAT = 1  # version of the cache file layout


def cache_dir() -> Path:
    """Where engines are kept: the `tensorrt` folder of the cache (see `cache_root`)."""
    return cache_root() / "tensorrt"


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


def pack_engine(data: bytes, built_by: dict[str, str]) -> bytes:
    """Engine bytes behind a one-line JSON header: who built it and a checksum of the bytes."""
    header = {"format": FORMAT, **built_by, "sha256": hashlib.sha256(data).hexdigest()}
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + data


def unpack_engine(blob: bytes, built_by: dict[str, str]) -> bytes:
    """The engine bytes of a cache file, or StaleEngine saying why they cannot be used."""
    if not blob.startswith(MAGIC) or b"\n" not in blob:
        raise StaleEngine("it is not a livegan engine file (damaged or foreign)")
    line, data = blob[len(MAGIC):].split(b"\n", 1)
    try:
        header = json.loads(line)
    except ValueError:
        raise StaleEngine("its header is damaged") from None
    for field, want in built_by.items():
        if header.get(field) != want:
            raise StaleEngine(f"it was built for {field} {header.get(field)!r}, "
                              f"this machine has {want!r}")
    if header.get("sha256") != hashlib.sha256(data).hexdigest():
        raise StaleEngine("it is truncated or damaged (checksum mismatch)")
    return data


class StaleEngine(Exception):
    """A cached engine that must be rebuilt; the message says why."""


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` says the GPU ran out of memory (torch's own error or a runtime's text)."""
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


class TensorRTBackend(Backend):
    """A cached TensorRT engine run through TensorRT's own runtime on one CUDA stream.

    Each failure is one log line and then a rebuild or a fallback (to cuda, by the chain
    in `create_backend`): a cache file from another TensorRT version or GPU, or a damaged
    one, is rebuilt; an engine that will not build, or a model too big for the GPU's
    memory, raises BackendError.
    """

    name = "tensorrt"

    def __init__(self, generator: nn.Module, z_dim: int, n_labels: int = 0,
                 model_path: Path | None = None) -> None:
        if n_labels:
            raise BackendError("conditional models run on the cuda backend for now")
        trt = _import_tensorrt()
        device = require_cuda()
        super().__init__(generator, z_dim, n_labels)  # our own copy, still fp32 on the CPU
        self.device = device
        resolution = generator.resolution
        gpu = torch.cuda.get_device_name(device)
        key = engine_cache_key(weights_hash(self.generator), resolution, 1, trt.__version__, gpu)
        self.engine_path = cache_dir() / key
        self.built_by = {"tensorrt": str(trt.__version__), "gpu": gpu}
        try:
            self._start(trt, z_dim, resolution)
        except Exception as exc:
            self.close()
            if out_of_memory(exc):
                raise BackendError(f"the model does not fit in the GPU's memory at {resolution}"
                                   f"x{resolution} ({_first_line(exc)})") from None
            raise
        self.generator = None  # the engine holds the weights now

    def _start(self, trt, z_dim: int, resolution: int) -> None:
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = self._load(runtime)
        if self.engine is None:
            data = self._build(z_dim)
            self.engine = runtime.deserialize_cuda_engine(data)
            if self.engine is None:
                raise BackendError("TensorRT built an engine it cannot load")
        self.context = self.engine.create_execution_context()
        self.path = CudaFramePath(self.device, z_dim, resolution, 0, torch.float16)
        self.images = torch.empty(1, 3, resolution, resolution, device=self.device,
                                  dtype=torch.float16)
        self._bind(trt)
        self._generate(torch.zeros(1, z_dim), None)  # a first frame: faults show at start

    def _load(self, runtime):
        """The cached engine, or None (with one line) when there is none or it is stale."""
        if not self.engine_path.is_file():
            return None
        try:
            data = unpack_engine(self.engine_path.read_bytes(), self.built_by)
            engine = runtime.deserialize_cuda_engine(data)
            if engine is None:
                raise StaleEngine("TensorRT could not deserialize it")
        except (StaleEngine, OSError, RuntimeError) as exc:
            if out_of_memory(exc):
                raise
            log.warning("cached TensorRT engine %s cannot be used: %s; rebuilding",
                        self.engine_path.name, _first_line(exc))
            self.engine_path.unlink(missing_ok=True)
            return None
        log.info("loaded TensorRT engine %s", self.engine_path)
        return engine

    def _build(self, z_dim: int) -> bytes:
        generator = self.generator.to(self.device).half()
        try:
            with _Ticker("building TensorRT engine"):
                data = bytes(build_engine_bytes(generator, z_dim, self.device))
        except Exception as exc:
            if out_of_memory(exc):
                raise
            raise BackendError(f"TensorRT could not build an engine for this model "
                               f"({_first_line(exc)})") from None
        finally:
            self.generator = None  # free the fp16 copy before the engine needs the memory
        self.engine_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.engine_path.with_suffix(".tmp")
        tmp.write_bytes(pack_engine(data, self.built_by))
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

    def prepare(self, shape: tuple[int, ...]) -> None:
        if len(shape) == 4:  # a canvas: the engine renders it on the CPU instead
            raise BackendError(f"{self.name} renders one latent shape (its TensorRT engine are "
                               "built for [1, Z]), not a canvas")

    def set_style(self, truncation: float, noise: str) -> bool:
        """The compiled graph baked in truncation 1 and const noise: other settings render
        on an eager backend (the engine's twin)."""
        return (float(truncation), noise) == STYLE_DEFAULT

    def set_bends(self, amounts: np.ndarray) -> bool:
        """A TensorRT engine has no bends built in: False unless all are off (the engine
        then renders bent frames on the cuda backend)."""
        return not np.any(amounts)

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
        self.generator = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
