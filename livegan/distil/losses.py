"""What a student learns from: the teacher's pixels, its frozen InceptionV3 feature maps, and
the projected discriminator (livegan.nets.projected), which judges the student's frames
against the teacher's so it stays crisp where it cannot match exactly.

One pass of the frozen network per frame serves both: the raw maps give the feature
distance, their fixed random projections (as the discriminator's own `look`) feed its heads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from livegan.nets import pretrained
from livegan.nets.projected import ProjectedDiscriminator


def l1(student: Tensor, teacher: Tensor) -> Tensor:
    """Mean absolute difference of frames [N, 3, R, R] (in fp32)."""
    return (student.float() - teacher.float()).abs().mean()


def squared(student: Tensor, teacher: Tensor) -> Tensor:
    """Mean squared difference of frames [N, 3, R, R] (in fp32): the error PSNR measures.
    It learns the teacher's frames about twice as fast per CPU-minute as the absolute
    difference (docs/distil.md), which settles on the picture most latents share."""
    return (student.float() - teacher.float()).pow(2).mean()


def feature_distance(student: list[Tensor], teacher: list[Tensor]) -> Tensor:
    """Sum over the tapped maps of the mean squared distance between the two frames' maps,
    each position's channel vector at unit length (LPIPS without its learned weights):
    0 for equal maps, at most 4 per map."""
    total = torch.zeros((), device=student[0].device)
    for s, t in zip(student, teacher):
        s = F.normalize(s.float(), dim=1)
        t = F.normalize(t.float(), dim=1)
        total = total + (s - t).pow(2).sum(dim=1).mean()
    return total


class Judge:
    """The projected discriminator with its frozen front split off: `see` runs InceptionV3's
    first stages once per frame; `project` makes the discriminator's maps of them."""

    def __init__(self, d: ProjectedDiscriminator) -> None:
        self.d = d

    def see(self, images: Tensor) -> list[Tensor]:
        """Frames [N, 3, R, R] in [-1, 1] -> InceptionV3's four tapped maps, with a graph
        back to the frames only when they want one."""
        d = self.d
        x = images
        if x.shape[-1] != d.size:  # in fp32: antialiased resizing has no bf16 kernel
            x = F.interpolate(x.float(), size=(d.size, d.size), mode="bilinear",
                              align_corners=False, antialias=x.shape[-1] > d.size)
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.set_grad_enabled(torch.is_grad_enabled() and x.requires_grad):
            return d.features(pretrained.to_input_range(x))

    def project(self, raw: list[Tensor]) -> list[Tensor]:
        """The discriminator's projected, mixed maps of `see`'s maps (as its `look`)."""
        d = self.d
        maps = [proj(m) for proj, m in zip(d.project, raw)]
        for i in range(len(maps) - 2, -1, -1):  # coarse to fine: each gets the one below
            up = F.interpolate(maps[i + 1], size=maps[i].shape[-2:], mode="bilinear",
                               align_corners=False)
            maps[i] = maps[i] + d.mix[i](up)
        return maps

    def judge(self, maps: list[Tensor]) -> Tensor:
        return self.d.judge(maps)  # [N, P]
