"""Network bending on the device: the ops on a layer's feature maps, as hooks on a generator.

Two ways to run them, one set of kernels:
- eager backends install `BendHooks`: the host knows which ops are on, and only those run;
- frozen and converted graphs (TorchScript, OpenVINO) are traced through `Bent`, which takes
  the amounts as a graph input [L, SLOTS]; each layer's ops sit behind in-graph conditions,
  so all-zero amounts cost one check a layer and render exactly the unbent frame.

The vocabulary (ops, slots, ranges) is livegan.bendops; the layers are livegan.nets.taps.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livegan.bendops import BY_NAME, OP_NAMES, SLOT, SLOTS, Key, is_identity
from livegan.nets.taps import feature_layers

# The slots the scripted driver reads (TorchScript takes no dict lookups at trace time).
assert (SLOT["ablate"], SLOT["invert"], SLOT["erode"], SLOT["dilate"], SLOT["translate"],
        SLOT["rotate"], SLOT["scale"], SLOT["flip"], SLOT["noise"], SLOTS) == \
    (0, 2, 3, 4, 5, 7, 8, 9, 11, 13), "livegan.bendops changed its slots: update bend.py"

WARP_OPS = ("translate", "rotate", "scale")  # one resampling does all three


def _frac(x: Tensor) -> Tensor:
    return x - torch.floor(x)


def _hash(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """A fixed pseudo-random value in [0, 1) per (a, b, c) (Hoskins' hash without sine: only
    multiplies and adds, so eager, frozen and converted graphs agree closely)."""
    a, b, c = _frac(a * 0.1031), _frac(b * 0.1031), _frac(c * 0.1031)
    d = a * (c + 31.32) + b * (b + 31.32) + c * (a + 31.32)
    return _frac((a + b + 2 * d) * (c + d))


def ablate(x: Tensor, share: Tensor, offset: Tensor) -> Tensor:
    """Zero `share` (0..1) of the channels; `offset` (0..1) slides which ones."""
    c = x.shape[1]
    index = torch.arange(c, device=x.device, dtype=torch.float32)
    rank = _hash(index, index * 0.0 + 7.0, index * 0.0 + 3.0)  # [C]
    keep = (_frac(rank - offset.float()) >= share.float()).to(x.dtype)  # [C]
    return x * keep.view(1, c, 1, 1)


def invert(x: Tensor, amount: Tensor) -> Tensor:
    """Mirror each channel's values within its own range, mixed in by `amount`."""
    low = torch.amin(x, dim=(2, 3), keepdim=True)
    high = torch.amax(x, dim=(2, 3), keepdim=True)
    return x + amount.to(x.dtype) * (low + high - 2 * x)


def dilate(x: Tensor, radius: Tensor, levels: int = 3) -> Tensor:
    """Grey-scale dilation by `radius` (0..3) pixels, fractional radii blended; `levels`
    (1..3, at least the radius rounded up) is how many 3x3 steps are taken."""
    r = radius.float().clamp(0.0, 3.0)
    dt = x.dtype
    d = F.max_pool2d(x, 3, 1, 1)
    out = (1.0 - r).clamp(0.0, 1.0).to(dt) * x + (1.0 - (r - 1.0).abs()).clamp(0.0, 1.0).to(dt) * d
    if levels >= 2:
        d = F.max_pool2d(d, 3, 1, 1)
        out = out + (1.0 - (r - 2.0).abs()).clamp(0.0, 1.0).to(dt) * d
    if levels >= 3:
        d = F.max_pool2d(d, 3, 1, 1)
        out = out + (r - 2.0).clamp(0.0, 1.0).to(dt) * d
    return out


def erode(x: Tensor, radius: Tensor, levels: int = 3) -> Tensor:
    """Grey-scale erosion by `radius` (0..3) pixels."""
    return -dilate(-x, radius, levels)


