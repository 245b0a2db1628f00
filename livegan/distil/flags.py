"""`livegan distil`'s flags, and the config and paths they make."""

from __future__ import annotations

import argparse
from pathlib import Path

from livegan.argtypes import positive, positive_float
from livegan.distil.config import DEVICES, PRECISIONS, DistilConfig
from livegan.show.snapshot import DEFAULT_OUT_DIR

EPILOG = """The student is one of livegan's own generators (FastGAN's blocks, as the bundled
models), taught to draw the teacher's frame for the same latent: the same seed, patch,
scene or direction gives nearly the same picture, at livegan's speed. Teachers: any model
livegan opens (a name, a .safetensors file, a StyleGAN2/3 .pkl, a rosinality or lucidrains
.pt). The agreement figure on the progress bar is the PSNR to the teacher on 64 held-out
latents (20 dB: close; 30 dB: hard to tell apart).

examples:
  livegan distil ffhq.pkl --out faces-fast --minutes 120
  livegan distil ffhq.pkl --out faces-fast --minutes 240 --resume     (120 more)
  livegan perform --model faces-fast
  livegan bench --distil --model faces-fast
"""


def add_distil(sub: argparse._SubParsersAction) -> None:
    d = DistilConfig
    p = sub.add_parser("distil", help="train a fast livegan generator to draw a big model's "
                       "frames (a StyleGAN at livegan's frame rate)", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("teacher", help="the model to copy: a name, a model file or a .pkl/.pt")
    p.add_argument("--out", required=True, metavar="NAME",
                   help="the student's name (written to the models folder) or a path ending "
                        "in .safetensors")
    p.add_argument("--run", default=None, metavar="FOLDER",
                   help=f"run folder: checkpoints, metrics, pictures (default: "
                        f"{DEFAULT_OUT_DIR}/distil-NAME)")
    p.add_argument("--minutes", type=positive_float, default=None,
                   help="stop after this many minutes of distillation (with --resume: in all)")
    p.add_argument("--steps", type=positive, default=None, help="stop after this many steps")
    p.add_argument("--resume", action="store_true", help="continue the run in --run")
    p.add_argument("--force", action="store_true", help="replace a model of the same name")
    p.add_argument("--arch", default="", help="student: fastgan (default), lite or dcgan")
    p.add_argument("--width", type=positive, default=0, help="student width at full resolution "
                   f"(default: the widest whose frame costs at most {d.gflop_budget} GFLOP)")
    p.add_argument("--truncation", type=float, default=d.truncation,
                   help=f"the teacher's psi while distilling (default {d.truncation})")
    p.add_argument("--max-res", type=positive, default=0, metavar="R",
                   help="a StyleGAN2 skip teacher drawn only up to its RxR block: the student "
                        "learns that picture, at R")
    p.add_argument("--batch", type=positive, default=d.batch, help=f"default {d.batch}")
    p.add_argument("--cache", type=int, default=0, metavar="PAIRS",
                   help="keep this many teacher frames on disk and reuse them (default: "
                        "every pair fresh)")
    p.add_argument("--pixel", type=float, default=d.pixel, help="weight of the pixel loss")
    p.add_argument("--perceptual", type=float, default=d.perceptual,
                   help="weight of the InceptionV3 feature loss (0 without the quality extra)")
    p.add_argument("--adversarial", type=float, default=d.adversarial,
                   help="weight of the projected discriminator")
    p.add_argument("--device", default=d.device, choices=DEVICES)
    p.add_argument("--precision", default=d.precision, choices=PRECISIONS)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace) -> DistilConfig:
    return DistilConfig(
        arch=args.arch, width=args.width, truncation=args.truncation, max_res=args.max_res,
        batch=args.batch,
        cache=args.cache, pixel=args.pixel, perceptual=args.perceptual,
        adversarial=args.adversarial, device=args.device, precision=args.precision,
        seed=args.seed, minutes=args.minutes or 0.0, steps=args.steps or 0)


def paths_from_args(args: argparse.Namespace) -> tuple[Path, Path]:
    """The student's model file and the run folder."""
    from livegan.foreign import models_folder, out_path, safe_name

    out = out_path(args.out, Path(args.out), models_folder())
    run = Path(args.run) if args.run else Path(DEFAULT_OUT_DIR) / f"distil-{safe_name(out.stem)}"
    return out, run
