"""A distillation run in a run folder: the student learns the teacher's frame for each latent
from pairs the teacher draws, with checkpoints, --resume, a time budget and the agreement
figure (PSNR on held-out latents) on its progress bar; the student's model file is
rewritten at every checkpoint, so it can be played while the run goes on."""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
from tqdm import tqdm

from livegan.distil import agreement
from livegan.distil.config import LADDER, DistilConfig
from livegan.distil.errors import DistilError, ResumeError
from livegan.distil.losses import Judge, feature_distance, l1, squared
from livegan.distil.pairs import PairSource
from livegan.distil.student import plan_student, save_student, start_from_teacher
from livegan.distil.teacher import Teacher, open_teacher
from livegan.errors import ExtraMissingError
from livegan.nets import build_generator
from livegan.nets.layers import recalibrate_batchnorm
from livegan.train import checkpoint as ckpt
from livegan.train import steps
from livegan.train.metrics import MetricsLog
from livegan.train.steps import hinge_d_loss

log = logging.getLogger(__name__)

COLUMNS = ("step", "time", "cpu_minutes", "psnr", "l1", "features", "g_adv", "d_loss",
           "pairs_per_s")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DistilError("--device cuda: no CUDA GPU is visible to torch here; use --device cpu")
    return torch.device(name)


def run_config(run: Path, given: DistilConfig, resume: bool) -> DistilConfig:
    """The run's own settings on --resume (except the budget, which may grow), else `given`."""
    saved = Path(run) / "config.json"
    if not (resume and saved.is_file()):
        return given
    data = json.loads(saved.read_text())
    return replace(DistilConfig.from_dict(data), steps=given.steps, minutes=given.minutes,
                   device=given.device)


