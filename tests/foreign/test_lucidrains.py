"""lucidrains' lightweight-gan and stylegan2-pytorch checkpoints: livegan's frames match theirs.

How the references are made (no committed fixtures; every run makes them afresh):
- The real packages `lightweight-gan==1.2.1` and `stylegan2-pytorch==1.9.0` from PyPI are
  installed with `pip install --no-deps --target` into a cache (tests/foreign/lucidrains_ref.py)
  and imported with stand-ins for the modules they use only for training and logging.
- lightweight-gan: its own `Trainer(image_size=128, latent_dim=32, fmap_max=64,
  fmap_inverse_coef=9, ...)` builds the LightweightGAN (fp32, BatchNorm) in two variants:
  "cli" (attn_res_layers=[32], the command line's default; GlobalContext excitation; no blur)
  and "blur_fca" (antialias=True, freq_chan_attn=True, attn_res_layers=[16]). Every generator
  weight, BatchNorm running statistic and noise strength is then redrawn at random (seeded),
  with the moving average GE drawn apart from G, GE's output conv rescaled so colours spread
  about mid-grey, and `Trainer.save(0)` writes models/NAME/model_0.pt and .config.json.
- stylegan2-pytorch: its own `Trainer(image_size=32, network_capacity=4, latent_dim=64,
  style_depth=4, ...)` builds StyleGAN2 in two variants: "default" (learned constant input,
  no attention) and "attn_no_const" (no_const=True, attn_layers=[1, 4], lr_mlp=0.3); weights,
  noise maps (zero at init) and mapping biases redrawn, SE/GE apart from S/G, GE's RGB
  weights rescaled to a spread of 0.25; then `Trainer.save(0)`.
- The references are the packages' own forward passes: lightweight-gan's `GE(z)` with each
  Noise module given livegan's stored noise; stylegan2-pytorch's generation path (SE, the
  Trainer's truncate_style_defs around `av`, styles_def_to_tensor, GE; and, clamped,
  `Trainer.generate_truncated` itself) with `av` set to livegan's w_avg and the noise image
  set to livegan's `noise_const`.
Frames compare as livegan's [-1, 1] images in levels of 255 (livegan.engine.base's formula).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from lucidrains_ref import lucidrains, on_cpu  # noqa: F401 (the fixture)

from livegan.engine.base import frame_difference
from livegan.foreign.base import ForeignFileError, Imported
from livegan.foreign.lucidrains import (
    convert_lightweight_gan,
    convert_lucidrains_stylegan2,
    is_lightweight_gan,
    is_lucidrains_stylegan2,
)
from livegan.modelfile import load_model, save_model
from livegan.nets import build_generator

MIN_PSNR = 60.0  # float rounding only (the project's bar is 40 dB)

LIGHTWEIGHT = {
    "cli": {"attn_res_layers": [32]},
    "blur_fca": {"attn_res_layers": [16], "antialias": True, "freq_chan_attn": True},
}
STYLEGAN2 = {
    "default": {},
    "attn_no_const": {"attn_layers": [1, 4], "no_const": True, "lr_mlp": 0.3},
}


def levels(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] images -> levels of 255 (unclamped), as livegan's frames count them."""
    return (images.detach().double().numpy() + 1.0) * 127.5


def psnr(reference: torch.Tensor, ours: torch.Tensor) -> float:
    return frame_difference(levels(reference), levels(ours))["psnr"]


