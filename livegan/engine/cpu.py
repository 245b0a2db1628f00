"""The CPU backend: all cores, inference mode, and the layout and precision that measure fastest."""

from __future__ import annotations

import copy
import logging
import os
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from livegan.engine.base import Backend, is_style, looks_the_same, to_frame, weights_hash
from livegan.engine.bend import BendHooks, Bent, zero_amounts

log = logging.getLogger(__name__)

SLOW_FRAME_S = 0.1  # a first frame slower than this is timed once, not best of several


def cpu_threads() -> int:
    """Cores this process may use (respects taskset/cgroup affinity), or fewer when
    OMP_NUM_THREADS says so (a machine shared with other work: more threads than free
    cores make every frame wait on the slowest one)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        cores = max(1, os.cpu_count() or 1)
    asked = os.environ.get("OMP_NUM_THREADS", "").strip()
    return min(cores, int(asked)) if asked.isdigit() and int(asked) > 0 else cores


def bf16_supported() -> bool:
    """Whether oneDNN has native bf16 kernels here (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


FROZEN_KEPT = 8  # frozen generators kept for models played again (4 models, each with a canvas)


class RecentCache:
    """What start-up settled on per model, the `size` most recently used entries: a model
    swapped in again reuses its entry instead of working it out anew, and the bound keeps
    an installation that cycles through many models from holding every one of them.
    Engines are built on builder threads, so it takes a lock.

    The CPU backend keeps its frozen generators here, keyed by (weights, z size, labels,
    precision, the variants it could choose from, threads), and for a canvas also by the
    latent's shape (a traced generator runs one input shape); `auto` keeps its choice of
    CPU path (livegan.engine.cpuchoice).
    """

    def __init__(self, size: int = FROZEN_KEPT) -> None:
        self.size = size
        self._items: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple | None:
        """The entry for `key` (now the most recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple, item: tuple) -> None:
        """Keep `item`, dropping the least recently used entries beyond `size`."""
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


CHOICES_KEPT = 16  # models whose chosen CPU path is remembered (the most recently played)


@dataclass
class CpuCaches:
    """What CPU engines keep from one build to the next: frozen generators (keyed by
    weights and settings, and a canvas's latent shape) and the path `auto` chose per model
    (livegan.engine.cpuchoice). An engine owns one; a show hands its own to every engine it
    builds (start, hot-swaps, failover), so a model swapped in again plays on what it
    settled on before, and nothing is kept in a module of its own accord."""

    frozen: RecentCache = field(default_factory=RecentCache)
    chosen: RecentCache = field(default_factory=lambda: RecentCache(CHOICES_KEPT))




class _Frozen(nn.Module):
    """A generator traced and frozen by TorchScript: BatchNorm folded into the convolutions,
    constants baked in, and one C++ call per frame instead of a Python call per layer.

    The bends are a graph input (livegan.engine.bend.Bent): forward(z, labels, amounts)
    with amounts [L, SLOTS]; without them the frame is unbent."""

    def __init__(self, generator: nn.Module, z_dim: int, n_labels: int, dtype: torch.dtype,
                 shape: tuple[int, ...] | None = None):
        super().__init__()
        self.conditional = n_labels > 0
        z = torch.zeros(shape or (1, z_dim), dtype=dtype)  # [1, Z] or a canvas's [1, Z, h, w]
        self.unbent = zero_amounts(generator)  # [L, SLOTS], never written
        bent = Bent(generator, self.conditional)
        inputs = (z, self.unbent, torch.zeros(1, dtype=torch.long)) if self.conditional \
            else (z, self.unbent)
        # TorchScript is deprecated in favour of torch.compile, which needs a compiler and
        # tens of seconds at every start; until that is cheap, say nothing about it.
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # A compilation unit of its own: TorchScript registers every traced module's
                # type, and with it the frozen weights, in its unit for good, so the shared
                # default unit grew by ~50 MB at every model swap; this one dies with the engine.
                self._unit = torch._C.CompilationUnit()
                traced = torch.jit.trace(bent, inputs, _compilation_unit=self._unit,
                                         check_trace=False)
                self.frozen = torch.jit.freeze(traced.eval())
        finally:
            bent.release()  # the generator may be shared (RecentCache): no hooks left on it

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                amounts: torch.Tensor | None = None) -> torch.Tensor:
        amounts = self.unbent if amounts is None else amounts
        return self.frozen(z, amounts, labels) if self.conditional else self.frozen(z, amounts)


def freeze(generator: nn.Module, z_dim: int, n_labels: int, dtype: torch.dtype,
           shape: tuple[int, ...] | None = None) -> nn.Module:
    """The frozen TorchScript form of `generator` for latents of `shape` (default [1, Z]),
    or the generator itself if it won't trace."""
    try:
        return _Frozen(generator, z_dim, n_labels, dtype, shape)
    except Exception as exc:  # noqa: BLE001 - tracing is an optimisation, eager still works
        log.info("TorchScript freeze failed, running eagerly: %s", str(exc).splitlines()[0])
        return generator


class AutocastBf16(nn.Module):
    """A style model in bf16 the gentle way: fp32 weights, each matmul and convolution in
    bf16 under autocast (accumulating in fp32), the mapping's normalisation and the
    demodulation in fp32. Converting the whole StyleGAN to bf16 moves its frames by about
    38 dB; this keeps them above 40 dB at about half the time of fp32 on AMX units."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def taps(self) -> dict[str, nn.Module]:
        return self.inner.taps()

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.inner(z.float(), labels).float()


def _latent(g: nn.Module, z: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The latent as `g` takes it: in `dtype`, but fp32 for a style model under autocast
    (its mapping network starts from the exact latent)."""
    return z.float() if isinstance(g, AutocastBf16) else z.to(dtype)


class CpuBackend(Backend):
    """PyTorch on the CPU. At start it times the variants that may win on this processor
    (contiguous or channels_last; fp32 or bf16 where the CPU has bf16 units; each traced and
    frozen by TorchScript) and keeps the fastest one whose frames look the same as fp32's
    (base.looks_the_same). precision: "auto", "fp32", "bf16", or "eager" (plain eager fp32,
    nothing timed or frozen)."""

    name = "cpu"

    def __init__(self, generator: nn.Module, z_dim: int, n_labels: int = 0,
                 threads: int | None = None, precision: str = "auto",
                 layout: str | None = None, caches: CpuCaches | None = None) -> None:
        super().__init__(generator, z_dim, n_labels)
        torch.set_num_threads(threads or cpu_threads())
        self.generator = self.generator.float()  # the base class made it our own copy
        self.dtype = torch.float32
        self.layout = "contiguous"
        self._eager = self.generator  # the chosen variant before freezing: any latent shape
        self._key: tuple = ()  # this generator's key in the frozen cache
        self._shaped: dict[tuple[int, ...], nn.Module] = {}  # canvas latent shape -> generator
        self._amounts = zero_amounts(self.generator)  # bends, the frozen graphs' input
        self._hooked: nn.Module | None = None  # our own eager copy, hooked, once bends come
        self._frozen = (caches or CpuCaches()).frozen  # shared with the engines of a show
        if precision == "eager" or (layout or "").endswith("eager"):  # plain eager fp32:
            self.layout = "contiguous, eager"  # the yardstick of the `auto` choice
        elif layout and precision in ("fp32", "bf16"):
            self._build(precision, layout)
        else:
            self._pick(precision)

    def _build(self, precision: str, layout: str) -> None:
        """The variant a show chose (its `layout` as `describe` names it, e.g. "channels_last,
        frozen"), built without timing: a replay in another process renders the same bits."""
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        g = copy.deepcopy(self.generator)
        g = AutocastBf16(g) if dtype == torch.bfloat16 and is_style(g) else g.to(dtype)
        if layout.startswith("channels_last"):
            g = g.to(memory_format=torch.channels_last)
        self.dtype, self._eager, self.generator = dtype, g, g
        self.layout = "channels_last" if layout.startswith("channels_last") else "contiguous"
        if layout.endswith("frozen") and not is_style(g):
            frozen = freeze(g, self.z_dim, self.n_labels, dtype)
            if isinstance(frozen, _Frozen):
                self.generator, self.layout = frozen, self.layout + ", frozen"

    def describe(self) -> str:
        kind = "bf16" if self.dtype == torch.bfloat16 else "fp32"
        return f"cpu ({torch.get_num_threads()} threads, {kind}, {self.layout})"

    def _labels(self) -> torch.Tensor | None:
        return torch.zeros(1, dtype=torch.long) if self.n_labels else None

    def _seconds(self, g: nn.Module, dtype: torch.dtype, repeats: int = 4) -> float:
        """Best-of time for one frame of `g` (one timed frame when frames are slow: a big
        model, or a machine so busy that timing more would hold up the start)."""
        z = torch.randn(1, self.z_dim, dtype=dtype)
        best = float("inf")
        with torch.inference_mode():
            start = time.perf_counter()
            g(z, self._labels())
            if time.perf_counter() - start > SLOW_FRAME_S:
                repeats = 1
            for _ in range(repeats):
                start = time.perf_counter()
                g(z, self._labels())
                best = min(best, time.perf_counter() - start)
        return best

    def _variants(self, precision: str) -> list[tuple[torch.dtype, str]]:
        dtypes = [torch.float32]
        if precision == "bf16" or (precision == "auto" and bf16_supported()):
            dtypes.append(torch.bfloat16)
        if precision == "bf16":
            dtypes = [torch.bfloat16]
        return [(d, layout) for d in dtypes for layout in ("contiguous", "channels_last")]

    def _bf16_close(self, g: nn.Module) -> bool:
        """Whether bf16 variant `g` renders frames that look the same as fp32's (four latents)."""
        z = torch.randn(4, self.z_dim, generator=torch.Generator().manual_seed(0))
        labels = torch.zeros(4, dtype=torch.long) if self.n_labels else None
        with torch.inference_mode():
            ref = self.generator(z, labels).float().mul(127.5).numpy()
            low = g(_latent(g, z, torch.bfloat16), labels).float().mul(127.5).numpy()
        same, words = looks_the_same(ref, low)
        if not same:
            log.info("bf16 frames differ from fp32 (%s); using fp32", words)
        return same

    def _pick(self, precision: str) -> None:
        """Time the eager variants, keep the fastest, then freeze only that one.

        TorchScript never frees what it freezes (about 10 MB for the default model), so the
        frozen winner is kept per weights and settings (the last FROZEN_KEPT of them): a
        model swapped in again, however often, reuses it.
        """
        variants = self._variants(precision)
        key = (weights_hash(self.generator), self.z_dim, self.n_labels, precision,
               tuple(variants), torch.get_num_threads())
        self._key = key
        cached = self._frozen.get(key)
        if cached is not None:
            self.generator, self.dtype, self.layout, self._eager = cached
            return
        best: tuple[float, nn.Module, torch.dtype, str] | None = None
        for dtype, layout in variants:
            g = copy.deepcopy(self.generator)
            g = AutocastBf16(g) if dtype == torch.bfloat16 and is_style(g) else g.to(dtype)
            if layout == "channels_last":
                g = g.to(memory_format=torch.channels_last)
            if dtype == torch.bfloat16 and precision == "auto" and not self._bf16_close(g):
                continue
            seconds = self._seconds(g, dtype)
            if best is None or seconds < best[0] * 0.95:  # switch only for a clear win
                best = (seconds, g, dtype, layout)
        assert best is not None
        _, eager, dtype, layout = best
        # a style model's truncation and noise are live settings, not graph constants
        frozen = eager if is_style(eager) else freeze(eager, self.z_dim, self.n_labels, dtype)
        if isinstance(frozen, _Frozen) and self._seconds(frozen, dtype) < best[0] and (
                dtype == torch.float32 or precision != "auto" or self._bf16_close(frozen)):
            eager, layout = frozen, layout + ", frozen"
        self.generator, self.dtype, self.layout, self._eager = eager, dtype, layout, best[1]
        self._frozen.put(key, (eager, dtype, layout, best[1]))

    def prepare(self, shape: tuple[int, ...]) -> None:
        """Freeze the chosen variant again for a canvas latent of `shape` [1, Z, h, w] (a
        traced generator runs the one shape it was traced with); kept per shape."""
        shape = tuple(shape)
        if len(shape) != 4 or shape in self._shaped:
            return
        if not self.layout.endswith("frozen"):  # eager: any shape as it is
            self._shaped[shape] = self.generator
            return
        cached = self._frozen.get(self._key + (shape,))
        if cached is None:
            frozen = freeze(self._eager, self.z_dim, self.n_labels, self.dtype, shape)
            cached = (frozen,)
            self._frozen.put(self._key + (shape,), cached)
        self._shaped[shape] = cached[0]

    def set_bends(self, amounts: np.ndarray) -> bool:
        """Frozen graphs take the amounts as an input; an eager variant bends through hooks
        on a copy of its own (the chosen variant is shared by the frozen cache)."""
        self._amounts = torch.from_numpy(np.array(amounts, np.float32))  # [L, SLOTS]
        if self.hooks is None and np.any(amounts):
            eager = self.layout.endswith("eager")
            self._hooked = self.generator if eager else copy.deepcopy(self._eager)
            self.hooks = BendHooks(self._hooked)
        if self.hooks is not None:
            self.hooks.set(amounts)
        return True

    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        g = self.generator
        if z.dim() == 4:
            g = self._shaped.get(tuple(z.shape))
            if g is None:
                self.prepare(tuple(z.shape))
                g = self._shaped[tuple(z.shape)]
        with torch.inference_mode():
            if isinstance(g, _Frozen):
                return to_frame(g(z.to(self.dtype), labels, self._amounts))
            if self.hooks is not None and self.hooks.on:
                g = self._hooked
            return to_frame(g(_latent(g, z, self.dtype), labels))
