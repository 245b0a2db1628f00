"""Procedural abstract images in several styles, so a model can be trained with no image folder."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from livegan.errors import DatasetError
from livegan.train.synthcanvas import Canvas, finish
from livegan.train.synthmarble import marble
from livegan.train.synthpaint import paint

log = logging.getLogger(__name__)

# Each style composes one image on a fresh canvas; the first is the default.
STYLES: dict[str, Callable[[Canvas], None]] = {
    "paintings": paint,  # hard-edged colour fields, shaded discs, bristly strokes, halftones
    "marbling": marble,  # warped ink bands with crisp edges and contour lines
}
DEFAULT_STYLE = "paintings"


def _check_res(res: int) -> None:
    if res < 16 or res % 8:
        raise DatasetError(
            f"resolution {res} is not usable for synthetic images; use a multiple of 8 of "
            "at least 16, e.g. --res 64, 128 or 256"
        )


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise DatasetError(
            f"unknown synthetic style {style!r}; choose one of: {', '.join(STYLES)}"
        )


def render_image(index: int, res: int, seed: int = 0, style: str = DEFAULT_STYLE) -> np.ndarray:
    """Render one abstract image.

    Args:
        index: which image of the set (>= 0); each index is an independent composition.
        res: side length in pixels, a multiple of 8 of at least 16.
        seed: picks the whole set; the same (index, res, seed, style) always gives the same
            pixels.
        style: one of STYLES.

    Returns:
        uint8 array [res, res, 3]. The composition depends only on (seed, index, style); res
        only sets how finely it is sampled.
    """
    _check_res(res)
    _check_style(style)
    if index < 0 or seed < 0:
        raise ValueError(f"index and seed must be >= 0, got index={index}, seed={seed}")
    style_id = list(STYLES).index(style)
    composition, grain = np.random.SeedSequence([seed, index, style_id]).spawn(2)
    canvas = Canvas(np.random.default_rng(composition), res)
    STYLES[style](canvas)
    return finish(canvas, np.random.default_rng(grain))


def synthesize(
    out: Path,
    count: int,
    res: int,
    seed: int = 0,
    progress: bool = True,
    style: str = DEFAULT_STYLE,
) -> int:
    """Write `count` synthetic images as out/synth_00000.png, synth_00001.png, ...

    Args:
        out: folder to write into; created if missing.
        count: how many images (>= 1).
        res: side length, a multiple of 8 of at least 16.
        seed: picks the set; rerunning with the same arguments rewrites identical files.
        progress: show a progress bar.
        style: one of STYLES.

    Returns:
        The number of images written.
    """
    if count < 1:
        raise DatasetError(f"cannot synthesize {count} images into {out}; use --count 1 or more")
    _check_res(res)
    _check_style(style)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create {out} ({exc.strerror}); pick a writable folder") from exc
    for index in tqdm(range(count), desc="synth", unit="img", disable=not progress):
        pixels = render_image(index, res, seed, style)
        Image.fromarray(pixels).save(out / f"synth_{index:05d}.png", compress_level=4)
    log.info("wrote %d synthetic %dx%d %s images to %s", count, res, res, style, out)
    return count
