"""livegan's "stylegan3" generator draws the frames of NVIDIA's StyleGAN3 code (-T and -R).

How the fixtures (tests/fixtures/foreign/sg3_*) were made
--------------------------------------------------------
NVIDIA's github.com/NVlabs/stylegan3 at commit c233a919a6faee6e36a316ddd4eddababad1adf9, run
on the CPU with torch 2.13 (so its custom ops take their reference paths: filtered_lrelu ->
_filtered_lrelu_ref, upfirdn2d -> _upfirdn2d_ref, bias_act -> _bias_act_ref). One change to
that copy: torch_utils/ops/conv2d_gradfix.py and grid_sample_gradfix.py import
pkg_resources, which is gone; their `_use_pytorch_1_11_api` / `_use_pytorch_1_12_api`
version checks were set to True instead (no effect on the forward pass).

A script beside that copy (not in this repository) built, for each variant,
`training.networks_stylegan3.Generator(**G_kwargs, c_dim, img_resolution, img_channels=3)`
with G_kwargs as train.py sets them, and a `training.networks_stylegan2.Discriminator`:
  sg3_t: --cfg=stylegan3-t, img_resolution 32, c_dim 4 (conditional), z_dim = w_dim = 64,
         mapping_kwargs {num_layers: 2}, channel_base 512, channel_max 32,
         magnitude_ema_beta 0.5 ** (32 / 20000); conv_clamp left at its default 256.
  sg3_r: --cfg=stylegan3-r, img_resolution 64, unconditional, z_dim = w_dim = 64,
         channel_base 1024 and channel_max 64 (doubled as train.py does), conv_kernel 1,
         use_radial_filters True, and --fp32's num_fp16_res 0, conv_clamp None.
G_ema = deepcopy(G).eval(), then made non-trivial (torch seeds fixed in the script):
synthesis weights redrawn N(0, 1); mapping biases N(0, 20) (0.2 after the 0.01 gain); the
input's transform affine weight N(0, 0.5) and bias [1, 0.3, 0.1, -0.2] + N(0, 0.05), so w
rotates and translates the Fourier features; other affine biases 1 + N(0, 0.3); layer
biases N(0, 0.2); w_avg the mean w of 2000 z plus N(0, 0.2); each layer's magnitude_ema its
measured input mean square times U(0.5, 2), except layer 3 of sg3_t at 1e-6 of it, so that
about 28% of that layer's values hit conv_clamp. G got the same treatment with other seeds
(a reader must take G_ema).
  sg3_X.pkl        the snapshot as training_loop.py pickles it: dict(G, D, G_ema,
                   augment_pipe=None, training_set_kwargs), with every persistent class's
                   embedded module source replaced by '' just for the dump.
  sg3_X.pt         G_ema.state_dict() and json.dumps(G_ema.init_kwargs) (torch.save; loads
                   with weights_only=True).
  sg3_X_frames.npz z [3, 64] from torch.Generator().manual_seed(7) (and labels [0, 2, 3]
                   for sg3_t, one-hot as c); `frames` = G_ema(z, c, truncation_psi=1,
                   noise_mode='const'), `frames_psi07` with truncation_psi=0.7;
                   `frames_transform` at psi 1 with synthesis.input.transform set as
                   gen_images.py does (the inverse of make_transform(translate, rotate));
                   `transform` = [tx, ty, angle in degrees] = [0.15, -0.1, 20].
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from livegan.engine.base import frame_difference
from livegan.foreign.base import ForeignFileError, ForeignModule
from livegan.foreign.nvidia_sg3 import convert_nvidia_sg3
from livegan.modelfile import load_model, save_model
from livegan.nets import ARCHS, build_generator, count_gflop
from livegan.nets.stylegan3 import StyleGAN3Generator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "foreign"
MIN_PSNR = 60.0  # dB; float rounding alone gives about 140
VARIANTS = ["t", "r"]
TAP_SIDES = {"t": ["36", "52", "32"], "r": ["36", "52", "84", "64"]}


def _foreign(variant: str) -> ForeignModule:
    saved = torch.load(FIXTURES / f"sg3_{variant}.pt", weights_only=True)
    return ForeignModule(module=saved["module"], class_name=saved["class_name"],
                         init_kwargs=json.loads(saved["init_kwargs"]),
                         tensors=saved["state_dict"])


def _frames(variant: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"sg3_{variant}_frames.npz") as f:
        return dict(f)


def _generator(g: ForeignModule) -> tuple[StyleGAN3Generator, dict]:
    imported = convert_nvidia_sg3(g, {"format": "nvidia"})
    assert imported.arch == "stylegan3"
    generator = build_generator(imported.arch, imported.config)
    generator.load_state_dict(imported.tensors)
    return generator.eval().requires_grad_(False), imported


def _draw(generator: StyleGAN3Generator, ref: dict) -> np.ndarray:
    labels = torch.from_numpy(ref["labels"]) if "labels" in ref else None
    with torch.no_grad():
        return generator(torch.from_numpy(ref["z"]), labels).numpy()


def _psnr(reference: np.ndarray, frame: np.ndarray) -> float:
    return frame_difference(reference * 127.5, frame * 127.5)["psnr"]  # [-1, 1] in levels


@pytest.fixture(scope="module", params=VARIANTS)
def loaded(request) -> tuple[str, StyleGAN3Generator, dict, dict]:
    generator, imported = _generator(_foreign(request.param))
    return request.param, generator, imported, _frames(request.param)


def test_frames_match_nvidia_at_truncation_1_and_07(loaded) -> None:
    variant, generator, _imported, ref = loaded
    for psi, key in ((1.0, "frames"), (0.7, "frames_psi07")):
        generator.truncation = psi
        frames = _draw(generator, ref)
        assert frames.shape == ref[key].shape
        assert _psnr(ref[key], frames) >= MIN_PSNR, (variant, psi)
    generator.truncation = 1.0


def test_the_variant_is_recorded(loaded) -> None:
    variant, _generator, imported, _ref = loaded
    assert imported.source["variant"] == f"stylegan3-{variant}"
    assert imported.config["conv_kernel"] == (3 if variant == "t" else 1)
    assert imported.labels == ([f"class{i}" for i in range(4)] if variant == "t" else [])


def test_input_transform_pans_and_turns_like_nvidia(loaded) -> None:
    _variant, generator, _imported, ref = loaded
    tx, ty, angle = (float(v) for v in ref["transform"])
    generator.set_input_transform(tx, ty, angle)
    try:
        moved = _draw(generator, ref)
    finally:
        generator.set_input_transform(0.0, 0.0, 0.0)
    assert _psnr(ref["frames_transform"], moved) >= MIN_PSNR
    assert _psnr(ref["frames"], moved) < 40  # the picture really moved
    assert torch.allclose(generator.synthesis.input.transform, torch.eye(3), atol=1e-7)
    assert _psnr(ref["frames"], _draw(generator, ref)) >= MIN_PSNR


def test_filters_built_here_are_the_files(loaded) -> None:
    """A fresh network designs the same low-pass filters (firwin, jinc) without scipy."""
    _variant, generator, imported, _ref = loaded
    fresh = StyleGAN3Generator(**imported.config).state_dict()
    filters = [k for k in fresh if k.endswith("_filter")]
    assert any(fresh[k].ndim == 2 for k in filters) == imported.config["use_radial_filters"]
    for key in filters:
        assert torch.allclose(fresh[key], generator.state_dict()[key], atol=1e-6), key


def test_taps_one_feature_map_per_side(loaded) -> None:
    variant, generator, _imported, ref = loaded
    taps = generator.taps()
    assert list(taps) == TAP_SIDES[variant]
    seen: dict[str, torch.Tensor] = {}
    handles = [m.register_forward_hook(lambda m, a, out, n=name: seen.__setitem__(n, out))
               for name, m in taps.items()]
    try:
        _draw(generator, ref)
    finally:
        for h in handles:
            h.remove()
    for name, out in seen.items():
        assert isinstance(out, torch.Tensor) and out.dim() == 4
        assert out.shape[2] == out.shape[3] == int(name)


def test_style_interface(loaded) -> None:
    _variant, generator, _imported, ref = loaded
    z = torch.from_numpy(ref["z"])
    labels = torch.from_numpy(ref["labels"]) if "labels" in ref else None
    with torch.no_grad():
        w = generator.mapping_forward(z, labels)
        ws = w.unsqueeze(1).repeat(1, generator.num_ws, 1)
        assert torch.equal(generator.synthesis_forward(ws), generator(z, labels))
        generator.noise_mode = "random"  # no noise inputs: nothing changes
        assert torch.equal(generator.synthesis_forward(ws), generator(z, labels))
        generator.noise_mode = "const"
        generator.truncation = 0.0  # every z draws the average picture
        flat = generator(z, labels)
        generator.truncation = 1.0
    assert generator.w_avg.shape == (generator.w_dim,)
    assert "mapping.w_avg" in generator.state_dict()
    assert torch.allclose(flat[0], flat[1], atol=1e-5)
    assert generator.num_ws == 16
    assert count_gflop(generator) > 0


def test_the_network_pickle_reads_through_the_restricted_unpickler() -> None:
    unpickle = pytest.importorskip(
        "livegan.foreign.unpickle", reason="livegan.foreign.unpickle (the restricted "
        "unpickler) is not written yet")
    for variant in VARIANTS:
        data = unpickle.load_pickle(FIXTURES / f"sg3_{variant}.pkl")
        assert set(data) >= {"G", "D", "G_ema", "training_set_kwargs"}
        g = data["G_ema"]
        assert g.init_kwargs == _foreign(variant).init_kwargs
        generator, _imported = _generator(g)
        ref = _frames(variant)
        assert _psnr(ref["frames"], _draw(generator, ref)) >= MIN_PSNR
        # G is another network (its own weights): a reader must take G_ema
        other, _imported = _generator(data["G"])
        assert _psnr(ref["frames"], _draw(other, ref)) < 30


@pytest.mark.parametrize("option, value", [
    ("img_channels", 4),
    ("use_radial_filters", "yes"),
    ("conv_clamp", -1),
    ("num_critical", 14),
    ("lrelu_upsampling", 1.5),
    ("some_new_option", 1),
])
def test_unsupported_options_are_named(option: str, value: object) -> None:
    g = _foreign("t")
    g.init_kwargs = {**g.init_kwargs, option: value}
    with pytest.raises(ForeignFileError, match=option):
        convert_nvidia_sg3(g, {})


def test_unknown_mapping_option_and_wrong_tensors_are_refused() -> None:
    g = _foreign("t")
    g.init_kwargs = {**g.init_kwargs, "mapping_kwargs": {"num_layers": 2, "activation": "relu"}}
    with pytest.raises(ForeignFileError, match="activation"):
        convert_nvidia_sg3(g, {})
    g = _foreign("t")
    g.init_kwargs = {**g.init_kwargs, "channel_max": 64}  # the file's layers are narrower
    with pytest.raises(ForeignFileError, match="StyleGAN3 tensor|shape"):
        convert_nvidia_sg3(g, {})
    g = _foreign("t")
    g.class_name = "Discriminator"
    with pytest.raises(ForeignFileError, match="Discriminator"):
        convert_nvidia_sg3(g, {})


def test_model_file_round_trip(tmp_path: Path) -> None:
    assert ARCHS["stylegan3"] is StyleGAN3Generator
    generator, imported = _generator(_foreign("r"))
    path = save_model(tmp_path / "sg3r.safetensors", generator, imported.arch, imported.config,
                      "sg3r", labels=imported.labels)
    model = load_model(path)
    assert model.info.arch == "stylegan3" and model.info.resolution == 64
    ref = _frames("r")
    assert np.array_equal(_draw(model.generator, ref), _draw(generator, ref))
