"""A checkpoint of rosinality's stylegan2-pytorch (`torch.save` of its train.py or
convert_weight.py) as livegan's "stylegan2" arch.

rosinality's Generator is StyleGAN2's "skip" generator with other names and a few tensors kept
in other shapes; its arithmetic is NVIDIA's: EqualLinear is the equalized dense layer with the
same lr multiplier, fused_leaky_relu is bias + leaky ReLU(0.2) * sqrt(2), its up-sampling conv
is the transposed conv followed by the [1, 3, 3, 1] blur padded (1, 1), and ToRGB up-samples
the skip image as NVIDIA's upsample2d does. Two differences are folded in here: the 3x3 conv
weights carry their 1/sqrt(fan_in) scale (rosinality applies it at run time, before the
demodulation's epsilon), and w_avg, which rosinality does not keep, comes from "latent_avg"
when the checkpoint has it, else from the mean w of 10,000 seeded z.
"""

from __future__ import annotations

import math
import re

import torch
from torch import Tensor

from livegan.foreign.base import ForeignFileError, Imported
from livegan.foreign.nvidia_sg2 import fit_tensors
from livegan.nets.stylegan2 import FIR_TAPS, StyleGAN2Generator, fir_filter

ARCH = "stylegan2"
MEAN_SEED, MEAN_COUNT = 0, 10_000  # w_avg of a checkpoint without latent_avg
LR_MLP = 0.01  # rosinality's Generator(lr_mlp=0.01); train.py never changes it


def _generator_state(ckpt: dict) -> tuple[dict[str, Tensor], str]:
    for key in ("g_ema", "g"):
        state = ckpt.get(key)
        if isinstance(state, dict) and "input.input" in state:
            return state, key
    raise ForeignFileError("no rosinality StyleGAN2 generator in the checkpoint "
                           "(neither 'g_ema' nor 'g' holds 'input.input')")


def _shape_plan(state: dict[str, Tensor]) -> dict:
    """Sizes read off the tensors: style_dim, n_mlp, size and the channels per resolution."""
    mlp = sorted(int(m.group(1)) for k in state if (m := re.fullmatch(r"style\.(\d+)\.weight", k)))
    if not mlp or mlp != list(range(1, len(mlp) + 1)):
        raise ForeignFileError("the rosinality checkpoint has no mapping layers style.1 ... style.n")
    style_dim = state["style.1.weight"].shape[1]
    n_blocks = len({k.split(".")[1] for k in state if k.startswith("to_rgbs.")})
    if any(k.startswith("to_rgbs.") and ".iwt." in k for k in state):
        raise ForeignFileError("a SWAGAN checkpoint (wavelet generator): only rosinality's "
                               "StyleGAN2 generator is supported")
    channels = {4: state["conv1.conv.weight"].shape[1]}
    for i in range(n_blocks):
        channels[8 * 2**i] = state[f"convs.{2 * i}.conv.weight"].shape[1]
    return {"style_dim": style_dim, "n_mlp": len(mlp), "size": 4 * 2**n_blocks,
            "channels": channels}


