"""Control state: input threads write it under one lock, the render thread snapshots it."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from livegan.control.bendcontrols import BendControls

MODES = ("walk", "keys", "hold")
FLOAT32_MAX = float(np.finfo(np.float32).max)

# name -> (default, low, high): values outside are clamped, never rejected mid-show.
PARAMS: dict[str, tuple[float, float, float]] = {
    "speed": (0.1, -10.0, 10.0),  # walk speed in radians per second; keyframes per second in keys
    "truncation": (1.0, 0.0, 2.0),  # 1 = as trained, lower = closer to the average image
    "smooth": (0.15, 0.0, 30.0),  # seconds for a control change to settle
    "morph": (0.0, 0.0, 1.0),  # position along the keyframe loop
    "tempo": (120.0, 20.0, 300.0),  # beats per minute (MIDI clock)
    "noise": (0.0, 0.0, 2.0),  # a StyleGAN model's noise inputs: an index of NOISE_MODES
}
# /livegan/noise: const (the model's fixed noise, a held latent holds still), random (new
# noise every frame: fine detail shimmers), none (no noise: smoother detail)
NOISE_MODES = ("const", "random", "none")


def noise_mode(value: float) -> str:
    """The NOISE_MODES name of a `noise` param value."""
    return NOISE_MODES[min(len(NOISE_MODES) - 1, max(0, round(value)))]


@dataclass(frozen=True)
class Snapshot:
    """What the render thread reads once per frame."""

    version: int  # increments with every accepted write: frames carry it for latency figures
    mode: str
    params: dict[str, float]
    dirs: np.ndarray  # target amounts along each direction [K]
    z_updates: dict[int, float]  # latent components set since the last snapshot
    events: list[tuple] = field(default_factory=list)  # motion events: ("seed", i, s), ("key", i)…
    label: int = 0
    bends: Mapping[tuple[str, str], tuple[float, ...]] = field(default_factory=dict)  # never
    # changed once handed out: (layer, op) -> amounts (livegan.bendops)


class Controls:
    """Plain data with one writer lock; the newest value wins and nothing blocks for long."""

    def __init__(self, z_dim: int, n_dirs: int, max_events: int = 256) -> None:
        self.z_dim = z_dim
        self._lock = threading.Lock()
        self._params = {name: spec[0] for name, spec in PARAMS.items()}
        self._mode = "walk"
        self._dirs = np.zeros(n_dirs, np.float32)
        self._z_updates: dict[int, float] = {}
        self._events: deque[tuple] = deque(maxlen=max_events)
        self._app_events: deque[tuple] = deque(maxlen=max_events)
        self._label = 0
        self._version = 0
        self.bends = BendControls()  # network bending: layers are set by the show

    @property
    def n_dirs(self) -> int:
        return self._dirs.shape[0]

    @property
    def version(self) -> int:
        return self._version

    def resize(self, z_dim: int, n_dirs: int) -> None:
        """Adapt to a new model's latent size and direction count (hot-swap)."""
        with self._lock:
            self.z_dim = z_dim
            dirs = np.zeros(n_dirs, np.float32)
            keep = min(n_dirs, self._dirs.shape[0])
            dirs[:keep] = self._dirs[:keep]
            self._dirs = dirs
            self._z_updates.clear()
            self._version += 1

    def param(self, name: str) -> float:
        return self._params[name]

    @property
    def mode(self) -> str:
        return self._mode

    def set_param(self, name: str, value: float) -> bool:
        """Set a named parameter (clamped to its range); False for unknown names or NaN."""
        if name not in PARAMS or not math.isfinite(value):
            return False
        _, low, high = PARAMS[name]
        with self._lock:
            self._params[name] = min(high, max(low, float(value)))
            self._version += 1
        return True

    def values(self) -> tuple[dict[str, float], str, list[float], int]:
        """Params, mode, direction amounts and label as they are now, read together (any
        thread: OSCQuery answers from its HTTP thread)."""
        with self._lock:
            return dict(self._params), self._mode, self._dirs.tolist(), self._label

    def set_mode(self, mode: str) -> bool:
        if mode not in MODES:
            return False
        with self._lock:
            self._mode = mode
            self._version += 1
        return True

    def set_z(self, values: list[float], start: int = 0) -> int:
        """Set latent components start.. (those past the latent size are ignored); count set."""
        n = 0
        with self._lock:
            run = values[: self.z_dim - start] if 0 <= start < self.z_dim else ()
            if run and math.isfinite(sum(run)):  # a whole finite list: one update
                self._z_updates.update(zip(range(start, start + len(run)), map(float, run)))
                n = len(run)
            else:
                for i, v in enumerate(values, start):
                    if 0 <= i < self.z_dim and math.isfinite(v):
                        self._z_updates[i] = float(v)
                        n += 1
            self._version += 1 if n else 0
        return n

    def set_dirs(self, values: list[float], start: int = 0) -> int:
        """Set direction amounts start.. (past the direction count ignored); count set."""
        n = 0
        with self._lock:
            size = self._dirs.shape[0]
            run = values[: size - start] if 0 <= start < size else ()
            if run and math.isfinite(sum(run)) and -FLOAT32_MAX <= min(run) \
                    and max(run) <= FLOAT32_MAX:  # a whole list that fits: one update
                self._dirs[start : start + len(run)] = run
                n = len(run)
            else:
                for i, v in enumerate(values, start):
                    if 0 <= i < size and math.isfinite(v):
                        self._dirs[i] = min(FLOAT32_MAX, max(-FLOAT32_MAX, v))  # never inf
                        n += 1
            self._version += 1 if n else 0
        return n

    def set_bend(self, layer: str, op: str, values: Sequence[float], start: int = 0) -> bool:
        """Amounts of one bend from amount `start` on (see BendControls.set)."""
        if not self.bends.set(layer, op, values, start):
            return False
        with self._lock:
            self._version += 1
        return True

    def clear_bends(self) -> None:
        """Every bend off."""
        self.bends.clear()
        with self._lock:
            self._version += 1

    def set_label(self, label: int) -> None:
        with self._lock:
            self._label = int(label)
            self._version += 1

    def push(self, *event: object) -> None:
        """Queue a motion event (seed glide, keyframe…) for the render thread."""
        with self._lock:
            self._events.append(tuple(event))
            self._version += 1

    def push_app(self, *event: object) -> None:
        """Queue an event for the show itself (hud, snapshot, record, model, scene)."""
        with self._lock:
            self._app_events.append(tuple(event))

    def app_events(self) -> list[tuple]:
        """Drain the show's events (main thread)."""
        with self._lock:
            events = list(self._app_events)
            self._app_events.clear()
        return events

    def snapshot(self) -> Snapshot:
        """One consistent copy for the render thread; drains latent updates and motion events."""
        with self._lock:
            snap = Snapshot(
                version=self._version, mode=self._mode, params=dict(self._params),
                dirs=self._dirs.copy(), z_updates=self._z_updates, events=list(self._events),
                label=self._label, bends=self.bends.current(),
            )
            self._z_updates = {}
            self._events.clear()
        return snap


def latest_events(events: list[tuple]) -> list[tuple]:
    """Show events with only the newest of each kind kept, in the order of those newest
    ones: a flood of /livegan/model, /record or /scene costs one action a frame, never one
    per message."""
    latest: dict[tuple, tuple] = {}
    for event in events:
        key = event[:1]
        latest.pop(key, None)
        latest[key] = event
    return list(latest.values())
