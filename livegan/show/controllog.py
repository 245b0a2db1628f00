"""The control log of a recording: the exact latent of every rendered frame, and the bends
it was rendered with, by time, as JSONL."""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from livegan.errors import LiveganError
from livegan.latent import slerp

log = logging.getLogger(__name__)

FORMAT = 1
QUEUE_ENTRIES = 4096  # entries waiting for the writer thread; beyond this they are dropped
SUFFIX = ".controls.jsonl"


PRECISIONS = ("bf16", "fp16", "fp32")  # as the engine's description names them


@dataclass(frozen=True)
class ModelRef:
    """Which model rendered a stretch of the log, and how."""

    name: str
    path: str  # the model file as the show resolved it
    resolution: int
    z_dim: int
    backend: str = ""  # the backend it ran on ("" in logs older than this field)
    precision: str = ""  # bf16 | fp16 | fp32 ("" in older logs)
    space: str = "z"  # z, or w for a style model played from w
    layout: str = ""  # the CPU path's layout as it names it ("channels_last, frozen"), so a
    # replay in another process builds the same one without timing ("" elsewhere)
    canvas: tuple[int, int] | None = None  # the canvas (width, height) it rendered, if any

    @classmethod
    def of(cls, engine: Any) -> ModelRef:
        """The reference for a playing engine (`livegan.engine.Engine`)."""
        info, described = engine.info, engine.backend.describe()
        precision = next((p for p in PRECISIONS if p in described), "fp32")
        return cls(info.name, str(Path(info.path).resolve()), int(info.resolution),
                   int(info.z_dim), engine.backend.name, precision,
                   getattr(info, "space", "z"), str(getattr(engine.backend, "layout", "")),
                   tuple(engine.canvas.size) if getattr(engine, "canvas", None) else None)


def log_path_for(video: Path) -> Path:
    """The control log written next to a recording: show.mp4 -> show.controls.jsonl."""
    return video.with_name(video.stem + SUFFIX)


def encode_latent(z: np.ndarray) -> str:
    """A latent [Z] as base64 of its float32 little-endian bytes (exact, 4 bytes a component)."""
    return base64.b64encode(np.ascontiguousarray(z, dtype="<f4").tobytes()).decode("ascii")