def warp(x: Tensor, tx: Tensor, ty: Tensor, degrees: Tensor, zoom: Tensor) -> Tensor:
    """Shift (map widths), rotate (degrees) and zoom (2^zoom) about the centre; wraps."""
    n, _, h, w = x.shape
    u = torch.arange(w, device=x.device, dtype=torch.float32) + 0.5 - w / 2  # pixels
    v = torch.arange(h, device=x.device, dtype=torch.float32) + 0.5 - h / 2
    u = u.view(1, w) - tx.float() * w
    v = v.view(h, 1) - ty.float() * h
    angle = degrees.float() * (math.pi / 180.0)
    s = torch.exp(zoom.float() * -0.6931471805599453)  # 2^-zoom
    cos, sin = torch.cos(angle) * s, torch.sin(angle) * s
    iu = cos * u + sin * v  # [H, W]: where each output pixel reads from
    iv = cos * v - sin * u
    iu = torch.remainder(iu + w / 2, w * 1.0) - w / 2  # wrap around, like a tile
    iv = torch.remainder(iv + h / 2, h * 1.0) - h / 2
    grid = torch.stack((iu * (2.0 / w), iv * (2.0 / h)), dim=-1)  # [H, W, 2] in [-1, 1]
    grid = grid.unsqueeze(0).expand(n, h, w, 2).to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def flip(x: Tensor, horizontal: Tensor, vertical: Tensor) -> Tensor:
    """Mix toward the mirrored map (1: mirrored, 0.5: symmetric)."""
    x = x + horizontal.to(x.dtype) * (torch.flip(x, [3]) - x)
    return x + vertical.to(x.dtype) * (torch.flip(x, [2]) - x)


def noise(x: Tensor, amount: Tensor, phase: Tensor) -> Tensor:
    """Mix toward noise with each channel's own mean and spread; `phase` moves it."""
    _, c, h, w = x.shape
    dev = x.device
    cc = torch.arange(c, device=dev, dtype=torch.float32).view(1, c, 1, 1)
    yy = torch.arange(h, device=dev, dtype=torch.float32).view(1, 1, h, 1)
    xx = torch.arange(w, device=dev, dtype=torch.float32).view(1, 1, 1, w)
    field = _hash(yy + phase.float() * 7.77, xx, yy * 0.0 + 1.0)  # [1, 1, H, W]
    shift = _hash(cc, cc * 0.0 + 5.0, cc * 0.0 + 9.0)  # [1, C, 1, 1]: each channel its own
    r = (_frac(field + shift) * 2.0 - 1.0) * 1.7320508  # [1, C, H, W], unit spread
    var, mean = torch.var_mean(x.float(), dim=(2, 3), keepdim=True)
    return x + amount.to(x.dtype) * ((mean + var.sqrt() * r).to(x.dtype) - x)


def bend_ops(x: Tensor, row: Tensor, ops: tuple[str, ...]) -> Tensor:
    """Apply the ops named in `ops` (host-known) with amounts `row` [SLOTS]."""
    if "ablate" in ops:
        x = ablate(x, row[0], row[1])
    if "invert" in ops:
        x = invert(x, row[2])
    if "erode" in ops:
        x = erode(x, row[3])
    if "dilate" in ops:
        x = dilate(x, row[4])
    if any(op in ops for op in WARP_OPS):
        x = warp(x, row[5], row[6], row[7], row[8])
    if "flip" in ops:
        x = flip(x, row[9], row[10])
    if "noise" in ops:
        x = noise(x, row[11], row[12])
    return x


