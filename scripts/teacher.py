"""Train a small StyleGAN2 (NVIDIA's layout, livegan.nets.stylegan2) on an image folder with
livegan's training loop and write it as a model file: a teacher with learned structure for
`livegan distil` when no StyleGAN file of one's own is at hand (none ships, none may be
downloaded).

    livegan data synth runs/teacher-data --count 2000 --res 64
    OMP_NUM_THREADS=1 python scripts/teacher.py runs/teacher-data --out runs/teacher \
        # runs until Ctrl-C (or `timeout -s INT 45m`), checkpointing every 2 minutes;
        # --resume continues
    python scripts/teacher.py runs/teacher-data --out runs/teacher --export models/teacher64.safetensors

The generator is StyleGAN2's (mapping network, modulated convolutions, noise, skip outputs)
at the size below; the discriminator, losses, augmentation and EMA are livegan's `projected`
recipe. w_avg, which StyleGAN keeps as a running mean during training, is measured once at
export from 4,096 mapped latents.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

import torch

from livegan.foreign import _directions
from livegan.modelfile import save_model
from livegan.nets import build_generator
from livegan.train import checkpoint as ckpt
from livegan.train import loop
from livegan.train.config import TrainConfig
from livegan.train.recipes import apply

# the teacher's StyleGAN2 options: a 64x64 "skip" generator, z = w = 256, 4 mapping layers,
# 256 channels up to 32x32 and 128 at 64x64 (NVIDIA's channel_base / res rule)
TEACHER = {"z_dim": 256, "w_dim": 256, "channel_base": 8192, "channel_max": 256,
           "mapping_layers": 4, "architecture": "skip", "n_labels": 0}


class TeacherTrainer(loop.Trainer):
    """livegan's Trainer with StyleGAN2's generator in place of the run's arch."""

    def _generator(self) -> tuple[dict, torch.nn.Module]:
        config = {**TEACHER, "resolution": self.cfg.res}
        g = build_generator("stylegan2", config).train().requires_grad_(True)
        g.noise_mode = "random"  # as StyleGAN trains; the file keeps its const maps
        return config, g

    def state(self) -> dict:
        return {**super().state(), "arch": "stylegan2"}


def export(run: Path, out: Path) -> Path:
    loaded = ckpt.load_latest(run / "checkpoints")
    if loaded is None:
        sys.exit(f"{run}: no checkpoint; train first")
    state, path = loaded
    g = build_generator("stylegan2", state["g_config"])
    g.load_state_dict(state["g_ema"])
    g.eval().requires_grad_(False)
    g.noise_mode = "const"
    with torch.no_grad():
        z = torch.randn(4096, g.z_dim, generator=torch.Generator().manual_seed(0))
        g.mapping.w_avg.copy_(g.mapping_forward(z).mean(0))
    directions, names = _directions(g)
    save_model(out, g, "stylegan2", state["g_config"], out.stem,
               training={"steps": int(state["step"]), "seconds": round(state["elapsed"], 1),
                         "checkpoint": path.name},
               directions=directions, direction_names=names,
               source={"format": "StyleGAN2 trained by livegan's scripts/teacher.py",
                       "run": run.name})
    print(f"wrote {out} (step {state['step']}, {state['elapsed'] / 60:.1f} training minutes)")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--res", type=int, default=64)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--lr", type=float, default=2e-3,
                   help="the generator's Adam rate (its weights are scaled at run time, as "
                        "StyleGAN's: it wants about ten times the rate of livegan's own)")
    p.add_argument("--diverse", type=float, default=1.0, help="weight of the mode-seeking term")
    p.add_argument("--export", type=Path, help="write the newest checkpoint as a model file")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if a.export:
        export(a.out, a.export)
        return
    cfg = apply(TrainConfig(data=a.data, res=a.res, z_dim=TEACHER["z_dim"]), "projected")
    # the mode-seeking term: StyleGAN's discriminator has a minibatch-deviation layer against
    # collapse, the projected one does not; without it every sample soon draws one picture
    cfg = replace(cfg, lr=a.lr, diverse=a.diverse, steps=1_000_000, sample_every=500, checkpoint_every=10_000,
                  checkpoint_minutes=2.0)
    TeacherTrainer(cfg, a.out, resume=a.resume).run()


if __name__ == "__main__":
    main()
