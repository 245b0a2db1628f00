"""The backend interface: a generator behind `render(z) -> uint8 frame`, on some device."""

from __future__ import annotations

import copy
import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from livegan.engine.bend import BendHooks

# A lower-precision path (bf16 on a CPU, fp16 on a GPU) plays only when its frames look the
# same as fp32's: at least MIN_PSNR_DB (what video coding counts as visually lossless) and
# at most MAX_MEAN_LEVELS of 255 off on average. Not a bound on the largest difference: a
# model with crisp edges moves an edge pixel by tens of levels when its latent changes by
# 0.1 %, less than a knob's smallest step, so bf16 rounding does the same at a few pixels.
MIN_PSNR_DB = 40.0
MAX_MEAN_LEVELS = 1.0


def frame_difference(reference: np.ndarray, frame: np.ndarray) -> dict[str, float]:
    """PSNR (dB), mean and largest difference of `frame` from `reference`, both in levels
    of 255 (any shape, any float or uint8 dtype)."""
    diff = np.abs(np.asarray(frame, np.float64) - np.asarray(reference, np.float64))
    mse = float(np.mean(diff**2))
    psnr = 10 * np.log10(255.0**2 / mse) if mse > 0 else float("inf")
    return {"psnr": psnr, "mean": float(diff.mean()), "max": float(diff.max())}


def looks_the_same(reference: np.ndarray, frame: np.ndarray) -> tuple[bool, str]:
    """Whether `frame` passes for `reference` (MIN_PSNR_DB, MAX_MEAN_LEVELS), and the
    figures in words for the log."""
    d = frame_difference(reference, frame)
    words = f"PSNR {d['psnr']:.1f} dB, mean {d['mean']:.2f} and max {d['max']:.0f} levels"
    return d["psnr"] >= MIN_PSNR_DB and d["mean"] <= MAX_MEAN_LEVELS, words


def to_frame(images: torch.Tensor) -> torch.Tensor:
    """[1, 3, H, W] in [-1, 1] -> uint8 [H, W, 3] on the same device (one fused pass)."""
    x = images[0].float().mul(127.5).add_(127.5).clamp_(0, 255).to(torch.uint8)
    return x.permute(1, 2, 0).contiguous()  # [H, W, 3]


def label_tensor(label: int | None, n_labels: int) -> torch.Tensor | None:
    """A class label as a conditional generator takes it, [1] long, clamped to the model's
    labels (a label past them plays the last); None for a model without labels."""
    if not n_labels:
        return None
    return torch.tensor([min(max(int(label or 0), 0), n_labels - 1)])


class Backend:
    """Runs one generator. Subclasses set `name`, `device` and implement `_generate`.

    `render` takes a latent [Z] (or a canvas's [Z, h, w]) float32 (numpy) and returns a uint8 [H, W, 3] numpy frame,
    converted on the device; the host side only receives the finished bytes.

    `self.generator` is the backend's own copy (see `own_copy`): a backend converts it to its
    device, precision and layout freely, and the model's generator stays as loaded.
    """

    name = "base"

    def __init__(self, generator: nn.Module, z_dim: int, n_labels: int = 0) -> None:
        self.generator = own_copy(generator)
        self.z_dim = z_dim
        self.n_labels = n_labels
        self.device = torch.device("cpu")
        self.hooks: BendHooks | None = None  # bends on `self.generator`, once one is asked

    def describe(self) -> str:
        """The device in words (for the HUD, logs and bench)."""
        return str(self.device)

    def prepare(self, shape: tuple[int, ...]) -> None:
        """Get ready to render latents of `shape` ([1, Z, h, w]: a canvas); eager backends
        take any shape. Raises BackendError where this backend renders one shape only."""

    def set_bends(self, amounts: np.ndarray) -> bool:
        """Bend the feature maps from the next frame on: amounts [L, SLOTS] (livegan.bendops;
        all zeros: no bend). False where this backend cannot bend (the engine renders bent
        frames elsewhere). This default hooks the layers of an eager `self.generator`."""
        if self.hooks is None:
            if not np.any(amounts):
                return True
            self.hooks = BendHooks(self.generator)
        self.hooks.set(amounts)
        return True

    def set_style(self, truncation: float, noise: str) -> bool:
        """A style model's truncation (psi, in w) and noise mode (const, random, none) from
        the next frame on. False where this backend baked them into a compiled graph (the
        engine renders such frames elsewhere). This default sets them on the eager
        generators the backend renders with."""
        for g in style_targets(self):
            g.truncation, g.noise_mode = float(truncation), noise
        return True

    def _inputs(self, z: np.ndarray, label: int | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        zt = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
        zt = zt[None] if zt.dim() == 3 else zt.reshape(1, -1)  # [1, Z, h, w] or [1, Z]
        return zt, label_tensor(label, self.n_labels)

    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """uint8 [H, W, 3] on the host for one latent [1, Z] (or [1, Z, h, w])."""
        raise NotImplementedError

    def render(self, z: np.ndarray, label: int | None = None) -> np.ndarray:
        """One frame: uint8 [H, W, 3] numpy."""
        zt, labels = self._inputs(z, label)
        frame = self._generate(zt, labels)
        # Device backends stage frames in reused pinned buffers: hand out our own copy.
        return frame.numpy().copy() if frame.is_pinned() else frame.numpy()

    def close(self) -> None:
        """Release device memory and caches."""


def is_style(generator: nn.Module | None) -> bool:
    """Whether `generator` maps z to w (StyleGAN2/3, lucidrains' stylegan2): truncation and
    noise are its own settings, not a scale of z."""
    generator = getattr(generator, "inner", generator)  # under autocast (engine.cpu)
    return generator is not None and hasattr(generator, "mapping_forward")


STYLE_DEFAULT = (1.0, "const")  # what compiled graphs of a style model bake in


def style_targets(backend: Backend) -> list[nn.Module]:
    """The style generators a backend renders with (its copy, the chosen eager variant, the
    hooked copy for bends)."""
    found: list[nn.Module] = []
    for name in ("generator", "_eager", "_hooked"):
        g = getattr(backend, name, None)
        g = getattr(g, "inner", g)  # a style model under autocast (engine.cpu.AutocastBf16)
        if is_style(g) and all(g is not f for f in found):
            found.append(g)
    return found


def cache_root() -> Path:
    """Where backends keep what they build: $LIVEGAN_CACHE, else $XDG_CACHE_HOME/livegan,
    else ~/.cache/livegan."""
    if os.environ.get("LIVEGAN_CACHE"):
        return Path(os.environ["LIVEGAN_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "livegan"


def own_copy(generator: nn.Module) -> nn.Module:
    """A private copy of `generator` in inference mode.

    The model's own generator stays fp32 on the CPU as loaded: the bench's naive loop, the
    guard's weight check and a failover rebuild all read it while a backend runs its copy
    in fp16 on a GPU.
    """
    return copy.deepcopy(generator).eval().requires_grad_(False)


def weights_hash(generator: nn.Module) -> str:
    """sha256 of the generator's weights, independent of where the model file lives."""
    h = hashlib.sha256()
    for name, tensor in sorted(generator.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
    return h.hexdigest()
