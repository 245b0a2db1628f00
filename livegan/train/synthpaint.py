"""The "paintings" style: hard-edged colour fields, shaded discs, bristly strokes, halftones."""

from __future__ import annotations

import numpy as np

from livegan.train.synthcanvas import FULL, Box, Canvas, palette, pick, smoothstep

# Which elements dominate a composition: (blocks, discs, strokes, textures, accents) as ranges.
LAYOUTS: dict[str, tuple[tuple[int, int], ...]] = {
    "fields": ((2, 4), (0, 1), (0, 1), (0, 1), (0, 1)),
    "orbs": ((0, 1), (3, 6), (0, 1), (0, 1), (0, 2)),
    "gesture": ((0, 1), (0, 1), (3, 6), (0, 1), (0, 2)),
    "pattern": ((0, 2), (1, 2), (0, 1), (2, 3), (0, 1)),
    "mixed": ((1, 2), (1, 3), (1, 3), (0, 2), (1, 2)),
}


def _background(canvas: Canvas, ground: np.ndarray, colours: np.ndarray) -> None:
    """A smooth two-colour gradient, linear or radial."""
    rng = canvas.rng
    other = ground + rng.uniform(0.25, 0.7) * (pick(rng, colours) - ground)
    if rng.uniform() < 0.6:
        t = canvas.ramp()
    else:
        cx, cy = rng.uniform(0.2, 0.8, 2)
        t = np.clip(np.sqrt((canvas.xs - cx) ** 2 + (canvas.ys - cy) ** 2) * 1.4, 0.0, 1.0)
    canvas.pixels[:] = ground
    canvas.blend(t.astype(np.float32), other.astype(np.float32))


def _fill(canvas: Canvas, colours: np.ndarray, box: Box = FULL) -> np.ndarray:
    """A flat colour [3] or a two-colour gradient shaped like `box`."""
    rng = canvas.rng
    colour = pick(rng, colours)
    if rng.uniform() < 0.4:
        return colour
    other = pick(rng, colours) if rng.uniform() < 0.5 else colour * rng.uniform(0.35, 0.7)
    return canvas.gradient_fill(colour, other.astype(np.float32), box)


def _blocks(canvas: Canvas, colours: np.ndarray, count: int) -> None:
    """Crisp colour fields: stacked like a Rothko canvas, or tilted slabs and bars."""
    rng = canvas.rng
    stacked = count > 1 and rng.uniform() < 0.5
    margin = rng.uniform(0.05, 0.12)
    cuts = np.cumsum(rng.uniform(0.6, 1.4, count))
    cuts = margin + (1 - 2 * margin) * np.concatenate([[0.0], cuts / cuts[-1]])
    vertical = rng.uniform() < 0.3
    for k in range(count):
        if stacked:
            gap = rng.uniform(0.008, 0.03)
            cy, hh = (cuts[k] + cuts[k + 1]) / 2, (cuts[k + 1] - cuts[k]) / 2 - gap
            cx, hw, angle = 0.5, 0.5 - margin, np.pi / 2 if vertical else 0.0
        else:
            cx, cy = rng.uniform(0.1, 0.9, 2)
            hw, hh = rng.uniform(0.15, 0.6), rng.uniform(0.03, 0.2)
            angle = rng.choice([0.0, np.pi / 2, rng.uniform(0, np.pi)])
        c, s = np.cos(angle), np.sin(angle)
        u = (canvas.xs - cx) * c + (canvas.ys - cy) * s
        v = (canvas.ys - cy) * c - (canvas.xs - cx) * s
        wave = rng.uniform(0.0, 0.012) * canvas.noise[2]  # a slightly hand-cut edge
        alpha = canvas.edge(np.maximum(np.abs(u) - hw, np.abs(v) - hh) + wave)
        rows, cols = np.flatnonzero(alpha.any(1)), np.flatnonzero(alpha.any(0))
        if not len(rows):
            continue
        box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
        canvas.blend(alpha[box] * rng.uniform(0.85, 1.0), _fill(canvas, colours, box), box)


