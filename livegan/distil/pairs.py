"""Pairs of a latent and the teacher's frame for it: made by the teacher as they are needed,
or, with a cache, made once into RUN/pairs and drawn from there again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from livegan.distil.teacher import Teacher
from livegan.train.checkpoint import atomic_write

log = logging.getLogger(__name__)

CHUNK = 256  # pairs per cache file


def to_uint8(frames: torch.Tensor) -> torch.Tensor:
    """[N, 3, R, R] in [-1, 1] -> uint8 (as the show rounds a frame)."""
    return ((frames.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def from_uint8(frames: torch.Tensor) -> torch.Tensor:
    return frames.float().div(127.5).sub(1.0)


class PairSource:
    """`batch(n)` -> latents [n, Z] and the teacher's frames [n, 3, R, R] on `device`.

    With `cache` > 0 the first `cache` pairs made are kept in `folder` (files of CHUNK pairs,
    written atomically) and, once there are that many, every batch is drawn from them: the
    teacher then costs nothing more, at the price of a finite set. A resumed run reads the
    files back; pairs made after the last whole file are made again.
    """

    def __init__(self, teacher: Teacher, device: torch.device, rng: torch.Generator,
                 cache: int = 0, folder: Path | None = None,
                 autocast: Callable[[], AbstractContextManager] = nullcontext) -> None:
        self.teacher, self.device, self.rng = teacher, device, rng
        self.cache, self.folder, self.autocast = cache, folder, autocast
        self.z: list[torch.Tensor] = []  # kept pairs, CPU: [n, Z] float32
        self.frames: list[torch.Tensor] = []  # [n, 3, R, R] uint8
        self.pending: list[tuple[torch.Tensor, torch.Tensor]] = []
        if cache and folder is not None:
            self._read()

    @property
    def kept(self) -> int:
        return sum(z.shape[0] for z in self.z) + sum(z.shape[0] for z, _ in self.pending)

    def _files(self) -> list[Path]:
        return sorted(self.folder.glob("pairs_*.safetensors")) if self.folder.is_dir() else []

    def _read(self) -> None:
        for path in self._files():
            try:
                chunk = load_file(str(path))
            except Exception as exc:  # noqa: BLE001 - a damaged cache file is made again
                log.warning("skipping unreadable pairs file %s (%s)", path, exc)
                continue
            self.z.append(chunk["z"])
            self.frames.append(chunk["frames"])
        if self.z:
            log.info("read %d cached pairs from %s", self.kept, self.folder)

    def _make(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.randn(n, self.teacher.z_dim, generator=self.rng).to(self.device)
        with self.autocast():
            frames = self.teacher.frames(z)
        return z, frames.float()

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.cache:
            return self._make(n)
        if self.kept < self.cache:
            z, frames = self._make(min(n, self.cache - self.kept))
            self.pending.append((z.cpu(), to_uint8(frames).cpu()))
            if sum(p[0].shape[0] for p in self.pending) >= min(CHUNK, self.cache):
                self.flush()
            return z, frames
        all_z, all_frames = torch.cat(self.z), torch.cat(self.frames)
        pick = torch.randint(0, all_z.shape[0], (n,), generator=self.rng)
        return all_z[pick].to(self.device), from_uint8(all_frames[pick]).to(self.device)

    def flush(self) -> None:
        """Write the pairs made since the last file as one more file."""
        if not self.pending or self.folder is None:
            return
        z = torch.cat([p[0] for p in self.pending]).contiguous()
        frames = torch.cat([p[1] for p in self.pending]).contiguous()
        self.pending = []
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"pairs_{len(self._files()):05d}.safetensors"
        tmp = self.folder / f".{path.name}.tmp"
        save_file({"z": z, "frames": frames}, str(tmp))
        atomic_write(path, lambda f: f.write(tmp.read_bytes()))
        tmp.unlink()
        self.z.append(z)
        self.frames.append(frames)