def decode_latent(text: str) -> np.ndarray:
    """The inverse of encode_latent: [Z] float32."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float32)


class ControlLog:
    """Writes one JSONL line per rendered frame: time, frame index, label and the exact latent.

    Lines: a header ({"livegan": "controls", ...}), a {"model": ...} line whenever the
    model changes, a {"bends": [[layer, op, [amounts]], ...]} line whenever the bends
    change, {"t", "i", "label", "z"} per frame (t in seconds since `start`), and a
    closing {"end": true} line. `record` runs on the render thread and only queues; a
    writer thread does the encoding and the file I/O. Entries that find the queue full
    are dropped and counted (replay interpolates over the gap).
    """

    def __init__(self, path: Path | str, fps: int, video: str = "") -> None:
        self.path = Path(path)
        self.fps = fps
        self.video = video
        self.dropped = 0
        self.written = 0
        self.t0: float | None = None
        self._queue: queue.Queue[tuple | None] = queue.Queue(QUEUE_ENTRIES)
        self._thread = threading.Thread(target=self._write_all, name="livegan-controllog",
                                        daemon=True)
        try:
            # "x": never overwrite a log; stop() closes it
            self._file = open(self.path, "x", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise LiveganError(f"cannot write the control log {self.path}: {exc.strerror}") \
                from None

    def start(self, t0: float) -> ControlLog:
        """Start the writer; entry times count from `t0` (time.perf_counter())."""
        self.t0 = t0
        header = {"livegan": "controls", "format": FORMAT, "fps": self.fps, "video": self.video,
                  "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self._file.write(json.dumps(header) + "\n")
        self._thread.start()
        return self

    def record(self, model: ModelRef, index: int, t: float, z: np.ndarray, label: int,
               bends: Mapping | None = None, style: tuple[float, str] | None = None) -> None:
        """Queue one rendered frame's latent [Z], its bends ((layer, op) -> amounts, a
        mapping never changed afterwards) and a style model's (truncation, noise mode)
        (render thread; never blocks)."""
        if self.t0 is None or t < self.t0:
            return
        try:
            self._queue.put_nowait((model, index, t - self.t0, np.array(z, np.float32), label,
                                    bends or {}, style))
        except queue.Full:
            self.dropped += 1

    def stop(self, t: float) -> Path:
        """Write the closing line, finish the file and return its path."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        end = {"t": round(t - (self.t0 or t), 6), "end": True, "frames": self.written,
               "dropped": self.dropped}
        self._file.write(json.dumps(end) + "\n")
        self._file.close()
        if self.dropped:
            log.warning("control log %s: %d entries dropped (disk too slow)", self.path,
                        self.dropped)
        return self.path

    def _write_all(self) -> None:
        model: ModelRef | None = None
        bent: Mapping = {}
        styled: tuple[float, str] | None = None
        while (item := self._queue.get()) is not None:
            ref, index, t, z, label, bends, style = item
            try:
                if style is not None and style != styled:  # a line when the style changes
                    styled = style
                    self._file.write(json.dumps({"t": t, "style": list(style)}) + "\n")
                if bends is not bent and bends != bent:  # a line when the bends change
                    bent = bends
                    self._file.write(json.dumps({"t": t, "bends": [
                        [layer, op, list(amounts)] for (layer, op), amounts in bends.items()]})
                        + "\n")
                if ref != model:
                    model = ref
                    self._file.write(json.dumps({"t": t, "model": ref.name, "path": ref.path,
                                                 "resolution": ref.resolution,
                                                 "z_dim": ref.z_dim, "backend": ref.backend,
                                                 "precision": ref.precision,
                                                 "space": ref.space,
                                                 "layout": ref.layout,
                                                 "canvas": ref.canvas}) + "\n")
                line = {"t": t, "i": index, "label": int(label), "z": encode_latent(z)}
                self._file.write(json.dumps(line) + "\n")
                self.written += 1
            except (OSError, ValueError) as exc:
                self.dropped += 1
                log.error("control log %s: write failed: %s", self.path, exc)


@dataclass
class Timeline:
    """A control log read back: the latent, label and model at any time."""

    header: dict
    models: list[ModelRef]
    times: np.ndarray  # [N] seconds, ascending
    latents: list[np.ndarray]  # N latents [Z] (Z may change with the model)
    labels: list[int]
    model_index: list[int]  # per entry, into `models`
    indices: list[int]  # per entry, the show's frame index (as in /livegan/frame)
    bends: list[tuple[float, dict]] = field(default_factory=list)  # (from t, bends) changes
    styles: list[tuple[float, tuple[float, str]]] = field(default_factory=list)  # (from t,
    # (truncation, noise mode)) changes of a style model

    def style_at(self, t: float) -> tuple[float, str]:
        """A style model's (truncation, noise mode) at time t ((1.0, "const") before any)."""
        times = [start for start, _ in self.styles]
        i = int(np.searchsorted(times, t, side="right")) - 1
        return self.styles[i][1] if i >= 0 else (1.0, "const")

    def bends_at(self, t: float) -> dict:
        """The bends ((layer, op) -> amounts) the show rendered with at time t."""
        times = [start for start, _ in self.bends]
        i = int(np.searchsorted(times, t, side="right")) - 1
        return self.bends[i][1] if i >= 0 else {}

    @property
    def duration(self) -> float:
        return float(self.times[-1]) if len(self.times) else 0.0

    def at(self, t: float) -> tuple[np.ndarray, int, ModelRef]:
        """The latent [Z], label and model at time t: slerp between the entries around it."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        i = min(max(i, 0), len(self.times) - 1)
        z, label, model = self.latents[i], self.labels[i], self.model_index[i]
        ta = float(self.times[i])
        if t > ta and i + 1 < len(self.times) and self.model_index[i + 1] == model:
            tb = float(self.times[i + 1])
            z = slerp(z, self.latents[i + 1], (t - ta) / (tb - ta)) if tb > ta else z
        return z, label, self.models[model]

    @cached_property
    def _changes(self) -> np.ndarray:
        """Entries where the model changed: [C] indices, ascending."""
        index = np.asarray(self.model_index)
        return np.flatnonzero(index[1:] != index[:-1]) + 1

    def fade_at(self, t: float, seconds: float) -> tuple[int, float] | None:
        """The crossfade a show was in at time t, when it swapped models less than `seconds`
        before: (the entry of the outgoing model's last frame, the amount 0..1 faded in);
        None outside fades (and for the log's first model)."""
        changes = self._changes
        k = int(np.searchsorted(self.times[changes], t, side="right")) - 1
        if k < 0 or seconds <= 0:
            return None
        start = int(changes[k])
        amount = (t - float(self.times[start])) / seconds
        return (start - 1, amount) if amount < 1.0 else None


def _canvas(entry: dict) -> tuple[int, int] | None:
    """A model line's canvas [width, height], or None (none, or a log older than it)."""
    value = entry.get("canvas")
    if isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int) and 0 < v <= 16384 for v in value):
        return (value[0], value[1])
    return None