def _disc(canvas: Canvas, colours: np.ndarray) -> None:
    """A crisp disc, shaded sphere, ring or half-disc; now and then a soft glow."""
    rng = canvas.rng
    cx, cy = rng.uniform(0.05, 0.95, 2)
    radius = rng.uniform(0.05, 0.32)
    rows, cols = box = canvas.box_around(cx, cy, radius + 0.02)
    dx, dy = canvas.xs[:, cols] - cx, canvas.ys[rows] - cy
    dist = np.sqrt(dx**2 + dy**2)  # [h, w]
    kind = rng.choice(["disc", "sphere", "ring", "half", "glow"], p=[0.3, 0.27, 0.2, 0.17, 0.06])
    alpha = canvas.edge(dist - radius)
    colour = _fill(canvas, colours, box)
    if kind == "sphere":  # lit from one side: light core, dark rim
        lx, ly = rng.uniform(-0.5, 0.5, 2) * radius
        t = np.clip(np.sqrt((dx - lx) ** 2 + (dy - ly) ** 2) / (radius * 1.5), 0.0, 1.0)
        base = pick(rng, colours)
        colour = base + (np.minimum(base * 1.6 + 0.2, 1.0) - base) * (1 - t[..., None]) ** 2
        colour *= 1.0 - 0.55 * t[..., None] ** 2
    elif kind == "ring":
        alpha *= canvas.edge(radius * rng.uniform(0.55, 0.9) - dist)
    elif kind == "half":
        angle = rng.uniform(0.0, 2 * np.pi)
        alpha *= canvas.edge(dx * np.cos(angle) + dy * np.sin(angle))
    elif kind == "glow":
        alpha = 1.0 - smoothstep(radius * 0.2, radius, dist)
    canvas.blend(alpha * rng.uniform(0.85, 1.0), colour, box)


def _bezier(rng: np.random.Generator, steps: int) -> np.ndarray:
    """Points [steps, 2] along a gently curved cubic bezier in unit coordinates."""
    start = rng.uniform(0.05, 0.95, 2)
    angle = rng.uniform(0.0, 2 * np.pi)
    end = start + rng.uniform(0.35, 0.95) * np.array([np.cos(angle), np.sin(angle)])
    bend = rng.normal(0.0, 0.22, (2, 2))
    c1 = start + (end - start) / 3 + bend[0]
    c2 = start + 2 * (end - start) / 3 + bend[1]
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) ** 3 * start + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t**2 * c2 + t**3 * end


