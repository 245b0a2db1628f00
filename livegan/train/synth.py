"""Procedural abstract paintings, so a model can be trained with no image folder at all."""

from __future__ import annotations

import colorsys
import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from livegan.errors import DatasetError

log = logging.getLogger(__name__)

Box = tuple[slice, slice]  # (rows, columns) of the canvas an element touches
FULL: Box = (slice(None), slice(None))

# Saturation and value ranges of each mood; a palette is one mood and one hue scheme.
MOODS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "pastel": ((0.15, 0.45), (0.78, 0.97)),
    "jewel": ((0.55, 0.90), (0.35, 0.80)),
    "earth": ((0.30, 0.70), (0.25, 0.85)),
    "neon": ((0.75, 1.00), (0.85, 1.00)),
    "muted": ((0.10, 0.35), (0.25, 0.80)),
}
# Hue offsets (in turns) around a base hue: the classic colour-wheel harmonies.
SCHEMES: dict[str, tuple[float, ...]] = {
    "analogous": (0.0, 0.06, -0.06, 0.11),
    "complementary": (0.0, 0.5, 0.03, 0.47),
    "triadic": (0.0, 1 / 3, 2 / 3),
    "split": (0.0, 0.42, 0.58),
    "monochrome": (0.0, 0.01, -0.01),
}
# Which elements dominate a composition: (bands, discs, strokes, accents) as count ranges.
LAYOUTS: dict[str, tuple[tuple[int, int], ...]] = {
    "fields": ((2, 3), (0, 1), (0, 1), (0, 1)),
    "orbs": ((0, 1), (3, 6), (0, 2), (0, 2)),
    "gesture": ((0, 1), (0, 2), (3, 6), (0, 2)),
    "mixed": ((1, 2), (1, 3), (1, 3), (1, 2)),
}


def _check_res(res: int) -> None:
    if res < 16 or res % 8:
        raise DatasetError(
            f"resolution {res} is not usable for synthetic images; use a multiple of 8 of "
            "at least 16, e.g. --res 64, 128 or 256"
        )


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class _Canvas:
    """One painting in progress: float RGB pixels in [0, 1] plus shared noise fields."""

    def __init__(self, rng: np.random.Generator, res: int) -> None:
        self.rng = rng
        self.res = res
        self.supersample = 4 if res <= 128 else 2  # strokes are drawn larger, then box-filtered
        coords = ((np.arange(res, dtype=np.float32) + 0.5) / res).astype(np.float32)
        self.xs = coords[None, :]  # [1, R]
        self.ys = coords[:, None]  # [R, 1]
        self.noise = [self._low_noise(cells) for cells in (4, 7, 12)]  # each [R, R] in ~[-1, 1]
        self.pixels = np.zeros((res, res, 3), np.float32)  # [R, R, 3]

    def _low_noise(self, cells: int) -> np.ndarray:
        grid = self.rng.uniform(-1.0, 1.0, (cells, cells)).astype(np.float32)
        field = Image.fromarray(grid, mode="F").resize((self.res, self.res), Image.BICUBIC)
        return np.asarray(field, dtype=np.float32)

    def blend(
        self, alpha: np.ndarray, colour: np.ndarray, tint: float = 0.0, box: Box = FULL
    ) -> None:
        """Paint `colour` with coverage `alpha` (shaped like `box`) and a noisy tint."""
        target = self.pixels[box]  # a view: painting only where the element is
        if tint:
            delta = self.noise[2][box][..., None] * (colour * tint) + colour
            delta -= target
        else:
            delta = colour - target
        delta *= alpha[..., None]
        target += delta

    def box_around(self, cx: float, cy: float, reach: float) -> Box:
        """Pixel rows and columns within `reach` (unit coordinates) of a point."""
        lo = np.clip(np.floor((np.array([cy, cx]) - reach) * self.res), 0, self.res).astype(int)
        hi = np.clip(np.ceil((np.array([cy, cx]) + reach) * self.res) + 1, 0, self.res).astype(int)
        return slice(lo[0], hi[0]), slice(lo[1], hi[1])

    def mask(self) -> tuple[Image.Image, ImageDraw.ImageDraw, int]:
        """A blank supersampled coverage mask to draw crisp shapes on."""
        size = self.res * self.supersample
        image = Image.new("L", (size, size), 0)
        return image, ImageDraw.Draw(image), size

    def coverage(self, image: Image.Image) -> tuple[np.ndarray, Box] | None:
        """Downsample a supersampled mask to anti-aliased coverage in [0, 1], cropped to
        where it is not zero; None when nothing landed on the canvas."""
        small = image.reduce(self.supersample)
        bounds = small.getbbox()
        if bounds is None:
            return None
        left, top, right, bottom = bounds
        alpha = np.asarray(small.crop(bounds), dtype=np.float32) * (1.0 / 255.0)
        return alpha, (slice(top, bottom), slice(left, right))


