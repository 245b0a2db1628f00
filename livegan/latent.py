"""Latent-space geometry on the CPU in numpy: seeds, slerp, walks, fallback directions."""

from __future__ import annotations

import math

import numpy as np


def seed_latent(seed: int, z_dim: int) -> np.ndarray:
    """The latent of an integer seed: the same seed always gives the same z [Z] float32."""
    return np.random.default_rng(int(seed) & 0xFFFFFFFF).standard_normal(z_dim).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation from a to b along axis 0, norms interpolated linearly: t <= 0
    is a and t >= 1 is b exactly (a loop starts on a seed's own latent). a and b are latents
    [Z] or fields [Z, h, w]; each position of a field takes its own great circle."""
    if t <= 0.0 or t >= 1.0:
        return np.array(a if t <= 0.0 else b, np.float32)
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na = np.sqrt(np.square(a64).sum(axis=0, keepdims=True))  # [1, ...]
    nb = np.sqrt(np.square(b64).sum(axis=0, keepdims=True))
    ua, ub = a64 / np.maximum(na, 1e-8), b64 / np.maximum(nb, 1e-8)
    omega = np.arccos(np.clip((ua * ub).sum(axis=0, keepdims=True), -1.0, 1.0))
    s = np.sin(omega)
    apart = s > 1e-4  # elsewhere (nearly the same or opposite) the formula divides by ~0
    if apart.all():
        wa, wb = np.sin((1 - t) * omega) / s, np.sin(t * omega) / s
    else:
        wa = np.where(apart, np.sin((1 - t) * omega) / np.where(apart, s, 1.0), 1 - t)
        wb = np.where(apart, np.sin(t * omega) / np.where(apart, s, 1.0), t)
    u = wa * ua + wb * ub
    opposite = omega > math.pi - 1e-4
    if a64.shape[0] > 1 and opposite.any():
        # every great circle joins opposite points: take one through a fixed perpendicular
        # instead of the straight line, which would pass through zero
        k = np.argmin(np.abs(ua), axis=0)[None]  # [1, ...]
        perp = -np.take_along_axis(ua, k, axis=0) * ua
        np.put_along_axis(perp, k, np.take_along_axis(perp, k, axis=0) + 1.0, axis=0)
        perp /= np.maximum(np.linalg.norm(perp, axis=0, keepdims=True), 1e-12)
        u = np.where(opposite, math.cos(t * math.pi) * ua + math.sin(t * math.pi) * perp, u)
    z = u * ((1 - t) * na + t * nb)
    tiny = (na < 1e-8) | (nb < 1e-8)  # no direction to follow: a straight line
    if tiny.any():
        z = np.where(tiny, (1 - t) * a64 + t * b64, z)
    return z.astype(np.float32)


def smoothstep(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t * (3 - 2 * t)


def random_directions(k: int, z_dim: int, seed: int = 7) -> np.ndarray:
    """k orthonormal directions [k, Z] (rows), fixed by seed; used when a model stores none."""
    k = min(k, z_dim)
    m = np.random.default_rng(seed).standard_normal((z_dim, k))
    q, _ = np.linalg.qr(m)
    return q.T.astype(np.float32) * math.sqrt(z_dim) / 4  # a unit move is a visible change


class Walk:
    """A smooth endless walk on the sphere of radius sqrt(Z).

    The heading drifts (an Ornstein-Uhlenbeck process in the tangent plane), so the path
    curves gently and never repeats; `speed` is in radians per second along the sphere.
    """

    def __init__(self, z_dim: int, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.radius = math.sqrt(z_dim)
        self.position = self._on_sphere(self.rng.standard_normal(z_dim))
        self.heading = self._tangent(self.rng.standard_normal(z_dim))

    def _on_sphere(self, v: np.ndarray) -> np.ndarray:
        return (v / (np.linalg.norm(v) + 1e-12) * self.radius).astype(np.float32)

    def _tangent(self, v: np.ndarray) -> np.ndarray:
        p = self.position / self.radius
        v = v - np.dot(v, p) * p
        return (v / (np.linalg.norm(v) + 1e-12)).astype(np.float32)

    def jump(self, z: np.ndarray) -> None:
        """Continue the walk from z."""
        self.position = self._on_sphere(z)
        self.heading = self._tangent(self.heading)

    def step(self, dt: float, speed: float, wander: float = 0.5) -> np.ndarray:
        """Advance by dt seconds; returns the new position [Z]."""
        if speed == 0.0 or dt <= 0.0:
            return self.position
        noise = self.rng.standard_normal(self.position.shape[0]).astype(np.float32)
        self.heading = self._tangent(self.heading + noise * wander * math.sqrt(dt)
                                     / math.sqrt(self.position.shape[0]) * 4)
        angle = speed * dt
        p = self.position / self.radius
        moved = p * math.cos(angle) + self.heading * math.sin(angle)
        self.position = self._on_sphere(moved)
        self.heading = self._tangent(self.heading * math.cos(angle) - p * math.sin(angle))
        return self.position