def _stroke(canvas: Canvas, colours: np.ndarray) -> None:
    """A bold, opaque, tapered brush stroke with bristle streaks in a lighter or darker shade."""
    rng = canvas.rng
    body, draw, size = canvas.mask()
    path = _bezier(rng, 48) * size  # [48, 2] in mask pixels
    tangent = np.gradient(path, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-6
    t = np.linspace(0.0, 1.0, len(path))
    taper = np.minimum(t / 0.05, 1.0) ** 0.5 * (1.0 - t) ** 0.35
    wobble = 1.0 + 0.12 * np.sin(2 * np.pi * (rng.uniform(1, 3) * t + rng.uniform()))
    half = rng.uniform(0.025, 0.09) * size * (taper * wobble + 0.03)[:, None]  # [48, 1]
    outline = np.concatenate([path + normal * half, (path - normal * half)[::-1]])
    draw.polygon([tuple(p) for p in outline.tolist()], fill=255)
    streaks, draw, _ = canvas.mask()
    thin = max(1, int(half.max() * 0.09))
    for offset in rng.uniform(-0.9, 0.9, int(rng.integers(6, 14))):
        end = int(len(path) * rng.uniform(0.55, 1.0))
        points = [tuple(p) for p in (path + normal * half * offset)[1:end].tolist()]
        draw.line(points, fill=int(rng.integers(150, 256)), width=thin)
    covered = canvas.coverage(body)
    if covered is None:
        return
    alpha, (rows, cols) = covered
    colour = pick(rng, colours)
    canvas.blend(alpha * rng.uniform(0.9, 1.0), colour, (rows, cols))
    shade = colour * 0.55 if colour.mean() > 0.45 else np.minimum(colour * 1.5 + 0.25, 1.0)
    bristles = np.asarray(streaks.reduce(canvas.supersample), np.float32)[rows, cols] / 255.0
    canvas.blend(bristles * alpha * rng.uniform(0.5, 0.9), shade, (rows, cols))


def _texture(canvas: Canvas, colours: np.ndarray) -> None:
    """A halftone or hatched patch clipped to a disc or a slab."""
    rng = canvas.rng
    cx, cy = rng.uniform(0.15, 0.85, 2)
    reach = rng.uniform(0.12, 0.35)
    rows, cols = box = canvas.box_around(cx, cy, reach * 1.42)
    dx, dy = canvas.xs[:, cols] - cx, canvas.ys[rows] - cy
    if rng.uniform() < 0.5:
        clip = canvas.edge(np.sqrt(dx**2 + dy**2) - reach)
    else:
        clip = canvas.edge(np.maximum(np.abs(dx), np.abs(dy)) - reach)
    angle, freq = rng.uniform(0.0, np.pi), rng.uniform(14.0, 30.0)  # cells per unit length
    u = (dx * np.cos(angle) + dy * np.sin(angle)) * freq
    v = (dy * np.cos(angle) - dx * np.sin(angle)) * freq
    fade = canvas.ramp(box)  # halftones and hatches thin out along a gradient
    if rng.uniform() < 0.55:
        cell = np.sqrt((u - np.round(u)) ** 2 + (v - np.round(v)) ** 2)
        signed = (cell - (0.12 + 0.36 * fade)) / freq
    else:
        signed = (np.abs(u - np.round(u)) - (0.08 + 0.3 * fade)) / freq
    canvas.blend(canvas.edge(signed) * clip * rng.uniform(0.8, 1.0), pick(rng, colours), box)


def _accents(canvas: Canvas, colours: np.ndarray, count: int) -> None:
    """Small crisp marks: hairlines, dot clusters and circle outlines."""
    rng = canvas.rng
    image, draw, size = canvas.mask()
    for _ in range(count):
        kind = rng.integers(3)
        if kind == 0:
            line = _bezier(rng, 24) * size
            draw.line([tuple(p) for p in line.tolist()], fill=255, width=max(1, int(size * 0.006)))
        elif kind == 1:
            centre, spread = rng.uniform(0.1, 0.9, 2), rng.uniform(0.03, 0.15)
            for x, y in rng.normal(centre, spread, (int(rng.integers(4, 14)), 2)) * size:
                r = rng.uniform(0.005, 0.018) * size
                draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
        else:
            x, y = rng.uniform(0.15, 0.85, 2) * size
            r = rng.uniform(0.05, 0.2) * size
            draw.ellipse([x - r, y - r, x + r, y + r], outline=255, width=max(1, int(size * 0.008)))
    covered = canvas.coverage(image)
    if covered is not None:
        canvas.blend(covered[0] * 0.95, pick(rng, colours), covered[1])


def paint(canvas: Canvas) -> None:
    """Compose one abstract painting on `canvas`."""
    rng = canvas.rng
    ground, colours, _ = palette(rng)
    _background(canvas, ground, colours)
    layout = LAYOUTS[str(rng.choice(list(LAYOUTS)))]
    blocks, discs, strokes, textures, accents = (int(rng.integers(lo, hi + 1)) for lo, hi in layout)
    if blocks:
        _blocks(canvas, colours, blocks)
    middle = [_disc] * discs + [_stroke] * strokes + [_texture] * textures
    while len(middle) + blocks < 3:  # never a near-empty canvas
        middle.append([_disc, _stroke, _texture][int(rng.integers(3))])
    for k in rng.permutation(len(middle)):
        middle[k](canvas, colours)
    if accents:
        _accents(canvas, colours, accents)
