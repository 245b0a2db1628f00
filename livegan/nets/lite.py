"""A light FastGAN-style generator for small data sets: skip-layer excitation, one conv per scale."""

from __future__ import annotations

import math

from torch import Tensor, nn

from livegan.nets.layers import (
    LabelInput,
    channel_plan,
    check_resolution,
    feature_norm,
    latent_stem,
)


class SkipExcitation(nn.Module):
    """FastGAN's skip-layer excitation: a coarse map gates the channels of a fine one."""

    def __init__(self, c_small: int, c_big: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(c_small, c_big, 4, 1, 0),
            nn.SiLU(),
            nn.Conv2d(c_big, c_big, 1, 1, 0),
            nn.Sigmoid(),
        )

    def forward(self, small: Tensor, big: Tensor) -> Tensor:
        return big * self.main(small)  # [N, Cb, H, W] * [N, Cb, 1, 1]


class UpBlock(nn.Module):
    """Double the map: nearest upsample, 3x3 conv, norm, LeakyReLU."""

    def __init__(self, cin: int, cout: int, norm: str = "batch") -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1)
        self.act = nn.Sequential(feature_norm(norm, cout), nn.LeakyReLU(0.2))

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.act(self.conv(x))


class LiteGenerator(nn.Module):
    """z [N, Z] (or spatial [N, Z, h, w]) -> image [N, 3, R, R] in [-1, 1].

    Feature maps at 4 and 8 excite those at R/2 and R (FastGAN's SLE), which lets
    a small network keep global structure without attention or style layers.
    """

    def __init__(
        self, resolution: int = 128, z_dim: int = 128, ngf: int = 16, cap: int = 256,
        n_labels: int = 0, norm: str = "batch",
    ) -> None:
        super().__init__()
        check_resolution(resolution)
        self.resolution, self.z_dim, self.n_labels = resolution, z_dim, n_labels
        self.label_input = LabelInput(z_dim, n_labels)
        plan = channel_plan(resolution, ngf, cap)
        self.init = latent_stem(z_dim, n_labels, plan[4], norm)
        sizes = [4 * 2**i for i in range(1, int(math.log2(resolution)) - 1)]
        self.ups = nn.ModuleList(UpBlock(plan[s // 2], plan[s], norm) for s in sizes)
        self.sizes = sizes
        self.excite = nn.ModuleDict(
            {
                str(resolution // 2): SkipExcitation(plan[4], plan[resolution // 2]),
                str(resolution): SkipExcitation(plan[8], plan[resolution]),
            }
        )
        self.to_rgb = nn.Sequential(nn.Conv2d(plan[resolution], 3, 3, 1, 1), nn.Tanh())

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        x = self.init(self.label_input(z, labels))  # [N, C4, 4, 4]
        feats = {4: x}
        for size, up in zip(self.sizes, self.ups):
            x = up(x)
            if str(size) in self.excite:
                source = feats[4] if size == self.resolution // 2 else feats[8]
                x = self.excite[str(size)](source, x)
            if size == 8:
                feats[8] = x
        return self.to_rgb(x)  # [N, 3, R, R]
