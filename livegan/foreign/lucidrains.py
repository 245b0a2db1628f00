"""Read lucidrains' lightweight-gan and stylegan2-pytorch checkpoints into livegan generators.

Both trainers save `{'GAN': <the whole GAN's state_dict>, 'version': ...}`; the GAN holds the
generator G, its moving average GE (and, in stylegan2-pytorch, the style mappings S and SE),
the discriminator D and its augmenting wrapper. The trainer's settings live in a separate
`.config.json`; everything a generator needs is read here from the tensors' names and shapes,
and the json, when given, is only checked against them (and supplies stylegan2-pytorch's
lr_mlp, which no shape shows). The moving averages are used when present.
"""

from __future__ import annotations

import logging
import re

import torch
from torch import Tensor

from livegan.foreign.base import ForeignFileError, Imported
from livegan.nets.lsg2 import ATTENTION_DIM_HEAD, LucidStyleGAN2Generator
from livegan.nets.lwgan import LightweightGenerator

log = logging.getLogger(__name__)

BLUR_TAPS = (1.0, 2.0, 1.0)  # both packages' Blur buffer `f`
DEFAULT_LR_MLP = 0.1  # stylegan2-pytorch's default for the mapping's learning-rate multiplier


def _state(state: dict) -> dict:
    """The GAN state dict, whether given the checkpoint or its 'GAN' entry."""
    inner = state.get("GAN") if isinstance(state, dict) else None
    return inner if isinstance(inner, dict) else state


def is_lightweight_gan(state: dict) -> bool:
    """Whether `state` (a checkpoint's 'GAN' dict) is lightweight-gan's, from key names."""
    keys = set(_state(state))
    return (any(k in keys for k in ("G.initial_conv.0.weight", "GE.initial_conv.0.weight"))
            and any(k in keys for k in ("G.out_conv.weight", "GE.out_conv.weight"))
            and not any(k.startswith(("S.", "SE.")) for k in keys))


def is_lucidrains_stylegan2(state: dict) -> bool:
    """Whether `state` (a checkpoint's 'GAN' dict) is stylegan2-pytorch's, from key names."""
    keys = set(_state(state))
    return (any(k in keys for k in ("S.net.0.weight", "SE.net.0.weight"))
            and any(k in keys for k in ("G.blocks.0.to_style1.weight",
                                        "GE.blocks.0.to_style1.weight")))


def _generator(state: dict, what: str) -> tuple[dict[str, Tensor], bool]:
    """The generator's tensors without prefix (GE preferred over G) and whether GE was used."""
    state = _state(state)
    for prefix, ema in (("GE.", True), ("G.", False)):
        tensors = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if tensors:
            return tensors, ema
    raise ForeignFileError(f"a {what} checkpoint without a generator (no G or GE weights)")


def _indices(tensors: dict[str, Tensor], pattern: str) -> list[int]:
    """Sorted integers captured by `pattern` (one group) over the tensor names."""
    found = {int(m.group(1)) for k in tensors if (m := re.fullmatch(pattern, k))}
    return sorted(found)


def _check_blur(tensors: dict[str, Tensor], key: str, what: str) -> None:
    if tuple(tensors[key].flatten().tolist()) != BLUR_TAPS:
        raise ForeignFileError(f"{what}: blur filter '{key}' is not [1, 2, 1]")


def _output_channels(weight: Tensor, what: str, option: str) -> None:
    """Refuse generators that do not make RGB (transparent: 4, greyscale: 1)."""
    channels = weight.shape[0]
    if channels != 3:
        name = {4: "transparent", 1: "greyscale"}.get(channels, f"{channels}-channel output")
        raise ForeignFileError(f"a {what} generator trained with {name} images ({option}); "
                               "livegan plays RGB generators only")


