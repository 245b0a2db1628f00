"""DiffAugment: differentiable colour, translation and cutout, applied to reals and fakes alike.

Augmenting both sides of the discriminator (and the generator's pass through it) keeps
a discriminator from memorising a few hundred images, without leaking the augmentation
into what the generator learns (Zhao et al. 2020).

How much to augment depends on the data: a few hundred pictures need it from early on,
thousands hardly at first. `AugmentStrength` sets it as ADA does (Karras et al. 2020):
each augmentation reaches a share p of the batch, and p follows how sure the
discriminator is of the reals it trains on.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from livegan.errors import LiveganError

POLICIES = ("color", "translation", "cutout")
AUTO = "auto"  # the policy chosen by the size of the training set (resolve_policy)
MANY_IMAGES = 1000  # from here on, `auto` is translation alone
LARGE_SET_POLICY, SMALL_SET_POLICY = "translation", ",".join(POLICIES)


def resolve_policy(text: str, images: int) -> str:
    """`auto` -> the policy for a set of `images` pictures; any other text unchanged.

    Translation alone from MANY_IMAGES images on: on the quality bench's 2,000-image set
    it scored better than colour, translation and cutout in four paired runs
    (docs/training.md, "Ablation: faster eyes ..."). Smaller sets get all three, as DiffAugment recommends
    for a few hundred images, where a discriminator otherwise memorises them."""
    if text.strip().lower() != AUTO:
        return text
    return LARGE_SET_POLICY if images >= MANY_IMAGES else SMALL_SET_POLICY


def parse_policy(text: str) -> tuple[str, ...]:
    """'color,translation,cutout' -> tuple; '' or 'none' -> (); 'auto' -> all three (what
    a set of unknown size gets; resolve_policy decides once the set is read); LiveganError
    on unknown names."""
    key = text.strip().lower()
    if key in ("", "none", "off"):
        return ()
    if key == AUTO:
        return POLICIES
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise LiveganError(f"--augment: unknown augmentation {', '.join(unknown)}; use a "
                           f"comma-separated list of {', '.join(POLICIES)}, none, or auto")
    return names


def diff_augment(x: Tensor, policy: tuple[str, ...], p: float = 1.0) -> Tensor:
    """Apply the named augmentations to a batch [N, 3, H, W] in [-1, 1], each to a random
    share `p` of its images (all of them at p = 1, none at p = 0)."""
    if p <= 0:
        return x
    for name in policy:
        if p >= 1:
            x = _AUGMENTS[name](x)
        else:
            chosen = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < p
            x = torch.where(chosen, _AUGMENTS[name](x), x)
    return x


class AugmentStrength:
    """ADA's controller: the share p of images that each augmentation reaches.

    `target` 0 means a fixed p = 1 (every image, every augmentation). Otherwise p starts
    at 0 and, every INTERVAL steps, moves by `batch * INTERVAL / FULL_SWING` towards
    keeping r = mean(sign(D(real))) at `target`: a discriminator that scores almost every
    real image as real is memorising them, and more augmentation hides what it memorises.
    FULL_SWING is far shorter than ADA's 500k images, because a CPU run sees tens of
    thousands of images, not millions.
    """

    INTERVAL = 4  # steps between adjustments
    FULL_SWING = 5_000  # images over which p can go from 0 to 1

    def __init__(self, target: float, batch: int) -> None:
        self.target = target
        self.p = 0.0 if target > 0 else 1.0
        self.delta = batch * self.INTERVAL / self.FULL_SWING
        self.signs: list[float] = []  # mean(sign(D(real))) of the steps since the last move

    @property
    def adaptive(self) -> bool:
        return self.target > 0

    def observe(self, d_real: Tensor) -> None:
        """After a discriminator step: its scores of the reals [N, ...]."""
        if not self.adaptive:
            return
        self.signs.append(float(d_real.detach().float().sign().mean()))
        if len(self.signs) >= self.INTERVAL:
            r = sum(self.signs) / len(self.signs)
            self.p = min(1.0, max(0.0, self.p + math.copysign(self.delta, r - self.target)))
            self.signs = []

    def state_dict(self) -> dict:
        return {"p": self.p, "signs": list(self.signs)}

    def load_state_dict(self, state: dict | None) -> None:
        """A checkpoint's strength; one from before it had one keeps the constructor's."""
        if state:
            self.p, self.signs = float(state["p"]), [float(v) for v in state["signs"]]


def _color(x: Tensor) -> Tensor:
    n = x.shape[0]
    x = x + (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) * 2) + mean
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5) + mean


def _translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    ty = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    gb, gx, gy = torch.meshgrid(
        torch.arange(n, device=x.device),
        torch.arange(h, device=x.device),
        torch.arange(w, device=x.device),
        indexing="ij",
    )
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)


def _cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    oy = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    gb, gx, gy = torch.meshgrid(
        torch.arange(n, device=x.device),
        torch.arange(ch, device=x.device),
        torch.arange(cw, device=x.device),
        indexing="ij",
    )
    gx = torch.clamp(gx + ox - ch // 2, 0, h - 1)
    gy = torch.clamp(gy + oy - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


_AUGMENTS = {"color": _color, "translation": _translation, "cutout": _cutout}
