"""Quality figures without downloaded weights: KID on fixed random features, colour, coverage,
diversity and memorisation of a small batch of samples against the training images.

FID and KID are usually computed on Inception features, which means downloading a network
trained on ImageNet. These figures use a small convolutional network with fixed random
weights instead: its multi-scale channel statistics respond to colour, contrast, edges and
texture, but it knows nothing of objects. So the figures are good for following one run
(and comparing runs on the same data): lower KID and colour distance, precision and recall
near 1, diversity near 1 mean the samples look statistically more like the data. They are
not comparable with published FID/KID values, and they cannot say whether a face has two
eyes.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn

log = logging.getLogger(__name__)

FEATURE_RES = 64  # every image is resized to this before features, so any --res compares
PIXEL_RES = 32  # thumbnails for the memorisation check
MAX_REALS = 256  # real images the feature statistics are taken from
MAX_MEMORY = 4096  # training images searched for nearest neighbours
DIVERSITY_WARNING = 0.5  # samples less diverse than this fraction of the data: mode collapse
DUPLICATES_WARNING = 0.75  # more than this fraction of samples with a near-twin: collapse
COPIES_WARNING = 0.25  # more than this fraction of samples next to a training image


class RandomFeatures(nn.Module):
    """A fixed random conv net; the mean and spread of each channel at 4 scales -> [N, F]."""

    def __init__(self, seed: int = 0, widths: tuple[int, ...] = (32, 64, 128, 256)) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        layers, cin = [], 3
        for cout in widths:
            conv = nn.utils.skip_init(nn.Conv2d, cin, cout, 3, 2, 1)  # leaves torch's RNG alone
            with torch.no_grad():  # He init from our own generator: same net on every machine
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * (2 / (cin * 9)) ** 0.5)
                conv.bias.zero_()
            layers.append(conv)
            cin = cout
        self.layers = nn.ModuleList(layers)
        self.requires_grad_(False).eval()

    def forward(self, images: Tensor) -> Tensor:
        x = F.interpolate(images.float(), size=(FEATURE_RES, FEATURE_RES), mode="area")
        stats = []
        for conv in self.layers:
            x = F.leaky_relu(conv(x), 0.2)  # [N, C, h, w]
            stats += [x.mean(dim=(2, 3)), x.std(dim=(2, 3))]
        return torch.cat(stats, dim=1)  # [N, F]


def kid(a: Tensor, b: Tensor) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel (x.y/d + 1)^3 of KID (Binkowski 2018)."""
    d = a.shape[1]
    kaa, kbb, kab = ((x @ y.T / d + 1) ** 3 for x, y in ((a, a), (b, b), (a, b)))
    m, n = a.shape[0], b.shape[0]
    aa = (kaa.sum() - kaa.diagonal().sum()) / (m * (m - 1))
    bb = (kbb.sum() - kbb.diagonal().sum()) / (n * (n - 1))
    return float(aa + bb - 2 * kab.mean())


def colour_histogram(images: Tensor, bins: int = 8) -> Tensor:
    """Joint RGB histogram of images in [-1, 1] [N, 3, H, W] -> [bins^3], sums to 1."""
    q = ((images.clamp(-1, 1) + 1) * 0.5 * (bins - 1e-4)).long()  # [N, 3, H, W]
    index = (q[:, 0] * bins + q[:, 1]) * bins + q[:, 2]
    hist = torch.bincount(index.flatten(), minlength=bins**3).float()
    return hist / hist.sum()


def _pairwise(a: Tensor, b: Tensor) -> Tensor:
    return torch.cdist(a, b)  # [A, B] euclidean


def _mean_offdiag(d: Tensor) -> float:
    n = d.shape[0]
    return float(d.sum() / (n * (n - 1))) if n > 1 else 0.0


def _knn_radius(feats: Tensor, k: int) -> Tensor:
    d = _pairwise(feats, feats)
    return d.kthvalue(k + 1, dim=1).values  # [N]: distance to the k-th other point


def _coverage(points: Tensor, manifold: Tensor, k: int) -> float:
    """Fraction of `points` inside some k-NN ball of `manifold` (Kynkaanniemi 2019)."""
    radius = _knn_radius(manifold, k)  # [M]
    inside = _pairwise(points, manifold) <= radius[None, :]
    return float(inside.any(dim=1).float().mean())


