"""What defines a distillation: DistilConfig, written to RUN/config.json and reused by --resume."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from livegan.distil.errors import DistilError
from livegan.nets import ARCHS, TRAINABLE

PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda")
# CPU-minutes of distillation at which a run keeps a copy of its student (RUN/ladder/), so
# `livegan bench --distil` can tell how close a student gets per CPU-minute
LADDER = (5.0, 15.0, 30.0, 60.0, 120.0)


def default_arch() -> str:
    """The bundled models' architecture: FastGAN's blocks sized for a CPU ("fastgan", once
    called "stage")."""
    return "fastgan" if "fastgan" in ARCHS else "stage"


@dataclass(frozen=True)
class DistilConfig:
    """One distillation run. The student's own options (arch, width) are chosen once, at the
    start, and kept in the run's checkpoints."""

    arch: str = ""  # student architecture (livegan.nets.TRAINABLE; "" = default_arch())
    width: int = 0  # student width at full resolution (0: the widest within gflop_budget)
    gflop_budget: float = 1.2  # auto width: GFLOP per frame (the bundled 256² models: 0.9)
    norm: str = "batch"  # the student's norm: batch (follows z from the start) or pixel
    mapping: bool = True  # a StyleGAN teacher's mapping network starts the student (fastgan)
    batch: int = 16  # pairs per step
    lr: float = 2e-4  # Adam learning rate of the student
    lr_d: float = 2e-4  # Adam learning rate of the discriminator's heads
    pixel: float = 1.0  # weight of the squared distance to the teacher's frame (what PSNR sees)
    perceptual: float = 0.2  # weight of the distance on frozen InceptionV3 feature maps
    adversarial: float = 0.05  # weight of the projected discriminator's judgement
    judge_every: int = 4  # steps between the two terms above (they cost half a step each)
    ema: float = 0.995  # the kept student is an average of its recent weights (200 steps)
    truncation: float = 1.0  # the teacher's psi while it makes the pairs
    max_res: int = 0  # a StyleGAN2 skip teacher drawn only up to this block (0: all of it)
    steps: int = 0  # stop after this many steps (0: no limit)
    minutes: float = 0.0  # stop after this many minutes of distillation (0: no limit)
    cache: int = 0  # keep this many pairs on disk (RUN/pairs) and reuse them (0: all fresh)
    seed: int = 0  # seeds the student's weights and the pairs' latents
    eval_every: int = 100  # steps between agreement figures (PSNR on held-out latents)
    held_out: int = 64  # held-out latents of the agreement figure
    checkpoint_minutes: float = 2.0  # minutes of distillation between checkpoints
    precision: str = "auto"  # auto (bf16 where measured faster), fp32 or bf16
    device: str = "auto"  # auto (cuda when there is one), cpu or cuda

    def resolved_arch(self) -> str:
        return self.arch or default_arch()

    def validate(self) -> DistilConfig:
        arch = self.resolved_arch()
        if arch not in TRAINABLE and not (arch == "fastgan" and "fastgan" in ARCHS):
            raise DistilError(f"--arch {arch}: a student is one of livegan's own generators "
                              f"({', '.join(TRAINABLE)})")
        if self.precision not in PRECISIONS:
            raise DistilError(f"precision '{self.precision}': choose from "
                              f"{', '.join(PRECISIONS)}")
        if self.norm not in ("batch", "pixel"):
            raise DistilError(f"norm '{self.norm}': choose batch or pixel")
        if self.device not in DEVICES:
            raise DistilError(f"--device {self.device}: choose from {', '.join(DEVICES)}")
        positive = {"batch": self.batch, "lr": self.lr, "lr_d": self.lr_d,
                    "gflop_budget": self.gflop_budget, "eval_every": self.eval_every,
                    "judge_every": self.judge_every,
                    "held_out": self.held_out - 1}
        bad = [name for name, value in positive.items() if not value > 0]
        negative = [f.name for f in fields(self) if isinstance(getattr(self, f.name), float | int)
                    and not isinstance(getattr(self, f.name), bool) and getattr(self, f.name) < 0]
        if bad or negative:
            raise DistilError(f"distil settings out of range: {', '.join(bad + negative)}")
        if self.pixel + self.perceptual + self.adversarial <= 0:
            raise DistilError("every loss weight is 0: give --pixel, --perceptual or "
                              "--adversarial a weight")
        return replace(self, arch=arch)

    def to_json(self, path: Path) -> str:
        text = json.dumps(asdict(self), indent=2)
        Path(path).write_text(text)
        return text

    @classmethod
    def from_dict(cls, data: dict) -> DistilConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
