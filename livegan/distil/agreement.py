"""How closely a student draws its teacher's frames: PSNR on held-out latents, and the
pictures side by side."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from livegan.train.samples import tile, to_uint8

HELD_OUT_SEED = 20_261_206  # held-out latents: a stream no distillation draws its pairs from


def held_out_latents(z_dim: int, n: int, seed: int = HELD_OUT_SEED) -> torch.Tensor:
    """The same n latents [n, Z] for every run and bench of a teacher's z size."""
    return torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))


def psnr(student: torch.Tensor, teacher: torch.Tensor) -> float:
    """PSNR in dB of frames [N, 3, R, R] in [-1, 1], taken on [0, 1] pictures over the whole
    batch (the mean squared error of all pixels; not a mean of per-frame figures, which
    the frames drawn best would lift)."""
    a = (student.float().clamp(-1, 1) + 1) / 2
    b = (teacher.float().clamp(-1, 1) + 1) / 2
    mse = float((a - b).pow(2).mean())
    return 10 * math.log10(1.0 / max(mse, 1e-12))


@torch.no_grad()
def draw(generator: nn.Module, z: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """A generator's frames for latents z [N, Z], on the generator's device, in fp32 and
    eval mode -> CPU [N, 3, R, R] in [-1, 1]."""
    p = next(generator.parameters())
    out = [generator(part.to(p.device, p.dtype)).float().clamp(-1, 1).cpu()
           for part in z.split(chunk)]
    return torch.cat(out)


def side_by_side(teacher: torch.Tensor, student: torch.Tensor, path: Path,
                 columns: int = 8, gap: int = 8) -> Path:
    """The teacher's frames (left grid) beside the student's for the same latents (right
    grid), `columns` // 2 per row of each, as one PNG."""
    n = min(teacher.shape[0], student.shape[0], 2 * columns)
    rows = max(1, n // (columns // 2))
    left = tile(to_uint8(teacher[:n]), rows)
    right = tile(to_uint8(student[:n]), rows)
    spacer = np.full((left.shape[0], gap, 3), 255, np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate([left, spacer, right], axis=1)).save(path)
    return path