def redraw_(module: torch.nn.Module, seed: int) -> None:
    """Give every weight and buffer of `module` non-trivial seeded random values."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in list(module.named_parameters()) + list(module.named_buffers()):
            if not p.is_floating_point() or name.endswith(".f"):  # counters, blur taps
                continue
            noise = torch.randn(p.shape, generator=gen)
            if name.endswith("running_var"):
                p.copy_(0.5 + torch.rand(p.shape, generator=gen))
            elif name.endswith(("running_mean", ".bias", ".b")):
                p.copy_(0.1 * noise)
            elif name.endswith(".g") or (p.dim() == 1 and name.endswith("weight")
                                         and p.numel() > 1):  # norm gains
                p.copy_(1.0 + 0.2 * noise)
            elif p.dim() == 1 and p.numel() == 1:  # lightweight-gan's noise strengths
                p.copy_(0.2 + 0.3 * torch.rand(1, generator=gen))
            elif "dct_weights" in name:
                continue
            else:  # conv and linear weights: perturbed around their initialisation
                scale = p.std() if p.numel() > 1 and p.std() > 0 else torch.tensor(0.3)
                p.add_(0.3 * scale * noise)


def load_checkpoint(path: Path) -> tuple[dict, dict]:
    data = torch.load(path, map_location="cpu", weights_only=True)
    return data, json.loads((path.parent / ".config.json").read_text())


def build(imported: Imported) -> torch.nn.Module:
    generator = build_generator(imported.arch, imported.config)
    generator.load_state_dict(imported.tensors)
    return generator.eval().requires_grad_(False)


# lightweight-gan --------------------------------------------------------------------------


class Cases(dict):
    """Checkpoints made on first use, once per test module: variant name -> case dict."""

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, variant: str) -> dict:
        self[variant] = case = self.make(variant)
        return case


def make_lightweight(lucidrains, base: Path, variant: str) -> dict:  # noqa: F811
    """A saved lightweight-gan checkpoint, its package GAN and livegan's import of it."""
    package = lucidrains.lightweight_gan
    original_blur, original_norm = package.Blur, package.norm_class
    with on_cpu(), torch.random.fork_rng():
        torch.manual_seed(0)  # the package's own initialisation, reproducible
        trainer = package.Trainer(name=variant, base_dir=base, image_size=128, latent_dim=32,
                                  fmap_max=64, fmap_inverse_coef=9, use_aim=False,
                                  **LIGHTWEIGHT[variant])
        trainer.init_GAN()
        package.Blur, package.norm_class = original_blur, original_norm  # set by init_GAN
        redraw_(trainer.GAN.G, seed=1)
        redraw_(trainer.GAN.GE, seed=2)
        with torch.no_grad():  # colours about mid-grey, spread 0.25, as a trained model makes
            trainer.GAN.GE.eval()
            out = trainer.GAN.GE(torch.randn(8, 32, generator=torch.Generator().manual_seed(0)))
            conv, scale = trainer.GAN.GE.out_conv, 0.25 / out.std().item()
            conv.weight.mul_(scale)
            conv.bias.copy_(0.5 - scale * (out.mean(dim=(0, 2, 3)) - conv.bias))
        trainer.save(0)
    data, config_json = load_checkpoint(base / "models" / variant / "model_0.pt")
    imported = convert_lightweight_gan(data["GAN"], {"file": "model_0.pt"}, config_json)
    return {"variant": variant, "gan": trainer.GAN.eval(), "data": data,
            "config_json": config_json, "imported": imported, "generator": build(imported)}


@pytest.fixture(scope="module")
def lightweight_cases(lucidrains, tmp_path_factory) -> Cases:  # noqa: F811
    base = tmp_path_factory.mktemp("lightweight")
    return Cases(functools.partial(make_lightweight, lucidrains, base))


@pytest.fixture(params=sorted(LIGHTWEIGHT))
def lightweight(request, lightweight_cases) -> dict:
    return lightweight_cases[request.param]


def package_lightweight(gan, generator, z: torch.Tensor, noise: str = "const") -> torch.Tensor:
    """The package's GE(z), its Noise modules given livegan's noise, in [-1, 1]."""
    for layer, up in zip(gan.GE.layers, generator.ups):
        module = layer[0][3]
        given = up.noise_const if noise == "const" else torch.zeros_like(up.noise_const)
        module.forward = functools.partial(type(module).forward, module, noise=given)
    try:
        with torch.no_grad():
            return gan.GE(z) * 2 - 1
    finally:
        for layer in gan.GE.layers:
            del layer[0][3].forward


def test_lightweight_gan_frames_match_the_package(lightweight):
    gan, generator = lightweight["gan"], lightweight["generator"]
    imported = lightweight["imported"]
    assert imported.arch == "lwgan" and imported.source["ema"] is True
    assert imported.config["resolution"] == 128 and imported.config["z_dim"] == 32
    z = torch.randn(2, 32, generator=torch.Generator().manual_seed(7))
    reference = package_lightweight(gan, generator, z)
    with torch.no_grad():
        ours = generator(z)
        raw = gan.G(z) * 2 - 1  # the non-averaged generator makes other frames
    assert ours.shape == (2, 3, 128, 128)
    value = psnr(reference, ours)
    print(f"lightweight-gan {imported.config}: PSNR {value:.1f} dB")
    assert value >= MIN_PSNR
    assert psnr(reference, raw) < 30
    assert reference.std() > 0.05  # a real picture, not a flat one


