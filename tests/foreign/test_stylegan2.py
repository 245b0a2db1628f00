"""livegan's "stylegan2" arch draws what NVIDIA's StyleGAN2-ADA code and rosinality's
stylegan2-pytorch draw, from their own files.

How the fixtures in tests/fixtures/foreign/ were made (random weights, CPU, fp32):

NVIDIA, github.com/NVlabs/stylegan2-ada-pytorch at d72cc7d041b42ec8e806021a205ed9349f87c6a4,
run unchanged (its upfirdn2d and bias_act fall back to their reference PyTorch code on the
CPU). A script beside the repository built `training.networks.Generator`s, gave every
parameter and buffer a random value (noise_strength ~ N(0, 0.3^2), mapping biases + N(0, 30^2)
as their gain is 0.01, affine biases + N(0, 0.3^2), other biases + N(0, 0.2^2), w_avg
~ N(0, 0.5^2), noise_const ~ N(0, 1), weights and const times 1 + N(0, 0.1^2), toRGB weights
scaled so images stay near [-1, 1]), copied it to G_ema, perturbed G again, and saved:
  sg2ada_skip32        z_dim=64, w_dim=64, c_dim=0, img_resolution=32,
                       mapping_kwargs={num_layers: 2},
                       synthesis_kwargs={channel_base: 512, channel_max: 32, num_fp16_res: 0,
                       conv_clamp: None} (architecture "skip"; channels 32, 32, 32, 16)
  sg2ada_resnet_cond32 z_dim=48, w_dim=32, c_dim=3, img_resolution=32,
                       mapping_kwargs={num_layers: 3, embed_features: 24, layer_features: 40},
                       synthesis_kwargs={channel_base: 512, channel_max: 32, num_fp16_res: 2,
                       conv_clamp: 2.0, architecture: "resnet"}
  sg2ada_orig16        z_dim=32, w_dim=32, c_dim=0, img_resolution=16,
                       mapping_kwargs={num_layers: 4, lr_multiplier: 0.1},
                       synthesis_kwargs={channel_base: 256, channel_max: 24, num_fp16_res: 0,
                       conv_clamp: None, architecture: "orig"}
  NAME.pkl        (the first two) the network pickle as NVIDIA's training loop writes it:
                  pickle.dump(dict(training_set_kwargs=..., G=, D=, G_ema=, augment_pipe=None))
                  of deep copies in eval mode, D a tiny Discriminator (channel_base=64,
                  channel_max=8); the source text that torch_utils.persistence embeds was
                  replaced by a one-line comment (each class's _orig_module_src, while dumping)
  NAME_state.pt   torch.save({"tensors": G_ema.state_dict(), "init_kwargs": json text})
  NAME_frames.npz z [3, z_dim] (torch.Generator seeded), labels [3] (0, 1, 2 for the
                  conditional one; c is their one-hot), psi1 and psi07:
                  G_ema(z, c, truncation_psi=1 | 0.7, noise_mode="const", force_fp32=True);
                  ws_mixed [3, num_ws, w_dim] (seeded randn) and mixed:
                  G_ema.synthesis(ws_mixed, noise_mode="const", force_fp32=True), a different
                  w for every layer; for sg2ada_skip32 also skip16: the `img` returned by
                  block b16 of G_ema.synthesis (ws from G_ema.mapping, truncation 1, const
                  noise)

rosinality, github.com/rosinality/stylegan2-pytorch at bef283a1c24087da704d16c30abc8e36e63efa0e,
with three changes in a scratch copy: op/fused_act.py and op/upfirdn2d.py do not build their
CUDA extensions (`fused = None`, `upfirdn2d_op = None` instead of `load(...)`), so the
repository's own CPU paths run (fused_leaky_relu's `input.device.type == "cpu"` branch and
upfirdn2d_native); and model.py's channel tables (Generator and Discriminator) are divided by
16 after they are built (`{k: v // 16 ...}`: 32 channels up to 32 px, 16 * channel_multiplier
at 64 px) to keep the files small; the reader infers channels from tensor shapes anyway.
A script built `Generator(size, style_dim, n_mlp, channel_multiplier)`, perturbed it as above
(style biases + N(0, 30^2), modulation biases + N(0, 0.3^2), noise weights ~ N(0, 0.3^2),
activate biases + N(0, 0.2^2), to_rgb biases + N(0, 0.1^2), to_rgb weights x 0.15, others
x 1 + N(0, 0.1^2)) and saved:
  rosinality_train64      size=64, style_dim=64, n_mlp=3, channel_multiplier=1, as train.py
                          saves it: {"g", "d", "g_ema", "args" (a dict here, train.py's
                          argparse.Namespace is not weights_only-loadable), "ada_aug_p"};
                          no latent_avg, so truncation uses the mean of g_ema.style(z) over
                          torch.randn(10000, 64, generator=manual_seed(0)), as livegan does
  rosinality_converted32  size=32, style_dim=48, n_mlp=2, channel_multiplier=2, as
                          convert_weight.py saves it: {"g_ema", "latent_avg" (random [48])}
  NAME_frames.npz         z [3, style_dim], latent_avg, psi1 and psi07:
                          g_ema([z], truncation=1 | 0.7, truncation_latent=latent_avg,
                          randomize_noise=False)[0]
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from livegan.engine.base import frame_difference
from livegan.foreign.base import ForeignFileError, ForeignModule
from livegan.foreign.nvidia_sg2 import convert_nvidia_sg2
from livegan.foreign.rosinality import convert_rosinality
from livegan.modelfile import load_model, save_model
from livegan.nets import ARCHS, count_gflop
from livegan.nets.stylegan2 import StyleGAN2Generator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "foreign"
MIN_PSNR = 60.0  # float rounding only; livegan's faithfulness target is 40 dB
NVIDIA = ["sg2ada_skip32", "sg2ada_resnet_cond32", "sg2ada_orig16"]
ROSINALITY = ["rosinality_train64", "rosinality_converted32"]
HAVE_UNPICKLER = importlib.util.find_spec("livegan.foreign.unpickle") is not None


def psnr(reference: np.ndarray, frame: torch.Tensor | np.ndarray) -> float:
    """PSNR of two [-1, 1] images in levels of 255."""
    return frame_difference(np.asarray(reference) * 127.5 + 127.5,
                            np.asarray(frame) * 127.5 + 127.5)["psnr"]


def frames(name: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"{name}_frames.npz") as data:
        return dict(data)


def nvidia_module(name: str) -> ForeignModule:
    """The fixture's G_ema as the pickle reader gives it, from its plain-tensor copy."""
    saved = torch.load(FIXTURES / f"{name}_state.pt", weights_only=True)
    return ForeignModule(module="training.networks", class_name="Generator",
                         init_kwargs=json.loads(saved["init_kwargs"]), tensors=saved["tensors"])


