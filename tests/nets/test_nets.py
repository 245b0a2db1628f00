"""Generator and discriminator architectures: shapes, ranges, labels, canvases, FLOP counts."""

from __future__ import annotations

import pytest
import torch

from livegan.nets import (
    DEFAULT_ARCH,
    TRAINABLE,
    build_discriminator,
    build_generator,
    count_gflop,
    generator_config,
)
from livegan.nets.layers import recalibrate_batchnorm

Z = 32  # small latent: shapes, not quality, are under test


def _generator(arch: str, res: int, **overrides: object) -> torch.nn.Module:
    torch.manual_seed(0)
    config = generator_config(arch, resolution=res, z_dim=Z, ngf=8, **overrides)
    g = build_generator(arch, config)
    # BatchNorm statistics as a trained model carries them (exported models are calibrated)
    recalibrate_batchnorm(g, Z, int(config["n_labels"]), batches=2, size=8)
    return g.eval()


@pytest.mark.parametrize("arch", TRAINABLE)
@pytest.mark.parametrize("res", [32, 64])
def test_generator_shape_and_range(arch: str, res: int) -> None:
    g = _generator(arch, res)
    with torch.no_grad():
        out = g(torch.randn(3, Z))
    assert out.shape == (3, 3, res, res)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()
    assert out.min() >= -1.0 and out.max() <= 1.0
    assert out.std() > 0  # not a constant picture
    assert g.z_dim == Z and g.resolution == res


def test_lite_128_smoke() -> None:
    g = _generator("lite", 128)
    with torch.no_grad():
        out = g(torch.randn(1, Z))
    assert out.shape == (1, 3, 128, 128)
    assert out.abs().max() <= 1.0


@pytest.mark.parametrize("arch", TRAINABLE)
def test_different_latents_give_different_pictures(arch: str) -> None:
    g = _generator(arch, 32)
    with torch.no_grad():
        a, b = g(torch.randn(2, Z)).unbind(0)
    assert (a - b).abs().mean() > 1e-3


@pytest.mark.parametrize("arch", TRAINABLE)
def test_conditional_labels_change_the_picture(arch: str) -> None:
    g = _generator(arch, 32, n_labels=3)
    z = torch.randn(1, Z).expand(3, Z)
    with torch.no_grad():
        out = g(z, torch.tensor([0, 1, 2]))
        default = g(z[:1])  # no labels: label 0
    assert out.shape == (3, 3, 32, 32)
    assert (out[0] - out[1]).abs().mean() > 1e-4
    assert (out[1] - out[2]).abs().mean() > 1e-4
    assert torch.allclose(default[0], out[0], atol=1e-6)


@pytest.mark.parametrize("arch", TRAINABLE)
def test_spatial_latent_grows_the_canvas(arch: str) -> None:
    g = _generator(arch, 32)
    with torch.no_grad():
        flat = g(torch.randn(1, Z))
        canvas = g(torch.randn(1, Z, 2, 2))
    assert flat.shape[-1] == 32
    assert canvas.shape[0:2] == (1, 3)
    assert canvas.shape[-1] > 32 and canvas.shape[-2] > 32  # fully convolutional
    assert canvas.abs().max() <= 1.0


@pytest.mark.parametrize("arch", TRAINABLE)
def test_spatial_latent_with_labels(arch: str) -> None:
    g = _generator(arch, 32, n_labels=2)
    with torch.no_grad():
        canvas = g(torch.randn(2, Z, 2, 3), torch.tensor([0, 1]))
    assert canvas.shape[0] == 2 and canvas.shape[-1] > canvas.shape[-2] > 32


@pytest.mark.parametrize("res", [32, 64])
def test_discriminator_scores(res: int) -> None:
    d = build_discriminator(res, ndf=8)
    x = torch.rand(2, 3, res, res) * 2 - 1
    out = d(x)
    assert out.shape == (2,)
    assert torch.isfinite(out).all()
    out.sum().backward()  # trainable end to end
    assert all(p.grad is not None for p in d.parameters() if p.requires_grad)


def test_conditional_discriminator_uses_labels() -> None:
    torch.manual_seed(0)
    d = build_discriminator(32, n_labels=3, ndf=8).eval()
    x = torch.rand(1, 3, 32, 32).expand(3, 3, 32, 32)
    with torch.no_grad():
        out = d(x, torch.tensor([0, 1, 2]))
    assert out.shape == (3,)
    assert len(set(out.tolist())) == 3


def test_gflop_is_positive_and_grows_with_width() -> None:
    small = count_gflop(_generator("lite", 32))
    wide = count_gflop(build_generator("lite", generator_config("lite", resolution=32,
                                                                z_dim=Z, ngf=16)))
    assert 0 < small < wide
    for arch in TRAINABLE:
        assert count_gflop(_generator(arch, 64)) > count_gflop(_generator(arch, 32)) > 0


def test_generator_config_fills_defaults_and_rejects_unknown_options() -> None:
    config = generator_config(DEFAULT_ARCH, resolution=64)
    assert config["resolution"] == 64 and "z_dim" in config and "ngf" in config
    assert "self" not in config
    with pytest.raises(TypeError, match="colour"):
        generator_config("lite", colour="blue")
    with pytest.raises(KeyError):
        generator_config("stylegan9")


@pytest.mark.parametrize("res", [8, 48, 2048])
def test_bad_resolution_is_refused(res: int) -> None:
    for arch in TRAINABLE:
        with pytest.raises(ValueError, match="power of two"):
            build_generator(arch, generator_config(arch, resolution=res))
    with pytest.raises(ValueError, match="power of two"):
        build_discriminator(res)


@pytest.mark.parametrize("arch", TRAINABLE)
def test_pixel_norm_variant_and_unknown_norm(arch: str) -> None:
    g = _generator(arch, 32, norm="pixel")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in g.modules())
    with pytest.raises(ValueError, match="unknown norm"):
        _generator(arch, 32, norm="group")


def test_recalibration_gives_batchnorm_the_statistics_of_these_weights() -> None:
    config = generator_config("lite", resolution=32, z_dim=Z, ngf=8)
    g = build_generator("lite", config)
    first = next(m for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert torch.all(first.running_var == 1)  # fresh: nothing measured yet
    recalibrate_batchnorm(g, Z, batches=2, size=8)
    assert not g.training
    assert not torch.all(first.running_var == 1)
    assert first.momentum == 0.1  # restored after the cumulative pass
