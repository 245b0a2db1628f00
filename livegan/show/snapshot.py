"""The output folder (generated names only, never outside it) and PNG snapshots of the show."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from livegan.errors import OutputError
from livegan.ratelog import RateLimitedLog
from livegan.show.controllog import SUFFIX as CONTROL_LOG_SUFFIX

log = logging.getLogger(__name__)

DEFAULT_OUT_DIR = "livegan-out"
MAX_PENDING = 4  # snapshots being written at once; more are refused (and said so)
# Snapshots stop while the output folder's disk has less free than this (a sensor or a
# patch sending /livegan/snapshot for weeks must not fill the disk the show runs from).
MIN_FREE_BYTES = 1 << 30
# Names remembered as taken until their files exist, and snapshot paths kept in `written`:
# the newest only, so a show that snapshots for weeks keeps its memory flat.
NAMES_KEPT = 256
WRITTEN_KEPT = 64


class OutputFolder:
    """The one folder a show writes into: recordings, control logs, snapshots.

    Names are generated here (kind + timestamp + counter) or checked to stay inside; a
    name from a message is never used as given. Files are created exclusively, so an
    existing file or a planted symlink is never written through.

    Args:
        root: the folder; created on first use.
    """

    def __init__(self, root: Path | str = DEFAULT_OUT_DIR) -> None:
        self.root = Path(root).expanduser().resolve()
        self._handed_out: dict[Path, None] = {}  # names given but perhaps not yet written

    def ensure(self) -> Path:
        """Create the folder if needed and return it."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the output folder {self.root}: {exc.strerror}; "
                              "choose another with --out-dir") from None
        return self.root

    def new_path(self, kind: str, suffix: str) -> Path:
        """A fresh path `kind-YYYYmmdd-HHMMSS-mmm<suffix>` inside the folder (not yet created)."""
        now = time.time()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now % 1 * 1000):03d}"
        return self.unique(f"{_clean(kind)}-{stamp}{suffix}")

    def unique(self, name: str | Path) -> Path:
        """The path of `name` inside the folder, with -1, -2 … added while it exists.

        Raises:
            OutputError: the name would land outside the folder.
        """
        root = self.ensure()
        return self._free(self.inside(root / Path(name)))

    def place(self, name: Path | str) -> Path:
        """Where a name the operator typed (`--record ~/show.mp4`) goes, with -1, -2 … added
        while it exists: a relative name inside the folder, "~" and absolute paths as typed.

        Only the command line comes here; names that arrive in messages go through
        `unique` and `inside`, and stay in the folder.
        """
        path = Path(name).expanduser()
        if not path.is_absolute():
            self.ensure()
            path = self.root / path
        return self._free(path.resolve())

    def _free(self, path: Path) -> Path:
        """`path`, or the first of path-1, path-2 … that does not exist yet (parents made)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {path.parent}: {exc.strerror}") from None
        stem, suffix = _split_suffix(path.name)
        counter = 0
        while os.path.lexists(path) or path in self._handed_out:
            counter += 1
            path = path.with_name(f"{stem}-{counter}{suffix}")
        # Only the newest are kept: older names were written long ago (the folder shows
        # them taken) or never will be; either way a generated name carries its millisecond
        # and files are created exclusively, so nothing is ever overwritten.
        self._handed_out[path] = None
        if len(self._handed_out) > NAMES_KEPT:
            del self._handed_out[next(iter(self._handed_out))]
        return path

    def inside(self, path: Path | str) -> Path:
        """`path` resolved, if it lies inside the folder; OutputError otherwise."""
        resolved = Path(path).expanduser()
        resolved = (resolved if resolved.is_absolute() else self.root / resolved).resolve()
        if resolved == self.root or self.root not in resolved.parents:
            raise OutputError(f"{path} is outside the output folder {self.root}: livegan only "
                              "writes there (choose the folder with --out-dir)")
        return resolved


def write_png(frame: np.ndarray, path: Path) -> Path:
    """Write a uint8 RGB frame [H, W, 3] as a new PNG (fails rather than overwrite)."""
    from PIL import Image

    with open(path, "xb") as f:  # O_EXCL: never through an existing file or symlink
        Image.fromarray(np.ascontiguousarray(frame)).save(f, format="PNG")
    return path


class Snapshots:
    """Writes PNG snapshots into the output folder off the main thread.

    `take` copies the frames and returns at once; a small writer thread per snapshot
    encodes them. At most MAX_PENDING are in flight, and none while the disk has less
    than MIN_FREE_BYTES free; more are refused with a warning (one every few seconds).
    """

    def __init__(self, folder: OutputFolder) -> None:
        self.folder = folder
        self.written: deque[Path] = deque(maxlen=WRITTEN_KEPT)  # the latest, newest last
        self.skipped = 0  # snapshots refused (busy writer, no frame yet, disk nearly full)
        self._pending: list[threading.Thread] = []
        self._ratelog = RateLimitedLog(log)

    def take(self, frame: np.ndarray | None, window: np.ndarray | None = None) -> list[Path]:
        """Save the model-resolution frame and, if given, the window as PNGs; returns the paths.

        Raises:
            OutputError: the output folder cannot be created.
        """
        self._pending = [t for t in self._pending if t.is_alive()]
        key, why = self._refusal(frame)
        if why:
            self.skipped += 1
            self._ratelog.warning(key, "snapshot skipped: %s", why)
            return []
        path = self.folder.new_path("snapshot", ".png")
        jobs = [(np.array(frame, copy=True), path)]
        if window is not None:
            jobs.append((np.array(window, copy=True), path.with_name(path.stem + "-window.png")))
        thread = threading.Thread(target=self._write, args=(jobs,), name="livegan-snapshot",
                                  daemon=True)
        self._pending.append(thread)
        thread.start()
        return [p for _, p in jobs]

    def _refusal(self, frame: np.ndarray | None) -> tuple[str, str]:
        """(kind, why) a snapshot cannot be taken now, or ("", "")."""
        if len(self._pending) >= MAX_PENDING:
            return "busy", f"{len(self._pending)} are still being written"
        if frame is None:
            return "no frame", "no frame has been shown yet"
        try:
            free = shutil.disk_usage(self.folder.ensure()).free
        except OSError:
            return "", ""  # writing will say what is wrong
        if free < MIN_FREE_BYTES:
            return "disk", (f"only {free / 2**20:.0f} MB free on the disk of {self.folder.root}; "
                            "make room there or choose another --out-dir")
        return "", ""

    def _write(self, jobs: list[tuple[np.ndarray, Path]]) -> None:
        for pixels, path in jobs:
            try:
                self.written.append(write_png(pixels, path))
                log.info("snapshot %s", path)
            except OSError as exc:
                log.error("snapshot %s failed: %s", path, exc)

    def wait(self, timeout: float = 5.0) -> None:
        """Wait for snapshots being written (end of show, tests)."""
        for thread in self._pending:
            thread.join(timeout)
        self._pending = []


def _clean(kind: str) -> str:
    """Keep generated names plain: letters, digits, - and _."""
    return "".join(c for c in kind if c.isalnum() or c in "-_") or "output"


def _split_suffix(name: str) -> tuple[str, str]:
    """("show", ".controls.jsonl") for "show.controls.jsonl"; ("show", ".mp4") for "show.mp4"."""
    if name.endswith(CONTROL_LOG_SUFFIX):
        return name[: -len(CONTROL_LOG_SUFFIX)], CONTROL_LOG_SUFFIX
    stem, dot, ext = name.rpartition(".")
    return (stem, dot + ext) if dot and stem else (name, "")