def test_lightweight_gan_layout_read_from_tensors(lightweight):
    config = lightweight["imported"].config
    variant = lightweight["config_json"]
    assert config["channels"] == [64, 64, 32, 16, 8]
    assert config["attention_sizes"] == variant["attn_res_layers"]
    assert config["excitation"] == ("frequency" if variant["freq_chan_attn"] else "context")
    assert config["antialias"] == LIGHTWEIGHT[lightweight["variant"]].get("antialias", False)
    again = convert_lightweight_gan(lightweight["data"]["GAN"], {})  # no json: same reading
    assert again.config == config


def test_lightweight_gan_noise_modes(lightweight):
    gan, generator = lightweight["gan"], lightweight["generator"]
    z = torch.randn(1, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        const = generator(z)
        assert torch.equal(const, generator(z))  # a pure function of z
        generator.noise_mode = "none"
        none = generator(z)
        generator.noise_mode = "random"
        first, second = generator(z), generator(z)
        generator.noise_mode = "const"
    assert psnr(package_lightweight(gan, generator, z, noise="none"), none) >= MIN_PSNR
    assert not torch.equal(first, second) and not torch.equal(first, const)
    assert not torch.equal(none, const)


def test_lightweight_gan_taps(lightweight):
    generator = lightweight["generator"]
    taps = generator.taps()
    assert list(taps) == ["4", "8", "16", "32", "64", "128"]
    seen = {}
    handles = [m.register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, o))
               for n, m in taps.items()]
    with torch.no_grad():
        generator(torch.randn(2, 32))
    for h in handles:
        h.remove()
    assert list(seen) == list(taps)
    for name, out in seen.items():
        assert isinstance(out, torch.Tensor) and out.shape[0] == 2
        assert out.shape[2:] == (int(name), int(name))


# stylegan2-pytorch ------------------------------------------------------------------------


def make_stylegan2(lucidrains, base: Path, variant: str) -> dict:  # noqa: F811
    """A saved stylegan2-pytorch checkpoint, its Trainer and livegan's import of it."""
    package = lucidrains.stylegan2_pytorch
    with on_cpu(), torch.random.fork_rng():
        torch.manual_seed(0)  # the package's own initialisation, reproducible
        trainer = package.Trainer(name=variant, base_dir=base, image_size=32, network_capacity=4,
                                  latent_dim=64, style_depth=4, **STYLEGAN2[variant])
        trainer.init_GAN()
        for net, seed in (("S", 1), ("G", 2), ("SE", 3), ("GE", 4)):
            redraw_(getattr(trainer.GAN, net), seed)
        gan = trainer.GAN.eval()
        with torch.no_grad():  # w spread about an average far from 0, as after training
            for name, p in gan.SE.named_parameters():  # (the same for any lr_mlp)
                p.mul_(0.3 / gan.SE.net[0].lr_mul) if name.endswith("weight") else p.add_(0.3)
            z = torch.randn(8, 64, generator=torch.Generator().manual_seed(0))
            styles = torch.stack([gan.SE(z)] * gan.GE.num_layers, dim=1)
            out = gan.GE(styles, torch.rand(8, 32, 32, 1, generator=torch.Generator()))
            for block in gan.GE.blocks:  # the image is linear in these: spread 0.25
                block.to_rgb.conv.weight.mul_(0.25 / out.std().item())
        trainer.save(0)
    data, config_json = load_checkpoint(base / "models" / variant / "model_0.pt")
    imported = convert_lucidrains_stylegan2(data["GAN"], {"file": "model_0.pt"}, config_json)
    trainer.GAN.eval()
    return {"package": package, "trainer": trainer, "data": data, "config_json": config_json,
            "imported": imported, "generator": build(imported)}


@pytest.fixture(scope="module")
def stylegan2_cases(lucidrains, tmp_path_factory) -> Cases:  # noqa: F811
    base = tmp_path_factory.mktemp("stylegan2")
    return Cases(functools.partial(make_stylegan2, lucidrains, base))


@pytest.fixture(params=sorted(STYLEGAN2))
def stylegan2(request, stylegan2_cases) -> dict:
    return stylegan2_cases[request.param]


