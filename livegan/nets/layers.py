"""Small building blocks shared by the generator and discriminator architectures."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import spectral_norm


class PixelNorm(nn.Module):
    """Normalise each pixel's feature vector to unit RMS (ProGAN).

    Batch-independent, so a live one-frame render behaves exactly as in training,
    unlike BatchNorm whose running statistics drift from the EMA weights.
    """

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


NORMS = ("batch", "pixel")


def feature_norm(kind: str, channels: int) -> nn.Module:
    """The generator's normalisation after each convolution.

    "batch" (the default) normalises every channel over batch and space, so no channel can
    go spatially flat: small-data runs then find shapes early instead of settling on one
    colour. At inference it is a fixed affine map that backends fold into the convolution.
    "pixel" (ProGAN's PixelNorm) is batch-independent.
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "pixel":
        return PixelNorm()
    raise ValueError(f"unknown norm '{kind}'; choose from {', '.join(NORMS)}")


@torch.no_grad()
def recalibrate_batchnorm(generator: nn.Module, z_dim: int, n_labels: int = 0,
                          batches: int = 8, size: int = 32, seed: int = 0) -> None:
    """Recompute BatchNorm statistics for these exact weights (e.g. the EMA generator),
    whose running averages otherwise belong to the raw training weights."""
    norms = [m for m in generator.modules() if isinstance(m, nn.BatchNorm2d)]
    if not norms:
        return
    device = next(generator.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    generator.train()
    for _ in range(batches):
        z = torch.randn(size, z_dim, generator=gen).to(device)
        labels = torch.randint(0, n_labels, (size,), generator=gen).to(device) if n_labels \
            else None
        generator(z, labels)
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    generator.eval()


def latent_stem(z_dim: int, n_labels: int, channels: int, norm: str) -> nn.Sequential:
    """z (with its label embedding) as a 1x1 map -> a 4x4 map: transposed conv, norm, LeakyReLU."""
    z_in = z_dim * 2 if n_labels else z_dim
    return nn.Sequential(
        nn.ConvTranspose2d(z_in, channels, 4, 1, 0), feature_norm(norm, channels), nn.LeakyReLU(0.2)
    )


class LabelInput(nn.Module):
    """Turns (z, labels) into the generator's input map; a no-op for unconditional models."""

    def __init__(self, z_dim: int, n_labels: int) -> None:
        super().__init__()
        self.n_labels = n_labels
        self.embed = nn.Embedding(n_labels, z_dim) if n_labels > 0 else None

    @property
    def channels(self) -> int:
        return self.embed.embedding_dim * 2 if self.embed is not None else 0

    def forward(self, z: Tensor, labels: Tensor | None) -> Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]  # [N, Z, 1, 1]; a spatial z [N, Z, h, w] grows a canvas
        if self.embed is None:
            return z
        if labels is None:
            labels = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
        e = self.embed(labels)[:, :, None, None].expand(-1, -1, z.shape[2], z.shape[3])
        return torch.cat([z, e.to(z.dtype)], dim=1)  # [N, 2Z, h, w]


def channel_plan(resolution: int, base: int, cap: int) -> dict[int, int]:
    """Channels per feature-map size: `base` at full resolution, doubling per halving, capped."""
    plan, size, ch = {}, resolution, base
    while size >= 4:
        plan[size] = min(ch, cap)
        size //= 2
        ch *= 2
    return plan


def check_resolution(resolution: int) -> None:
    if resolution < 16 or resolution > 1024 or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two from 16 to 1024, got {resolution}")


def sn_conv(cin: int, cout: int, k: int, s: int = 1, p: int = 0, bias: bool = True) -> nn.Module:
    return spectral_norm(nn.Conv2d(cin, cout, k, s, p, bias=bias))


class ProjectionHead(nn.Module):
    """Discriminator output: linear score plus a class projection for conditional models."""

    def __init__(self, channels: int, n_labels: int) -> None:
        super().__init__()
        self.linear = spectral_norm(nn.Linear(channels, 1))
        self.embed = spectral_norm(nn.Embedding(n_labels, channels)) if n_labels > 0 else None

    def forward(self, h: Tensor, labels: Tensor | None) -> Tensor:
        h = h.sum(dim=(2, 3))  # [N, C]
        out = self.linear(h)[:, 0]
        if self.embed is not None and labels is not None:
            out = out + (self.embed(labels) * h).sum(dim=1)
        return out  # [N]


class DownBlock(nn.Module):
    """Residual discriminator block that halves the feature map (spectral norm, LeakyReLU)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.LeakyReLU(0.2),
            sn_conv(cin, cout, 3, 1, 1),
            nn.LeakyReLU(0.2),
            sn_conv(cout, cout, 3, 1, 1),
            nn.AvgPool2d(2),
        )
        self.skip = nn.Sequential(nn.AvgPool2d(2), sn_conv(cin, cout, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        return (self.main(x) + self.skip(x)) * 0.7071
