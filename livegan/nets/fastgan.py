"""FastGAN's generator (Liu et al. 2021), sized so a 2-core CPU renders 256x256 live.

Compared with `lite`, it adds what FastGAN found to learn shapes fast on a few hundred
images (two convolutions with GLU per coarse scale, skip-layer excitation at three scales,
optional noise injection) and spends far less at high resolution: the channel count is
capped low, and the last doubling is a sub-pixel convolution (one 3x3 conv to 12 channels,
then a pixel shuffle), so no feature map ever lives at full resolution. The cost per frame
is about a third of `lite` at 256x256, which is what lets the CPU engines keep 60 fps.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from livegan.nets.layers import (
    LabelInput,
    channel_plan,
    check_resolution,
    feature_norm,
    latent_stem,
)
from livegan.nets.lite import SkipExcitation

EXCITE = ("none", "lite", "fastgan")


class NoiseInjection(nn.Module):
    """Per-pixel noise scaled by one learned weight (StyleGAN); zero-initialised.

    Only while training: a live frame must be a pure function of the latent, or a held
    latent would shimmer.
    """

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return x
        n, _, h, w = x.shape
        return x + self.weight * torch.randn(n, 1, h, w, device=x.device, dtype=x.dtype)


class GluConv(nn.Module):
    """3x3 conv to twice the channels, (noise), norm, GLU: the gate picks what passes."""

    def __init__(self, cin: int, cout: int, norm: str, noise: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout * 2, 3, 1, 1, bias=False)
        self.noise = NoiseInjection() if noise else nn.Identity()
        self.norm = feature_norm(norm, cout * 2)
        self.glu = nn.GLU(dim=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.glu(self.norm(self.noise(self.conv(x))))


class FastGANUp(nn.Module):
    """Double the map (nearest), then two GluConvs (FastGAN's UpBlockComp) on coarse maps,
    or one conv, norm and LeakyReLU on fine ones, where a GLU's doubled channels cost most."""

    def __init__(self, cin: int, cout: int, norm: str, noise: bool, double: bool) -> None:
        super().__init__()
        if double:
            self.convs = nn.Sequential(GluConv(cin, cout, norm, noise),
                                       GluConv(cout, cout, norm, noise))
        else:
            self.convs = nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False),
                                       feature_norm(norm, cout), nn.LeakyReLU(0.2))

    def forward(self, x: Tensor) -> Tensor:
        return self.convs(nn.functional.interpolate(x, scale_factor=2.0, mode="nearest"))


def excite_pairs(resolution: int, top: int, kind: str) -> dict[int, int]:
    """Which coarse map (value) excites which fine one (key), up to the `top` feature size."""
    if kind not in EXCITE:
        raise ValueError(f"unknown excite '{kind}'; choose from {', '.join(EXCITE)}")
    if kind == "none":
        return {}
    if kind == "lite":
        return {top // 2: 4, top: 8}
    pairs = {top // 4: 4, top // 2: 8, top: 16}  # FastGAN: 4->64, 8->128, 16->256 at 256
    return {fine: coarse for fine, coarse in pairs.items() if fine >= 4 * coarse}


@torch.no_grad()
def icnr_(conv: nn.Conv2d, scale: int) -> None:
    """Start a sub-pixel convolution as nearest upsampling (ICNR, Aitken et al. 2017): the
    scale^2 outputs that a pixel shuffle spreads over one block get the same weights, so
    training begins without the shuffle's checkerboard and only learns the detail."""
    groups = scale * scale
    base = conv.weight[::groups].clone()  # [3, C, k, k]: one kernel per colour
    conv.weight.copy_(base.repeat_interleave(groups, dim=0))
    if conv.bias is not None:
        conv.bias.copy_(conv.bias[::groups].repeat_interleave(groups))


class LatentMapping(nn.Module):
    """z at unit RMS, then `layers` dense layers with LeakyReLU, to a latent of z's size (as
    StyleGAN's mapping network: a distilled student starts from its teacher's). A spatial z
    [N, Z, h, w] is mapped at each position."""

    def __init__(self, z_dim: int, layers: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(*[m for _ in range(layers)
                                      for m in (nn.Linear(z_dim, z_dim), nn.LeakyReLU(0.2))])

    def forward(self, z: Tensor) -> Tensor:
        x = z.movedim(1, -1) if z.dim() == 4 else z  # [..., Z]
        x = self.layers(x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + 1e-8))
        return x.movedim(-1, 1) if z.dim() == 4 else x


class FastGANGenerator(nn.Module):
    """z [N, Z] (or spatial [N, Z, h, w]) -> image [N, 3, R, R] in [-1, 1].

    Feature maps grow from 4x4 to R/2 (or R with shuffle=False); scales up to `double_up`
    get two gated convolutions, finer ones one plain convolution; the image is read out by
    a sub-pixel convolution. `mapping` > 0 puts that many dense layers before it all
    (LatentMapping).
    """

    def __init__(
        self, resolution: int = 256, z_dim: int = 128, ngf: int = 12, cap: int = 96,
        n_labels: int = 0, norm: str = "batch", double_up: int = 16, noise: bool = False,
        excite: str = "fastgan", shuffle: bool = True, mapping: int = 0,
    ) -> None:
        super().__init__()
        check_resolution(resolution)
        self.resolution, self.z_dim, self.n_labels = resolution, z_dim, n_labels
        self.mapping = LatentMapping(z_dim, mapping) if mapping else None
        self.label_input = LabelInput(z_dim, n_labels)
        top = resolution // 2 if shuffle else resolution  # the largest feature map
        plan = channel_plan(resolution, ngf, cap)  # the map at R/2 has 2 * ngf channels
        self.init = latent_stem(z_dim, n_labels, plan[4], norm)
        self.sizes = [4 * 2**i for i in range(1, int(math.log2(top)) - 1)]
        self.ups = nn.ModuleList(
            FastGANUp(plan[s // 2], plan[s], norm, noise, s <= double_up) for s in self.sizes)
        self.pairs = excite_pairs(resolution, top, excite)
        self.excite = nn.ModuleDict({str(fine): SkipExcitation(plan[coarse], plan[fine])
                                     for fine, coarse in self.pairs.items()})
        scale = 2 if shuffle else 1
        self.to_rgb = nn.Sequential(
            nn.Conv2d(plan[top], 3 * scale * scale, 3, 1, 1),
            nn.PixelShuffle(scale) if shuffle else nn.Identity(),
            nn.Tanh(),
        )
        if shuffle:
            icnr_(self.to_rgb[0], scale)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.mapping is not None:
            z = self.mapping(z)  # [N, Z]
        x = self.init(self.label_input(z, labels))  # [N, C4, 4, 4]
        kept = {4: x}
        sources = set(self.pairs.values())
        for size, up in zip(self.sizes, self.ups):
            x = up(x)  # [N, C, size, size]
            if size in self.pairs:
                x = self.excite[str(size)](kept[self.pairs[size]], x)
            if size in sources:
                kept[size] = x
        return self.to_rgb(x)  # [N, 3, R, R]
