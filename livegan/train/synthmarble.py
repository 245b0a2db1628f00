"""The "marbling" style: warped ink bands with crisp edges, ripples and contour lines."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from livegan.train.synthcanvas import Canvas, palette, pick

# How the field that the bands follow is shaped: straight combed stripes, ripples around
# a few centres, or rolling terrain read as a contour map.
FIELDS = ("stripes", "ripples", "terrain")
# How bands are drawn: cycled palette colours, the same shaded like ribbons, two colours
# alternating like op-art, or only contour lines on a gradient.
LOOKS = ("bands", "ribbons", "opart", "lines")
Field = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x, y) coordinates -> values


def _waves(rng: np.random.Generator, count: int, lo: float, hi: float) -> Field:
    """A random sum of `count` plane waves, frequencies in [lo, hi] cycles per unit."""
    freq = rng.uniform(lo, hi, count) * 2 * np.pi
    angle = rng.uniform(0.0, 2 * np.pi, count)
    phase = rng.uniform(0.0, 2 * np.pi, count)
    weight = rng.uniform(0.5, 1.0, count) / np.sqrt(count)
    kx, ky = (freq * np.cos(angle)).tolist(), (freq * np.sin(angle)).tolist()

    def field(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        total = np.zeros(np.broadcast_shapes(x.shape, y.shape), np.float32)
        for a, b, p, w in zip(kx, ky, phase.tolist(), weight.tolist()):
            total += w * np.sin(a * x + b * y + p)
        return total

    return field


def _warped(canvas: Canvas) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates [R, R] pushed around twice, like a comb dragged through ink."""
    rng = canvas.rng
    x = np.broadcast_to(canvas.xs, (canvas.res, canvas.res)).astype(np.float32)
    y = np.broadcast_to(canvas.ys, (canvas.res, canvas.res)).astype(np.float32)
    strength = rng.uniform(0.02, 0.14)
    for octave in range(2):
        dx = _waves(rng, 3, 0.6 * (octave + 1), 2.0 * (octave + 1))
        dy = _waves(rng, 3, 0.6 * (octave + 1), 2.0 * (octave + 1))
        amount = strength / (octave + 1)
        x, y = x + amount * dx(x, y), y + amount * dy(x, y)
    return x, y


def _field(canvas: Canvas, kind: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A smooth scalar field [R, R], roughly in [0, 1] over the canvas."""
    rng = canvas.rng
    if kind == "stripes":
        angle = rng.uniform(0.0, np.pi)
        return (x - 0.5) * np.cos(angle) + (y - 0.5) * np.sin(angle) + 0.5
    if kind == "ripples":
        centres = rng.uniform(0.1, 0.9, (int(rng.integers(1, 4)), 2))
        dists = [np.sqrt((x - cx) ** 2 + (y - cy) ** 2) for cx, cy in centres]
        return np.minimum.reduce(dists) * 1.4
    terrain = _waves(rng, int(rng.integers(4, 8)), 0.5, 2.5)
    return terrain(x, y) * 0.35 + 0.5


def _band_colours(q: np.ndarray, step: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Colour of band floor(q) (cycling through `colours` [K, 3]), averaged over each pixel's
    footprint `step` so the edges between bands come out anti-aliased."""
    cumulative = np.concatenate([np.zeros((1, 3), np.float32), np.cumsum(colours, 0)])
    count = len(colours)

    def integral(v: np.ndarray) -> np.ndarray:  # the integral of the band colour up to v
        band = np.floor(v)
        cycles, index = np.divmod(band, count)
        index = index.astype(np.int64)
        return (cycles[..., None] * cumulative[-1] + cumulative[index]
                + (v - band)[..., None] * colours[index])

    half = (step * 0.5)[..., None]
    return (integral(q + step * 0.5) - integral(q - step * 0.5)) / (2 * half)


def _contours(canvas: Canvas, q: np.ndarray, step: np.ndarray, colour: np.ndarray) -> None:
    """Crisp contour lines where q crosses a whole number, every fifth one bolder."""
    rng = canvas.rng
    width = rng.uniform(0.0015, 0.004) * canvas.res  # half-width in pixels
    nearest = np.round(q)
    pixels = np.abs(q - nearest) / step
    bold = np.where(np.mod(nearest, 5) == 0, rng.uniform(1.5, 2.5), 1.0)
    alpha = np.clip(width * bold + 0.5 - pixels, 0.0, 1.0)
    canvas.blend(alpha.astype(np.float32) * rng.uniform(0.8, 1.0), colour)


def marble(canvas: Canvas) -> None:
    """Compose one marbled image on `canvas`."""
    rng = canvas.rng
    ground, colours, _ = palette(rng)
    kind, look = str(rng.choice(FIELDS)), str(rng.choice(LOOKS, p=[0.38, 0.27, 0.2, 0.15]))
    x, y = _warped(canvas)
    levels = rng.uniform(*{"opart": (8.0, 22.0), "lines": (8.0, 18.0)}.get(look, (4.0, 14.0)))
    q = (_field(canvas, kind, x, y) * levels).astype(np.float32)  # band number, [R, R]
    gy, gx = np.gradient(q)
    step = np.maximum(np.sqrt(gx**2 + gy**2), 1e-3)  # band units per pixel
    ink = np.full(3, 0.06 if ground.mean() > 0.5 else 0.95, np.float32)
    if look == "lines":
        canvas.pixels[:] = ground
        canvas.blend(canvas.ramp() * rng.uniform(0.3, 0.7), pick(rng, colours))
        _contours(canvas, q, step, ink if rng.uniform() < 0.5 else pick(rng, colours))
        return
    if look == "opart":
        chosen = np.stack([ground, pick(rng, colours) if rng.uniform() < 0.5 else ink])
    else:
        chosen = colours[rng.permutation(len(colours))[: int(rng.integers(3, 6))]]
    canvas.pixels[:] = _band_colours(q, step, chosen.astype(np.float32))
    if look == "ribbons":  # each band darkens towards one side, snapping back at its edge
        inside = q - np.floor(q)
        ease = np.clip((1.0 - inside) / step, 0.0, 1.0)
        canvas.pixels *= (1.0 - rng.uniform(0.3, 0.6) * inside * ease)[..., None]
    if rng.uniform() < 0.4:
        _contours(canvas, q, step, ink)
