"""Named training recipes: TrainConfig field overrides that a bench or a run starts from."""

from __future__ import annotations

import logging
from dataclasses import fields, replace

from livegan.errors import ExtraMissingError, LiveganError
from livegan.nets import pretrained
from livegan.nets.projected import MAX_INPUT
from livegan.train.config import FIRST_RECIPE, TrainConfig, parse_value

log = logging.getLogger(__name__)

# name -> TrainConfig field overrides. "default" is "projected" where the quality extra is
# installed, else TrainConfig's own defaults (the first trainer's recipe); "v1" is the first
# trainer's recipe spelled out, so a bench can always compare with it; "fastgan" is FastGAN's
# recipe sized for CPUs; "projected" judges the images on frozen InceptionV3 features.
RECIPES: dict[str, dict] = {
    "default": {},
    "v1": FIRST_RECIPE,
    # FastGAN's ingredients: its generator, the self-supervised discriminator and
    # FastGAN's optimiser settings (docs/training.md, "The recipe"; not yet the default).
    "fastgan": {
        "arch": "fastgan",
        "d_arch": "selfsup",
        "recon": 1.0,
        "lr": 2e-4,
        "lr_d": 2e-4,
        "beta1": 0.5,
    },
    # Projected GAN's discriminator on the first recipe's generator (docs/training.md, "The recipe"):
    # the bench's winner per CPU-minute; needs the quality extra. Batch 8: twice the steps
    # of 16 per CPU-minute; on the bench a better FID at 15 minutes, the same at 30.
    # Augmentation by the set's size: translation alone from 1,000 images (augment.py).
    # Pixel norm in the generator, not BatchNorm: on the bench 3.5 and 13.5 FID better at
    # 30 minutes in two seeds (docs/training.md, "Ablation: a coverage term, ...").
    # A colour head on the picture shrunk to 32 px beside the frozen maps (16 px before): on
    # the bench's photographs a quarter lower KID at 10 minutes than none, and at 32 px it sees
    # strokes too: glyphs KID 0.40 of a blurred copy's against 0.56 at 16 px, the same
    # photographs a little better (docs/training.md, "Real pictures, ...").
    # The palette term at 0.3: each real pulls the fake nearest to it in palette, so samples
    # keep the data's range of colours (marbling at 5 minutes: fid_random 14.2 against 40.5,
    # one palette for every sample without it; photographs: recall 0.087 against 0.013 at a
    # higher KID; glyphs level; docs/training.md, "Why one palette, and the palette term").
    # The lattice term at 1: no more power at periods of 8 px and less than the reals have,
    # beyond 32 times (a 256 px run drew alternate columns a shade lighter without it;
    # docs/training.md, "At 256 px: the detail head, and the lattice term").
    # The whole-picture head at 32 px (minibatch deviation, one score a picture): on glyphs at
    # 30 minutes share 0.45 against 0.39 over two seeds; KID over photographs, glyphs and the
    # synthetic set at two seeds level (0.48 of the blur's either way); docs/training.md,
    # "Real pictures, ...".
    "projected": {
        "g_options": "norm=pixel",
        "d_arch": "projected",
        "d_colour": 32,
        "d_whole": 32,
        "palette": 0.3,
        "lattice": 1.0,
        "batch": 8,
        "recon": 0.0,
        "lr": 2e-4,
        "lr_d": 2e-4,
        "augment": "auto",
    },
}
# The projected recipe adds a detail head (d_detail) where the picture is larger than what its
# frozen eyes see (they see it resized to 160 px): without it a 256 px run draws a one-pixel
# checkerboard that no head sees (docs/training.md, "At 256 px: the detail head").
DETAIL = 32
OLD_RECIPE_NAMES = {"stage": "fastgan"}  # what --recipe still takes, as the recipe's name now
# `livegan train` flags whose default is the recipe's (argparse leaves them out unless
# given): only the ones given override the recipe
RECIPE_FLAGS = ("arch", "batch", "lr", "lr_d", "ngf", "ndf", "g_options", "precision",
                "augment", "r1", "mirror")
NEEDS_EXTRA = "projected"  # the recipe that needs InceptionV3 (pip install 'livegan[quality]')
# the projected discriminator's heads and terms: another discriminator drops them
PROJECTED_ONLY = ("d_colour", "d_detail", "d_whole", "palette", "lattice")


def recipe(name: str) -> dict:
    """The overrides of recipe `name`; one-sentence error naming the recipes otherwise.

    "default" is "projected" when the quality extra is installed; without it, the first
    trainer's settings, and one line saying what the extra would bring.
    """
    if name not in RECIPES:
        raise LiveganError(f"unknown recipe '{name}'; choose from {', '.join(RECIPES)}")
    if name == "default":
        if pretrained.available():
            return dict(RECIPES[NEEDS_EXTRA])
        log.info("training with the residual discriminator; pip install 'livegan[quality]' "
                 "for the projected one, which learns shapes several times faster per CPU-minute")
    if name == NEEDS_EXTRA and not pretrained.available():
        raise ExtraMissingError(f"recipe '{name}': {pretrained.MISSING}")
    return dict(RECIPES[name])


def _parse_value(name: str, kind: object, text: str) -> object:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        return parse_value(kind, text)
    except ValueError:
        raise LiveganError(f"--set {name}={text}: '{text}' is not a {kind}") from None


def parse_settings(pairs: list[str]) -> dict:
    """["lr=2e-4", "batch=32"] -> {"lr": 0.0002, "batch": 32}, each value parsed by the type
    of its TrainConfig field; an unknown field is a one-sentence error listing the fields."""
    kinds = {f.name: f.type for f in fields(TrainConfig) if f.name != "data"}
    settings: dict = {}
    for pair in pairs:
        name, eq, text = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not eq or not name:
            raise LiveganError(f"--set '{pair}' is not KEY=VALUE, e.g. --set lr=2e-4")
        if name not in kinds:
            raise LiveganError(f"--set {name}: unknown training setting; choose from "
                               f"{', '.join(kinds)}")
        settings[name] = _parse_value(name, kinds[name], text.strip())
    return settings


def merge_options(base: str, extra: str) -> str:
    """Two g_options strings as one: "norm=pixel" and "noise=1" give "norm=pixel,noise=1";
    a name in both keeps `extra`'s value. Names and values are checked later, by the arch
    (TrainConfig.generator_options)."""
    merged: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in f"{base},{extra}".split(","))):
        merged[pair.partition("=")[0].strip()] = pair
    return ",".join(merged.values())


def apply(cfg: TrainConfig, name: str = "default", settings: dict | None = None) -> TrainConfig:
    """`cfg` with recipe `name`'s overrides, then `settings`, applied (settings win). Generator
    options add to the recipe's, name by name: `--g-options noise=1` on the projected recipe
    keeps its norm=pixel, `--g-options norm=batch` replaces it."""
    base, settings = recipe(name), dict(settings or {})
    if "g_options" in settings:
        settings["g_options"] = merge_options(base.get("g_options", ""), settings["g_options"])
    merged = {**base, **settings}
    if base.get("d_arch") == "projected" and cfg.res > MAX_INPUT and "d_detail" not in settings:
        merged["d_detail"] = DETAIL
    if merged.get("d_arch", cfg.d_arch) != "projected":
        for key in PROJECTED_ONLY:
            if key not in settings:
                merged.pop(key, None)
    return replace(cfg, **merged)
