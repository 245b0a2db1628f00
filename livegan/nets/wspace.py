"""Walks in w: a style generator played from its intermediate latent space.

A StyleGAN's mapping network bends the Gaussian z into w, where the picture's features are
closer to straight lines (the papers' "disentangled" space). Played in w, livegan's latent
u [Z] stands for w = w_avg + u @ basis, with the basis the principal axes of w scaled by
their spread (GANSpace), so a Gaussian u gives w's of the model's own spread, the walk and
the glides move in w, a direction is a straight line in w, and scaling u by the truncation
is exactly StyleGAN's truncation in w.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class WSpace(nn.Module):
    """u [N, Z] -> image: w = w_avg + u @ basis on every layer, then the synthesis network.

    Args:
        generator: a style generator (mapping_forward, synthesis_forward, num_ws, w_avg).
        basis: [Z, w_dim] principal axes of w scaled by their standard deviations (rows
            past w's own dimensions are zero).
    """

    def __init__(self, generator: nn.Module, basis: Tensor) -> None:
        super().__init__()
        self.generator = generator
        self.register_buffer("basis", basis.float().clone())  # [Z, W]
        self.resolution, self.z_dim = generator.resolution, generator.z_dim
        self.n_labels, self.w_dim = generator.n_labels, generator.w_dim
        self.num_ws = generator.num_ws
        self.truncation = 1.0  # the walk scales u: that is the truncation here

    @property
    def noise_mode(self) -> str:
        return self.generator.noise_mode

    @noise_mode.setter
    def noise_mode(self, mode: str) -> None:
        self.generator.noise_mode = mode

    def taps(self) -> dict[str, nn.Module]:
        return self.generator.taps()

    def mapping_forward(self, u: Tensor, labels: Tensor | None = None) -> Tensor:
        """u [N, Z] -> w [N, W] (labels: a conditional model's class shows in w_avg only)."""
        w_avg = self.generator.w_avg.to(u.dtype)
        return w_avg + u @ self.basis.to(u.dtype)

    def synthesis_forward(self, ws: Tensor) -> Tensor:
        return self.generator.synthesis_forward(ws)

    def forward(self, u: Tensor, labels: Tensor | None = None) -> Tensor:
        w = self.mapping_forward(u, labels)
        return self.generator.synthesis_forward(w[:, None].expand(-1, self.num_ws, -1))


SAMPLES = 4096  # seeded latents whose w stand for the model's spread of w
SEED = 2024


@torch.no_grad()
def sample_w(generator: nn.Module, n: int = SAMPLES, seed: int = SEED) -> tuple[Tensor, Tensor]:
    """Seeded latents z [n, Z] and their w = mapping(z) [n, w_dim] in fp32, in batches of
    512 (label 0 if conditional): the same samples for the directions found at import and
    the basis of a walk in w."""
    z = torch.randn(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    labels = torch.zeros(n, dtype=torch.long) if generator.n_labels else None
    w = torch.cat([generator.mapping_forward(z[i:i + 512],
                                             None if labels is None else labels[i:i + 512])
                   for i in range(0, n, 512)]).float()
    return z, w


@torch.no_grad()
def principal_basis(generator: nn.Module, z_dim: int) -> Tensor:
    """[z_dim, w_dim]: w's principal axes (largest first), each scaled by its standard
    deviation, from sample_w's latents; zero rows past w_dim."""
    _, w = sample_w(generator)
    samples = w.shape[0]
    centred = w - w.mean(dim=0)
    _, s, vt = torch.linalg.svd(centred, full_matrices=False)  # vt [k, W]
    std = s / (samples - 1) ** 0.5
    basis = torch.zeros(z_dim, w.shape[1])
    k = min(z_dim, vt.shape[0])
    basis[:k] = vt[:k] * std[:k, None]
    return basis