def build(imported) -> StyleGAN2Generator:
    g = ARCHS[imported.arch](**imported.config)
    g.load_state_dict(imported.tensors)
    return g.eval().requires_grad_(False)


def render(g: StyleGAN2Generator, ref: dict, psi: float = 1.0) -> torch.Tensor:
    g.truncation = psi
    labels = torch.from_numpy(ref["labels"]) if "labels" in ref and g.n_labels else None
    with torch.no_grad():
        return g(torch.from_numpy(ref["z"]), labels)


@pytest.fixture(scope="module")
def skip32() -> StyleGAN2Generator:
    return build(convert_nvidia_sg2(nvidia_module("sg2ada_skip32"), {}))


@pytest.mark.parametrize("name", NVIDIA)
def test_nvidia_frames_match(name: str) -> None:
    ref = frames(name)
    imported = convert_nvidia_sg2(nvidia_module(name), {"format": "test"})
    g = build(imported)
    assert set(imported.tensors) == set(nvidia_module(name).tensors)  # NVIDIA's own names
    for key, psi in (("psi1", 1.0), ("psi07", 0.7)):
        assert psnr(ref[key], render(g, ref, psi)) >= MIN_PSNR, key
    with torch.no_grad():  # each layer takes the w NVIDIA gives it
        mixed = g.synthesis_forward(torch.from_numpy(ref["ws_mixed"]))
    assert psnr(ref["mixed"], mixed) >= MIN_PSNR


def test_bf16_autocast_stays_close(skip32: StyleGAN2Generator) -> None:
    ref = frames("sg2ada_skip32")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        image = render(skip32, ref)
    assert image.dtype == torch.float32  # the skip image is gathered in float32
    assert psnr(ref["psi1"], image) >= 40
    low = copy.deepcopy(skip32).to(torch.bfloat16)  # as the CPU engine's bf16 variant
    with torch.no_grad():
        image = low(torch.from_numpy(ref["z"]).bfloat16())
    assert image.dtype == torch.float32 and psnr(ref["psi1"], image) >= 40