class Distiller:
    """One distillation: `run()` until the budget is spent; resumable at any checkpoint."""

    def __init__(self, teacher: str | Path, out: Path, run: Path, cfg: DistilConfig,
                 name: str | None = None, resume: bool = False, force: bool = False,
                 progress: bool = True) -> None:
        self.run_dir, self.out = Path(run), Path(out)
        self.name, self.progress = name or self.out.stem, progress
        existing = ckpt.list_checkpoints(self.ckpt_dir)
        if existing and not resume:
            raise DistilError(f"{self.run_dir} already holds a distillation (step "
                              f"{existing[-1][0]}): pass --resume to continue it, or choose "
                              "another --run")
        if self.out.exists() and not (resume and existing) and not force:
            raise DistilError(f"{self.out} exists; choose another --out NAME (or --force to "
                              "replace it)")
        self.cfg = run_config(self.run_dir, cfg, resume).validate()
        self.teacher: Teacher = open_teacher(teacher, self.cfg.truncation, self.cfg.max_res)
        saved = ckpt.load_latest(self.ckpt_dir) if resume and existing else None
        if resume and existing and saved is None:
            raise ResumeError(f"{self.ckpt_dir}: no readable checkpoint to resume from")
        if saved is not None:
            self._check_same_teacher(saved[0], saved[1])
        self.device = resolve_device(self.cfg.device)
        self._build(saved[0] if saved else None)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(json.dumps(asdict(self.cfg), indent=2))
        self.metrics = MetricsLog(self.run_dir)
        self.metrics.columns = list(COLUMNS)
        self.metrics.rewind(self.step)

    @property
    def ckpt_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    def _check_same_teacher(self, state: dict, path: Path) -> None:
        was = state.get("teacher", {})
        if was.get("sha256") != self.teacher.sha256:
            raise ResumeError(
                f"{self.run_dir} distils {was.get('name', 'another teacher')} (SHA-256 "
                f"{str(was.get('sha256', ''))[:16]}), not {self.teacher.info.name} (SHA-256 "
                f"{self.teacher.sha256[:16]}): resume it with that teacher, or give this one "
                "another --run")

    # -- networks ------------------------------------------------------------------------
    def _build(self, state: dict | None) -> None:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        if state is not None:
            self.arch, self.g_config = state["arch"], state["g_config"]
        else:
            self.arch, self.g_config = plan_student(cfg, self.teacher)
        self.g = build_generator(self.arch, self.g_config).train()
        if state is None and start_from_teacher(self.g, self.teacher.generator):
            log.info("the student's mapping network starts as %s's", self.teacher.info.name)
        self.g.to(self.device)
        self.g_ema = copy.deepcopy(self.g).eval().requires_grad_(False)
        self.opt_g = steps.adam(self.g.parameters(), cfg.lr, (0.5, 0.99))
        self.judge = None
        if cfg.perceptual > 0 or cfg.adversarial > 0:
            from livegan.nets import pretrained
            from livegan.nets.projected import ProjectedDiscriminator

            if not pretrained.available():
                raise ExtraMissingError(f"{pretrained.MISSING} (distil's feature and "
                                        "discriminator losses; or --perceptual 0 "
                                        "--adversarial 0 for pixels alone)")

            d = ProjectedDiscriminator(resolution=self.teacher.resolution).to(self.device)
            self.judge = Judge(d)
            self.opt_d = steps.adam(d.heads.parameters(), cfg.lr_d, (0.5, 0.99))
        self.teacher.to(self.device)
        self.rng = torch.Generator().manual_seed(cfg.seed * 7919 + 17)
        self.pairs = PairSource(self.teacher, self.device, self.rng, cfg.cache,
                                self.run_dir / "pairs", self.autocast)
        self.held_z = agreement.held_out_latents(self.teacher.z_dim, cfg.held_out)
        self.held_frames = agreement.draw(self.teacher.generator, self.held_z)
        self.step, self.elapsed, self.saved_at, self.cpu_seconds = 0, 0.0, 0.0, 0.0
        self.amp: bool | None = None
        if state is not None:
            self._restore(state)

    def state(self) -> dict:
        return {
            "step": self.step, "elapsed": self.elapsed, "cpu_seconds": self.cpu_seconds,
            "arch": self.arch,
            "g_config": self.g_config, "teacher": self.teacher.describe(),
            "g": self.g.state_dict(), "g_ema": self.g_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(), "rng": self.rng.get_state(),
            "torch_rng": torch.get_rng_state(), "amp": self.amp, "threads": self.threads,
            "d": self.judge.d.state_dict() if self.judge else None,
            "opt_d": self.opt_d.state_dict() if self.judge else None,
        }

    def _restore(self, state: dict) -> None:
        self.g.load_state_dict(state["g"])
        self.g_ema.load_state_dict(state["g_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.judge is not None and state.get("d") is not None:
            self.judge.d.load_state_dict(state["d"])
            self.opt_d.load_state_dict(state["opt_d"])
        self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
        self.cpu_seconds = float(state.get("cpu_seconds", 0.0))
        self.saved_at, self.amp = self.elapsed, state.get("amp")
        self.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        log.info("resumed %s at step %d (%.1f minutes)", self.run_dir, self.step,
                 self.elapsed / 60)

    @property
    def threads(self) -> int:
        return torch.get_num_threads() if self.device.type == "cpu" else 1

    @property
    def cpu_minutes(self) -> float:
        """The process's CPU time spent distilling, in minutes: a minute of one core is one
        CPU-minute (two threads for a minute: two)."""
        return self.cpu_seconds / 60

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bool(self.amp))

    # -- one step ------------------------------------------------------------------------
    def step_once(self) -> dict[str, float]:
        """One update of the discriminator's heads and of the student; returns the losses."""
        if self.amp is None:
            self._choose_precision()
        z, target = self.pairs.batch(self.cfg.batch)
        cfg, figures = self.cfg, {}
        with self.autocast():
            frames = self.g(z)  # [B, 3, R, R]
            loss = cfg.pixel * squared(frames, target)
            figures["l1"] = float(l1(frames.detach(), target))
            if self.judge is not None and self.step % cfg.judge_every == 0:
                loss = loss + self._judged(frames, target, figures)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self._update_ema()
        self.step += 1
        return figures

    def _judged(self, frames: torch.Tensor, target: torch.Tensor,
                figures: dict[str, float]) -> torch.Tensor:
        """The feature distance and the adversarial term of the student's loss; the
        discriminator's heads take their step on the way (teacher frames are its reals)."""
        cfg, judge = self.cfg, self.judge
        with torch.no_grad():
            seen_t = judge.see(target)
        seen_s = judge.see(frames)
        loss = torch.zeros((), device=frames.device)
        if cfg.perceptual > 0:
            distance = feature_distance(seen_s, seen_t)
            figures["features"] = float(distance.detach())
            loss = loss + cfg.perceptual * distance
        if cfg.adversarial > 0:
            maps_s = judge.project(seen_s)
            with torch.no_grad():
                maps_t = judge.project(seen_t)
            d_loss = hinge_d_loss(judge.judge(maps_t).float(),
                                  judge.judge([m.detach() for m in maps_s]).float())
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            g_adv = -judge.judge(maps_s).float().mean()
            figures.update(d_loss=float(d_loss.detach()), g_adv=float(g_adv.detach()))
            loss = loss + cfg.adversarial * g_adv
        return loss

    def _choose_precision(self) -> None:
        from livegan.train.precision import choose_bf16

        def timed(bf16: bool) -> None:
            z = torch.randn(min(8, self.cfg.batch), self.teacher.z_dim, device=self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = self.g(z).float().mean()
                if self.judge is not None:
                    loss = loss + self.judge.judge(self.judge.project(
                        self.judge.see(self.g(z)))).float().mean()
            loss.backward()
            self.g.zero_grad(set_to_none=True)

        modules = (self.g,) + ((self.judge.d,) if self.judge else ())
        self.amp = choose_bf16(self.cfg.precision, self.device, timed, modules)
        log.info("distilling in %s", "bf16 (autocast)" if self.amp else "fp32")

    def _update_ema(self) -> None:
        steps.update_ema(self.g_ema, self.g, self.cfg.ema, self.step)

    # -- figures, checkpoints, the model file --------------------------------------------
    def kept(self) -> torch.nn.Module:
        """The kept (averaged) student, its batch statistics measured for its own weights."""
        recalibrate_batchnorm(self.g_ema, self.teacher.z_dim, batches=4, size=32)
        return self.g_ema

    def agreement(self) -> float:
        """PSNR (dB) of the kept student against the teacher on held-out latents."""
        return agreement.psnr(agreement.draw(self.kept(), self.held_z), self.held_frames)

    def checkpoint(self, psnr: float | None = None) -> Path:
        """Save the run (atomically) and rewrite the student's model file."""
        self.pairs.flush()
        path = ckpt.save_checkpoint(self.ckpt_dir, self.step, self.state(), keep=2)
        self.saved_at = self.elapsed
        self.export(self.out, psnr)
        return path

    def export(self, out: Path, psnr: float | None = None) -> Path:
        training = {"steps": self.step, "seconds": round(self.elapsed, 1),
                    "cpu_minutes": round(self.cpu_minutes, 2), "threads": self.threads,
                    "device": self.device.type, "run": str(self.run_dir.resolve()),
                    "psnr_held_out": round(psnr if psnr is not None else self.agreement(), 2)}
        return save_student(out, self.kept(), self.arch, self.g_config, self.name,
                            self.teacher, training)

    def _ladder(self, before: float) -> None:
        """A copy of the student at each LADDER mark of CPU-minutes the last step passed."""
        for mark in LADDER:
            if before < mark <= self.cpu_minutes:
                self.export(self.run_dir / "ladder" / f"student_{mark:05.1f}min.safetensors")

    def done(self) -> bool:
        cfg = self.cfg
        return bool((cfg.steps and self.step >= cfg.steps) or
                    (cfg.minutes and self.elapsed >= 60 * cfg.minutes))

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> Path:
        """Distil until --steps or --minutes; returns the student's model file. Ctrl-C saves
        a checkpoint and the model file first (then raises KeyboardInterrupt)."""
        if not (self.cfg.steps or self.cfg.minutes):
            raise DistilError("give a budget: --minutes M (of distillation) or --steps N")
        bar = tqdm(total=self.cfg.steps or None, initial=self.step, unit="step",
                   disable=not self.progress, dynamic_ncols=True, desc="distilling")
        try:
            self._loop(bar)
        except KeyboardInterrupt:
            bar.close()
            log.warning("interrupted at step %d: saved %s and %s; continue with --resume",
                        self.step, self.checkpoint(), self.out)
            raise
        bar.close()
        student = agreement.draw(self.kept(), self.held_z)
        psnr = agreement.psnr(student, self.held_frames)
        if self.step % self.cfg.eval_every and self.step > 1:
            self._record(psnr, {}, 0.0)
        self.checkpoint(psnr)
        agreement.side_by_side(self.held_frames[:16], student[:16],
                               self.run_dir / "side_by_side.png")
        log.info("student %s: %.2f dB PSNR to %s on %d held-out latents after %.1f "
                 "CPU-minutes (%d steps)", self.out, psnr, self.teacher.info.name,
                 self.cfg.held_out, self.cpu_minutes, self.step)
        return self.out

    def _record(self, psnr: float, figures: dict[str, float], rate: float) -> None:
        """One metrics row (RUN/metrics.csv and .jsonl): the agreement and the losses."""
        self.metrics.write({"step": self.step, "time": round(self.elapsed, 1),
                            "cpu_minutes": round(self.cpu_minutes, 2), "psnr": round(psnr, 2),
                            **{k: round(v, 4) for k, v in figures.items()},
                            **({"pairs_per_s": round(rate, 1)} if rate else {})})

    def _loop(self, bar: tqdm) -> None:
        rate, shown = 0.0, {}
        while not self.done():
            t0, c0, before = time.perf_counter(), time.process_time(), self.cpu_minutes
            figures = self.step_once()
            if not all(math.isfinite(v) for v in figures.values()):
                raise DistilError(f"distillation diverged at step {self.step} (loss is NaN); "
                                  "resume from the last checkpoint with a lower --lr")
            measured = self.step % self.cfg.eval_every == 0 or self.step == 1
            if measured:
                shown = {"psnr": round(self.agreement(), 2)}
            dt = time.perf_counter() - t0
            self.elapsed += dt
            self.cpu_seconds += time.process_time() - c0
            rate = 0.9 * rate + 0.1 * self.cfg.batch / dt if rate else self.cfg.batch / dt
            if measured:
                self._record(shown["psnr"], figures, rate)
            self._ladder(before)
            if self.elapsed - self.saved_at >= 60 * self.cfg.checkpoint_minutes:
                self.checkpoint()
            bar.update(1)
            bar.set_postfix(psnr=f"{shown.get('psnr', float('nan')):.2f}dB",
                            l1=f"{figures['l1']:.3f}", min=f"{self.elapsed / 60:.1f}")