@functools.cache
def _scripted() -> torch.jit.ScriptFunction:
    """The in-graph driver: each op behind a condition on its amounts (TorchScript keeps the
    branches when a trace calls a scripted function). Compiled once, on first use."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript's deprecation notice
        return torch.jit.script(_bend_graph)


def _bend_graph(x: Tensor, row: Tensor) -> Tensor:
    if bool((row != 0.0).any()):
        if bool(row[0] != 0.0):
            x = ablate(x, row[0], row[1])
        if bool(row[2] != 0.0):
            x = invert(x, row[2])
        if bool(row[3] != 0.0):  # as few 3x3 steps as the radius needs
            x = erode(x, row[3], 3) if bool(row[3] > 2.0) else \
                erode(x, row[3], 2) if bool(row[3] > 1.0) else erode(x, row[3], 1)
        if bool(row[4] != 0.0):
            x = dilate(x, row[4], 3) if bool(row[4] > 2.0) else \
                dilate(x, row[4], 2) if bool(row[4] > 1.0) else dilate(x, row[4], 1)
        if bool((row[5:9] != 0.0).any()):
            x = warp(x, row[5], row[6], row[7], row[8])
        if bool((row[9:11] != 0.0).any()):
            x = flip(x, row[9], row[10])
        if bool(row[11] != 0.0):
            x = noise(x, row[11], row[12])
    return x


def active_ops(amounts: np.ndarray) -> list[tuple[str, ...]]:
    """Per layer, the ops whose amounts are not all zero (ablate and noise: the first)."""
    out = []
    for row in amounts:
        out.append(tuple(op for op in OP_NAMES if not is_identity(
            tuple(float(a) for a in row[SLOT[op]: SLOT[op] + BY_NAME[op].size]), op)))
    return out


class BendHooks:
    """Forward hooks on a generator's feature layers that bend their outputs.

    Eager use: `set(amounts)` copies [L, SLOTS] amounts onto the generator's device and
    notes which ops are on; hooks of layers with none return the map untouched. While
    `tracing` holds a tensor (see `Bent`), the hooks put the in-graph driver into the trace
    with that tensor's rows as amounts instead.
    """

    def __init__(self, generator: nn.Module) -> None:
        self.layers = list(feature_layers(generator))
        p = next(generator.parameters())
        self.amounts = torch.zeros(len(self.layers), SLOTS, device=p.device)  # [L, SLOTS]
        self.active: list[tuple[str, ...]] = [()] * len(self.layers)
        self.tracing: Tensor | None = None
        self._handles = [module.register_forward_hook(self._hook(i))
                         for i, module in enumerate(feature_layers(generator).values())]

    @property
    def on(self) -> bool:
        """Whether any op is on."""
        return any(self.active)

    def set(self, amounts: np.ndarray) -> None:
        """Use amounts [L, SLOTS] from the next forward pass on."""
        self.amounts.copy_(torch.from_numpy(np.asarray(amounts, np.float32)))
        self.active = active_ops(amounts)

    def _hook(self, i: int):
        def hook(module: nn.Module, inputs: tuple, output: Tensor) -> Tensor | None:
            if self.tracing is not None:
                return _scripted()(output, self.tracing[i].to(output.device))
            if self.active[i]:
                return bend_ops(output, self.amounts[i], self.active[i])
            return None
        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


class Bent(nn.Module):
    """A generator with its bends as a graph input, for tracing: forward(z, amounts[, labels])
    with amounts [L, SLOTS] float32. The hooks come off again with `release()`."""

    def __init__(self, generator: nn.Module, conditional: bool) -> None:
        super().__init__()
        self.generator = generator
        self.conditional = conditional
        self.hooks = BendHooks(generator)

    def forward(self, z: Tensor, amounts: Tensor, labels: Tensor | None = None) -> Tensor:
        self.hooks.tracing = amounts
        try:
            return self.generator(z, labels if self.conditional else None)
        finally:
            self.hooks.tracing = None

    def release(self) -> None:
        self.hooks.remove()


def bend_amounts(layers: list[str], bends: Mapping[Key, tuple[float, ...]]) -> np.ndarray:
    """The amounts [L, SLOTS] of `bends` ((layer, op) -> amounts, livegan.bendops) on these
    layers; bends on other layers are left out."""
    amounts = np.zeros((len(layers), SLOTS), np.float32)
    for (layer, op), values in bends.items():
        if layer in layers and op in SLOT:
            amounts[layers.index(layer), SLOT[op]: SLOT[op] + len(values)] = values
    return amounts


def zero_amounts(generator: nn.Module) -> Tensor:
    """All-zero amounts [L, SLOTS] for `generator` (an unbent frame)."""
    return torch.zeros(len(feature_layers(generator)), SLOTS)
