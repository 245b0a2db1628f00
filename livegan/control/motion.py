"""Motion: turns control snapshots into the latent of each frame, smoothed in seconds."""

from __future__ import annotations

import math

import numpy as np

from livegan.control.controls import Snapshot
from livegan.latent import Walk, seed_latent, slerp, smoothstep

#: Latent components and direction amounts are clamped to +-this on their way into the
#: latent: ten standard deviations is far past anything a model was trained on, and it
#: keeps every norm, and every fp16 sum in a generator, finite.
LATENT_LIMIT = 10.0
MAX_KEYFRAMES = 256  # keyframes kept; storing more indices is ignored (bounded memory)


class Motion:
    """Owns the latent path (walk, keyframes, hold), glides, directions and smoothing.

    Runs on the render thread only. Smoothing is an exponential approach with a time
    constant of `smooth` seconds, so it behaves the same at 30 and 300 frames per second.
    """

    def __init__(self, z_dim: int, directions: np.ndarray, seed: int = 0) -> None:
        self.z_dim = z_dim
        self.directions = directions.astype(np.float32)  # [K, Z]
        self.walk = Walk(z_dim, seed)
        self.base = self.walk.position.copy()  # where the path is
        self.shown = self.base.copy()  # smoothed latent actually rendered
        self.amounts = np.zeros(directions.shape[0], np.float32)  # smoothed direction amounts
        self.keyframes: dict[int, np.ndarray] = {}
        self.glide: tuple[np.ndarray, np.ndarray, float, float] | None = None  # from, to, t, T
        self.loop_position = 0.0

    def set_directions(self, directions: np.ndarray) -> None:
        """Use new directions [K, Z] (model hot-swap); amounts carry over where they exist."""
        amounts = np.zeros(directions.shape[0], np.float32)
        keep = min(amounts.shape[0], self.amounts.shape[0])
        amounts[:keep] = self.amounts[:keep]
        self.directions = directions.astype(np.float32)
        self.amounts = amounts

    def _apply_events(self, snap: Snapshot) -> None:
        events = snap.events
        for n, event in enumerate(events):
            kind = event[0]
            if kind == "seed" and n + 1 < len(events) and events[n + 1][0] == "seed" \
                    and (len(event) < 3 or event[2] > 0):
                continue  # a glide the next seed replaces at once (floods: newest wins)
            if kind == "seed":
                seconds = event[2] if len(event) > 2 else max(snap.params["smooth"], 0.5)
                self.glide_to(seed_latent(int(event[1]), self.z_dim), float(seconds))
            elif kind == "key" and int(event[1]) in self.keyframes:
                self.glide_to(self.keyframes[int(event[1])], max(snap.params["smooth"], 0.5))
            elif kind == "key_store" and (len(self.keyframes) < MAX_KEYFRAMES
                                          or int(event[1]) in self.keyframes):
                self.keyframes[int(event[1])] = self.base.copy()
            elif kind == "z":
                self.glide_to(np.asarray(event[1], np.float32), float(event[2]))

    def glide_to(self, target: np.ndarray, seconds: float) -> None:
        """Move the path to `target` along a great circle in `seconds`."""
        if seconds <= 0:
            self.base = target.copy()
            self.walk.jump(self.base)
            self.glide = None
        else:
            self.glide = (self.base.copy(), target.copy(), 0.0, seconds)

    def _advance_path(self, snap: Snapshot, dt: float) -> None:
        if self.glide is not None:
            start, end, t, total = self.glide
            t += dt
            self.base = slerp(start, end, smoothstep(t / total))
            self.glide = None if t >= total else (start, end, t, total)
            if self.glide is None:
                self.walk.jump(self.base)
            return
        if snap.mode == "walk":
            self.base = self.walk.step(dt, snap.params["speed"]).copy()
        elif snap.mode == "keys" and len(self.keyframes) >= 2:
            self.base = self._keys_position(snap, dt)

    def _keys_position(self, snap: Snapshot, dt: float) -> np.ndarray:
        keys = [self.keyframes[k] for k in sorted(self.keyframes)]
        self.loop_position = (self.loop_position + snap.params["speed"] * dt / len(keys)) % 1.0
        position = (snap.params["morph"] + self.loop_position) % 1.0 * len(keys)
        i = int(position)
        return slerp(keys[i], keys[(i + 1) % len(keys)], position - i)

    def step(self, snap: Snapshot, dt: float) -> np.ndarray:
        """The latent for this frame [Z] float32."""
        self._apply_events(snap)
        if snap.z_updates:
            self.glide = None
            for i, v in snap.z_updates.items():
                self.base[i] = min(LATENT_LIMIT, max(-LATENT_LIMIT, v))
            self.walk.jump(self.base)
        self._advance_path(snap, dt)
        smooth = snap.params["smooth"]
        alpha = 1.0 if smooth <= 1e-4 else 1.0 - math.exp(-dt / smooth)
        self.shown += (self.base - self.shown) * alpha
        k = min(self.amounts.shape[0], snap.dirs.shape[0])
        goal = np.clip(snap.dirs[:k], -LATENT_LIMIT, LATENT_LIMIT)
        self.amounts[:k] += (goal - self.amounts[:k]) * alpha
        z = self.shown + self.amounts @ self.directions if k else self.shown.copy()
        return (z * snap.params["truncation"]).astype(np.float32)
