"""An Inception-Score analogue for the glyph set: a small classifier trained on the real
training glyphs judges how distinct and recognisable a set of pictures is.

score = exp(E_x KL(p(y|x) || p(y))) (Salimans et al. 2016), with p(y|x) from a classifier of
this set's own glyphs instead of ImageNet's InceptionV3: near the number of glyphs for sharp
pictures of every glyph in equal shares, 1 for pictures it cannot tell apart. The bench
reports it for the samples, for held-out real glyphs and for their blurred copies; the
samples' share of the held-out glyphs' score is what compares across runs.
"""

from __future__ import annotations

import logging
import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn

log = logging.getLogger(__name__)

JUDGE_RES = 32  # the classifier sees grey 32 x 32 pictures
STEPS = 300  # training steps, whatever the number of glyphs (15 s on one core)
BATCH = 64
SHIFT = 2  # training pictures move by up to this many pixels (the classifier's augmentation)


def _grey(images: Tensor) -> Tensor:
    """Images [N, 3, R, R] in [-1, 1] (or uint8) -> grey [N, 1, 32, 32] in [-1, 1]."""
    if images.dtype == torch.uint8:
        images = images.float().div(127.5).sub(1.0)
    grey = images.float().mean(dim=1, keepdim=True)  # [N, 1, R, R]
    return F.interpolate(grey, size=(JUDGE_RES, JUDGE_RES), mode="area")


class GlyphClassifier(nn.Module):
    """Three 3x3 conv blocks with max pooling and a linear layer: [N, 1, 32, 32] -> logits."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for cout in (32, 64, 128):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                       nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*layers)  # [N, 128, 4, 4]
        self.head = nn.Linear(128 * 16, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).flatten(1))  # [N, classes]


def _shifted(x: Tensor, gen: torch.Generator) -> Tensor:
    dx, dy = (int(v) for v in torch.randint(-SHIFT, SHIFT + 1, (2,), generator=gen))
    padded = F.pad(x, (SHIFT,) * 4, value=1.0)  # white paper around the glyph
    return padded[..., SHIFT + dy:SHIFT + dy + JUDGE_RES, SHIFT + dx:SHIFT + dx + JUDGE_RES]


class GlyphJudge:
    """Trains the classifier on labelled real glyphs (seconds on one core) and scores sets.

    The random state is its own: building a judge beside a training run changes nothing
    in that run.
    """

    def __init__(self, images: Tensor, labels: Tensor, classes: int, seed: int = 0) -> None:
        """images: uint8 [N, 3, R, R]; labels: int64 [N] in 0..classes-1."""
        start = time.perf_counter()
        gen = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net = GlyphClassifier(classes)
        self.classes = classes
        x, y = _grey(images), labels
        opt = torch.optim.Adam(self.net.parameters(), lr=2e-3)
        self.net.train()
        for _ in range(STEPS):
            index = torch.randint(x.shape[0], (BATCH,), generator=gen)
            loss = F.cross_entropy(self.net(_shifted(x[index], gen)), y[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        self.net.eval().requires_grad_(False)
        log.info("glyph classifier trained on %d glyphs in %.0f s", x.shape[0],
                 time.perf_counter() - start)

    @torch.no_grad()
    def probabilities(self, images: Tensor) -> Tensor:
        """p(y|x) [N, classes] of images [N, 3, R, R] in [-1, 1] (or uint8)."""
        return torch.cat([F.softmax(self.net(_grey(chunk)), dim=1)
                          for chunk in images.split(256)])

    def accuracy(self, images: Tensor, labels: Tensor) -> float:
        """Share of `images` whose most likely class is their label."""
        return float((self.probabilities(images).argmax(1) == labels).float().mean())

    def score(self, images: Tensor) -> float:
        """exp(E_x KL(p(y|x) || p(y))): 1 (nothing told apart) up to `classes`."""
        return self.figures(images)["glyph_score"]

    def figures(self, images: Tensor) -> dict[str, float]:
        """A bench row's glyph figures: the score and its two factors (parts), rounded."""
        kinds, doubt = self.parts(images)
        return {"glyph_score": round(kinds / doubt, 4), "glyph_kinds": round(kinds, 2),
                "glyph_doubt": round(doubt, 2)}

    def parts(self, images: Tensor) -> tuple[float, float]:
        """The score's two factors (score = kinds / doubt): how many glyphs the pictures
        draw, in equal shares (exp of the entropy of p(y), 1..classes), and how many each
        picture is taken for (exp of the mean entropy of p(y|x): 1 for sure, more for a
        blend or a half-formed glyph)."""
        p = self.probabilities(images).double().clamp_min(1e-12)  # [N, C]
        marginal = p.mean(0)  # [C]
        kinds = (-(marginal * marginal.log()).sum()).exp()
        doubt = (-(p * p.log()).sum(1).mean()).exp()
        return float(kinds), float(doubt)
