"""The canvas, palettes and finish shared by the synthetic-image styles."""

from __future__ import annotations

import colorsys

import numpy as np
from PIL import Image, ImageDraw

Box = tuple[slice, slice]  # (rows, columns) of the canvas an element touches
FULL: Box = (slice(None), slice(None))

# Saturation and value ranges of each mood; a palette is one mood and one hue scheme.
MOODS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "pastel": ((0.20, 0.50), (0.80, 0.98)),
    "jewel": ((0.60, 0.95), (0.40, 0.85)),
    "earth": ((0.35, 0.75), (0.30, 0.90)),
    "neon": ((0.80, 1.00), (0.90, 1.00)),
    "poster": ((0.70, 1.00), (0.75, 1.00)),
}
# Hue offsets (in turns) around a base hue: the classic colour-wheel harmonies.
SCHEMES: dict[str, tuple[float, ...]] = {
    "analogous": (0.0, 0.07, -0.07, 0.13),
    "complementary": (0.0, 0.5, 0.04, 0.46),
    "triadic": (0.0, 1 / 3, 2 / 3),
    "split": (0.0, 0.42, 0.58),
    "tetradic": (0.0, 0.25, 0.5, 0.75),
}


def smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    """0 below `lo`, 1 above `hi`, a smooth ramp between."""
    t = np.clip((x - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class Canvas:
    """One image in progress: float RGB pixels in [0, 1] plus shared noise fields."""

    def __init__(self, rng: np.random.Generator, res: int) -> None:
        self.rng = rng
        self.res = res
        self.supersample = 4 if res <= 128 else 2  # masks are drawn larger, then box-filtered
        coords = ((np.arange(res, dtype=np.float32) + 0.5) / res).astype(np.float32)
        self.xs = coords[None, :]  # [1, R]
        self.ys = coords[:, None]  # [R, 1]
        self.noise = [self._low_noise(cells) for cells in (3, 6, 12)]  # each [R, R] in ~[-1, 1]
        self.pixels = np.zeros((res, res, 3), np.float32)  # [R, R, 3]

    def _low_noise(self, cells: int) -> np.ndarray:
        grid = self.rng.uniform(-1.0, 1.0, (cells, cells)).astype(np.float32)
        field = Image.fromarray(grid, mode="F").resize((self.res, self.res), Image.BICUBIC)
        return np.asarray(field, dtype=np.float32)

    def edge(self, signed: np.ndarray) -> np.ndarray:
        """Anti-aliased coverage of a signed distance (unit coordinates, < 0 inside)."""
        return np.clip(0.5 - signed * self.res, 0.0, 1.0)

    def blend(self, alpha: np.ndarray, colour: np.ndarray, box: Box = FULL) -> None:
        """Paint `colour` ([3] or shaped like `box` + [3]) with coverage `alpha` (like `box`)."""
        target = self.pixels[box]  # a view: painting only where the element is
        target += (colour - target) * alpha[..., None]

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

    def ramp(self, box: Box = FULL) -> np.ndarray:
        """A linear ramp in [0, 1] across `box` at a random angle: a gradient's position."""
        angle = self.rng.uniform(0.0, 2 * np.pi)
        u = (self.xs[:, box[1]] - 0.5) * np.cos(angle) + (self.ys[box[0]] - 0.5) * np.sin(angle)
        return np.clip(u * 1.2 + 0.5, 0.0, 1.0)  # [h, w]

    def gradient_fill(self, a: np.ndarray, b: np.ndarray, box: Box = FULL) -> np.ndarray:
        """Colours [h, w, 3] that run smoothly from `a` to `b` across `box`."""
        t = self.ramp(box)[..., None]
        return a + (b - a) * t


def palette(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """Background colour, 3-6 element colours [K, 3] and the mood they come from."""
    mood = str(rng.choice(list(MOODS)))
    offsets = SCHEMES[str(rng.choice(list(SCHEMES)))]
    (s_lo, s_hi), (v_lo, v_hi) = MOODS[mood]
    base = rng.uniform(0.0, 1.0) if mood != "earth" else rng.uniform(0.0, 0.13)
    colours = []
    for k in range(int(rng.integers(4, 8))):
        hue = (base + offsets[k % len(offsets)] + rng.normal(0.0, 0.015)) % 1.0
        colours.append(colorsys.hsv_to_rgb(hue, rng.uniform(s_lo, s_hi), rng.uniform(v_lo, v_hi)))
    colours.sort(key=lambda c: sum(c))
    dark_ground = mood == "neon" or rng.uniform() < 0.4
    ground = np.array(colours.pop(0 if dark_ground else -1), np.float32)
    # Push the ground away from the elements (near black, or towards paper white) so shapes read.
    if dark_ground:
        ground *= 0.25 if mood == "neon" else 0.45
    else:
        ground = ground * 0.5 + 0.5 * 0.96
    elements = np.array(colours, np.float32)  # [K, 3]
    faint = np.abs(elements.mean(1) - ground.mean()) < 0.25
    if dark_ground:
        elements[faint] += (1 - elements[faint]) * 0.5
    else:
        elements[faint] *= 0.55
    if rng.uniform() < 0.35:  # an ink colour: black on light grounds, off-white on dark ones
        ink = np.full(3, 0.08 if not dark_ground else 0.94, np.float32)
        elements = np.concatenate([elements, ink[None]])
    return ground, elements, mood


def pick(rng: np.random.Generator, colours: np.ndarray) -> np.ndarray:
    """One colour [3] of the palette."""
    return colours[rng.integers(len(colours))]


def finish(canvas: Canvas, grain_rng: np.random.Generator) -> np.ndarray:
    """A faint wash, optional vignette and fine grain; returns uint8 pixels [R, R, 3]."""
    rng = canvas.rng
    canvas.pixels *= (1.0 + rng.uniform(0.0, 0.04) * canvas.noise[1])[..., None]
    if rng.uniform() < 0.4:
        dist = (canvas.xs - 0.5) ** 2 + (canvas.ys - 0.5) ** 2
        canvas.pixels *= (1.0 - rng.uniform(0.2, 0.6) * dist)[..., None]
    amount = rng.uniform(0.004, 0.014)
    grain = grain_rng.standard_normal((canvas.res, canvas.res, 1), dtype=np.float32)
    canvas.pixels += amount * grain
    return (np.clip(canvas.pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