class QualityProbe:
    """Holds the real-image statistics of one data set; `measure(samples)` compares a batch.

    Build once per run (about a second); each measurement of 64 samples takes a fraction
    of a second on a CPU. Nothing here touches the global random state.
    """

    def __init__(self, images: Tensor, seed: int = 0, k: int = 3) -> None:
        """images: the training set, uint8 [N, 3, R, R]."""
        gen = torch.Generator().manual_seed(seed)
        order = torch.randperm(images.shape[0], generator=gen)
        self.k = k
        self.net = RandomFeatures(seed)
        reals = _to_float(images[order[:MAX_REALS]])  # [n, 3, R, R]
        feats = self._features(reals)
        self.mean, self.std = feats.mean(0), feats.std(0) + 1e-6
        self.real_feats = self._norm(feats)  # [n, F]
        self.real_hist = colour_histogram(reals)
        memory = _to_float(images[order[:MAX_MEMORY]])
        self.memory = _thumbs(memory)  # [m, P]
        nearest = _pairwise(self.memory, self.memory)
        nearest.fill_diagonal_(float("inf"))
        self.real_nn = float(nearest.min(dim=1).values.median())
        sub = self.real_feats[:64]
        self.real_spread = _mean_offdiag(_pairwise(sub, sub))
        self.real_gap = float(_knn_radius(sub, 1).median()) if sub.shape[0] > 1 else 1.0

    @torch.no_grad()
    def _features(self, images: Tensor) -> Tensor:
        return torch.cat([self.net(chunk) for chunk in images.split(64)])

    def _norm(self, feats: Tensor) -> Tensor:
        return (feats - self.mean) / self.std

    @torch.no_grad()
    def measure(self, samples: Tensor) -> dict[str, float]:
        """Figures for generated images in [-1, 1] [M, 3, R, R] (M >= 8; 64 is plenty).

        Returns:
            kid (lower is better, ~0 for images like the data), color_dist (0..1, half the
            L1 distance of RGB histograms), precision (share of samples that look like some
            real image), recall (share of real images some sample looks like), diversity
            (sample spread / data spread; well below 1 is mode collapse), duplicates (share
            of samples with a near-twin among the others, closer than half the typical gap
            between real images: partial collapse onto a few modes), nn_ratio (median
            distance of a sample to its nearest training image / that of a training image
            to its nearest other one; well below 1 is copying) and copies (share of samples
            closer to a training image than half the typical real-to-real distance).
        """
        samples = samples.detach().float().cpu()
        fake = self._norm(self._features(samples))
        n = min(fake.shape[0], self.real_feats.shape[0])
        reals = self.real_feats[:n]
        spread = _mean_offdiag(_pairwise(fake, fake))
        twins = _knn_radius(fake, 1) < 0.5 * max(self.real_gap, 1e-6)  # [M]
        to_memory = _pairwise(_thumbs(samples), self.memory).min(dim=1).values  # [M]
        real_nn = max(self.real_nn, 1e-6)
        k = min(self.k, n - 1)
        return {
            "kid": round(kid(fake, self.real_feats), 5),
            "color_dist": round(float((colour_histogram(samples) - self.real_hist).abs().sum())
                                / 2, 4),
            "precision": round(_coverage(fake, self.real_feats, self.k), 3),
            "recall": round(_coverage(reals, fake, k), 3),
            "diversity": round(spread / max(self.real_spread, 1e-6), 3),
            "duplicates": round(float(twins.float().mean()), 3),
            "nn_ratio": round(float(to_memory.median()) / real_nn, 3),
            "copies": round(float((to_memory < 0.5 * real_nn).float().mean()), 3),
        }


def _to_float(images: Tensor) -> Tensor:
    return images.float().div(127.5).sub(1.0)


def _thumbs(images: Tensor) -> Tensor:
    """[N, 3, R, R] in [-1, 1] -> flattened PIXEL_RES thumbnails [N, 3*P*P]."""
    small = F.interpolate(images.float(), size=(PIXEL_RES, PIXEL_RES), mode="area")
    return small.flatten(1)


def warnings_for(figures: dict[str, float], progress: float = 1.0) -> dict[str, str]:
    """Plain-language warnings for figures that say training went wrong, by kind
    ("collapse", "memorising"), given how far through its steps the run is (0..1).

    Early samples are alike by nature, so nothing is said in the first quarter of a run,
    and near-twins only count as collapse in its second half.
    """
    found: dict[str, str] = {}
    if progress < 0.25:
        return found
    if figures.get("diversity", 1.0) < DIVERSITY_WARNING:
        found["collapse"] = (
            f"samples are far less diverse than the data (diversity {figures['diversity']:.2f}"
            " of the data's): mode collapse. Check the sample grid; resume from an earlier "
            "checkpoint with a lower --lr or --r1 10")
    elif progress >= 0.5 and figures.get("duplicates", 0.0) > DUPLICATES_WARNING:
        found["collapse"] = (
            f"{100 * figures['duplicates']:.0f}% of samples have a near-twin: the generator "
            "is collapsing onto a few pictures. Check the sample grid; resume from an earlier "
            "checkpoint with a lower --lr or --r1 10")
    if figures.get("copies", 0.0) > COPIES_WARNING:
        found["memorising"] = (
            f"{100 * figures['copies']:.0f}% of samples are near-copies of training images: "
            "the model is memorising. Export an earlier checkpoint, add images or --mirror")
    return found
