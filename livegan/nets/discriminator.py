"""Discriminators: the residual one of the first models, and FastGAN's self-supervised one."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livegan.nets.layers import DownBlock, ProjectionHead, channel_plan, check_resolution, sn_conv


class Discriminator(nn.Module):
    """image [N, 3, R, R] -> realness score [N].

    Spectral norm on every layer keeps training stable on a few hundred images;
    a projection head scores (image, label) pairs for conditional models.
    """

    def __init__(self, resolution: int = 128, ndf: int = 16, cap: int = 256, n_labels: int = 0):
        super().__init__()
        check_resolution(resolution)
        plan = channel_plan(resolution, ndf, cap)
        blocks: list[nn.Module] = [sn_conv(3, plan[resolution], 3, 1, 1)]
        size = resolution
        while size > 4:
            blocks.append(DownBlock(plan[size], plan[size // 2]))
            size //= 2
        blocks.append(nn.LeakyReLU(0.2))
        self.main = nn.Sequential(*blocks)
        self.head = ProjectionHead(plan[4], n_labels)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.head(self.main(x), labels)  # [N]


class Decoder(nn.Module):
    """FastGAN's small decoder: a D feature map [N, C, 8, 8] -> image [N, 3, 32, 32]."""

    def __init__(self, cin: int, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.AdaptiveAvgPool2d(8)]
        c = cin
        for _ in range(2):  # 8 -> 16 -> 32
            layers += [nn.Upsample(scale_factor=2.0, mode="nearest"),
                       nn.Conv2d(c, width * 2, 3, 1, 1, bias=False),
                       nn.BatchNorm2d(width * 2), nn.GLU(dim=1)]
            c = width
        layers += [nn.Conv2d(c, 3, 3, 1, 1), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)  # [N, 3, 32, 32]


class SelfSupervisedDiscriminator(nn.Module):
    """image [N, 3, R, R] -> realness score [N], and on real images a reconstruction loss.

    Above 64x64 it looks at the image with one narrow 3x3 convolution per size before
    averaging it down, so its residual blocks only ever see 64x64 and smaller (a CPU spends
    its time where shapes are judged). Strided convolutions are avoided on purpose: their
    blind spots repeat every few pixels, and a generator learns to fill them with a
    repeating pattern. As in
    FastGAN, two small decoders rebuild the whole input from the 8x8 features and a random
    quarter of it from the 16x16 ones: the discriminator must keep features that describe
    the image, which stops it from overfitting a few hundred pictures and needs no
    pretrained network. `forward(x, labels, reconstruct=True)` returns (score, L1 loss).
    """

    def __init__(self, resolution: int = 128, ndf: int = 16, cap: int = 256, n_labels: int = 0):
        super().__init__()
        check_resolution(resolution)
        size = min(resolution, 64)
        plan = channel_plan(size, ndf, cap)  # ndf channels at 64x64 (or the image size)
        stem: list[nn.Module] = []
        c, big = 3, resolution
        while big > 64:  # one narrow 3x3 conv per size above 64x64, then a 2x2 average
            width = max(8, ndf * 64 // big)
            stem += [sn_conv(c, width, 3, 1, 1), nn.LeakyReLU(0.2), nn.AvgPool2d(2)]
            c, big = width, big // 2
        stem.append(sn_conv(c, plan[size], 3, 1, 1))
        self.stem = nn.Sequential(*stem)
        self.blocks = nn.ModuleDict()
        while size > 4:
            self.blocks[str(size // 2)] = DownBlock(plan[size], plan[size // 2])
            size //= 2
        self.head = nn.LeakyReLU(0.2)
        self.score = ProjectionHead(plan[4], n_labels)
        self.decode_whole = Decoder(plan[8]) if resolution >= 32 else None
        self.decode_part = Decoder(plan[16]) if resolution >= 32 else None

    def forward(self, x: Tensor, labels: Tensor | None = None, reconstruct: bool = False):
        h = self.stem(x)
        kept = {}
        for size, block in self.blocks.items():
            h = block(h)
            kept[int(size)] = h
        score = self.score(self.head(h), labels)  # [N]
        if not reconstruct:
            return score
        if self.decode_whole is None:
            return score, score.new_zeros(())
        return score, self._reconstruction(x, kept[8], kept[16])

    def _reconstruction(self, x: Tensor, f8: Tensor, f16: Tensor) -> Tensor:
        """L1 between the decoders' images and the input: whole (at 32x32) and one random
        quarter of the 16x16 features against the same quarter of the input (at 64x64)."""
        whole = F.interpolate(x.float(), size=(32, 32), mode="area")
        half = F.interpolate(x.float(), size=(64, 64), mode="area")
        qy, qx = (int(v) for v in torch.randint(0, 2, (2,)))
        part = f16[:, :, qy * 8:qy * 8 + 8, qx * 8:qx * 8 + 8]  # [N, C, 8, 8]
        target = half[:, :, qy * 32:qy * 32 + 32, qx * 32:qx * 32 + 32]
        loss = F.l1_loss(self.decode_whole(f8).float(), whole)
        return loss + F.l1_loss(self.decode_part(part).float(), target)
