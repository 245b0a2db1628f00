"""What defines a training run: TrainConfig, its defaults by resolution, and its checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from livegan.errors import LiveganError
from livegan.nets import D_ARCHS, DEFAULT_ARCH, TRAINABLE, arch_name
from livegan.train.augment import parse_policy

PRECISIONS = ("auto", "fp32", "bf16")
MIRROR_MODES = ("auto", "on", "off")  # --mirror (livegan/train/mirror.py decides auto)

# The first trainer's recipe spelled out (recipe "v1"): what a run's saved config means for
# the keys it predates.
FIRST_RECIPE: dict = {
    "arch": "lite",
    "ngf": 16,
    "ndf": 16,
    "batch": 16,
    "lr": 1e-4,
    "lr_d": 4e-4,
    "augment": "color,translation,cutout",
    "ema": 0.999,
    "r1": 0.0,
    "z_dim": 128,
    "beta1": 0.0,
    "d_arch": "residual",
    "recon": 0.0,
    "precision": "fp32",
    "mirror": "on",
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; written to RUN/config.json and reused by --resume.

    The defaults are the recipe measured best per CPU-minute by `livegan bench --quality`
    (docs/training.md, "The recipe"): still the first trainer's (FIRST_RECIPE), which arithmetic
    aside the `fastgan` recipe has not yet beaten there.
    """

    data: str  # folder of training images (subfolders are labels with labels=True)
    arch: str = DEFAULT_ARCH  # generator architecture (livegan.nets.TRAINABLE)
    res: int = 128  # output resolution, a power of two
    steps: int = 10_000  # total generator steps
    batch: int = 16  # images per step (per process under DDP)
    lr: float = 1e-4  # Adam learning rate of the generator
    lr_d: float = 4e-4  # Adam learning rate of the discriminator (TTUR: D learns faster)
    beta1: float = 0.0  # Adam's first momentum (both networks; beta2 is 0.99)
    seed: int = 0  # seeds weights, sampling and augmentation
    z_dim: int = 128  # latent size
    ngf: int = 0  # generator width at full resolution (0: by resolution, see generator_width)
    g_options: str = ""  # more generator options, "name=value,...", e.g. "noise=1,double_up=8"
    ndf: int = 0  # discriminator width (0: the discriminator's own default)
    d_arch: str = "residual"  # discriminator (livegan.nets.D_ARCHS)
    d_colour: int = 0  # projected only: a head on the picture shrunk to this size (0 = off)
    d_detail: int = 0  # projected only: a head on the picture folded to this size (0 = off)
    d_whole: int = 0  # projected only: a head judging the whole picture shrunk to this size
    recon: float = 1.0  # weight of the discriminator's reconstruction loss (selfsup only)
    augment: str = "color,translation,cutout"  # DiffAugment policy, "none", or "auto" (by set size)
    ada_target: float = 0.0  # adaptive augmentation (ADA): keep mean(sign(D(real))) here; 0 = off
    mirror: str = "auto"  # random horizontal flips of the reals: on, off, or auto (mirror.py)
    ema: float = 0.999  # EMA decay of the generator weights that get exported
    cover: float = 0.0  # weight of the coverage term (projected only): reals pull fakes
    diverse: float = 0.0  # weight of the mode-seeking term (projected only)
    palette: float = 0.0  # weight of the palette term (projected only): reals pull fakes' colours
    lattice: float = 0.0  # weight of the lattice term (projected only): no finer grid than reals
    r1: float = 0.0  # R1 gradient penalty weight (0 = off; spectral norm is always on)
    precision: str = "auto"  # fp32, bf16 (autocast), or auto: bf16 where measured faster
    labels: bool = False  # conditional model: class labels from subfolder names
    start_from: str = ""  # --from: a model (name or file) whose generator the run starts from
    sample_every: int = 250  # steps between sample grids
    checkpoint_every: int = 250  # steps between checkpoints
    checkpoint_minutes: float = 5.0  # also checkpoint after this much training time (0 = off)
    keep: int = 3  # checkpoints kept
    log_every: int = 25  # steps between metric lines in metrics.jsonl
    quality: bool = True  # quality figures of 64 samples at every sample grid (quality.py)

    @classmethod
    def from_json(cls, path: Path) -> TrainConfig:
        """A run's saved config; keys it predates take the first recipe's values, so an
        old run resumes exactly as it started."""
        raw = json.loads(path.read_text())
        raw["arch"] = arch_name(raw.get("arch", FIRST_RECIPE["arch"]))  # a run before a rename
        known = {f.name for f in fields(cls)}
        old = {k: v for k, v in FIRST_RECIPE.items() if k not in raw}
        if isinstance(raw.get("mirror"), bool):  # runs from before on/off/auto
            raw["mirror"] = "on" if raw["mirror"] else "off"
        return cls(**{**old, **{k: v for k, v in raw.items() if k in known}})

    def validate(self) -> None:
        if self.arch not in TRAINABLE:
            raise LiveganError(f"unknown --arch '{self.arch}'; choose from "
                               f"{', '.join(TRAINABLE)}")
        if self.d_arch not in D_ARCHS:
            raise LiveganError(f"unknown discriminator '{self.d_arch}'; choose from "
                               f"{', '.join(D_ARCHS)}")
        if self.res < 16 or self.res > 1024 or self.res & (self.res - 1):
            raise LiveganError(f"--res {self.res}: use a power of two from 16 to 1024 (e.g. 128)")
        if self.steps < 1 or self.batch < 1 or self.lr <= 0 or self.lr_d <= 0:
            raise LiveganError("--steps, --batch, --lr and --lr-d must be positive")
        if self.precision not in PRECISIONS:
            raise LiveganError(f"--precision {self.precision}: choose from "
                               f"{', '.join(PRECISIONS)}")
        if self.ngf < 0 or self.ndf < 0 or self.recon < 0 or self.checkpoint_minutes < 0:
            raise LiveganError("--ngf, --ndf, --recon and --checkpoint-minutes must not be "
                               "negative")
        parse_policy(self.augment)
        if self.mirror not in MIRROR_MODES:
            raise LiveganError(f"--mirror {self.mirror}: choose on (flip pictures at random), "
                               "off (never), or auto (flip unless the pictures have a "
                               "handedness, like letters)")
        for name in ("cover", "diverse", "palette", "lattice"):
            weight = getattr(self, name)
            if weight < 0:
                raise LiveganError(f"{name} {weight}: use 0 (off) or a positive weight, e.g. 1")
            if weight and self.d_arch != "projected":
                raise LiveganError(f"{name} {weight}: this term compares pictures on the "
                                   "projected discriminator's frozen features; add --set "
                                   f"d_arch=projected or leave {name} at 0")
        for name, head in (("d_detail", "a detail head"), ("d_whole", "a whole-picture head")):
            size = getattr(self, name)
            if size and (self.d_arch != "projected" or size < 4 or size & (size - 1)):
                raise LiveganError(f"{name} {size}: {head} of at least 4 px, a power of two, "
                                   "for the projected discriminator (e.g. 32), or 0 for none")
        if self.d_colour and (self.d_arch != "projected" or self.d_colour < 4):
            raise LiveganError(f"d_colour {self.d_colour}: a colour head of at least 4 px "
                               "for the projected discriminator (e.g. 16), or 0 for none")
        if not 0 <= self.ada_target < 1:
            raise LiveganError(f"ada_target {self.ada_target}: use 0 (augment every image) or "
                               "a share between 0 and 1, e.g. 0.6 (ADA's)")
        self.generator_options()

    def generator_options(self) -> dict:
        """g_options as constructor arguments of the arch, each parsed by its default's type;
        a name the arch does not take is one sentence listing the ones it does."""
        from livegan.nets import generator_config

        defaults = generator_config(self.arch)
        options: dict = {}
        for pair in filter(None, (p.strip() for p in self.g_options.split(","))):
            name, _, text = pair.partition("=")
            name = name.strip()
            fixed = ("resolution", "z_dim", "ngf", "n_labels")
            if name not in defaults or name in fixed:
                free = [k for k in defaults if k not in fixed]
                raise LiveganError(f"g_options: '{name}' is not an option of the {self.arch} "
                                   f"generator; it takes {', '.join(free)}")
            kind = type(defaults[name]).__name__
            try:
                options[name] = parse_value(kind, text.strip())
            except ValueError:
                raise LiveganError(f"g_options: {name}={text.strip()} is not a {kind}") \
                    from None
        return options

    def generator_width(self) -> int:
        """ngf, or for `fastgan` by resolution, for a frame cheap enough to play live on a CPU:
        16 up to 128x128, 12 at 256x256, 8 above (other archs: 16)."""
        if self.ngf:
            return self.ngf
        if self.arch != "fastgan":
            return 16
        return 16 if self.res <= 128 else 12 if self.res == 256 else 8

    def discriminator_width(self) -> int:
        return self.ndf or 16



def parse_value(kind: str, text: str) -> object:
    """`text` as a bool, int or float (by the type's name); other kinds stay text.
    ValueError when it is not one; callers name the setting in their own error."""
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(text)
        return lowered in ("1", "true", "yes", "on")
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    return text
