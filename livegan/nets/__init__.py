"""Generator architectures by name, so a model file's `arch` string finds its class."""

from __future__ import annotations

import inspect

from torch import nn

from livegan.nets.dcgan import DCGANGenerator
from livegan.nets.discriminator import Discriminator, SelfSupervisedDiscriminator
from livegan.nets.fastgan import FastGANGenerator
from livegan.nets.lite import LiteGenerator
from livegan.nets.lsg2 import LucidStyleGAN2Generator
from livegan.nets.lwgan import LightweightGenerator
from livegan.nets.projected import ProjectedDiscriminator
from livegan.nets.stylegan2 import StyleGAN2Generator
from livegan.nets.stylegan3 import StyleGAN3Generator

ARCHS: dict[str, type[nn.Module]] = {
    "dcgan": DCGANGenerator,
    "fastgan": FastGANGenerator,
    "lite": LiteGenerator,
    "lsg2": LucidStyleGAN2Generator,
    "lwgan": LightweightGenerator,
    "stylegan2": StyleGAN2Generator,
    "stylegan3": StyleGAN3Generator,
}

DEFAULT_ARCH = "lite"  # what `livegan train` builds unless told otherwise
TRAINABLE = ("dcgan", "lite", "fastgan")  # livegan's own: what `livegan train --arch` builds
# (the others are imported from files other programs made: livegan.foreign)
OLD_ARCH_NAMES = {"stage": "fastgan"}  # names model files and runs were written with before


def arch_name(name: str) -> str:
    """The architecture's name now for a name a model file or a run may have been written
    with (FastGAN's generator was "stage" before it was "fastgan")."""
    return OLD_ARCH_NAMES.get(name, name)

# Discriminators by name (training only; model files hold generators).
D_ARCHS: dict[str, type[nn.Module]] = {
    "residual": Discriminator,
    "selfsup": SelfSupervisedDiscriminator,
    "projected": ProjectedDiscriminator,  # needs the quality extra
}


def generator_config(arch: str, **overrides: object) -> dict:
    """The full constructor arguments of `arch` with defaults filled in (stored in model files)."""
    arch = arch_name(arch)
    if arch not in ARCHS:
        raise KeyError(arch)
    params = inspect.signature(ARCHS[arch].__init__).parameters
    config = {k: p.default for k, p in params.items() if k != "self"}
    unknown = set(overrides) - set(config)
    if unknown:
        raise TypeError(f"unknown {arch} options: {sorted(unknown)}")
    config.update(overrides)
    return config


def build_generator(arch: str, config: dict) -> nn.Module:
    """Instantiate a generator from its registered name (or an old one) and constructor
    arguments."""
    return ARCHS[arch_name(arch)](**config)


def build_discriminator(resolution: int, n_labels: int = 0, ndf: int = 16,
                        arch: str = "residual", **options: object) -> nn.Module:
    """A discriminator by name (D_ARCHS); any of them trains any generator. `options`: more
    constructor arguments of that one (the projected one's `colour`)."""
    return D_ARCHS[arch](resolution=resolution, ndf=ndf, n_labels=n_labels, **options)


def count_gflop(generator: nn.Module) -> float:
    """GFLOP (2 per multiply-add) of one forward pass of a single frame, from conv shapes."""
    import torch

    total = 0

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.ConvTranspose2d):
            x = inputs[0]
            total += x[0].numel() * module.out_channels * module.kernel_size[0] ** 2 * 2
        elif isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total += output[0].numel() * k * 2
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features * 2

    if callable(getattr(generator, "taps", None)):  # imported: functional convolutions
        from torch.utils.flop_counter import FlopCounterMode

        p = next(generator.parameters())
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            generator(torch.zeros(1, generator.z_dim, device=p.device, dtype=p.dtype))
        return counter.get_total_flops() / 1e9
    handles = [m.register_forward_hook(hook) for m in generator.modules()]
    try:
        with torch.no_grad():
            p = next(generator.parameters())
            generator(torch.zeros(1, generator.z_dim, device=p.device, dtype=p.dtype))
    finally:
        for h in handles:
            h.remove()
    return total / 1e9