def read_log(path: Path | str) -> Timeline:
    """Read a control log written by a recording.

    Raises:
        LiveganError: the file is missing, not a control log, or holds no frames.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LiveganError(f"cannot read the control log {path}: {exc.strerror}") from None
    timeline = Timeline({}, [], np.zeros(0), [], [], [], [])
    times: list[float] = []
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line) if line.strip() else {}
            _add_entry(timeline, entry, times)
        except (ValueError, KeyError, TypeError) as exc:
            raise LiveganError(f"{path}, line {number}: not a control log entry ({exc}); "
                               "give the .controls.jsonl written next to a recording") from None
    if timeline.header.get("livegan") != "controls":
        raise LiveganError(f"{path} is not a livegan control log (no header line)")
    if not times:
        raise LiveganError(f"{path} holds no frames: record for longer than a frame")
    timeline.times = np.asarray(times, np.float64)
    return timeline


def _add_entry(timeline: Timeline, entry: dict, times: list[float]) -> None:
    if entry.get("livegan") == "controls":
        timeline.header = entry
    elif "model" in entry:
        timeline.models.append(ModelRef(str(entry["model"]), str(entry["path"]),
                                        int(entry["resolution"]), int(entry["z_dim"]),
                                        str(entry.get("backend", "")),
                                        str(entry.get("precision", "")),
                                        "w" if entry.get("space") == "w" else "z",
                                        str(entry.get("layout", "")), _canvas(entry)))
    elif "style" in entry:
        psi, noise = entry["style"]
        timeline.styles.append((float(entry["t"]), (float(psi), str(noise))))
    elif "bends" in entry:
        timeline.bends.append((float(entry["t"]), {
            (str(layer), str(op)): tuple(float(a) for a in amounts)
            for layer, op, amounts in entry["bends"]}))
    elif "z" in entry:
        if not timeline.models:
            raise ValueError("a frame before any model line")
        z = decode_latent(entry["z"])
        if z.shape[0] != timeline.models[-1].z_dim or not np.isfinite(z).all():
            raise ValueError(f"latent of {z.shape[0]} values for a {timeline.models[-1].z_dim}-d "
                             "model")
        times.append(float(entry["t"]))
        timeline.latents.append(z)
        timeline.labels.append(int(entry.get("label", 0)))
        timeline.model_index.append(len(timeline.models) - 1)
        timeline.indices.append(int(entry.get("i", -1)))
