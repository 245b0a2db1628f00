"""NVIDIA's StyleGAN3 generator (a `training.networks_stylegan3.Generator` out of a network
pickle) as livegan's "stylegan3" arch, -T or -R.

The tensors keep their names and values, the low-pass filters included (they are buffers of
the file): livegan.nets.stylegan3 is laid out as NVIDIA's code is. What is read here is the
constructor's options (`init_kwargs`, as train.py passes them: the synthesis options flat
beside z_dim and w_dim, the mapping's in `mapping_kwargs`), checked one by one; an option
livegan cannot draw faithfully is refused with its name.
"""

from __future__ import annotations

import logging
import numbers

import torch
from torch import Tensor

from livegan.foreign.base import ForeignFileError, ForeignModule, Imported
from livegan.foreign.base import fit_tensors as fit
from livegan.nets.stylegan3 import StyleGAN3Generator

log = logging.getLogger(__name__)

ARCH = "stylegan3"
# Options that change nothing when drawing in fp32 (training and mixed-precision settings).
IGNORED = {"num_fp16_res", "magnitude_ema_beta", "w_avg_beta"}


def _refuse(option: str, value: object, why: str) -> ForeignFileError:
    return ForeignFileError(f"StyleGAN3 option {option}={value!r} is not supported: {why}")


def _whole(options: dict, key: str, default: int | None, low: int) -> int:
    value = options.pop(key, default)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise _refuse(key, value, f"it must be a whole number >= {low}")
    return int(value)


def _real(options: dict, key: str, default: float, positive: bool = True) -> float:
    value = options.pop(key, default)
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or (positive and value <= 0):
        raise _refuse(key, value, "it must be a number > 0" if positive else "it must be a number")
    return float(value)


def generator_config(init_kwargs: dict) -> tuple[dict, dict]:
    """NVIDIA Generator kwargs -> (livegan "stylegan3" config, the ignored settings)."""
    if not isinstance(init_kwargs, dict):
        raise ForeignFileError("the StyleGAN3 Generator's options are not a dict")
    top = dict(init_kwargs)
    mapping = top.pop("mapping_kwargs", None) or {}
    if not isinstance(mapping, dict):
        raise _refuse("mapping_kwargs", mapping, "it must be a dict of options")
    mapping = dict(mapping)
    config = {
        "resolution": _whole(top, "img_resolution", None, 4),
        "z_dim": _whole(top, "z_dim", None, 1),
        "w_dim": _whole(top, "w_dim", None, 1),
        "n_labels": _whole(top, "c_dim", 0, 0),
        "img_channels": _whole(top, "img_channels", 3, 1),
        "mapping_layers": _whole(mapping, "num_layers", 2, 1),
        "mapping_lr_multiplier": _real(mapping, "lr_multiplier", 0.01),
        "channel_base": _whole(top, "channel_base", 32768, 1),
        "channel_max": _whole(top, "channel_max", 512, 1),
        "num_layers": _whole(top, "num_layers", 14, 1),
        "num_critical": _whole(top, "num_critical", 2, 0),
        "first_cutoff": _real(top, "first_cutoff", 2.0),
        "first_stopband": _real(top, "first_stopband", 2**2.1),
        "last_stopband_rel": _real(top, "last_stopband_rel", 2**0.3),
        "margin_size": _whole(top, "margin_size", 10, 0),
        "output_scale": _real(top, "output_scale", 0.25, positive=False),
        "conv_kernel": _whole(top, "conv_kernel", 3, 1),
        "filter_size": _whole(top, "filter_size", 6, 1),
        "lrelu_upsampling": _whole(top, "lrelu_upsampling", 2, 1),
        "use_radial_filters": top.pop("use_radial_filters", False),
        "conv_clamp": top.pop("conv_clamp", 256),
    }
    _check_values(config)
    ignored = {k: v for o in (top, mapping) for k, v in o.items()
               if k in IGNORED and isinstance(v, (int, float, str, bool))}
    for where, options in (("mapping", mapping), ("Generator", top)):
        for key in sorted(set(options) - IGNORED):
            raise _refuse(key, options[key], f"livegan does not know this {where} option")
    return config, ignored


def _check_values(config: dict) -> None:
    if config["img_channels"] not in (1, 3):
        raise _refuse("img_channels", config["img_channels"], "livegan draws RGB or gray images")
    if config["num_critical"] >= config["num_layers"]:
        raise _refuse("num_critical", config["num_critical"],
                      f"it must be less than num_layers ({config['num_layers']})")
    if not isinstance(config["use_radial_filters"], bool):
        raise _refuse("use_radial_filters", config["use_radial_filters"],
                      "it must be true or false")
    clamp = config["conv_clamp"]
    if clamp is not None and (not isinstance(clamp, numbers.Real) or isinstance(clamp, bool)
                              or clamp < 0):
        raise _refuse("conv_clamp", clamp, "it must be a number >= 0 or None")
    config["conv_clamp"] = None if clamp is None else float(clamp)


def variant(config: dict) -> str:
    """"stylegan3-t", "stylegan3-r" (as train.py's --cfg names them), or "stylegan3" for
    another mix of kernel and filters."""
    if config["conv_kernel"] == 3 and not config["use_radial_filters"]:
        return "stylegan3-t"
    if config["conv_kernel"] == 1 and config["use_radial_filters"]:
        return "stylegan3-r"
    return "stylegan3"


def fit_tensors(config: dict, tensors: dict[str, Tensor], what: str) -> dict[str, Tensor]:
    """The tensors of a "stylegan3" network built from `config`, checked by name and shape
    (float32, contiguous)."""
    with torch.device("meta"):
        expected = StyleGAN3Generator(**config).state_dict()
    return fit(expected, tensors, what, "StyleGAN3")


def convert_nvidia_sg3(g: ForeignModule, source: dict) -> Imported:
    """NVIDIA's StyleGAN3 generator (G_ema, or G) -> livegan "stylegan3".

    Args:
        g: the Generator read from the pickle: init_kwargs its constructor options,
            tensors its state_dict.
        source: what the reader knows of the file (format, file name...), kept in the model
            with the variant ("stylegan3-t" or "stylegan3-r") added; a "labels" entry, a list
            of c_dim names, names the classes.

    Raises:
        ForeignFileError: an option livegan cannot draw, or tensors that do not fit them.
    """
    if g.class_name != "Generator":
        raise ForeignFileError(f"expected NVIDIA's StyleGAN3 Generator, found {g.class_name}")
    config, ignored = generator_config(g.init_kwargs)
    tensors = fit_tensors(config, g.tensors, "the StyleGAN3 generator")
    labels = source.get("labels")
    n = config["n_labels"]
    named = isinstance(labels, list) and all(isinstance(s, str) for s in labels)
    if not (named and len(labels) == n):
        labels = [f"class{i}" for i in range(n)]
    info = {**source, "variant": variant(config), **ignored}
    info.pop("labels", None)
    log.debug("StyleGAN3 %s, %dpx, %d layers", info["variant"], config["resolution"],
              config["num_layers"])
    return Imported(arch=ARCH, config=config, tensors=tensors, source=info, labels=labels)
