"""Training checkpoints: written atomically, the newest K kept, the newest readable one resumed."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

import torch

log = logging.getLogger(__name__)

PATTERN = re.compile(r"^ckpt_(\d{8})\.pt$")


def atomic_write(path: Path, write: callable) -> None:
    """Write via a temp file in the same folder, fsync it, rename over `path`, fsync the folder.

    A kill at any moment leaves either the old file or the new one, never half of one.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def checkpoint_path(folder: Path, step: int) -> Path:
    return folder / f"ckpt_{step:08d}.pt"


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := PATTERN.match(p.name))]
    return sorted(found)


def save_checkpoint(folder: Path, step: int, state: dict, keep: int = 3) -> Path:
    """Save `state` (tensors, numbers, strings, nested dicts) as step `step`; prune to `keep`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = checkpoint_path(folder, step)
    atomic_write(path, lambda f: torch.save(state, f))
    for _, old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)
    clean_stale(folder)
    return path


def clean_stale(folder: Path) -> int:
    """Delete temp files a kill left mid-write in `folder` (never a finished file); count them.

    Only call this when no other process writes into `folder` (rank 0, between writes).
    """
    removed = 0
    for stale in Path(folder).glob(".*.tmp") if Path(folder).is_dir() else []:
        stale.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.info("removed %d unfinished temp file(s) from %s", removed, folder)
    return removed


def load_checkpoint(path: Path) -> dict:
    """Load one checkpoint with weights_only=True: plain data only, nothing unpickled as code."""
    return torch.load(path, map_location="cpu", weights_only=True)


def load_latest(folder: Path) -> tuple[dict, Path] | None:
    """The newest checkpoint that loads; unreadable ones are reported and skipped."""
    for step, path in reversed(list_checkpoints(folder)):
        try:
            return load_checkpoint(path), path
        except Exception as exc:  # noqa: BLE001 - any unreadable file is skipped, never fatal
            log.warning("skipping unreadable checkpoint %s (%s)", path, exc)
    return None


def weights_digest(*modules: torch.nn.Module) -> str:
    """A short hash of the modules' parameters, bit for bit (ranks compare it). Buffers are
    left out: BatchNorm statistics are each rank's own until DDP broadcasts rank 0's."""
    digest = hashlib.sha256()
    for module in modules:
        for name, tensor in module.named_parameters():
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()[:16]
