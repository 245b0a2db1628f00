"""The discriminator shared by every generator: residual, spectral norm, projection head."""

from __future__ import annotations

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