def _load(model: torch.nn.Module, mapped: dict[str, Tensor], made_here: set[str],
          what: str) -> dict[str, Tensor]:
    """Load `mapped` into `model` (every weight but the `made_here` buffers must be there,
    with its shape); returns the model's full state dict."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(mapped) - made_here)
    extra = sorted(set(mapped) - set(expected))
    if missing or extra:
        detail = f"missing {missing[:3]}" if missing else f"unknown {extra[:3]}"
        raise ForeignFileError(f"this {what} checkpoint's generator has a layout livegan does "
                               f"not know ({detail})")
    for key, value in mapped.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise ForeignFileError(f"{what}: weight '{key}' has shape {tuple(value.shape)}, "
                                   f"expected {tuple(expected[key].shape)}")
    model.load_state_dict({**expected, **{k: v.float() for k, v in mapped.items()}})
    return model.state_dict()


def _config_mismatch(what: str, option: str, json_value: object, found: object) -> None:
    if json_value != found:
        raise ForeignFileError(f"{what}: the .config.json says {option}={json_value!r} but "
                               f"the weights say {found!r}")


# lightweight-gan ---------------------------------------------------------------------------

LW = "lightweight-gan"
LW_UP = {  # the package's up-layer Sequential index -> livegan's UpLayer names
    "0.net.0.weight": "shuffle_conv.weight", "0.net.0.bias": "shuffle_conv.bias",
    "2.1.weight": "conv.weight", "2.1.bias": "conv.bias", "3.weight": "noise_strength",
    **{f"4.{n}": f"norm.{n}" for n in ("weight", "bias", "running_mean", "running_var",
                                       "num_batches_tracked")},
}
LW_ATTENTION = {  # PreNorm(LinearAttention) -> MapAttention
    "norm.g": "norm.gain", "norm.b": "norm.bias", "fn.to_lin_q.weight": "global_q.weight",
    "fn.to_lin_kv.net.0.weight": "global_kv.depthwise.weight",
    "fn.to_lin_kv.net.1.weight": "global_kv.pointwise.weight", "fn.to_q.weight": "local_q.weight",
    "fn.to_kv.weight": "local_kv.weight", "fn.to_out.weight": "out.weight",
    "fn.to_out.bias": "out.bias",
}
LW_EXCITATION = {"to_k.weight": "key.weight", "to_k.bias": "key.bias", "dct_weights": "dct_weights",
                 **{f"net.{i}.{n}": f"net.{i}.{n}" for i in (0, 2) for n in ("weight", "bias")}}


def _lightweight_layout(g: dict[str, Tensor]) -> dict:
    """livegan's LightweightGenerator config from the generator's tensor names and shapes."""
    if "initial_conv.0.weight" not in g or "out_conv.weight" not in g:
        raise ForeignFileError(f"this {LW} checkpoint's generator has a layout livegan does not "
                               "know (from a version before 1.0?)")
    z_dim = g["initial_conv.0.weight"].shape[0]
    layers = _indices(g, r"layers\.(\d+)\.0\.2\.1\.weight")
    if not layers or layers != list(range(len(layers))):
        raise ForeignFileError(f"this {LW} checkpoint's up-sampling layers are not those of "
                               "lightweight-gan 1.x (pixel shuffle, 4x4 conv); livegan reads 1.x")
    _output_channels(g["out_conv.weight"], LW, "--transparent / --greyscale")
    channels = [g[f"layers.{i}.0.2.1.weight"].shape[0] // 2 for i in layers]
    antialias = [f"layers.{i}.0.1.f" in g for i in layers]
    if any(antialias) != all(antialias):
        raise ForeignFileError(f"{LW}: only some layers blur; livegan expects all or none")
    attention = _indices(g, r"layers\.(\d+)\.2\.fn\.to_q\.weight")
    heads = {g[f"layers.{i}.2.fn.to_q.weight"].shape[0] // ATTENTION_DIM_HEAD for i in attention}
    if len(heads) > 1:
        raise ForeignFileError(f"{LW}: attention layers with different head counts {heads}")
    frequency = [i for i in layers if f"layers.{i}.1.dct_weights" in g]
    return {
        "resolution": 8 * 2 ** (len(layers) - 1), "z_dim": z_dim, "n_labels": 0,
        "channels": channels, "attention_sizes": [4 * 2**i for i in attention],
        "attention_heads": heads.pop() if heads else 8, "antialias": any(antialias),
        "excitation": "frequency" if frequency else "context",
    }


def _lightweight_tensors(g: dict[str, Tensor], config: dict) -> dict[str, Tensor]:
    """The package's generator names -> livegan's."""
    mapped: dict[str, Tensor] = {}
    for key, value in g.items():
        if m := re.fullmatch(r"initial_conv\.([01])\.(.+)", key):
            mapped[("stem.conv." if m.group(1) == "0" else "stem.norm.") + m.group(2)] = value
        elif m := re.fullmatch(r"out_conv\.(weight|bias)", key):
            mapped[f"to_rgb.{m.group(1)}"] = value
        elif m := re.fullmatch(r"layers\.(\d+)\.0\.1\.f", key):
            _check_blur(g, key, LW)
        elif m := re.fullmatch(r"layers\.(\d+)\.(\d)\.(.+)", key):
            i, part, rest = int(m.group(1)), m.group(2), m.group(3)
            table, where = {
                "0": (LW_UP, f"ups.{i}."),
                "1": (LW_EXCITATION, f"excite.{8 * 2**i * 8}."),
                "2": (LW_ATTENTION, f"attend.{4 * 2**i}."),
            }[part]
            if rest not in table:
                raise ForeignFileError(f"{LW}: unknown generator weight '{key}'")
            mapped[where + table[rest]] = value
        else:
            raise ForeignFileError(f"{LW}: unknown generator weight '{key}'")
    return mapped


def _check_lightweight_json(config: dict, config_json: dict) -> None:
    what = f"{LW} .config.json"
    for option in ("transparent", "greyscale"):
        if config_json.get(option):
            raise ForeignFileError(f"a {LW} generator trained with {option} images "
                                   f"(--{option}); livegan plays RGB generators only")
    if "image_size" in config_json:
        _config_mismatch(what, "image_size", config_json["image_size"], config["resolution"])
    if "attn_res_layers" in config_json:
        inputs = [4 * 2**i for i in range(len(config["channels"]))]
        wanted = sorted({s for s in config_json["attn_res_layers"] if s in inputs})
        _config_mismatch(what, "attn_res_layers", wanted, config["attention_sizes"])
    if "freq_chan_attn" in config_json and config["resolution"] >= 128:
        _config_mismatch(what, "freq_chan_attn", bool(config_json["freq_chan_attn"]),
                         config["excitation"] == "frequency")


def convert_lightweight_gan(state: dict, source: dict,
                            config_json: dict | None = None) -> Imported:
    """A lightweight-gan 1.x checkpoint's 'GAN' state dict -> an "lwgan" Imported.

    Args:
        state: the checkpoint's 'GAN' dict (plain tensors).
        source: what is known of the file (format, name, version); returned with additions.
        config_json: the trainer's `.config.json`, when found; checked against the weights.
    """
    g, ema = _generator(state, LW)
    config = _lightweight_layout(g)
    if config_json is not None:
        _check_lightweight_json(config, config_json)
    model = LightweightGenerator(**config)
    made_here = {f"ups.{i}.noise_const" for i in range(len(config["channels"]))}
    tensors = _load(model, _lightweight_tensors(g, config), made_here, LW)
    log.info("%s: %dx%d, z %d, attention at %s, %s weights", LW, config["resolution"],
             config["resolution"], config["z_dim"], config["attention_sizes"] or "none",
             "moving-average" if ema else "raw")
    return Imported(arch="lwgan", config=config, tensors=tensors,
                    source={**source, "format": LW, "ema": ema})


# stylegan2-pytorch -------------------------------------------------------------------------

SG = "stylegan2-pytorch"
SG_BLOCK = {  # GeneratorBlock names -> livegan's Block names
    "to_style1": "conv1.to_style", "to_noise1": "conv1.to_noise", "conv1": "conv1",
    "to_style2": "conv2.to_style", "to_noise2": "conv2.to_noise", "conv2": "conv2",
    "to_rgb.to_style": "to_rgb.to_style", "to_rgb.conv": "to_rgb",
}
SG_ATTENTION = {  # attn_and_ff's Sequential -> AttentionLayer
    "0.fn.norm.g": "attention_norm.gain", "0.fn.norm.b": "attention_norm.bias",
    "0.fn.fn.to_q.weight": "to_q.weight", "0.fn.fn.to_kv.net.0.weight": "to_kv.depthwise.weight",
    "0.fn.fn.to_kv.net.1.weight": "to_kv.pointwise.weight",
    "0.fn.fn.to_out.weight": "to_out.weight", "0.fn.fn.to_out.bias": "to_out.bias",
    "1.fn.norm.g": "feed_forward_norm.gain", "1.fn.norm.b": "feed_forward_norm.bias",
    **{f"1.fn.fn.{i}.{n}": f"feed_forward.{i}.{n}" for i in (0, 2) for n in ("weight", "bias")},
}


def _mapping(state: dict, ema: bool) -> dict[str, Tensor]:
    """The style mapping's tensors (SE with GE, S with G), without prefix."""
    state = _state(state)
    prefix = "SE." if ema else "S."
    tensors = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not tensors:
        raise ForeignFileError(f"a {SG} checkpoint without its style mapping ({prefix[:-1]})")
    return tensors


