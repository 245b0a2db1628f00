"""Directions for an imported style model, found at import and stored in its model file.

- SeFa (Shen and Zhou 2021, closed form): the directions in w that the first style layers'
  affine maps stretch most: the top eigenvectors of AᵀA, A the stacked, row-normalised
  affine weights of the first layers (coarse layers: pose, shape, layout).
- GANSpace (Härkönen et al. 2020): the principal components of w = mapping(z) over many
  seeded latents.

livegan steers the latent z that the mapping network takes, so each direction in w is
carried back into z by regression (GANSpace does the same for BigGAN): the z direction
whose steps move w furthest along it. Like livegan's own directions, each has length
sqrt(Z)/4, so an amount of 1 is a visible change.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from livegan.nets.wspace import sample_w

SEFA_LAYERS = 3  # style layers whose affine maps SeFa reads


def style_affines(generator: nn.Module) -> list[torch.Tensor]:
    """The style layers' affine weights [C, w_dim], coarse to fine (mapping network excluded;
    maps to 8 channels or fewer, such as StyleGAN3's input transform, skipped)."""
    w_dim = generator.w_dim
    found = []
    for name, p in generator.named_parameters():
        if name.startswith("mapping") or p.dim() != 2 or p.shape[1] != w_dim:
            continue
        if p.shape[0] > 8 and ("affine" in name or "style" in name):
            found.append(p.detach().float())
    return found


def sefa(generator: nn.Module, k: int) -> np.ndarray:
    """The top-k SeFa directions in w [k, w_dim], unit length."""
    weights = style_affines(generator)[:SEFA_LAYERS]
    if not weights:
        return np.zeros((0, generator.w_dim), np.float32)
    a = torch.cat(weights, dim=0)  # [sum C, w_dim]
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-8)
    _, vectors = torch.linalg.eigh(a.T @ a)  # ascending eigenvalues
    return vectors[:, -k:].flip(1).T.numpy().astype(np.float32)


def ganspace(w: np.ndarray, k: int) -> np.ndarray:
    """The top-k principal components of w [k, w_dim], unit length."""
    centred = w - w.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[:k].astype(np.float32)


def pull_back(z: np.ndarray, w: np.ndarray, directions_w: np.ndarray) -> np.ndarray:
    """Each w direction [k, w_dim] as a z direction [k, Z] of length sqrt(Z)/4: the
    regression of z on the w coordinate along it (positive amounts move w along it)."""
    y = (w - w.mean(axis=0)) @ directions_w.T  # [n, k]
    y = y / np.maximum(y.std(axis=0), 1e-8)
    b = (z.T @ y).T / len(z)  # [k, Z]
    norm = np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-8)
    return (b / norm * math.sqrt(z.shape[1]) / 4).astype(np.float32)


def find_directions(generator: nn.Module, n_sefa: int = 8,
                    n_pca: int = 8) -> tuple[np.ndarray, list[str]]:
    """SeFa and GANSpace directions carried into z: [K, Z] and their names
    ("sefa0"..., "pca0"...)."""
    z, w = (t.numpy() for t in sample_w(generator))
    found = [("sefa", sefa(generator, n_sefa)), ("pca", ganspace(w, n_pca))]
    rows, names = [], []
    for kind, dirs in found:
        if len(dirs):
            rows.append(pull_back(z, w, dirs))
            names += [f"{kind}{i}" for i in range(len(dirs))]
    return np.concatenate(rows).astype(np.float32), names
