"""NVIDIA's StyleGAN2-ADA generator (a `training.networks.Generator` out of a network pickle)
as livegan's "stylegan2" arch.

The tensors keep their names: livegan.nets.stylegan2 is laid out as NVIDIA's code is. What is
read here is the constructor's options (`init_kwargs`), checked one by one, so a generator this
livegan cannot draw faithfully is refused with the option that stands in the way. The
StyleGAN2 generator of NVIDIA's StyleGAN3 code (`training.networks_stylegan2`, whose synthesis
options sit beside the others instead of in `synthesis_kwargs`) reads the same way.
"""

from __future__ import annotations

import logging
import numbers

import torch
from torch import Tensor

from livegan.foreign.base import ForeignFileError, ForeignModule, Imported
from livegan.foreign.base import fit_tensors as fit
from livegan.nets.stylegan2 import ARCHITECTURES, FIR_TAPS, StyleGAN2Generator

log = logging.getLogger(__name__)

ARCH = "stylegan2"
# Options that change nothing when drawing in fp32 (training or mixed-precision settings).
IGNORED = {"num_fp16_res", "fp16_channels_last", "w_avg_beta", "fused_modconv_default",
           "channels_last", "num_ws"}
ACTIVATIONS = ("linear", "relu", "lrelu")


def _refuse(option: str, value: object, why: str) -> ForeignFileError:
    return ForeignFileError(f"StyleGAN2 option {option}={value!r} is not supported: {why}")


class _Options:
    """Reads a dict of constructor options; whatever is left unread at the end is refused."""

    def __init__(self, where: str, values: dict) -> None:
        if not isinstance(values, dict):
            raise ForeignFileError(f"StyleGAN2 {where} is not a dict of options")
        self.where, self.left = where, dict(values)

    def take(self, key: str, default: object) -> object:
        return self.left.pop(key, default)

    def whole(self, key: str, default: int | None, low: int = 0) -> int:
        value = self.take(key, default)
        if value is None and low == 0:
            return 0  # "same as w_dim" (embed_features, layer_features)
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            raise _refuse(key, value, f"it must be a whole number >= {low}")
        return int(value)

    def number(self, key: str, default: float) -> float:
        value = self.take(key, default)
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or value <= 0:
            raise _refuse(key, value, "it must be a number > 0")
        return float(value)

    def finish(self) -> None:
        for key in sorted(set(self.left) - IGNORED):
            raise _refuse(key, self.left[key], f"livegan does not know this {self.where} option")


def _activation(key: str, value: object) -> str:
    if value not in ACTIVATIONS:
        raise _refuse(key, value, f"livegan draws only {', '.join(ACTIVATIONS)}")
    return str(value)


def generator_config(init_kwargs: dict) -> tuple[dict, dict]:
    """NVIDIA Generator kwargs -> (livegan "stylegan2" config, the ignored settings)."""
    top = _Options("Generator", init_kwargs)
    mapping = _Options("mapping", top.take("mapping_kwargs", {}))
    nested = "synthesis_kwargs" in top.left  # StyleGAN2-ADA; the StyleGAN3 code passes them flat
    synthesis = _Options("synthesis", top.take("synthesis_kwargs", {})) if nested else top
    config = {
        "resolution": top.whole("img_resolution", None, 4),
        "z_dim": top.whole("z_dim", None, 1),
        "w_dim": top.whole("w_dim", 512, 1),
        "n_labels": top.whole("c_dim", 0),
        "img_channels": top.whole("img_channels", 3, 1),
        "mapping_layers": mapping.whole("num_layers", 8, 1),
        "mapping_features": mapping.whole("layer_features", None),
        "embed_features": mapping.whole("embed_features", None),
        "mapping_lr_multiplier": mapping.number("lr_multiplier", 0.01),
        "mapping_activation": _activation("mapping_kwargs.activation",
                                          mapping.take("activation", "lrelu")),
        "channel_base": synthesis.whole("channel_base", 32768, 1),
        "channel_max": synthesis.whole("channel_max", 512, 1),
        "architecture": synthesis.take("architecture", "skip"),
        "conv_clamp": synthesis.take("conv_clamp", None if nested else 256),
        "use_noise": synthesis.take("use_noise", True),
        "activation": _activation("activation", synthesis.take("activation", "lrelu")),
    }
    ignored = {k: v for o in (top, mapping, synthesis) for k, v in o.left.items()
               if k in IGNORED and isinstance(v, (int, float, str, bool))}
    _check_values(config, synthesis)
    for options in (mapping, synthesis, top):
        options.finish()
    return config, ignored


