"""FID, KID, precision and recall: the maths on constructed features, and the real InceptionV3
of the quality extra on real images."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from livegan.errors import ExtraMissingError
from livegan.nets import pretrained
from livegan.train import inception
from livegan.train.data import ImageDataset
from livegan.train.quality import (
    QualityProbe,
    frechet_distance,
    precision_recall,
    resolve_features,
)
from livegan.train.synth import synthesize

needs_extra = pytest.mark.skipif(not pretrained.available(),
                                 reason="needs the quality extra: pip install 'livegan[quality]'")


def _gauss(n: int, d: int, seed: int) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("n", "d"), [(64, 2048), (500, 8)])  # both routes: [N, M] and [F, F]
def test_frechet_distance_of_a_set_with_itself_is_zero_and_with_a_shift_is_the_shift(n, d):
    x = _gauss(n, d, 0).abs()
    assert frechet_distance(x, x) < 1e-6 * float(x.var(0).sum())
    # Same covariance, means 0.5 apart in every feature: |shift|^2 = 0.25 d.
    assert frechet_distance(x, x + 0.5) == pytest.approx(0.25 * d, rel=1e-6)
    # C_2x = 4 C_x, so tr(C + 4C - 2 * 2C) = tr C, and the means differ by mu_x.
    expected = float(x.mean(0).pow(2).sum() + x.double().var(0).sum())
    assert frechet_distance(x, 2 * x) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_in_one_dimension_is_the_gaussians_closed_form() -> None:
    a, b = _gauss(400, 1, 1), 2 * _gauss(300, 1, 2) + 3
    expected = float((a.mean() - b.mean()) ** 2 + (a.std() - b.std()) ** 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-5)


def test_precision_and_recall_on_constructed_sets() -> None:
    left, right = _gauss(100, 4, 3), _gauss(100, 4, 4) + 20.0  # two far-apart modes
    reals = torch.cat([left, right])
    assert precision_recall(reals, reals.clone()) == (1.0, 1.0)
    # Samples that cover one mode only: all look real, half the data is missed.
    precision, recall = precision_recall(reals, _gauss(100, 4, 5))
    assert precision > 0.9 and 0.4 < recall <= 0.55
    # Samples nowhere near the data: nothing looks real, nothing is covered.
    assert precision_recall(reals, _gauss(100, 4, 6) - 50.0) == (0.0, 0.0)


def test_missing_extra_is_one_sentence_with_the_pip_line(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pretrained, "weights_path", lambda: tmp_path / "missing.pt")
    assert not pretrained.available()
    with pytest.raises(ExtraMissingError, match=r"pip install 'livegan\[quality\]'"):
        inception.InceptionFeatures()
    with pytest.raises(ExtraMissingError):
        resolve_features("inception")
    assert resolve_features("auto") == "random"
    monkeypatch.setenv("LIVEGAN_QUALITY_FEATURES", "auto")
    assert resolve_features() == "random"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> torch.Tensor:
    """40 procedural paintings in [-1, 1], [N, 3, 32, 32]."""
    folder = tmp_path_factory.mktemp("inception") / "synth"
    synthesize(folder, 40, 32, progress=False)
    return ImageDataset(folder, 32, progress=False).images


@needs_extra
@pytest.mark.slow
def test_inception_features_are_deterministic_pool_features(images) -> None:
    net = inception.InceptionFeatures(chunk=3)
    x = images[:4].float() / 127.5 - 1
    first, again = net(x), net(x)
    assert first.shape == (4, 2048) and first.dtype == torch.float32
    assert torch.isfinite(first).all() and (first >= 0).all()  # averaged after a ReLU
    torch.testing.assert_close(first, again)
    torch.testing.assert_close(net(x[1:2]), first[1:2], atol=1e-4, rtol=1e-4)  # chunking
    other = net(torch.flip(x, dims=[2]))  # upside down: other pictures, other features
    assert (other - first).abs().mean() > 0.01 * first.abs().mean()
    assert net(torch.zeros(0, 3, 32, 32)).shape == (0, 2048)


@needs_extra
@pytest.mark.slow
def test_probe_on_inception_features_labels_its_figures(images) -> None:
    held = images[24:].float() / 127.5 - 1
    probe = QualityProbe(images[:24], features="inception")
    real = probe.measure(held)
    noise = probe.measure(torch.rand(16, 3, 32, 32, generator=torch.Generator()) * 2 - 1)
    assert real["features"] == noise["features"] == "inception"
    assert noise["fid"] > real["fid"] > 0 and noise["kid"] > real["kid"]
    assert noise["precision"] < real["precision"]
    assert QualityProbe(images[:24], features="random").measure(held)["features"] == "random"
