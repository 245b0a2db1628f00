"""The student: one of livegan's own generators, sized for the teacher, and its model file."""

from __future__ import annotations

import datetime
import inspect
import logging
from pathlib import Path

import torch
from torch import nn

from livegan.distil.config import DistilConfig
from livegan.distil.errors import StudentError
from livegan.distil.teacher import Teacher
from livegan.modelfile import save_model
from livegan.nets import ARCHS, build_generator, count_gflop, generator_config

log = logging.getLogger(__name__)

WIDTHS = (8, 12, 16, 24, 32, 48, 64)  # the widths auto sizing tries, narrow to wide


def _defaults(arch: str) -> dict:
    params = inspect.signature(ARCHS[arch].__init__).parameters
    return {k: p.default for k, p in params.items() if k != "self"}


def student_config(arch: str, resolution: int, z_dim: int, width: int,
                   norm: str = "batch", mapping: int = 0) -> dict:
    """The constructor arguments of a student `arch` at `width`: the channel cap grows with
    the width in the arch's own proportion (fastgan: 12 and 96), `norm` and a mapping
    network of `mapping` layers where the arch has them."""
    defaults = _defaults(arch)
    options: dict = {"resolution": resolution, "z_dim": z_dim, "ngf": width}
    if "cap" in defaults:
        options["cap"] = width * max(1, defaults["cap"] // defaults["ngf"])
    if "norm" in defaults:
        options["norm"] = norm
    if "mapping" in defaults:
        options["mapping"] = mapping
    return generator_config(arch, **options)


def _teacher_layers(teacher: nn.Module) -> list[nn.Module]:
    """A StyleGAN teacher's mapping layers (fc0, fc1, ...) when they map z to a latent of
    z's size through square layers (so a student's LatentMapping can start as them)."""
    mapping = getattr(teacher, "mapping", None)
    count = getattr(mapping, "num_layers", 0)
    layers = [getattr(mapping, f"fc{i}", None) for i in range(count)]
    z_dim = getattr(teacher, "z_dim", 0)
    if not layers or getattr(mapping, "c_dim", 0) or any(
            layer is None or not hasattr(layer, "weight_gain") or
            tuple(layer.weight.shape) != (z_dim, z_dim) for layer in layers):
        return []
    return layers


@torch.no_grad()
def start_from_teacher(student: nn.Module, teacher: nn.Module) -> bool:
    """Give the student's mapping network the teacher's weights (StyleGAN's equalised
    learning rate and activation gain folded in: it then computes the teacher's w, scaled
    by 1/sqrt(2)), so its convolutions learn from w, where the teacher's pictures are far
    nearer to linear than in z. False where either has no such network."""
    ours = getattr(student, "mapping", None)
    theirs = _teacher_layers(teacher)
    dense = [m for m in ours.layers if isinstance(m, nn.Linear)] if ours is not None else []
    if not theirs or len(dense) != len(theirs):
        return False
    for i, (mine, fc) in enumerate(zip(dense, theirs)):
        gain = fc.weight_gain * (2 ** 0.5 if i else 1.0)
        mine.weight.copy_(fc.weight.float() * gain)
        mine.bias.copy_(fc.bias.float() * fc.bias_gain)
    return True


def check_reachable(arch: str, teacher: Teacher) -> None:
    """StudentError, one sentence, when `arch` cannot draw at the teacher's size."""
    res = teacher.resolution
    try:
        build_generator(arch, student_config(arch, res, teacher.z_dim, WIDTHS[0]))
    except ValueError as exc:
        fix = ("a StyleGAN2 teacher with skip outputs can be drawn smaller with --max-res "
               "1024" if res > 1024 else "distil a teacher of 16 pixels or more")
        raise StudentError(f"a {arch} student cannot draw {teacher.info.name}'s {res}x{res} "
                           f"frames ({exc}); {fix}") from None


def plan_student(cfg: DistilConfig, teacher: Teacher) -> tuple[str, dict]:
    """The student's arch and constructor arguments: cfg.width, or the widest of WIDTHS
    whose frame costs at most cfg.gflop_budget and no more than the teacher's (the
    narrowest when none does)."""
    arch = cfg.resolved_arch()
    check_reachable(arch, teacher)
    res, z_dim = teacher.resolution, teacher.z_dim
    mapping = len(_teacher_layers(teacher.generator)) if cfg.mapping else 0
    if cfg.width:
        return arch, student_config(arch, res, z_dim, cfg.width, cfg.norm, mapping)
    budget = min(cfg.gflop_budget, count_gflop(teacher.generator))
    chosen = student_config(arch, res, z_dim, WIDTHS[0], cfg.norm, mapping)
    for width in WIDTHS[1:]:
        config = student_config(arch, res, z_dim, width, cfg.norm, mapping)
        if count_gflop(build_generator(arch, config)) > budget:
            break
        chosen = config
    log.info("student: %s, width %d at %dx%d (at most %.2f GFLOP a frame)", arch,
             chosen["ngf"], res, res, budget)
    return arch, chosen


def save_student(path: Path, generator: nn.Module, arch: str, config: dict, name: str,
                 teacher: Teacher, training: dict) -> Path:
    """Write the student as a livegan model file: the teacher's directions (in z, which the
    student shares) and where it came from (`livegan models` shows it)."""
    directions = teacher.directions
    names = list(teacher.info.direction_names) if directions is not None else None
    described = teacher.describe()
    source = {"format": "livegan distil", "teacher": described["name"],
              "file": described["file"], "sha256": teacher.sha256[:16],
              "teacher_arch": described["arch"]}
    training = {**training, "distilled_from": described,
                "date": datetime.date.today().isoformat()}
    generator = generator.eval()
    with torch.no_grad():
        return save_model(Path(path), generator, arch, config, name, training=training,
                          directions=directions, direction_names=names, source=source)