def _check_values(config: dict, synthesis: _Options) -> None:
    if config["resolution"] & (config["resolution"] - 1):
        raise _refuse("img_resolution", config["resolution"], "it must be a power of two")
    if config["img_channels"] != 3:
        raise _refuse("img_channels", config["img_channels"], "livegan draws RGB (3) images")
    if config["architecture"] not in ARCHITECTURES:
        raise _refuse("architecture", config["architecture"],
                      f"NVIDIA's StyleGAN2 has {', '.join(ARCHITECTURES)}")
    clamp = config["conv_clamp"]
    if clamp is not None and (not isinstance(clamp, numbers.Real) or clamp < 0):
        raise _refuse("conv_clamp", clamp, "it must be a number >= 0 or None")
    config["conv_clamp"] = None if clamp is None else float(clamp)
    if not isinstance(config["use_noise"], bool):
        raise _refuse("use_noise", config["use_noise"], "it must be true or false")
    taps = synthesis.take("resample_filter", list(FIR_TAPS))
    if not isinstance(taps, list) or taps != list(FIR_TAPS):
        raise _refuse("resample_filter", taps, "livegan resamples with [1, 3, 3, 1] only")
    kernel = synthesis.take("kernel_size", 3)
    if kernel != 3:
        raise _refuse("kernel_size", kernel, "livegan's synthesis convolutions are 3x3")


def fit_tensors(config: dict, tensors: dict[str, Tensor], what: str) -> dict[str, Tensor]:
    """The tensors of a "stylegan2" network built from `config`, checked by name and shape
    (float32, contiguous); extra tensors of blocks above max_res are dropped."""
    with torch.device("meta"):
        expected = StyleGAN2Generator(**config).state_dict()
    return fit(expected, tensors, what, "StyleGAN2", ignore=lambda k: _above(k, config))


def _above(key: str, config: dict) -> bool:
    """Whether `key` belongs to a synthesis block finer than max_res (left out on purpose)."""
    if not config.get("max_res") or not key.startswith("synthesis.b"):
        return False
    block = key.split(".")[1][1:]
    return block.isdigit() and int(block) > config["max_res"]


def convert_nvidia_sg2(g: ForeignModule, source: dict, max_res: int = 0) -> Imported:
    """NVIDIA's StyleGAN2(-ADA) generator (G_ema, or G) -> livegan "stylegan2".

    Args:
        g: the Generator read from the pickle: init_kwargs its constructor options,
            tensors its state_dict.
        source: what the reader knows of the file (format, file name...), kept in the model;
            a "labels" entry, a list of c_dim names, names the classes.
        max_res: 0, or the side at which a "skip" generator stops (a smaller frame).

    Raises:
        ForeignFileError: an option livegan cannot draw, or tensors that do not fit them.
    """
    if g.class_name != "Generator":
        raise ForeignFileError(f"expected NVIDIA's StyleGAN2 Generator, found {g.class_name}")
    config, ignored = generator_config(g.init_kwargs)
    if max_res:
        config["max_res"] = int(max_res)
    try:
        tensors = fit_tensors(config, g.tensors, "the StyleGAN2 generator")
    except ValueError as exc:  # max_res that the architecture cannot take
        raise ForeignFileError(str(exc)) from None
    labels = source.get("labels")
    n = config["n_labels"]
    if not (isinstance(labels, list) and len(labels) == n and all(isinstance(s, str) for s in labels)):
        labels = [f"class{i}" for i in range(n)]
    info = {**source, "architecture": config["architecture"], **ignored}
    info.pop("labels", None)
    return Imported(arch=ARCH, config=config, tensors=tensors, source=info, labels=labels)
