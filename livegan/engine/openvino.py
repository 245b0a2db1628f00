"""The OpenVINO backend: the generator converted to an OpenVINO model and compiled for the CPU.

The uint8 frame conversion is part of the converted graph, so one call turns a latent into
the finished [H, W, 3] bytes. Converting takes seconds, so the converted model is kept
(OpenVINO IR, keyed by weights and OpenVINO version) under the cache folder; a later start
reads it in well under a second. A canvas (a spatial latent [1, Z, h, w]) gets a converted
model of its own, cached by shape the same way. On a CPU with bf16 units OpenVINO computes
in bf16, kept only when its frames look the same as fp32's (base.looks_the_same).
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from livegan.engine.base import (
    STYLE_DEFAULT,
    Backend,
    cache_root,
    label_tensor,
    looks_the_same,
    to_frame,
    weights_hash,
)
from livegan.engine.bend import Bent, zero_amounts
from livegan.engine.cpu import bf16_supported, cpu_threads
from livegan.errors import BackendError

log = logging.getLogger(__name__)

OPENVINO_INSTALL = "pip install 'livegan[openvino]'"
GRAPH_VERSION = 2  # of the graph built around the generator (_Frames); part of the cache key


def _import_openvino():
    try:
        import openvino
    except ImportError as exc:
        raise BackendError(f"OpenVINO is not installed ({OPENVINO_INSTALL}): {exc}") from None
    return openvino


class _Frames(nn.Module):
    """Generator, bends and uint8 conversion as one graph: z [1, Z], amounts [L, SLOTS]
    (labels [1]) -> [H, W, 3] uint8."""

    def __init__(self, generator: nn.Module, conditional: bool) -> None:
        super().__init__()
        self.bent = Bent(generator, conditional)

    def forward(self, z: torch.Tensor, amounts: torch.Tensor,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        return to_frame(self.bent(z, amounts, labels))  # [H, W, 3]


class OpenVinoBackend(Backend):
    """An OpenVINO compiled model on the CPU, one synchronous request per frame.

    Args:
        precision: "auto" (bf16 where the CPU has bf16 units and the frames stay close to
            fp32, else fp32), "fp32" or "bf16".
        threads: inference threads (default: the cores this process may use).
    """

    name = "openvino"

    def __init__(self, generator: nn.Module, z_dim: int, n_labels: int = 0,
                 precision: str = "auto", threads: int | None = None) -> None:
        ov = _import_openvino()
        super().__init__(generator, z_dim, n_labels)
        self.generator = self.generator.float()
        self.threads = threads or cpu_threads()
        self.version = ov.__version__.split("-")[0]
        self._ov = ov
        self._hash = weights_hash(self.generator)
        self._requests: dict[tuple[int, ...], object] = {}  # canvas latent shape -> request
        self._amounts = zero_amounts(self.generator).numpy()  # bends, a graph input
        model = self._model(ov)
        wants_bf16 = precision == "bf16" or (precision == "auto" and bf16_supported())
        self.dtype = torch.bfloat16 if wants_bf16 else torch.float32
        self.request = self._compile(ov, model, self.dtype)
        if wants_bf16 and precision == "auto" and not self._close_to_fp32():
            self.dtype = torch.float32
            self.request = self._compile(ov, model, self.dtype)
        # the generator stays (on the host, fp32) to convert a canvas's shape when asked

    def _example(self, shape: tuple[int, ...] | None = None) -> tuple[torch.Tensor, ...]:
        z = torch.zeros(shape or (1, self.z_dim))  # [1, Z] or a canvas's [1, Z, h, w]
        amounts = torch.from_numpy(self._amounts)
        return (z, amounts, torch.zeros(1, dtype=torch.long)) if self.n_labels else (z, amounts)

    def prepare(self, shape: tuple[int, ...]) -> None:
        """Convert and compile the generator for a canvas latent of `shape` [1, Z, h, w]."""
        shape = tuple(shape)
        if len(shape) == 4 and shape not in self._requests:
            self._requests[shape] = self._compile(self._ov, self._model(self._ov, shape),
                                                  self.dtype, shape)

    def _model(self, ov, shape: tuple[int, ...] | None = None):
        """The converted model: from the cache when this model was converted before."""
        parts = [self._hash, str(self.z_dim), str(self.n_labels), self.version,
                 str(getattr(self.generator, "resolution", "")), str(GRAPH_VERSION)]
        if shape is not None:
            parts.append("x".join(map(str, shape)))
        key = "|".join(parts)
        path = cache_root() / "openvino" / (hashlib.sha256(key.encode()).hexdigest()[:32]
                                            + ".xml")
        if path.is_file():
            try:
                return ov.Core().read_model(path)
            except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt
                log.warning("cached OpenVINO model %s cannot be read (%s); converting again",
                            path.name, str(exc).strip().splitlines()[0] if str(exc) else exc)
        log.info("converting the model for OpenVINO (first run of this model; cached "
                 "afterwards)")
        model = self._convert(ov, shape)
        try:
            _save(ov, model, path)
        except OSError as exc:
            log.warning("cannot cache the OpenVINO model in %s (%s)", path.parent, exc)
        return model

    def _convert(self, ov, shape: tuple[int, ...] | None = None):
        frames = _Frames(self.generator, self.n_labels > 0).eval()
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracing warnings say nothing to a user
                return ov.convert_model(frames, example_input=self._example(shape))
        except Exception as exc:  # noqa: BLE001 - an unsupported model: the CPU backend runs it
            lines = str(exc).strip().splitlines()
            raise BackendError(f"OpenVINO cannot convert this model "
                               f"({lines[0] if lines else type(exc).__name__})") from None
        finally:
            frames.bent.release()

    def _compile(self, ov, model, dtype: torch.dtype, shape: tuple[int, ...] | None = None):
        config = {
            "PERFORMANCE_HINT": "LATENCY",  # one frame at a time, as fast as it can
            "INFERENCE_NUM_THREADS": self.threads,
            "INFERENCE_PRECISION_HINT": "bf16" if dtype == torch.bfloat16 else "f32",
        }
        compiled = ov.Core().compile_model(model, "CPU", config)
        request = compiled.create_infer_request()
        # The first inference of a graph with conditions (the bends) can come out wrong
        # (OpenVINO 2026.4): run it once here, on zeros.
        request.infer([t.numpy() for t in self._example(shape)])
        return request

    def _close_to_fp32(self) -> bool:
        """Whether this request's frames look the same as eager fp32's (base.looks_the_same)."""
        rng = np.random.default_rng(0)
        z = rng.standard_normal((2, self.z_dim)).astype(np.float32)
        labels = label_tensor(0, self.n_labels)
        with torch.inference_mode():
            ref = [to_frame(self.generator(torch.from_numpy(zi[None]), labels)).numpy()
                   for zi in z]
        got = [self._infer(zi[None], 0).copy() for zi in z]  # the request reuses its buffer
        same, words = looks_the_same(np.stack(ref), np.stack(got))
        if not same:
            log.info("OpenVINO bf16 frames differ from fp32 (%s); using fp32", words)
        return same

    def _infer(self, z: np.ndarray, label: int | None) -> np.ndarray:
        z = np.ascontiguousarray(z, dtype=np.float32)
        request = self.request
        if z.ndim == 3:  # a canvas [Z, h, w]: its own compiled shape
            shape = (1, *z.shape)
            if shape not in self._requests:
                self.prepare(shape)
            request = self._requests[shape]
        inputs = [z[None] if z.ndim == 3 else z.reshape(1, -1), self._amounts]
        if self.n_labels:
            inputs.append(label_tensor(label, self.n_labels).numpy())
        request.infer(inputs, share_inputs=True, share_outputs=True)
        return request.get_output_tensor(0).data  # [H, W, 3] uint8, reused per call

    def set_style(self, truncation: float, noise: str) -> bool:
        """The compiled graph baked in truncation 1 and const noise: other settings render
        on an eager backend (the engine's twin)."""
        return (float(truncation), noise) == STYLE_DEFAULT

    def set_bends(self, amounts: np.ndarray) -> bool:
        """The amounts are an input of the converted graph."""
        self._amounts = np.ascontiguousarray(amounts, dtype=np.float32)  # [L, SLOTS]
        return True

    def describe(self) -> str:
        kind = "bf16" if self.dtype == torch.bfloat16 else "fp32"
        return f"cpu (OpenVINO {self.version}, {self.threads} threads, {kind})"

    def render(self, z: np.ndarray, label: int | None = None) -> np.ndarray:
        """One frame: uint8 [H, W, 3] numpy, our own copy (the request reuses its buffer)."""
        return self._infer(z, label).copy()

    def close(self) -> None:
        self.request = None
        self._requests.clear()
        self.generator = None


def _save(ov, model, path: Path) -> None:
    """Write model.xml and model.bin so that a reader sees both complete or neither: the
    weights first, the .xml (which names them) last, each by rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.xml")
    ov.save_model(model, tmp, compress_to_fp16=False)
    os.replace(tmp.with_suffix(".bin"), path.with_suffix(".bin"))
    os.replace(tmp, path)