def _channel_options(channels: dict[int, int]) -> tuple[int, int]:
    """channel_base and channel_max that give these channels (min(base // res, max))."""
    top = max(channels.values())
    for res, ch in sorted(channels.items()):
        base = ch * res
        if all(min(base // r, top) == c for r, c in channels.items()):
            return base, top
    raise ForeignFileError(f"channels per resolution {channels} follow no StyleGAN2 plan")


def _rename(state: dict[str, Tensor], plan: dict) -> dict[str, Tensor]:
    """rosinality's names and shapes -> NVIDIA's (livegan.nets.stylegan2)."""
    out = {}
    for i in range(plan["n_mlp"]):
        for p in ("weight", "bias"):
            out[f"mapping.fc{i}.{p}"] = state[f"style.{i + 1}.{p}"]
    out["synthesis.b4.const"] = state["input.input"][0]  # [C, 4, 4]
    layers = [("conv1", "synthesis.b4.conv1", 0)]
    rgbs = [("to_rgb1", "synthesis.b4.torgb")]
    for i in range(len(plan["channels"]) - 1):
        b = f"synthesis.b{8 * 2**i}"
        layers += [(f"convs.{2 * i}", f"{b}.conv0", 2 * i + 1),
                   (f"convs.{2 * i + 1}", f"{b}.conv1", 2 * i + 2)]
        rgbs.append((f"to_rgbs.{i}", f"{b}.torgb"))
    for src, dst, noise in layers:
        weight = state[f"{src}.conv.weight"][0]  # [O, I, 3, 3]
        out[f"{dst}.weight"] = weight / math.sqrt(weight[0].numel())
        out[f"{dst}.affine.weight"] = state[f"{src}.conv.modulation.weight"]
        out[f"{dst}.affine.bias"] = state[f"{src}.conv.modulation.bias"]
        out[f"{dst}.noise_strength"] = state[f"{src}.noise.weight"].reshape([])
        out[f"{dst}.noise_const"] = state[f"noises.noise_{noise}"][0, 0]  # [R, R]
        out[f"{dst}.bias"] = state[f"{src}.activate.bias"]
        out[f"{dst}.resample_filter"] = fir_filter()
    for src, dst in rgbs:
        out[f"{dst}.weight"] = state[f"{src}.conv.weight"][0]  # [3, I, 1, 1]
        out[f"{dst}.affine.weight"] = state[f"{src}.conv.modulation.weight"]
        out[f"{dst}.affine.bias"] = state[f"{src}.conv.modulation.bias"]
        out[f"{dst}.bias"] = state[f"{src}.bias"].reshape(3)
    for res in plan["channels"]:
        out[f"synthesis.b{res}.resample_filter"] = fir_filter()
    return out


def _check_blur(state: dict[str, Tensor]) -> None:
    """Every blur and up-sampling kernel must be [1, 3, 3, 1] (times 4), the only one drawn."""
    want = fir_filter(FIR_TAPS) * 4
    for key, kernel in state.items():
        if not key.endswith(("blur.kernel", "upsample.kernel")):
            continue
        if kernel.shape != want.shape or not torch.allclose(kernel.float(), want):
            raise ForeignFileError(f"rosinality blur_kernel in '{key}' is not "
                                   "[1, 3, 3, 1]: livegan resamples with that one only")


def _w_avg(config: dict, tensors: dict[str, Tensor], latent_avg: object) -> Tensor:
    if isinstance(latent_avg, Tensor):
        if latent_avg.numel() != config["w_dim"]:
            raise ForeignFileError(f"latent_avg has {latent_avg.numel()} values, the "
                                   f"generator's w has {config['w_dim']}")
        return latent_avg.detach().float().reshape(-1)
    g = StyleGAN2Generator(**{**config, "resolution": 4, "max_res": 0})  # only its mapping
    g.mapping.load_state_dict({k[8:]: v for k, v in tensors.items() if k.startswith("mapping.")})
    z = torch.randn(MEAN_COUNT, config["z_dim"], generator=torch.Generator().manual_seed(MEAN_SEED))
    with torch.no_grad():
        return g.mapping_forward(z).mean(dim=0)  # [W]


def convert_rosinality(ckpt: dict, source: dict, max_res: int = 0) -> Imported:
    """rosinality's checkpoint (the dict torch.load gives) -> livegan "stylegan2".

    Args:
        ckpt: {"g_ema": state_dict, ...} as train.py ("g", "d", "g_ema", optimizers,
            "args" as a dict or absent) or convert_weight.py ("g_ema", "latent_avg") saves it.
        source: what the reader knows of the file, kept in the model.
        max_res: 0, or the side at which the generator stops (a smaller frame).

    Raises:
        ForeignFileError: not a rosinality StyleGAN2 generator, or tensors that do not fit.
    """
    state, which = _generator_state(ckpt)
    args = ckpt.get("args")
    if isinstance(args, dict) and args.get("arch", "stylegan2") != "stylegan2":
        raise ForeignFileError(f"rosinality arch={args['arch']!r} is not supported: livegan "
                               "reads its StyleGAN2 generator only")
    state = {k: v for k, v in state.items() if isinstance(v, Tensor)}
    try:
        plan = _shape_plan(state)
    except KeyError as exc:
        raise ForeignFileError(f"the rosinality generator lacks the tensor {exc}") from None
    _check_blur(state)
    base, top = _channel_options(plan["channels"])
    config = {"resolution": plan["size"], "z_dim": plan["style_dim"],
              "w_dim": plan["style_dim"], "n_labels": 0, "channel_base": base,
              "channel_max": top, "mapping_layers": plan["n_mlp"],
              "mapping_lr_multiplier": LR_MLP, "architecture": "skip"}
    if max_res:
        config["max_res"] = int(max_res)
    try:
        renamed = _rename(state, plan)
    except KeyError as exc:
        raise ForeignFileError(f"the rosinality generator lacks the tensor {exc}") from None
    except (RuntimeError, IndexError) as exc:  # a tensor of an unexpected shape
        raise ForeignFileError(f"the rosinality generator does not have StyleGAN2's shapes "
                               f"({str(exc).splitlines()[0][:80]})") from None
    renamed["mapping.w_avg"] = torch.zeros(plan["style_dim"])  # rosinality keeps none
    try:
        tensors = fit_tensors(config, renamed, "the rosinality generator")
    except ValueError as exc:
        raise ForeignFileError(str(exc)) from None
    latent_avg = ckpt.get("latent_avg")
    tensors["mapping.w_avg"] = _w_avg(config, tensors, latent_avg)
    info = {**source, "network": which,
            "w_avg": "latent_avg" if isinstance(latent_avg, Tensor) else
                     f"mean w of {MEAN_COUNT} z (seed {MEAN_SEED})"}
    if isinstance(args, dict):
        info.update({k: v for k, v in args.items()
                     if k in ("size", "latent", "n_mlp", "channel_multiplier", "iter", "arch")
                     and isinstance(v, (int, float, str))})
    return Imported(arch=ARCH, config=config, tensors=tensors, source=info)