def _stylegan2_layout(g: dict[str, Tensor], s: dict[str, Tensor], lr_mul: float) -> dict:
    """livegan's LucidStyleGAN2Generator config from tensor names and shapes."""
    blocks = _indices(g, r"blocks\.(\d+)\.conv1\.weight")
    if not blocks or blocks != list(range(len(blocks))):
        raise ForeignFileError(f"this {SG} checkpoint's generator has a layout livegan does not "
                               "know")
    _output_channels(g[f"blocks.{blocks[-1]}.to_rgb.conv.weight"], SG, "--transparent")
    depth = _indices(s, r"net\.(\d+)\.weight")
    if depth != [2 * i for i in range(len(depth))]:
        raise ForeignFileError(f"{SG}: its style mapping's layers are not numbered as "
                               "the package numbers them")
    attention = _indices(g, r"attns\.(\d+)\.0\.fn\.fn\.to_q\.weight")
    heads = {g[f"attns.{i}.0.fn.fn.to_q.weight"].shape[0] // ATTENTION_DIM_HEAD
             for i in attention}
    if len(heads) > 1:
        raise ForeignFileError(f"{SG}: attention layers with different head counts {heads}")
    z_dim = s["net.0.weight"].shape[0]
    return {
        "resolution": 4 * 2 ** (len(blocks) - 1), "z_dim": z_dim, "n_labels": 0,
        "channels": [g[f"blocks.{i}.conv1.weight"].shape[0] for i in blocks],
        "mapping_layers": len(depth), "lr_mul": float(lr_mul),
        "const_input": "initial_block" in g, "attention_blocks": attention,
        "attention_heads": heads.pop() if heads else 8,
    }


