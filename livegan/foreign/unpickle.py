"""Read a network pickle without running any code from it.

NVIDIA's StyleGAN2-ADA and StyleGAN3 `.pkl` files are Python pickles, and a pickle can name
any function to call on load, so opening one with `pickle.load` runs whatever it carries
(theirs carry the networks' source code and `exec` it). This reader knows only the globals
those files use: tensors and their storages, ordered dicts, numpy arrays and scalars, torch
dtypes, `dnnlib`'s EasyDict, and the `torch_utils.persistence` objects that hold each network.
It turns every network into plain data (`livegan.foreign.base.ForeignModule`); any other
global stops the read with one sentence naming it, before anything is called.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

try:  # numpy 2 keeps its pickle helpers here; numpy 1 in numpy.core
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1
    from numpy.core import multiarray as _multiarray

from livegan.foreign.base import ForeignFileError, ForeignModule

TORCH_LOAD_MAGIC = 0x1950A86A20F9469CFC6C  # the first object of a torch.save file (legacy)
UnpicklingError = pickle.UnpicklingError  # what torch's weights-only reader raises too


class RefusedGlobal(ForeignFileError):
    """The pickle names a global this reader does not admit."""


class TensorFlowPickle(ForeignFileError):
    """A StyleGAN pickle of the TensorFlow era (dnnlib.tflib)."""


class EasyDict(dict):
    """dnnlib's EasyDict as data: a plain dict (its attribute access is not needed)."""


class Persistent:
    """A `torch_utils.persistence` object: class name and its pickled `__dict__`."""

    def __init__(self, class_name: str, state: dict) -> None:
        self.class_name = class_name
        self.state = state


class PlainModule:
    """A `torch.nn` module pickled the ordinary way (copyreg), kept as its `__dict__`."""

    class_name = "Module"

    def __init__(self, *args: Any) -> None:
        self.state: dict = {}

    def __setstate__(self, state: Any) -> None:
        self.state = state if isinstance(state, dict) else {}


def _plain_module_class(name: str) -> type:
    return type(name, (PlainModule,), {"class_name": name})


def _reconstruct_persistent(meta: Any) -> Persistent:
    """Stands in for torch_utils.persistence._reconstruct_persistent_obj: the embedded
    source text is never looked at, let alone run."""
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise ForeignFileError("a persistent object of an unknown kind")
    state = meta.get("state")
    return Persistent(str(meta.get("class_name", "")), state if isinstance(state, dict) else {})


def _reconstructor(cls: type, base: type, state: Any = None) -> Any:
    """copyreg._reconstructor for the admitted placeholder classes only."""
    if not (isinstance(cls, type) and issubclass(cls, (PlainModule, EasyDict))):
        raise RefusedGlobal(f"the pickle rebuilds an object of {cls!r}")
    return cls.__new__(cls)


def _storage_from_bytes(data: bytes) -> Any:
    """torch.storage._load_from_bytes, with torch's own weights-only reader."""
    return torch.load(io.BytesIO(data), weights_only=True)


def _rebuild_parameter(data: torch.Tensor, requires_grad: bool, hooks: Any, *rest: Any):
    return data  # a Parameter's values; gradients and hooks mean nothing here


_DTYPES = {name: getattr(torch, name) for name in (
    "float16", "float32", "float64", "bfloat16", "int8", "uint8", "int16", "int32", "int64",
    "bool", "half", "float", "double", "long", "int")}
_STORAGES = ("FloatStorage", "HalfStorage", "DoubleStorage", "BFloat16Storage", "LongStorage",
             "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage")

# (module, name) -> what it resolves to. Nothing outside this table is ever imported.
ADMITTED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "object"): object,
    ("builtins", "slice"): slice,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("dnnlib", "EasyDict"): EasyDict,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
    **{("torch", name): dtype for name, dtype in _DTYPES.items()},
    **{("torch", name): getattr(torch, name) for name in _STORAGES},
}
for _name in ("float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool_"):
    ADMITTED[("numpy", _name)] = getattr(np, _name)


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals in ADMITTED; `torch.nn` module classes become placeholders
    that hold their state. Anything else raises RefusedGlobal naming it."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ADMITTED:
            return ADMITTED[(module, name)]
        if module.startswith("torch.nn.modules.") and name.isidentifier():
            return _plain_module_class(name)
        if module.startswith(("dnnlib.tflib", "tensorflow")):
            raise TensorFlowPickle(f"{module}.{name}")
        raise RefusedGlobal(f"{module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        raise RefusedGlobal(f"persistent id {str(pid)[:40]}")


def _flatten(node: Any, prefix: str, out: dict[str, torch.Tensor]) -> None:
    """Collect a module's parameters and persistent buffers the way state_dict names them."""
    state = node.state
    skip = state.get("_non_persistent_buffers_set") or set()
    for key in ("_parameters", "_buffers"):
        for name, value in (state.get(key) or {}).items():
            if isinstance(value, torch.Tensor) and not (key == "_buffers" and name in skip):
                out[prefix + name] = value
    for name, child in (state.get("_modules") or {}).items():
        if isinstance(child, (Persistent, PlainModule)):
            _flatten(child, f"{prefix}{name}.", out)


def to_foreign(node: Persistent | PlainModule) -> ForeignModule:
    """A network read from the pickle as plain data: class name, constructor arguments and
    its state dict."""
    tensors: dict[str, torch.Tensor] = {}
    _flatten(node, "", tensors)
    kwargs = node.state.get("_init_kwargs") or {}
    args = node.state.get("_init_args") or ()
    return ForeignModule(module="", class_name=node.class_name,
                         init_kwargs=_plain(kwargs) if isinstance(kwargs, dict) else {},
                         init_args=tuple(args) if isinstance(args, (list, tuple)) else (),
                         tensors=tensors)


def _plain(value: Any) -> Any:
    """EasyDicts, tuples and numpy scalars as JSON-friendly Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _networks(value: Any) -> Any:
    """The pickle's top level with every network replaced by its ForeignModule."""
    if isinstance(value, (Persistent, PlainModule)):
        return to_foreign(value)
    if isinstance(value, dict):
        return {k: _networks(v) for k, v in value.items()}
    return value


def read_pickle(data: io.BufferedIOBase) -> Any:
    """Unpickle one object from `data` with the restricted reader (raw objects)."""
    return RestrictedUnpickler(data).load()


def load_pickle(path: Path) -> Any:
    """The pickle at `path`, its networks as ForeignModule objects.

    Raises RefusedGlobal (naming the global), TensorFlowPickle, or ForeignFileError for a
    truncated or corrupt file; never runs code from the file.
    """
    with open(path, "rb") as f:
        try:
            return _networks(read_pickle(f))
        except ForeignFileError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError, RuntimeError, MemoryError, UnicodeDecodeError) as exc:
            raise ForeignFileError(f"truncated or corrupt pickle ({type(exc).__name__}: "
                                   f"{str(exc)[:80]})") from None
