"""The training loop: hinge loss, DiffAugment, spectral-norm D, EMA G, checkpoints, DDP."""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import signal
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
from tqdm import tqdm

from livegan.errors import DatasetError, LiveganError
from livegan.nets import build_discriminator, build_generator, generator_config
from livegan.nets.layers import recalibrate_batchnorm
from livegan.train import checkpoint as ckpt
from livegan.train import steps
from livegan.train.augment import AugmentStrength, diff_augment, parse_policy, resolve_policy
from livegan.train.config import TrainConfig
from livegan.train.data import ImageDataset
from livegan.train.distributed import Dist
from livegan.train.metrics import MetricsLog
from livegan.train.samples import save_grid

log = logging.getLogger(__name__)


class Trainer:
    """One training run in a run folder. Call `run()`; resumable at any step."""

    def __init__(self, cfg: TrainConfig, out: Path, resume: bool = False,
                 progress: bool = True) -> None:
        cfg.validate()
        self.cfg, self.out, self.progress = cfg, Path(out), progress
        self.dist = Dist.from_env()
        self.device = self.dist.device
        self.strength = AugmentStrength(cfg.ada_target, cfg.batch)
        self.data = ImageDataset(Path(cfg.data), cfg.res, labels=cfg.labels,
                                 progress=progress and self.dist.is_main)
        # mirrored copies (`data prepare --mirror`) are not more pictures to memorise
        self.augment_policy = resolve_policy(cfg.augment, self.data.pictures)
        self.policy = parse_policy(self.augment_policy)
        if self.augment_policy != cfg.augment and self.dist.is_main:
            log.info("augmenting with %s (--augment auto, %d pictures)",
                     self.augment_policy or "nothing", self.data.pictures)
        self.n_labels = len(self.data.label_names) if cfg.labels else 0
        resuming = resume and bool(ckpt.list_checkpoints(self.ckpt_dir))
        if cfg.start_from and not resuming:  # --from: the model's generator (start.py)
            from livegan.train.start import adopt

            self.cfg = cfg = adopt(cfg, self.n_labels)
        self.mirror = None if resuming else self._decide_mirror()  # resume: the checkpoint's
        self._build(start=bool(cfg.start_from) and not resuming)
        self.step = 0
        self.elapsed = 0.0
        self.saved_at = 0.0  # training time at the last checkpoint
        self.stopping = False  # set by Ctrl-C: stop at the next step boundary
        self.real_spectrum = steps.RealSpectrum()  # what the lattice term holds fakes to
        self._prepare_folder(resume)
        if self.dist.world_size > 1 and self.dist.is_main:
            log.info("training on %d processes (DDP, %s): %d images per step", self.dist.world_size,
                     "nccl" if self.device.type == "cuda" else "gloo",
                     cfg.batch * self.dist.world_size)
            if cfg.cover or cfg.diverse or cfg.palette or cfg.lattice:
                log.warning("cover, diverse, palette and lattice are left out under several "
                            "processes (they need the one-process step); train on one for them")

    def _generator(self) -> tuple[dict, torch.nn.Module]:
        """The run's generator settings and network, built from cfg (a subclass may build
        another architecture here)."""
        cfg = self.cfg
        config = generator_config(cfg.arch, resolution=cfg.res, z_dim=cfg.z_dim,
                                  ngf=cfg.generator_width(), n_labels=self.n_labels,
                                  **cfg.generator_options())
        return config, build_generator(cfg.arch, config)

    def _build(self, start: bool = False) -> None:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        self.g_config, g = self._generator()
        self.g = g.to(self.device)
        if start:
            from livegan.train.start import load_weights

            load_weights(cfg, (self.g,))
        heads = {name: getattr(cfg, f"d_{name}") for name in ("colour", "detail", "whole")
                 if getattr(cfg, f"d_{name}")}
        self.d = build_discriminator(cfg.res, self.n_labels, cfg.discriminator_width(),
                                     cfg.d_arch, **heads).to(self.device)
        self.g_ema = copy.deepcopy(self.g).eval().requires_grad_(False)
        betas = (cfg.beta1, 0.99)
        self.opt_g = steps.adam(self.g.parameters(), cfg.lr, betas)
        self.opt_d = steps.adam(self.d.parameters(), cfg.lr_d, betas)
        self.recon = cfg.recon if cfg.d_arch == "selfsup" else 0.0
        self.g_train, self.d_train = self.dist.wrap(self.g), self.dist.wrap(self.d)
        self.rng = torch.Generator().manual_seed(cfg.seed * 1000 + self.dist.rank)
        fixed = torch.Generator().manual_seed(1234)
        self.fixed_z = torch.randn(36, cfg.z_dim, generator=fixed)  # the seeds of every grid
        self.fixed_labels = torch.arange(36) % max(self.n_labels, 1)
        self.amp = None  # bf16 autocast: chosen at the first step (precision.py), kept on resume
        self.probe = None  # QualityProbe, built at the first sample grid
        self.quality_z = torch.randn(64, cfg.z_dim, generator=fixed)  # the seeds it measures

    def _prepare_folder(self, resume: bool) -> None:
        existing = ckpt.list_checkpoints(self.ckpt_dir)
        if existing and not resume:
            raise LiveganError(f"{self.out} already holds a run (checkpoint step "
                               f"{existing[-1][0]}): pass --resume to continue it, or "
                               "choose another --out")
        if self.dist.is_main:  # before anyone reads: a kill mid-write left these behind
            ckpt.clean_stale(self.ckpt_dir)
            ckpt.clean_stale(self.out)
        self.dist.barrier()
        if resume and existing:
            self._restore()
        self.metrics = MetricsLog(self.out)
        if self.dist.is_main:
            (self.out / "samples").mkdir(parents=True, exist_ok=True)
            self.metrics.rewind(self.step)  # rows past the checkpoint are trained again
            meta = {**asdict(self.cfg), "label_names": self.data.label_names,
                    "images": len(self.data), "world_size": self.dist.world_size,
                    "augment_policy": self.augment_policy, "mirror_chosen": self.mirror,
                    "mirror_accuracy": getattr(self, "mirror_accuracy", None)}
            ckpt.atomic_write(self.out / "config.json",
                              lambda f: f.write(json.dumps(meta, indent=2).encode()))
        self.dist.barrier()

    def _decide_mirror(self) -> bool:
        """--mirror: flip the reals at random or not; auto asks the data (mirror.py)."""
        from livegan.train.mirror import decide

        decision = decide(self.cfg.mirror, self.data.images, self.cfg.seed)
        if self.cfg.mirror == "auto" and self.dist.is_main:
            log.info(decision.sentence())
        self.mirror_accuracy = decision.accuracy
        return decision.flip

    @property
    def ckpt_dir(self) -> Path:
        return self.out / "checkpoints"

    # -- state ---------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "step": self.step, "elapsed": self.elapsed, "g_config": self.g_config,
            "arch": self.cfg.arch, "label_names": self.data.label_names,
            "g": self.g.state_dict(), "d": self.d.state_dict(), "g_ema": self.g_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(), "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state() if self.device.type == "cuda" else None,
            "amp": self.amp, "augment_strength": self.strength.state_dict(),
            "mirror": self.mirror,
        }

    def _restore(self) -> None:
        loaded = ckpt.load_latest(self.ckpt_dir)
        if loaded is None:
            raise LiveganError(f"{self.ckpt_dir}: no readable checkpoint to resume from")
        state, path = loaded
        self.g.load_state_dict(state["g"])
        self.d.load_state_dict(state["d"])
        self.g_ema.load_state_dict(state["g_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
        self.saved_at = self.elapsed
        self.amp = state.get("amp", False)  # files from before it chose: fp32
        self.strength.load_state_dict(state.get("augment_strength"))
        self.mirror = state.get("mirror")  # checkpoints from before --mirror auto: decide
        if self.mirror is None:
            self.mirror = self._decide_mirror()
        if self.dist.rank == 0:  # the saved random state is rank 0's: exact continuation
            self.rng.set_state(state["rng"])
            torch.set_rng_state(state["torch_rng"])
            if state.get("cuda_rng") is not None and self.device.type == "cuda":
                torch.cuda.set_rng_state(state["cuda_rng"])
        else:  # other ranks must not replay rank 0's batches: a fresh stream per rank and step
            self.rng.manual_seed((self.cfg.seed * 1000 + self.dist.rank) * 1_000_003 + self.step)
            torch.manual_seed(self.cfg.seed * 7919 + self.dist.rank * 104_729 + self.step)
        if self.dist.is_main:
            log.info("resumed %s at step %d", path, self.step)

    # -- one step ------------------------------------------------------------------------
    def _reals(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, y = self.data.batch(self.cfg.batch, self.rng)
        if self.mirror:
            flip = torch.rand(x.shape[0], generator=self.rng) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        y = y.to(self.device) if self.n_labels else None
        return x.to(self.device), y

    def fake_input(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = torch.randn(n, self.cfg.z_dim, generator=self.rng).to(self.device)
        y = torch.randint(0, self.n_labels, (n,), generator=self.rng).to(self.device) \
            if self.n_labels else None
        return z, y

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """DiffAugment with the run's policy, at the strength it has reached."""
        return diff_augment(images, self.policy, self.strength.p)

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bool(self.amp))

    def _choose_precision(self) -> None:
        from livegan.train.precision import choose_bf16

        self.amp = choose_bf16(self.cfg.precision, self.device, self._timed_step,
                               (self.g, self.d))
        if self.dist.is_main:
            log.info("training in %s", "bf16 (autocast)" if self.amp else "fp32")

    def _timed_step(self, bf16: bool) -> None:
        """A D and G forward and backward on the run's batch, up to 8 images (for
        precision.py's timing: bf16 gains more on bigger batches, so a smaller one would
        understate it); no optimiser steps, so the run is unchanged."""
        n = min(8, self.cfg.batch)
        z = torch.randn(n, self.cfg.z_dim, device=self.device)
        y = torch.zeros(n, dtype=torch.long, device=self.device) if self.n_labels else None
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = self.d(self.g(z, y), y).float().mean()
        loss.backward()
        self.g.zero_grad(set_to_none=True)
        self.d.zero_grad(set_to_none=True)

    def step_once(self) -> dict[str, float]:
        """One discriminator and one generator update; returns the losses."""
        if self.amp is None:
            self._choose_precision()
        real, y_real = self._reals()
        r1 = self.cfg.r1 > 0 and self.step % 16 == 0
        if hasattr(self.d, "look") and self.dist.world_size == 1 and not self.recon:
            losses = steps.frozen_eyes_step(self, real, y_real, r1)
        else:
            losses = steps.plain_step(self, real, y_real, r1)
        self._update_ema()
        self.step += 1
        return {**losses, "augment_p": self.strength.p} if self.strength.adaptive else losses

    def _update_ema(self) -> None:
        steps.update_ema(self.g_ema, self.g, self.cfg.ema, self.step)

    # -- periodic work -------------------------------------------------------------------
    def maybe_sample(self, force: bool = False) -> dict[str, float]:
        """Every sample_every steps (rank 0): the fixed-seed grid, and quality figures."""
        if not self.dist.is_main or not (force or self.step % self.cfg.sample_every == 0):
            return {}
        recalibrate_batchnorm(self.g_ema, self.cfg.z_dim, self.n_labels)
        images = self._generate(self.fixed_z, self.fixed_labels)
        save_grid(images, self.out / "samples" / f"step_{self.step:08d}.png", rows=6)
        return self._quality() if self.cfg.quality else {}

    @torch.no_grad()
    def _generate(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        y = labels.to(self.device) if self.n_labels else None
        return self.g_ema(z.to(self.device), y).float().cpu()  # [N, 3, R, R]

    def _quality(self) -> dict[str, float]:
        from livegan.train.quality import QualityProbe, warnings_for

        if self.probe is None:
            self.probe = QualityProbe(self.data.images, seed=self.cfg.seed)
        labels = torch.arange(self.quality_z.shape[0]) % max(self.n_labels, 1)
        figures = self.probe.measure(self._generate(self.quality_z, labels))
        found = warnings_for(figures, self.step / self.cfg.steps)
        for warning in found.values():
            log.warning("step %d: %s", self.step, warning)
        return {**figures, "collapse": int("collapse" in found),
                "memorising": int("memorising" in found)}

    def maybe_checkpoint(self, force: bool = False) -> Path | None:
        """Every checkpoint_every steps or checkpoint_minutes of training, whichever comes
        first: rank 0 saves (atomically), every rank waits. A kill -9 loses at most that."""
        if not (force or self.step % self.cfg.checkpoint_every == 0 or self._time_due()):
            return None
        path = None
        if self.dist.is_main:
            path = ckpt.save_checkpoint(self.ckpt_dir, self.step, self.state(), self.cfg.keep)
        self.dist.barrier()
        self.saved_at = self.elapsed
        return path

    def _time_due(self) -> bool:
        minutes = self.cfg.checkpoint_minutes
        if minutes <= 0:  # the same on every rank: no broadcast needed
            return False
        return self.dist.agree(self.elapsed - self.saved_at >= 60 * minutes)  # rank 0's clock

    def log(self, losses: dict[str, float], images_per_s: float,
            extra: dict[str, float] | None = None) -> None:
        """Every log_every steps, the last step, and with quality figures: one metrics row."""
        due = self.step % self.cfg.log_every == 0 or self.step == self.cfg.steps or extra
        if not self.dist.is_main or not due:
            return
        row = {"step": self.step, "time": round(self.elapsed, 2),
               "images_per_s": round(images_per_s, 2),
               **{k: round(v, 4) for k, v in losses.items()}, **(extra or {})}
        self.metrics.write(row)

    def run(self) -> Path | None:
        """Train until cfg.steps; returns the last checkpoint path (rank 0).

        Ctrl-C (single process) finishes the current step, saves a checkpoint there and
        raises KeyboardInterrupt, so nothing is lost; a second Ctrl-C quits at once. A hard
        kill loses at most the steps since the last checkpoint.
        """
        bar = tqdm(total=self.cfg.steps, initial=self.step, disable=not (self.progress and
                   self.dist.is_main), unit="step", dynamic_ncols=True, desc="training")
        previous = self._catch_interrupt()
        try:
            self._loop(bar)
        finally:
            bar.close()
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        last = ckpt.checkpoint_path(self.ckpt_dir, self.step)
        if self.step % self.cfg.checkpoint_every != 0 or not last.is_file():
            last = self.maybe_checkpoint(force=True)
        if self.stopping:
            log.warning("interrupted at step %d: saved %s; continue with --resume", self.step,
                        last)
            raise KeyboardInterrupt
        if self.step % self.cfg.sample_every != 0:
            self.maybe_sample(force=True)
        if self.dist.is_main:
            self._timelapse()
        if self.dist.world_size > 1:  # every rank says what it holds: they must agree
            log.info("rank %d at step %d: weights %s", self.dist.rank, self.step,
                     ckpt.weights_digest(self.g, self.d, self.g_ema))
        self.dist.close()
        return last if self.dist.is_main else None

    def _catch_interrupt(self) -> object | None:
        """Turn the first Ctrl-C into a stop at the next step boundary (one process, main
        thread only); returns the handler to put back."""
        self.stopping = False
        if self.dist.world_size > 1 or threading.current_thread() is not threading.main_thread():
            return None

        def stop(signum: int, frame: object) -> None:
            if self.stopping:
                raise KeyboardInterrupt
            self.stopping = True
            log.warning("stopping after this step to save a checkpoint (Ctrl-C again: quit now)")

        return signal.signal(signal.SIGINT, stop)

    def _loop(self, bar: tqdm) -> None:
        rate = 0.0
        images = self.cfg.batch * self.dist.world_size
        while self.step < self.cfg.steps:
            t0 = time.perf_counter()
            losses = self.step_once()
            if not all(math.isfinite(v) for v in losses.values()):
                raise LiveganError(f"training diverged at step {self.step} (loss is NaN); "
                                   "resume from the last checkpoint with a lower --lr or --r1 10")
            dt = time.perf_counter() - t0
            self.elapsed += dt
            rate = 0.9 * rate + 0.1 * images / dt if rate else images / dt
            figures = self.maybe_sample()
            self.log(losses, rate, figures)
            self.maybe_checkpoint()
            bar.update(1)
            if self.stopping:
                break
            bar.set_postfix(**steps.postfix(losses), img_s=f"{rate:.0f}",
                            **({"kid": f"{figures['kid']:.3f}"} if "kid" in figures else {}))

    def _timelapse(self) -> None:
        """RUN/timelapse.mp4 and RUN/timelapse_strip.png from the sample grids; a failure
        here is reported and never costs the finished run."""
        try:
            from livegan.train.timelapse import frames_strip, timelapse

            frames_strip(self.out)
            timelapse(self.out, self.out / "timelapse.mp4", 8)
        except Exception as exc:  # noqa: BLE001 - the checkpoint is safe; the video is a bonus
            log.warning("no timelapse video: %s", exc)


def train(cfg: TrainConfig, out: Path, resume: bool = False, progress: bool = True,
          steps: int | None = None) -> Path | None:
    """Train (or resume) a run in `out`. On resume the run's saved config wins, except
    `steps`, which may be raised to train longer."""
    out = Path(out)
    if resume and (out / "config.json").is_file():
        cfg = TrainConfig.from_json(out / "config.json")
    if steps is not None:
        cfg = replace(cfg, steps=steps)
    if not Path(cfg.data).is_dir():
        raise DatasetError(f"{cfg.data}: no such image folder; make one with "
                           "`livegan data synth` or `livegan data prepare`")
    os.makedirs(out, exist_ok=True)
    return Trainer(cfg, out, resume=resume, progress=progress).run()