@pytest.mark.skipif(not HAVE_UNPICKLER, reason="livegan.foreign.unpickle is not there yet")
@pytest.mark.parametrize("name", ["sg2ada_skip32", "sg2ada_resnet_cond32"])
def test_nvidia_pickle_frames_match(name: str) -> None:
    from livegan.foreign.unpickle import load_pickle

    data = load_pickle(FIXTURES / f"{name}.pkl")
    ref = frames(name)
    g = build(convert_nvidia_sg2(data["G_ema"], {"format": "test"}))
    assert psnr(ref["psi1"], render(g, ref)) >= MIN_PSNR
    assert psnr(ref["psi07"], render(g, ref, 0.7)) >= MIN_PSNR
    trained = build(convert_nvidia_sg2(data["G"], {}))  # G is not G_ema in the fixture
    assert psnr(ref["psi1"], render(trained, ref)) < 40


@pytest.mark.parametrize("name", ROSINALITY)
def test_rosinality_frames_match(name: str) -> None:
    ckpt = torch.load(FIXTURES / f"{name}.pt", weights_only=True)
    ref = frames(name)
    imported = convert_rosinality(ckpt, {"format": "test"})
    g = build(imported)
    np.testing.assert_allclose(g.w_avg.numpy(), ref["latent_avg"], atol=1e-5)
    assert psnr(ref["psi1"], render(g, ref)) >= MIN_PSNR
    assert psnr(ref["psi07"], render(g, ref, 0.7)) >= MIN_PSNR


def test_rosinality_reads_g_without_g_ema_and_refuses_swagan() -> None:
    ckpt = torch.load(FIXTURES / "rosinality_train64.pt", weights_only=True)
    imported = convert_rosinality({"g": ckpt["g"]}, {})
    assert imported.source["network"] == "g"
    with pytest.raises(ForeignFileError, match="arch='swagan'"):
        convert_rosinality({**ckpt, "args": {"arch": "swagan"}}, {})
    with pytest.raises(ForeignFileError, match="no rosinality StyleGAN2 generator"):
        convert_rosinality({"d": ckpt["d"]}, {})


def test_noise_modes(skip32: StyleGAN2Generator) -> None:
    ref = frames("sg2ada_skip32")
    const = render(skip32, ref)
    assert torch.equal(const, render(skip32, ref))  # "const" is a pure function
    skip32.noise_mode = "none"
    none = render(skip32, ref)
    assert torch.equal(none, render(skip32, ref)) and not torch.allclose(none, const)
    skip32.noise_mode = "random"
    first, second = render(skip32, ref), render(skip32, ref)
    assert not torch.allclose(first, second) and not torch.allclose(first, const)
    skip32.noise_mode = "const"
    assert torch.equal(const, render(skip32, ref))
    with pytest.raises(ValueError, match="noise_mode"):
        skip32.noise_mode = "loud"


def test_max_res_gives_nvidia_intermediate_image() -> None:
    ref = frames("sg2ada_skip32")
    imported = convert_nvidia_sg2(nvidia_module("sg2ada_skip32"), {}, max_res=16)
    assert not any(k.startswith("synthesis.b32.") for k in imported.tensors)
    g = build(imported)
    assert g.resolution == 16 and g.num_ws == 6
    image = render(g, ref)
    assert image.shape == (3, 3, 16, 16)
    assert psnr(ref["skip16"], image) >= MIN_PSNR


def test_max_res_needs_skip() -> None:
    with pytest.raises(ForeignFileError, match="max_res needs a skip generator"):
        convert_nvidia_sg2(nvidia_module("sg2ada_orig16"), {}, max_res=8)
    with pytest.raises(ValueError, match="max_res needs a skip generator"):
        StyleGAN2Generator(resolution=32, z_dim=8, w_dim=8, channel_base=64, channel_max=8,
                           architecture="resnet", max_res=16)


def test_conditional_labels() -> None:
    ref = frames("sg2ada_resnet_cond32")
    imported = convert_nvidia_sg2(nvidia_module("sg2ada_resnet_cond32"), {})
    assert imported.labels == ["class0", "class1", "class2"]
    g = build(imported)
    z = torch.from_numpy(ref["z"])
    with torch.no_grad():
        for label in range(3):  # each z with each class: only the fixture's pair matches
            image = g(z, torch.full((3,), label))
            for i in range(3):
                close = psnr(ref["psi1"][i], image[i]) >= MIN_PSNR
                assert close == (ref["labels"][i] == label)
        assert torch.equal(g(z), g(z, torch.zeros(3, dtype=torch.long)))  # default: class 0
    named = convert_nvidia_sg2(nvidia_module("sg2ada_resnet_cond32"),
                               {"labels": ["cat", "dog", "owl"]})
    assert named.labels == ["cat", "dog", "owl"]


