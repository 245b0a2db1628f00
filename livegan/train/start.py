"""`livegan train --from MODEL`: a run that starts from a trained generator instead of noise.

The model (a bundled one, one of the artist's own files, or an imported one of an arch the
trainer builds) lends the run its generator: its arch, width and options replace the
recipe's, and its weights (EMA ones, as exported) start both the trained generator and its
average. Model files hold no discriminator, so the discriminator starts afresh; with the
projected recipe its front is InceptionV3, frozen, so the part of it that needs data to learn
is only its small heads. A model the trainer cannot train, or one drawn at another
resolution or with other classes, is refused in one sentence before anything is written.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from torch import nn

from livegan.errors import LiveganError
from livegan.nets import TRAINABLE, generator_config

log = logging.getLogger(__name__)

FIXED = ("resolution", "z_dim", "ngf", "n_labels")  # set by the run, not by --g-options


def _option_text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def adopt(cfg, n_labels: int):
    """`cfg` (a TrainConfig) with the generator of model `cfg.start_from`: its arch, z_dim,
    width and options. LiveganError (one sentence) for a model the run cannot start from."""
    from livegan.modelfile import find_model, read_info

    path = find_model(cfg.start_from)
    info = read_info(Path(path))
    shown = cfg.start_from
    if info.arch not in TRAINABLE:
        raise LiveganError(f"--from {shown}: a {info.arch} model, which livegan can play but "
                           f"not train (it trains {', '.join(TRAINABLE)}); start from one of "
                           "those or leave out --from")
    if info.resolution != cfg.res:
        raise LiveganError(f"--from {shown}: it draws {info.resolution}x{info.resolution} "
                           f"pictures and this run is --res {cfg.res}; train with --res "
                           f"{info.resolution} or start from a {cfg.res} px model")
    if len(info.labels) != n_labels or int(info.config.get("n_labels", 0)) != n_labels:
        raise LiveganError(f"--from {shown}: it draws {len(info.labels) or 'no'} classes and "
                           f"this run has {n_labels or 'none'}; start from a model with the "
                           "same classes or leave out --from")
    defaults = generator_config(info.arch)
    options = ",".join(f"{k}={_option_text(v)}" for k, v in info.config.items()
                       if k not in FIXED and k in defaults and v != defaults[k])
    adopted = replace(cfg, arch=info.arch, z_dim=info.z_dim, ngf=int(info.config["ngf"]),
                      g_options=options)
    built = generator_config(adopted.arch, resolution=adopted.res, z_dim=adopted.z_dim,
                             ngf=adopted.generator_width(), n_labels=n_labels,
                             **adopted.generator_options())
    if built != {**defaults, **info.config}:  # options newer than the file: their defaults
        raise LiveganError(f"--from {shown}: its {info.arch} settings cannot be rebuilt for "
                           "training; re-export it with this livegan or leave out --from")
    if (cfg.arch, cfg.ngf, cfg.g_options) != (adopted.arch, adopted.ngf, adopted.g_options):
        log.info("starting from %s (%s, %d px): its generator's settings replace the recipe's "
                 "(arch %s, ngf %d%s)", path, info.arch, info.resolution, info.arch,
                 adopted.ngf, f", {options}" if options else "")
    else:
        log.info("starting from %s (%s, %d px)", path, info.arch, info.resolution)
    return replace(adopted, start_from=str(path))


def load_weights(cfg, generators: tuple[nn.Module, ...]) -> None:
    """Copy the weights of model `cfg.start_from` (adopted) into each generator."""
    from livegan.modelfile import load_model

    state = load_model(Path(cfg.start_from)).generator.state_dict()
    for generator in generators:
        generator.load_state_dict(state)