def _palette(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """Background colour, 3-5 element colours [K, 3] and the mood they come from."""
    mood = str(rng.choice(list(MOODS)))
    offsets = SCHEMES[str(rng.choice(list(SCHEMES)))]
    (s_lo, s_hi), (v_lo, v_hi) = MOODS[mood]
    base = rng.uniform(0.0, 1.0) if mood != "earth" else rng.uniform(0.0, 0.13)
    colours = []
    for k in range(int(rng.integers(4, 7))):
        hue = (base + offsets[k % len(offsets)] + rng.normal(0.0, 0.015)) % 1.0
        colours.append(colorsys.hsv_to_rgb(hue, rng.uniform(s_lo, s_hi), rng.uniform(v_lo, v_hi)))
    colours.sort(key=lambda c: sum(c))
    dark_ground = mood == "neon" or rng.uniform() < 0.35
    ground = np.array(colours.pop(0 if dark_ground else -1), np.float32)
    # Push the ground away from the elements (darker, or towards paper white) so shapes read.
    if dark_ground:
        ground *= 0.35 if mood == "neon" else 0.7
    else:
        ground = ground * 0.6 + 0.4 * 0.96
    elements = np.array(colours, np.float32)  # [K, 3]
    faint = np.abs(elements.mean(1) - ground.mean()) < 0.2
    if dark_ground:
        elements[faint] += (1 - elements[faint]) * 0.45
    else:
        elements[faint] *= 0.65
    return ground, elements, mood


def _background(canvas: _Canvas, ground: np.ndarray, colours: np.ndarray) -> None:
    rng = canvas.rng
    other = ground + rng.uniform(0.2, 0.55) * (colours[rng.integers(len(colours))] - ground)
    kind = rng.choice(["flat", "linear", "radial"], p=[0.2, 0.5, 0.3])
    if kind == "linear":
        angle = rng.uniform(0.0, 2 * np.pi)
        t = (canvas.xs - 0.5) * np.cos(angle) + (canvas.ys - 0.5) * np.sin(angle) + 0.5
    elif kind == "radial":
        cx, cy = rng.uniform(0.2, 0.8, 2)
        t = np.sqrt((canvas.xs - cx) ** 2 + (canvas.ys - cy) ** 2) * 1.4
    else:
        t = np.zeros((canvas.res, canvas.res), np.float32)
    t = np.clip(t + 0.12 * canvas.noise[0], 0.0, 1.0)
    canvas.pixels[:] = ground
    canvas.blend(t.astype(np.float32), other.astype(np.float32))


def _band(x: np.ndarray, lo: float, hi: float, edge: float) -> np.ndarray:
    """1 inside [lo, hi], 0 outside, with smooth edges of half-width `edge`."""
    return _smoothstep(lo - edge, lo + edge, x) * (1.0 - _smoothstep(hi - edge, hi + edge, x))


def _bands(canvas: _Canvas, colours: np.ndarray, count: int, stacked: bool) -> None:
    """Soft-edged colour fields: stacked like a Rothko canvas, or lone bands."""
    rng = canvas.rng
    vertical = rng.uniform() < 0.25
    along, across = (canvas.ys, canvas.xs) if vertical else (canvas.xs, canvas.ys)
    margin = rng.uniform(0.05, 0.13)
    cuts = np.cumsum(rng.uniform(0.6, 1.4, count))
    cuts = margin + (1 - 2 * margin) * np.concatenate([[0.0], cuts / cuts[-1]])
    for k in range(count):
        if stacked:
            lo, hi = cuts[k] + 0.012, cuts[k + 1] - 0.012
            side_lo, side_hi = margin, 1 - margin
        else:
            lo = rng.uniform(0.0, 0.75)
            hi = lo + rng.uniform(0.08, 0.3)
            side_lo, side_hi = (-0.1, 1.1) if rng.uniform() < 0.5 else sorted(rng.uniform(0, 1, 2))
        edge = rng.uniform(0.008, 0.04)
        alpha = _band(across, lo, hi, edge) * _band(along, side_lo, side_hi, edge)  # [R, R]
        alpha = np.clip(alpha + 0.9 * canvas.noise[2] * alpha * (1 - alpha), 0.0, 1.0)
        canvas.blend(alpha * rng.uniform(0.75, 0.97), colours[rng.integers(len(colours))], 0.08)


def _disc(canvas: _Canvas, colours: np.ndarray) -> None:
    """A soft disc, glow or ring."""
    rng = canvas.rng
    cx, cy = rng.uniform(0.05, 0.95, 2)
    radius = rng.uniform(0.04, 0.3)
    soft = radius * (rng.uniform(0.3, 0.9) if rng.uniform() < 0.3 else rng.uniform(0.01, 0.12))
    inner = radius * rng.uniform(0.55, 0.85) if rng.uniform() < 0.2 else None
    opacity, colour = rng.uniform(0.6, 1.0), colours[rng.integers(len(colours))]
    rows, cols = box = canvas.box_around(cx, cy, radius + soft)
    dist = np.sqrt((canvas.xs[:, cols] - cx) ** 2 + (canvas.ys[rows] - cy) ** 2)  # [h, w]
    alpha = 1.0 - _smoothstep(radius - soft, radius + soft, dist)
    if inner is not None:
        alpha *= _smoothstep(inner - soft, inner + soft, dist)
    canvas.blend(alpha * opacity, colour, 0.06, box)


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


def _stroke(canvas: _Canvas, colours: np.ndarray) -> None:
    """A bold tapered brush stroke with dry-brush streaks along it."""
    rng = canvas.rng
    image, draw, size = canvas.mask()
    path = _bezier(rng, 40) * size  # [40, 2] in mask pixels
    tangent = np.gradient(path, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-6
    t = np.linspace(0.0, 1.0, len(path))
    taper = np.minimum(t / 0.06, 1.0) ** 0.5 * (1.0 - t) ** 0.45
    wobble = 1.0 + 0.15 * np.sin(2 * np.pi * (rng.uniform(1, 3) * t + rng.uniform()))
    half = rng.uniform(0.02, 0.085) * size * (taper * wobble + 0.04)[:, None]  # [40, 1]
    outline = np.concatenate([path + normal * half, (path - normal * half)[::-1]])
    draw.polygon([tuple(p) for p in outline.tolist()], fill=int(rng.integers(170, 225)))
    thin = max(1, int(half.max() * 0.18))
    for offset in rng.uniform(-0.85, 0.85, int(rng.integers(3, 8))):
        streak = path + normal * half * offset
        points = [tuple(p) for p in streak[2:-3].tolist()]
        draw.line(points, fill=int(rng.integers(110, 256)), width=thin)
    opacity, colour = rng.uniform(0.8, 1.0), colours[rng.integers(len(colours))]
    covered = canvas.coverage(image)
    if covered is not None:
        canvas.blend(covered[0] * opacity, colour, 0.1, covered[1])


def _accents(canvas: _Canvas, colours: np.ndarray, count: int) -> None:
    """Small crisp marks: hairlines, dots and circle outlines."""
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
                r = rng.uniform(0.004, 0.015) * size
                draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
        else:
            x, y = rng.uniform(0.15, 0.85, 2) * size
            r = rng.uniform(0.05, 0.2) * size
            draw.ellipse([x - r, y - r, x + r, y + r], outline=255, width=max(1, int(size * 0.008)))
    colour = colours[rng.integers(len(colours))]
    covered = canvas.coverage(image)
    if covered is not None:
        canvas.blend(covered[0] * 0.9, colour, box=covered[1])


def _texture(canvas: _Canvas, grain_rng: np.random.Generator) -> None:
    """Canvas-like finish: a low-frequency wash, film grain and an optional vignette."""
    rng = canvas.rng
    wash = 1.0 + rng.uniform(0.02, 0.06) * canvas.noise[1]
    canvas.pixels *= wash[..., None]
    if rng.uniform() < 0.5:
        dist = (canvas.xs - 0.5) ** 2 + (canvas.ys - 0.5) ** 2
        canvas.pixels *= (1.0 - rng.uniform(0.2, 0.5) * dist)[..., None]
    amount = rng.uniform(0.01, 0.03)
    grain = grain_rng.standard_normal((canvas.res, canvas.res, 1), dtype=np.float32)
    canvas.pixels += amount * grain


def render_image(index: int, res: int, seed: int = 0) -> np.ndarray:
    """Render one abstract painting.

    Args:
        index: which image of the set (>= 0); each index is an independent composition.
        res: side length in pixels, a multiple of 8 of at least 16.
        seed: picks the whole set; the same (index, res, seed) always gives the same pixels.

    Returns:
        uint8 array [res, res, 3]. The composition depends only on (seed, index); res only
        sets how finely it is sampled.
    """
    _check_res(res)
    if index < 0 or seed < 0:
        raise ValueError(f"index and seed must be >= 0, got index={index}, seed={seed}")
    composition, grain = np.random.SeedSequence([seed, index]).spawn(2)
    rng = np.random.default_rng(composition)
    canvas = _Canvas(rng, res)
    ground, colours, _ = _palette(rng)
    _background(canvas, ground, colours)
    layout = LAYOUTS[str(rng.choice(list(LAYOUTS)))]
    bands, discs, strokes, accents = (int(rng.integers(lo, hi + 1)) for lo, hi in layout)
    if bands:
        _bands(canvas, colours, bands, stacked=bands > 1)
    middle = [_disc] * discs + [_stroke] * strokes
    for k in rng.permutation(len(middle)):
        middle[k](canvas, colours)
    if accents:
        _accents(canvas, colours, accents)
    _texture(canvas, np.random.default_rng(grain))
    return (np.clip(canvas.pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def synthesize(out: Path, count: int, res: int, seed: int = 0, progress: bool = True) -> int:
    """Write `count` synthetic paintings as out/synth_00000.png, synth_00001.png, ...

    Args:
        out: folder to write into; created if missing.
        count: how many images (>= 1).
        res: side length, a multiple of 8 of at least 16.
        seed: picks the set; rerunning with the same arguments rewrites identical files.
        progress: show a progress bar.

    Returns:
        The number of images written.
    """
    if count < 1:
        raise DatasetError(f"cannot synthesize {count} images into {out}; use --count 1 or more")
    _check_res(res)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create {out} ({exc.strerror}); pick a writable folder") from exc
    for index in tqdm(range(count), desc="synth", unit="img", disable=not progress):
        pixels = render_image(index, res, seed)
        Image.fromarray(pixels).save(out / f"synth_{index:05d}.png", compress_level=4)
    log.info("wrote %d synthetic %dx%d images to %s", count, res, res, out)
    return count
