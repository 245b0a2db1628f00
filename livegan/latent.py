"""Latent-space geometry on the CPU in numpy: seeds, slerp, walks, fallback directions."""

from __future__ import annotations

import math

import numpy as np


def seed_latent(seed: int, z_dim: int) -> np.ndarray:
    """The latent of an integer seed: the same seed always gives the same z [Z] float32."""
    return np.random.default_rng(int(seed) & 0xFFFFFFFF).standard_normal(z_dim).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation from a to b (norms interpolated linearly): t=0 -> a, t=1 -> b."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-8 or nb < 1e-8:
        return ((1 - t) * a + t * b).astype(np.float32)
    ua, ub = a / na, b / nb
    omega = math.acos(max(-1.0, min(1.0, float(np.dot(ua, ub)))))
    if omega < 1e-4:
        u = (1 - t) * ua + t * ub
    elif omega > math.pi - 1e-4 and ua.shape[0] > 1:
        # Opposite points: every great circle joins them; take one through a fixed
        # perpendicular instead of the formula's 0/0, which would pass through zero.
        axis = np.zeros_like(ua)
        axis[int(np.argmin(np.abs(ua)))] = 1.0
        perp = axis - np.dot(axis, ua) * ua
        perp /= np.linalg.norm(perp)
        u = math.cos(t * math.pi) * ua + math.sin(t * math.pi) * perp
    else:
        s = math.sin(omega)
        u = math.sin((1 - t) * omega) / s * ua + math.sin(t * omega) / s * ub
    return (u * ((1 - t) * na + t * nb)).astype(np.float32)


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