@pytest.mark.parametrize("where, option, value", [
    ("top", "img_channels", 1),
    ("synthesis_kwargs", "architecture", "progressive"),
    ("synthesis_kwargs", "resample_filter", [1, 2, 1]),
    ("synthesis_kwargs", "kernel_size", 5),
    ("synthesis_kwargs", "magnitude_ema_beta", 0.99),
    ("mapping_kwargs", "activation", "tanh"),
    ("top", "z_dim", 0),
])
def test_unsupported_options_are_named(where: str, option: str, value: object) -> None:
    g = nvidia_module("sg2ada_skip32")
    target = g.init_kwargs if where == "top" else g.init_kwargs[where]
    target[option] = value
    with pytest.raises(ForeignFileError, match=option):
        convert_nvidia_sg2(g, {})


def test_stylegan3_code_layout_reads_the_same() -> None:
    """NVIDIA's StyleGAN3 code passes the synthesis options beside the others (and clamps
    at 256 unless told otherwise)."""
    g = nvidia_module("sg2ada_skip32")
    g.init_kwargs.update(g.init_kwargs.pop("synthesis_kwargs"))
    assert convert_nvidia_sg2(g, {}).config["conv_clamp"] is None
    del g.init_kwargs["conv_clamp"]
    assert convert_nvidia_sg2(g, {}).config["conv_clamp"] == 256.0
    g.init_kwargs["conv_clamp"] = None
    ref = frames("sg2ada_skip32")
    assert psnr(ref["psi1"], render(build(convert_nvidia_sg2(g, {})), ref)) >= MIN_PSNR


def test_missing_options_and_tensors_are_named() -> None:
    g = nvidia_module("sg2ada_skip32")
    del g.init_kwargs["z_dim"]
    with pytest.raises(ForeignFileError, match="z_dim"):
        convert_nvidia_sg2(g, {})
    ckpt = torch.load(FIXTURES / "rosinality_converted32.pt", weights_only=True)
    del ckpt["g_ema"]["convs.2.conv.weight"]
    with pytest.raises(ForeignFileError, match="convs.2.conv.weight"):
        convert_rosinality(ckpt, {})


def test_tensors_that_do_not_fit_are_refused() -> None:
    g = nvidia_module("sg2ada_skip32")
    del g.tensors["synthesis.b16.conv1.weight"]
    with pytest.raises(ForeignFileError, match="synthesis.b16.conv1.weight"):
        convert_nvidia_sg2(g, {})
    g = nvidia_module("sg2ada_skip32")
    g.init_kwargs["synthesis_kwargs"]["channel_max"] = 64
    with pytest.raises(ForeignFileError, match="shape"):
        convert_nvidia_sg2(g, {})


def test_taps_one_map_per_size(skip32: StyleGAN2Generator) -> None:
    taps = skip32.taps()
    assert list(taps) == ["4", "8", "16", "32"]
    seen = {}
    handles = [m.register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, o))
               for n, m in taps.items()]
    try:
        render(skip32, frames("sg2ada_skip32"))
    finally:
        for h in handles:
            h.remove()
    for name, out in seen.items():
        assert isinstance(out, torch.Tensor) and out.dim() == 4
        assert out.shape[0] == 3 and out.shape[2:] == (int(name), int(name))


def test_mapping_and_synthesis_compose_to_forward(skip32: StyleGAN2Generator) -> None:
    z = torch.from_numpy(frames("sg2ada_skip32")["z"])
    with torch.no_grad():
        w = skip32.mapping_forward(z)
        ws = skip32.w_avg.lerp(w, 0.5)[:, None].expand(-1, skip32.num_ws, -1)
        skip32.truncation = 0.5
        assert torch.allclose(skip32(z), skip32.synthesis_forward(ws))
        skip32.truncation = 1.0
        assert torch.isfinite(skip32(torch.zeros(1, skip32.z_dim))).all()  # count_gflop's input
    assert count_gflop(skip32) > 0


def test_model_file_round_trip(tmp_path: Path) -> None:
    imported = convert_nvidia_sg2(nvidia_module("sg2ada_resnet_cond32"), {})
    g = build(imported)
    path = save_model(tmp_path / "cond.safetensors", g, imported.arch, imported.config,
                      "cond", labels=imported.labels)
    model = load_model(path)
    assert model.info.labels == imported.labels
    ref = frames("sg2ada_resnet_cond32")
    assert torch.equal(render(model.generator, ref), render(g, ref))
    assert psnr(ref["psi1"], render(model.generator, ref)) >= MIN_PSNR
