"""FastGAN's generator and the self-supervised discriminator: what each part does."""

from __future__ import annotations

import pytest
import torch

from livegan.nets import build_discriminator, build_generator, count_gflop, generator_config
from livegan.nets.fastgan import FastGANGenerator, excite_pairs


def _fastgan(res: int, **overrides: object) -> FastGANGenerator:
    torch.manual_seed(0)
    return build_generator("fastgan", generator_config("fastgan", resolution=res, z_dim=16,
                                                         **overrides))


def test_fastgan_costs_far_less_than_lite_at_256() -> None:
    fastgan = _fastgan(256)
    lite = build_generator("lite", generator_config("lite", resolution=256, z_dim=16))
    assert count_gflop(fastgan) < 0.5 * count_gflop(lite)


def test_sub_pixel_read_out_has_no_full_resolution_feature_map() -> None:
    g = _fastgan(64).eval()
    sizes = []
    for module in g.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1]))
    with torch.no_grad():
        assert g(torch.randn(2, 16)).shape == (2, 3, 64, 64)
    assert max(sizes) == 32  # the last conv works at R/2; the pixel shuffle makes R
    plain = _fastgan(64, shuffle=False).eval()
    with torch.no_grad():
        assert plain(torch.randn(2, 16)).shape == (2, 3, 64, 64)


def test_noise_is_injected_while_training_only() -> None:
    g = _fastgan(32, noise=True)
    for module in g.modules():
        if hasattr(module, "weight") and module.__class__.__name__ == "NoiseInjection":
            module.weight.data.fill_(0.5)
    z = torch.randn(2, 16)
    g.train()
    with torch.no_grad():
        assert not torch.equal(g(z), g(z))  # fresh noise each pass (BN in batch mode alike)
    g.eval()
    with torch.no_grad():
        assert torch.equal(g(z), g(z))  # a held latent is a still picture on stage


def test_double_convolutions_only_up_to_double_up() -> None:
    g = _fastgan(128, double_up=16)
    gated = [up.convs[0].__class__.__name__ == "GluConv" for up in g.ups]
    assert gated == [s <= 16 for s in g.sizes]


@pytest.mark.parametrize("kind, expected", [
    ("none", {}), ("lite", {64: 4, 128: 8}), ("fastgan", {32: 4, 64: 8, 128: 16})])
def test_excitation_pairs(kind: str, expected: dict) -> None:
    assert excite_pairs(256, 128, kind) == expected
    with pytest.raises(ValueError, match="unknown excite"):
        excite_pairs(256, 128, "everywhere")


def test_self_supervised_discriminator_learns_to_reconstruct() -> None:
    torch.manual_seed(0)
    d = build_discriminator(64, ndf=8, arch="selfsup")
    coarse = torch.rand(4, 3, 4, 4) * 2 - 1  # smooth pictures: something to describe
    x = torch.nn.functional.interpolate(coarse, size=(64, 64), mode="bilinear")
    score, first = d(x, reconstruct=True)
    assert score.shape == (4,) and first.item() > 0
    assert d(x).shape == (4,)  # plain scoring, as the generator's step uses it
    opt = torch.optim.Adam(d.parameters(), lr=2e-3)
    for _ in range(60):
        _, loss = d(x, reconstruct=True)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first.item()  # the decoders read the image from D's features


def test_self_supervised_discriminator_at_high_resolution_and_without_decoders() -> None:
    d = build_discriminator(256, ndf=8, arch="selfsup")
    score, loss = d(torch.randn(2, 3, 256, 256), reconstruct=True)
    assert score.shape == (2,) and torch.isfinite(loss)
    small = build_discriminator(16, ndf=8, arch="selfsup")  # too small for 8x8 and 16x16 maps
    score, loss = small(torch.randn(2, 3, 16, 16), reconstruct=True)
    assert score.shape == (2,) and loss.item() == 0.0


def test_sub_pixel_read_out_starts_as_nearest_upsampling() -> None:
    g = _fastgan(64).eval()  # ICNR: no checkerboard before training has taught any detail
    with torch.no_grad():
        x = g(torch.randn(2, 16))
    blocks = x.unfold(2, 2, 2).unfold(3, 2, 2)  # [N, 3, 32, 32, 2, 2]
    assert torch.equal(blocks, blocks[..., :1, :1].expand_as(blocks))
    assert x.std() > 0


def test_models_written_as_stage_play_as_fastgan(tmp_path) -> None:
    """FastGAN's generator was "stage" before: model files that say so still load."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from livegan.modelfile import DEFAULT_MODEL, find_model, load_model

    path = find_model(DEFAULT_MODEL)
    with safe_open(str(path), framework="pt") as f:
        metadata = dict(f.metadata())
    assert metadata["arch"] in ("stage", "fastgan")
    old = tmp_path / "old.safetensors"  # the bundled model as a file from before the rename
    save_file(load_file(str(path)), str(old), metadata={**metadata, "arch": "stage"})
    model = load_model(old)
    assert model.info.arch == "fastgan" and isinstance(model.generator, FastGANGenerator)


def test_train_takes_the_old_names_with_a_note(caplog: pytest.LogCaptureFixture) -> None:
    from livegan.cli import build_parser

    with caplog.at_level("WARNING", logger="livegan.argtypes"):
        args = build_parser().parse_args(["train", "data", "--out", "run", "--arch", "stage",
                                          "--recipe", "stage"])
    assert (args.arch, args.recipe) == ("fastgan", "fastgan")
    assert [r.getMessage() for r in caplog.records] == [
        "--arch stage is called fastgan now; using fastgan",
        "--recipe stage is called fastgan now; using fastgan"]


def test_a_run_begun_as_stage_resumes_as_fastgan(tmp_path) -> None:
    import json

    from livegan.train.config import TrainConfig

    (tmp_path / "config.json").write_text(json.dumps({"data": "x", "arch": "stage"}))
    assert TrainConfig.from_json(tmp_path / "config.json").arch == "fastgan"
