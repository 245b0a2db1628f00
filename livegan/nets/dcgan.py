"""The classic DCGAN shape (art-DCGAN): strided transposed convolutions, fully convolutional."""

from __future__ import annotations

from torch import Tensor, nn

from livegan.nets.layers import (
    LabelInput,
    channel_plan,
    check_resolution,
    feature_norm,
    latent_stem,
)


class DCGANGenerator(nn.Module):
    """z [N, Z] (or a spatial z [N, Z, h, w]) -> image [N, 3, R, R] in [-1, 1]."""

    def __init__(
        self, resolution: int = 128, z_dim: int = 128, ngf: int = 32, cap: int = 512,
        n_labels: int = 0, norm: str = "batch",
    ) -> None:
        super().__init__()
        check_resolution(resolution)
        self.resolution, self.z_dim, self.n_labels = resolution, z_dim, n_labels
        self.label_input = LabelInput(z_dim, n_labels)
        plan = channel_plan(resolution, ngf, cap)
        layers: list[nn.Module] = [*latent_stem(z_dim, n_labels, plan[4], norm)]
        size = 4
        while size < resolution:
            layers += [
                nn.ConvTranspose2d(plan[size], plan[size * 2], 4, 2, 1),
                feature_norm(norm, plan[size * 2]),
                nn.LeakyReLU(0.2),
            ]
            size *= 2
        layers += [nn.Conv2d(plan[resolution], 3, 3, 1, 1), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.main(self.label_input(z, labels))  # [N, 3, R, R]
