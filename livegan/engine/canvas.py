"""Canvases larger than the model: a spatial latent [Z, h, w] grows a fully convolutional
generator's picture, here for live frames (one latent [Z] a frame) and offline renders."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from livegan.engine.base import is_style
from livegan.errors import LiveganError

ANCHOR_SPACING = 4  # latent cells between the random anchors of a field (4 cells = 1 image)
CANVAS_SEED = 1  # seeds a live canvas's offset field
VARIATION = 0.8  # how far a live canvas's cells lean away from the live latent (0: all alike)


class CannotGrow(LiveganError):
    """The model's generator does not grow with a spatial latent."""


def smooth_field(seed: int, z_dim: int, cells: tuple[int, int]) -> np.ndarray:
    """A smooth latent field [Z, h, w], every cell on the sphere of radius sqrt(Z).

    The field interpolates random anchors ANCHOR_SPACING cells apart (bicubic), so
    neighbouring cells agree and a canvas reads as one picture rather than a tiling.
    """
    h, w = cells
    gh, gw = h // ANCHOR_SPACING + 2, w // ANCHOR_SPACING + 2
    rng = np.random.default_rng(int(seed) & 0xFFFFFFFF)
    anchors = torch.from_numpy(rng.standard_normal((1, z_dim, gh, gw)).astype(np.float32))
    span_h, span_w = (gh - 1) * ANCHOR_SPACING, (gw - 1) * ANCHOR_SPACING
    field = torch.nn.functional.interpolate(anchors, size=(span_h + 1, span_w + 1),
                                            mode="bicubic", align_corners=True)[0]
    top, left = (span_h + 1 - h) // 2, (span_w + 1 - w) // 2
    field = field[:, top : top + h, left : left + w]  # [Z, h, w]
    field = field / field.norm(dim=0, keepdim=True).clamp_min(1e-8) * math.sqrt(z_dim)
    return field.numpy().astype(np.float32)


def pixels_per_cell(generator: nn.Module, z_dim: int, n_labels: int = 0) -> tuple[int, int]:
    """(a, b) with output size = a * cells + b, found by rendering 1 and 2 latent cells
    eagerly; raises CannotGrow when the picture does not grow (or refuses a spatial latent)."""
    if is_style(generator):
        raise CannotGrow("a StyleGAN's picture has the size of its synthesis network (its "
                         "latent steers style, not space); use --size or --upscale instead")
    labels = torch.zeros(1, dtype=torch.long) if n_labels else None
    sizes = []
    try:
        with torch.inference_mode():
            for n in (1, 2):
                z = torch.zeros(1, z_dim, n, n, dtype=next(generator.parameters()).dtype)
                out = generator(z, labels)  # [1, 3, H, W]
                if out.dim() != 4:
                    raise ValueError(f"it renders {tuple(out.shape)}")
                sizes.append(int(out.shape[2]))
    except Exception as exc:  # noqa: BLE001 - any refusal means: no canvas for this model
        raise CannotGrow(f"its generator takes no spatial latent ({_first_line(exc)})") from None
    a, b = sizes[1] - sizes[0], 2 * sizes[0] - sizes[1]
    if a <= 0:
        raise CannotGrow("its generator does not grow with a spatial latent")
    return a, b


def cells_for(mapping: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """Latent cells (h, w) whose picture covers width x height pixels."""
    a, b = mapping
    return max(1, math.ceil((height - b) / a)), max(1, math.ceil((width - b) / a))


@dataclass(frozen=True)
class CanvasRequest:
    """What a show asks for: an exact size (`size`), or `auto`: the aspect of `size` at
    about the model's resolution in height."""

    size: tuple[int, int]  # (width, height): the canvas, or with `auto` only its aspect
    auto: bool = False

    def target(self, resolution: int) -> tuple[int, int]:
        """The canvas size in pixels (width, height) for a model of `resolution`."""
        if not self.auto:
            return self.size
        width, height = self.size
        # even, as video encoders (H.264's 4:2:0) need: 16:9 at 256 is 456 wide, not 455
        return max(2, 2 * round(resolution * width / height / 2)), resolution


def parse_canvas(text: str) -> str | tuple[int, int] | None:
    """'auto' -> 'auto', 'off' -> None, 'WxH' -> (W, H); ValueError on anything else."""
    value = str(text).strip().lower()
    if value in ("auto", "off"):
        return "auto" if value == "auto" else None
    parts = value.split("x")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        w, h = int(parts[0]), int(parts[1])
        if 16 <= w <= 16384 and 16 <= h <= 16384:
            return w, h
    raise ValueError(f"canvas must be auto, off or WxH (16 to 16384 each), not {text!r}")


class Canvas:
    """A live canvas: each frame's latent z [Z] becomes a spatial latent [Z, h, w] (z plus
    a fixed smooth offset field, each cell back at |z|), and the grown picture is cropped to
    the canvas size. Buffers are reused from frame to frame.

    Args:
        z_dim: the latent size.
        cells: latent cells (h, w).
        size: the canvas (width, height) in pixels, at most the grown picture.
    """

    def __init__(self, z_dim: int, cells: tuple[int, int], size: tuple[int, int]) -> None:
        self.cells = cells
        self.size = size
        self.offset = smooth_field(CANVAS_SEED, z_dim, cells) * np.float32(VARIATION)
        self._latent = np.empty_like(self.offset)  # [Z, h, w]
        self._norm = np.empty((1, *cells), np.float32)  # [1, h, w]

    @property
    def shape(self) -> tuple[int, ...]:
        """The latent shape the generator sees: [1, Z, h, w]."""
        return (1, *self.offset.shape)

    def latent(self, z: np.ndarray) -> np.ndarray:
        """The canvas latent [Z, h, w] for the live latent z [Z] (a reused buffer)."""
        out = self._latent
        np.add(self.offset, z[:, None, None], out=out)
        np.sqrt(np.einsum("zhw,zhw->hw", out, out)[None], out=self._norm)
        np.maximum(self._norm, 1e-8, out=self._norm)
        np.divide(out, self._norm, out=out)
        out *= np.float32(np.linalg.norm(z))  # truncation and steering keep their scale
        return out

    def crop(self, frame: np.ndarray) -> np.ndarray:
        """The centre of a grown frame [H, W, 3] at the canvas size (contiguous bytes)."""
        width, height = self.size
        top = max(0, (frame.shape[0] - height) // 2)
        left = max(0, (frame.shape[1] - width) // 2)
        return np.ascontiguousarray(frame[top : top + height, left : left + width])

    def describe(self) -> str:
        return f"canvas {self.size[0]}x{self.size[1]} ({self.cells[0]}x{self.cells[1]} cells)"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def canvas_request(value: str | tuple[int, int] | None,
                   window: tuple[int, int]) -> CanvasRequest | None:
    """A show's canvas setting ("auto", "off"/None, or (width, height)) for a window of
    `window` pixels (width, height): what to ask the engine for, or None."""
    if value is None or value == "off":
        return None
    if value == "auto":
        return CanvasRequest(window, auto=True)
    return CanvasRequest(tuple(value))  # type: ignore[arg-type]