def package_stylegan2(case: dict, z: torch.Tensor, psi: float, noise: torch.Tensor | None = None,
                      clamp: bool = False) -> torch.Tensor:
    """The package's own generation path, in [-1, 1], with livegan's w_avg as its `av` and
    livegan's noise image: SE, the Trainer's truncate_style_defs, styles_def_to_tensor, GE;
    with clamp=True the Trainer's generate_truncated itself (which clamps to [0, 1])."""
    trainer, generator = case["trainer"], case["generator"]
    gan = trainer.GAN
    trainer.av = generator.w_avg[None].numpy()
    noise = (generator.noise_const if noise is None else noise).expand(len(z), -1, -1, -1)
    with on_cpu(), torch.no_grad():
        if clamp:
            images = trainer.generate_truncated(gan.SE, gan.GE, [(z, gan.GE.num_layers)], noise,
                                                trunc_psi=psi)
        else:
            w = trainer.truncate_style_defs([(gan.SE(z), gan.GE.num_layers)], S=gan.SE,
                                            trunc_psi=psi)
            images = gan.GE(case["package"].styles_def_to_tensor(w), noise)
    return images * 2 - 1


def test_stylegan2_frames_match_the_package(stylegan2):
    trainer, generator = stylegan2["trainer"], stylegan2["generator"]
    imported = stylegan2["imported"]
    assert imported.arch == "lsg2" and imported.source["ema"] is True
    z = torch.randn(3, 64, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        ours = generator(z)
        raw = trainer.GAN.G(torch.stack([trainer.GAN.S(z)] * 4, 1),
                            generator.noise_const.expand(3, -1, -1, -1)) * 2 - 1
    assert ours.shape == (3, 3, 32, 32)
    reference = package_stylegan2(stylegan2, z, psi=1.0)
    value = psnr(reference, ours)
    print(f"stylegan2-pytorch {imported.config}: PSNR {value:.1f} dB")
    assert value >= MIN_PSNR
    assert psnr(reference, raw) < 30  # the non-averaged networks make other frames
    assert reference.std() > 0.05  # a real picture, not a flat one
    clamped = package_stylegan2(stylegan2, z, psi=1.0, clamp=True)
    assert psnr(clamped, ours.clamp(-1, 1)) >= MIN_PSNR


def test_stylegan2_truncation_matches_the_package(stylegan2):
    generator = stylegan2["generator"]
    z = torch.randn(3, 64, generator=torch.Generator().manual_seed(8))
    generator.truncation = 0.7
    try:
        with torch.no_grad():
            ours = generator(z)
    finally:
        generator.truncation = 1.0
    reference = package_stylegan2(stylegan2, z, psi=0.7)
    value = psnr(reference, ours)
    print(f"stylegan2-pytorch truncation 0.7: PSNR {value:.1f} dB")
    assert value >= MIN_PSNR
    clamped = package_stylegan2(stylegan2, z, psi=0.7, clamp=True)
    assert psnr(clamped, ours.clamp(-1, 1)) >= MIN_PSNR
    assert psnr(package_stylegan2(stylegan2, z, psi=1.0), ours) < 30


def test_stylegan2_w_avg_mapping_and_synthesis(stylegan2):
    trainer, generator = stylegan2["trainer"], stylegan2["generator"]
    z = torch.randn(4, 64)
    with torch.no_grad():
        assert torch.allclose(generator.mapping_forward(z), trainer.GAN.SE(z), atol=1e-6)
        seeded = torch.randn(10_000, 64, generator=torch.Generator().manual_seed(0))
        mean = trainer.GAN.SE(seeded).mean(0)
        ws = generator.mapping_forward(z)[:, None].expand(-1, generator.num_ws, -1)
        assert torch.equal(generator.synthesis_forward(ws), generator(z))
    assert torch.allclose(generator.w_avg, mean, atol=1e-5)
    assert generator.w_avg.abs().mean() > 0.1
    assert generator.num_ws == 4 and generator.w_dim == 64
    assert "w_avg" in generator.state_dict() and "noise_const" in generator.state_dict()
    assert generator.noise_const.shape == (1, 32, 32, 1)
    assert 0 <= generator.noise_const.min() and generator.noise_const.max() < 1


def test_stylegan2_noise_modes(stylegan2):
    generator = stylegan2["generator"]
    z = torch.randn(2, 64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        const = generator(z)
        assert torch.equal(const, generator(z))
        generator.noise_mode = "none"
        none = generator(z)
        generator.noise_mode = "random"
        first, second = generator(z), generator(z)
        generator.noise_mode = "const"
    zeros = torch.zeros_like(generator.noise_const)
    assert psnr(package_stylegan2(stylegan2, z, 1.0, noise=zeros), none) >= MIN_PSNR
    assert not torch.equal(first, second) and not torch.equal(first, const)
    assert not torch.equal(none, const)


def test_stylegan2_layout_and_taps(stylegan2):
    config = stylegan2["imported"].config
    variant = stylegan2["config_json"]
    assert config["channels"] == [64, 32, 16, 8] and config["mapping_layers"] == 4
    assert config["lr_mul"] == variant["lr_mlp"]
    assert config["const_input"] is not variant["no_const"]
    assert config["attention_blocks"] == sorted(4 - n for n in variant["attn_layers"])
    generator = stylegan2["generator"]
    taps = generator.taps()
    assert list(taps) == ["4", "8", "16", "32"]
    seen = {}
    handles = [m.register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, o))
               for n, m in taps.items()]
    with torch.no_grad():
        generator(torch.randn(2, 64))
    for h in handles:
        h.remove()
    assert list(seen) == list(taps)
    for name, out in seen.items():
        assert isinstance(out, torch.Tensor) and out.shape[2:] == (int(name), int(name))


