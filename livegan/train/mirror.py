"""Whether a data set looks the same in a mirror: `--mirror auto` decides flips by the data.

Random horizontal flips double a small set for free when the pictures could as well have
been taken mirrored (landscapes, textures, most photographs); on letters, symbols or anything
with a handedness they teach the generator shapes that are never in the data. The test: a
small convolutional network learns to tell the pictures from their mirror images on three
quarters of them, and is asked about the other quarter. Where it is right far more often
than chance, the set has a handedness and is not flipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

log = logging.getLogger(__name__)

TEST_RES = 32  # the pictures are judged at 32 x 32
MAX_PICTURES = 1024  # at most this many pictures take part
MIN_PICTURES = 32  # fewer cannot tell a handedness from chance: flip, as before
STEPS = 300  # training steps of the judge (about 5 s on one core)
BATCH = 32  # pictures per step, each with its mirror image
HANDED = 0.7  # held-out accuracy at or above this: the set has a handedness (chance is 0.5)


@dataclass(frozen=True)
class MirrorDecision:
    """What `--mirror auto` found: flip or not, and the judge's held-out accuracy."""

    flip: bool
    accuracy: float | None  # None: too few pictures to test
    pictures: int

    def sentence(self) -> str:
        if self.accuracy is None:
            return (f"mirroring the pictures (--mirror auto: {self.pictures} pictures are too "
                    f"few to test for a handedness; --mirror off if they have one)")
        if self.flip:
            return (f"mirroring the pictures (--mirror auto: a mirrored picture looks like the "
                    f"data, told apart {100 * self.accuracy:.0f}% of the time, chance is 50%)")
        return (f"not mirroring the pictures (--mirror auto: they have a handedness, a mirrored "
                f"one was told apart {100 * self.accuracy:.0f}% of the time; --mirror on "
                f"overrides)")


class _Judge(nn.Module):
    """Three strided 3x3 convolutions on the grey picture and one linear score over the
    4 x 4 map (original > mirror). Grey and small, so it cannot learn to recognise a few
    source pictures by their colours and remember which way each faces; the linear layer
    sees where things are, as on a centred letter."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 3, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 32, 3, 2, 1), nn.LeakyReLU(0.2),
        )  # [N, 32, 4, 4]
        self.head = nn.Linear(32 * 16, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.net(x).flatten(1)).squeeze(1)  # [N]


def _small(images: Tensor) -> Tensor:
    """uint8 [N, 3, R, R] -> grey [N, 1, 32, 32] in [-1, 1]."""
    x = images.float().div(127.5).sub(1.0).mean(dim=1, keepdim=True)
    return F.interpolate(x, size=(TEST_RES, TEST_RES), mode="area") \
        if x.shape[-1] != TEST_RES else x


def handedness(images: Tensor, seed: int = 0) -> float | None:
    """Held-out accuracy (0.5 = chance) of a small network telling pictures [N, 3, R, R]
    (uint8) from their mirror images; None with fewer than MIN_PICTURES. The global random
    state is left as it was."""
    n = images.shape[0]
    if n < MIN_PICTURES:
        return None
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=gen)[:MAX_PICTURES]
    x = torch.cat([_small(images[part]) for part in order.split(128)])  # [M, 1, 32, 32]
    split = x.shape[0] * 3 // 4
    train, test = x[:split], x[split:]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        judge = _Judge()
    opt = torch.optim.Adam(judge.parameters(), lr=2e-3)
    target = torch.cat([torch.ones(BATCH), torch.zeros(BATCH)])
    for _ in range(STEPS):
        batch = train[torch.randint(split, (BATCH,), generator=gen)]
        logits = judge(torch.cat([batch, batch.flip(3)]))
        loss = F.binary_cross_entropy_with_logits(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():  # right when the picture scores above its own mirror image
        right = judge(test) > judge(test.flip(3))
    return float(right.float().mean())


def decide(mode: str, images: Tensor, seed: int = 0) -> MirrorDecision:
    """`--mirror on|off|auto` for the pictures [N, 3, R, R] (uint8) of a set."""
    if mode in ("on", "off"):
        return MirrorDecision(mode == "on", None, images.shape[0])
    accuracy = handedness(images, seed)
    flip = accuracy is None or accuracy < HANDED
    return MirrorDecision(flip, accuracy, images.shape[0])
