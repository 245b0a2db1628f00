"""`livegan bench --distil`: how close a student of `livegan distil` draws its teacher on
held-out latents (PSNR; KID against the teacher's frames beside a blurred copy's), at each
CPU-minute mark its run kept, and both models' frame rates."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from livegan.bench.quality import BLUR_FACTOR, blurred, cpu_model
from livegan.errors import ExtraMissingError, LiveganError
from livegan.nets import pretrained

log = logging.getLogger(__name__)

PAIRS = 256  # held-out latents judged (and as many other ones for the teacher's own set)
OTHER_SEED = 7_000_003  # the teacher's reference set: latents the student is not shown


def _teacher_of(student: Path, given: str | None) -> tuple[str, float, str]:
    """The teacher to compare with: `given`, else the file the student's metadata names;
    with its truncation and the SHA-256 the student was distilled from."""
    from livegan.modelfile import read_info

    info = read_info(student)
    was = info.training.get("distilled_from")
    if not isinstance(was, dict):
        raise LiveganError(f"{student}: not a student of `livegan distil` (its metadata names "
                           "no teacher)")
    teacher = given or was.get("path", "")
    if not given and not Path(teacher).is_file():
        raise LiveganError(f"{student}: its teacher {teacher} is not there any more; name it "
                           "with --teacher FILE")
    return teacher, float(was.get("truncation", 1.0)), str(was.get("sha256", ""))


class Judge:
    """InceptionV3 features of the teacher's frames (held-out latents), of another set of
    its frames (its own noise floor) and of a blurred copy; then any student's figures."""

    def __init__(self, teacher, pairs: int) -> None:
        from livegan.distil import agreement
        from livegan.train.inception import InceptionFeatures

        self.net = InceptionFeatures()
        self.z = agreement.held_out_latents(teacher.z_dim, pairs)
        other = agreement.held_out_latents(teacher.z_dim, pairs, OTHER_SEED)
        self.frames = agreement.draw(teacher.generator, self.z)  # [N, 3, R, R]
        self.reference = self.net(agreement.draw(teacher.generator, other)).double()
        soft = blurred(self.frames)
        self.rows = {"teacher": self._row(self.frames), "blurred": self._row(soft)}

    def _row(self, frames: torch.Tensor) -> dict:
        from livegan.distil.agreement import psnr
        from livegan.train.quality import kid

        return {"psnr": round(psnr(frames, self.frames), 2),
                "kid": round(kid(self.net(frames).double(), self.reference), 5)}

    def student(self, path: Path) -> dict:
        from livegan.distil.agreement import draw
        from livegan.modelfile import load_model

        model = load_model(path)
        training = model.info.training
        return {"file": str(path), "cpu_minutes": training.get("cpu_minutes"),
                "steps": training.get("steps"), **self._row(draw(model.generator, self.z))}


def _ladder(student: Path) -> list[Path]:
    from livegan.modelfile import read_info

    run = read_info(student).training.get("run")
    folder = Path(run) / "ladder" if run else None
    return sorted(folder.glob("student_*.safetensors")) if folder and folder.is_dir() else []


def _speed(model: str, backend: str, frames: int) -> dict:
    from livegan.bench.show import run_bench

    result = run_bench(model, backend, frames)
    return {k: result.get(k) for k in ("generator_fps", "end_to_end_fps", "gflop_per_frame",
                                       "backend", "resolution")}


def run_distil_bench(student: str, teacher: str | None = None, pairs: int = PAIRS,
                     backend: str = "auto", frames: int = 300, speed: bool = True) -> dict:
    """The figures of `livegan bench --distil` for the student model `student`."""
    from livegan.distil.teacher import open_teacher
    from livegan.library import model_path

    if not pretrained.available():
        raise ExtraMissingError(pretrained.MISSING)
    if pairs < 8:
        raise LiveganError(f"--pairs {pairs}: judge at least 8 latents (256 is usual)")
    path = model_path(student)
    teacher_file, psi, sha = _teacher_of(path, teacher)
    loaded = open_teacher(teacher_file, psi)
    if sha and loaded.sha256 != sha:
        log.warning("%s is not the file %s was distilled from (SHA-256 %s, not %s)",
                    teacher_file, path.name, loaded.sha256[:16], sha[:16])
    judge = Judge(loaded, pairs)
    rows = [judge.student(p) for p in _ladder(path)] + [judge.student(path)]
    threads = torch.get_num_threads()
    result = {
        "mode": "distil", "student": str(path), "teacher": str(loaded.path),
        "teacher_sha256": loaded.sha256[:16], "truncation": psi, "pairs": pairs,
        "reference": {"teacher": judge.rows["teacher"], "blurred": judge.rows["blurred"],
                      "blur": f"1/{BLUR_FACTOR} resolution, scaled back up"},
        "students": rows,
        "machine": {"cpu": cpu_model(), "threads": threads, "torch": torch.__version__},
    }
    if speed:
        result["speed"] = {"student": _speed(str(path), backend, frames),
                           "teacher": _speed(str(loaded.path), backend, frames)}
    return result


def format_distil(result: dict) -> str:
    """The distillation bench for people."""
    ref = result["reference"]
    lines = [f"student {result['student']}", (f"teacher {result['teacher']} (psi "
             f"{result['truncation']}), {result['pairs']} held-out latents, "
             f"{result['machine']['cpu']}"),
             f"{'':>26}{'CPU-min':>9}{'PSNR dB':>9}{'KID':>9}",
             f"{'teacher, other latents':>26}{'':>9}{'':>9}{ref['teacher']['kid']:>9.4f}",
             (f"{'teacher blurred':>26}{'':>9}{ref['blurred']['psnr']:>9.2f}"
             f"{ref['blurred']['kid']:>9.4f}")]
    for row in result["students"]:
        minutes = row.get("cpu_minutes")
        shown = f"{minutes:>9.1f}" if isinstance(minutes, int | float) else f"{'?':>9}"
        lines.append(f"{Path(row['file']).name[-26:]:>26}{shown}{row['psnr']:>9.2f}"
                     f"{row['kid']:>9.4f}")
    for who, fig in result.get("speed", {}).items():
        lines.append(f"{who:>8}: {fig['generator_fps']} fps generator, {fig['end_to_end_fps']} "
                     f"fps end to end ({fig['gflop_per_frame']} GFLOP, {fig['backend']})")
    return "\n".join(lines)


def from_args(args: argparse.Namespace) -> tuple[dict, object]:
    result = run_distil_bench(args.model, args.teacher, args.pairs, args.backend, args.frames)
    return result, format_distil
