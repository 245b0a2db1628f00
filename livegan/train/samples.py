"""Sample grids: a batch of generated images tiled into one PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from livegan.engine.base import to_frame


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[N, 3, H, W] in [-1, 1] -> uint8 [N, H, W, 3], converted as the show converts frames."""
    with torch.no_grad():
        return torch.stack([to_frame(images[i : i + 1]) for i in range(images.shape[0])]
                           ).cpu().numpy()


PAD = 2  # black pixels between the pictures of a grid


def tile(frames: np.ndarray, rows: int, pad: int = PAD) -> np.ndarray:
    """uint8 [N, H, W, 3] -> one uint8 image with `rows` rows, `pad` black pixels between."""
    n, h, w, _ = frames.shape
    cols = -(-n // rows)
    grid = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), np.uint8)
    for i, frame in enumerate(frames):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = frame
    return grid


def save_grid(images: torch.Tensor, path: Path, rows: int) -> Path:
    """Save generated images [N, 3, H, W] in [-1, 1] as one PNG grid."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(tile(to_uint8(images), rows)).save(path)
    return path