def _stylegan2_tensors(g: dict[str, Tensor], s: dict[str, Tensor]) -> dict[str, Tensor]:
    """The package's StyleVectorizer and Generator names -> livegan's."""
    mapped: dict[str, Tensor] = {}
    for key, value in s.items():
        m = re.fullmatch(r"net\.(\d+)\.(weight|bias)", key)
        if not m:
            raise ForeignFileError(f"{SG}: unknown style mapping weight '{key}'")
        plural = {"weight": "weights", "bias": "biases"}[m.group(2)]
        mapped[f"mapping.{plural}.{int(m.group(1)) // 2}"] = value
    simple = {"initial_block": "const", "to_initial_block.weight": "from_w.weight",
              "initial_conv.weight": "initial_conv.weight", "initial_conv.bias": "initial_conv.bias"}
    for key, value in g.items():
        if key in simple:
            mapped[simple[key]] = value
        elif re.fullmatch(r"blocks\.\d+\.to_rgb\.upsample\.1\.f", key):
            _check_blur(g, key, SG)
        elif m := re.fullmatch(r"blocks\.(\d+)\.(.+)\.(weight|bias)", key):
            if m.group(2) not in SG_BLOCK:
                raise ForeignFileError(f"{SG}: unknown generator weight '{key}'")
            mapped[f"blocks.{m.group(1)}.{SG_BLOCK[m.group(2)]}.{m.group(3)}"] = value
        elif (m := re.fullmatch(r"attns\.(\d+)\.(.+)", key)) and m.group(2) in SG_ATTENTION:
            mapped[f"attend.{m.group(1)}.{SG_ATTENTION[m.group(2)]}"] = value
        else:
            raise ForeignFileError(f"{SG}: unknown generator weight '{key}'")
    return mapped


def _check_stylegan2_json(config: dict, config_json: dict) -> None:
    what = f"{SG} .config.json"
    if config_json.get("transparent"):
        raise ForeignFileError(f"a {SG} generator trained with transparent images "
                               "(--transparent); livegan plays RGB generators only")
    if "image_size" in config_json:
        _config_mismatch(what, "image_size", config_json["image_size"], config["resolution"])
    if "no_const" in config_json:
        _config_mismatch(what, "no_const", bool(config_json["no_const"]),
                         not config["const_input"])
    if "attn_layers" in config_json:
        layers = len(config["channels"])  # the package numbers attention layers from the end
        wanted = sorted(layers - n for n in config_json["attn_layers"] if 1 <= n <= layers)
        _config_mismatch(what, "attn_layers", wanted, config["attention_blocks"])


def convert_lucidrains_stylegan2(state: dict, source: dict,
                                 config_json: dict | None = None) -> Imported:
    """A stylegan2-pytorch 1.x checkpoint's 'GAN' state dict -> an "lsg2" Imported.

    w_avg is computed here (the package stores none): the mean w of 10,000 seeded latents
    through the (moving-average) style mapping. lr_mlp comes from `config_json` (default 0.1).
    The package's fq_layers quantize the discriminator only, so they change nothing here.
    """
    g, ema = _generator(state, SG)
    s = _mapping(state, ema)
    lr_mul = DEFAULT_LR_MLP if config_json is None else config_json.get("lr_mlp", DEFAULT_LR_MLP)
    config = _stylegan2_layout(g, s, lr_mul)
    if config_json is not None:
        _check_stylegan2_json(config, config_json)
    model = LucidStyleGAN2Generator(**config)
    _load(model, _stylegan2_tensors(g, s), {"noise_const", "w_avg"}, SG)
    model.compute_w_avg()
    extra = {"ema": ema, "lr_mlp_from": "config" if config_json and "lr_mlp" in config_json
             else "default"}
    log.info("%s: %dx%d, z %d, %d mapping layers, %s weights", SG, config["resolution"],
             config["resolution"], config["z_dim"], config["mapping_layers"],
             "moving-average" if ema else "raw")
    return Imported(arch="lsg2", config=config, tensors=model.state_dict(),
                    source={**source, "format": SG, **extra})
