"""The teacher: any model livegan opens (a livegan model file, an imported one, another
program's file imported on the fly), set up to draw the frames a student learns."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from livegan.distil.errors import TeacherError
from livegan.errors import LiveganError
from livegan.modelfile import ModelInfo, SizedByInfo

log = logging.getLogger(__name__)

NOISE = "const"  # a style teacher's noise while distilling: a latent is always one picture


@dataclass
class Teacher(SizedByInfo):
    """A loaded teacher: its info, the file it was read from and that file's SHA-256, its
    generator (eval, frozen) and directions [K, Z] in z."""

    info: ModelInfo
    path: Path
    sha256: str
    generator: nn.Module
    directions: torch.Tensor | None
    truncation: float

    def to(self, device: torch.device) -> Teacher:
        self.generator.to(device)
        return self

    @torch.no_grad()
    def frames(self, z: torch.Tensor) -> torch.Tensor:
        """The teacher's pictures of latents z [N, Z] -> [N, 3, R, R] in [-1, 1] (float32)."""
        return self.generator(z).float().clamp(-1, 1)

    def describe(self) -> dict:
        """Who the teacher is, for the student's metadata and the run's checkpoints."""
        return {"name": self.info.name, "file": self.path.name, "path": str(self.path.resolve()),
                "sha256": self.sha256, "arch": self.info.arch,
                "resolution": self.resolution, "z_dim": self.z_dim,
                "truncation": self.truncation, "noise": NOISE,
                "max_res": int(self.info.config.get("max_res", 0)),
                "source": self.info.source}


def file_sha256(path: Path) -> str:
    from livegan.foreign import file_hash

    return file_hash(path)


def open_teacher(name: str | Path, truncation: float = 1.0, max_res: int = 0) -> Teacher:
    """Open the teacher `name` (a model name, a livegan model file, or a StyleGAN2/3 .pkl,
    rosinality or lucidrains .pt imported once into the models folder) at psi `truncation`
    with const noise. TeacherError, one sentence, for anything that cannot be read."""
    from livegan.library import model_path
    from livegan.modelfile import load_model

    try:
        path = model_path(name)
        model = load_model(path, max_res=max_res)
    except LiveganError as exc:
        raise TeacherError(f"cannot distil from {name}: {exc}") from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise TeacherError(f"cannot distil from {name}: it cannot be read ({exc})") from None
    g = model.generator
    if getattr(model.info, "labels", None) or getattr(g, "n_labels", 0):
        raise TeacherError(f"cannot distil from {name}: it is a conditional model (labels "
                           f"{', '.join(model.info.labels) or g.n_labels}); a student learns "
                           "unconditional models only")
    if hasattr(g, "truncation"):
        g.truncation = float(truncation)
    elif truncation != 1.0:
        raise TeacherError(f"--truncation {truncation}: {model.info.name} is a "
                           f"{model.info.arch} model without w, which has no truncation")
    if hasattr(g, "noise_mode"):
        g.noise_mode = NOISE
    g.eval().requires_grad_(False)
    log.info("teacher %s: %s, %dx%d, z %d, psi %.2f", model.info.name, model.info.arch,
             model.info.resolution, model.info.resolution, model.info.z_dim, truncation)
    return Teacher(info=model.info, path=Path(path), sha256=file_sha256(Path(path)),
                   generator=g, directions=model.directions, truncation=float(truncation))