# both -------------------------------------------------------------------------------------


@pytest.mark.parametrize("family, variant", [("lightweight", v) for v in sorted(LIGHTWEIGHT)]
                         + [("stylegan2", v) for v in sorted(STYLEGAN2)])
def test_model_file_round_trip(family, variant, lightweight_cases, stylegan2_cases, tmp_path):
    case = {"lightweight": lightweight_cases, "stylegan2": stylegan2_cases}[family][variant]
    imported, generator = case["imported"], case["generator"]
    path = save_model(tmp_path / f"{imported.arch}.safetensors", generator, imported.arch,
                      imported.config, imported.arch)
    model = load_model(path)
    assert model.info.arch == imported.arch
    assert model.info.resolution == imported.config["resolution"]
    z = torch.randn(2, imported.config["z_dim"], generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(model.generator(z), generator(z))


def test_detectors_tell_the_formats_apart(lightweight_cases, stylegan2_cases):
    lightweight, stylegan2 = lightweight_cases["cli"], stylegan2_cases["default"]
    light, style = lightweight["data"]["GAN"], stylegan2["data"]["GAN"]
    assert is_lightweight_gan(light) and not is_lucidrains_stylegan2(light)
    assert is_lucidrains_stylegan2(style) and not is_lightweight_gan(style)
    assert is_lightweight_gan(lightweight["data"])  # the whole checkpoint works too
    with pytest.raises(ForeignFileError):
        convert_lightweight_gan(style, {})
    with pytest.raises(ForeignFileError):
        convert_lucidrains_stylegan2(light, {})


def test_unsupported_options_are_refused(lightweight_cases, stylegan2_cases):
    lightweight, stylegan2 = lightweight_cases["cli"], stylegan2_cases["default"]
    light = dict(lightweight["data"]["GAN"])
    width = light["GE.out_conv.weight"].shape[1]
    for channels, option in ((4, "transparent"), (1, "greyscale")):
        state = {**light, "GE.out_conv.weight": torch.zeros(channels, width, 3, 3),
                 "GE.out_conv.bias": torch.zeros(channels)}
        with pytest.raises(ForeignFileError, match=option):
            convert_lightweight_gan(state, {})
    with pytest.raises(ForeignFileError, match="greyscale"):
        convert_lightweight_gan(light, {}, {**lightweight["config_json"], "greyscale": True})
    with pytest.raises(ForeignFileError, match="image_size"):
        convert_lightweight_gan(light, {}, {**lightweight["config_json"], "image_size": 256})
    style = dict(stylegan2["data"]["GAN"])
    for key in [k for k in style if k.endswith("to_rgb.conv.weight")]:
        style[key] = torch.zeros(4, *style[key].shape[1:])
    with pytest.raises(ForeignFileError, match="transparent"):
        convert_lucidrains_stylegan2(style, {})
    with pytest.raises(ForeignFileError, match="attn_layers"):
        convert_lucidrains_stylegan2(stylegan2["data"]["GAN"], {},
                                     {**stylegan2["config_json"], "attn_layers": [2]})
