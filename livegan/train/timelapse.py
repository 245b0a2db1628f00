"""Training timelapses: a run's fixed-seed sample grids as a video, and as a frames strip.

`livegan render --timelapse RUN` writes the video too."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from livegan.errors import LiveganError, OutputError
from livegan.show.videofile import open_writer

log = logging.getLogger(__name__)

STEP = re.compile(r"^step_(\d+)\.png$")
GRID_ROWS = 6  # the trainer's grids: 6 x 6 tiles with 2 black pixels between (samples.py)
GRID_PAD = 2
TIMELAPSE_FPS = 10


def sample_grids(run: Path) -> list[tuple[int, Path]]:
    """(step, path) of RUN/samples/step_*.png, oldest first."""
    folder = Path(run) / "samples"
    found = [(int(m.group(1)), p) for p in folder.glob("step_*.png") if (m := STEP.match(p.name))]
    return sorted(found)


def _tiles(grid: np.ndarray, count: int) -> list[np.ndarray]:
    """The first `count` tiles of a trainer grid image [H, W, 3]."""
    size = (grid.shape[0] - GRID_PAD) // GRID_ROWS - GRID_PAD
    cols = (grid.shape[1] - GRID_PAD) // (size + GRID_PAD)
    found = []
    for i in range(count):
        r, c = divmod(i, cols)
        y, x = GRID_PAD + r * (size + GRID_PAD), GRID_PAD + c * (size + GRID_PAD)
        found.append(grid[y : y + size, x : x + size])
    return found


def frames_strip(run: Path, out: Path | None = None, seeds: int = 4, columns: int = 8,
                 tile: int = 96) -> Path:
    """One PNG: rows are fixed seeds, columns are evenly spaced steps of training.

    Returns the path (default RUN/timelapse_strip.png).
    """
    grids = sample_grids(run)
    if not grids:
        raise OutputError(f"{Path(run) / 'samples'} holds no step_*.png grids; train first")
    picks = sorted({round(i * (len(grids) - 1) / max(columns - 1, 1)) for i in range(columns)})
    pad = 2
    strip = np.zeros((seeds * (tile + pad) + pad, len(picks) * (tile + pad) + pad, 3), np.uint8)
    for col, index in enumerate(picks):
        grid = np.asarray(Image.open(grids[index][1]).convert("RGB"))
        for row, image in enumerate(_tiles(grid, seeds)):
            small = np.asarray(Image.fromarray(image).resize((tile, tile), Image.LANCZOS))
            y, x = pad + row * (tile + pad), pad + col * (tile + pad)
            strip[y : y + tile, x : x + tile] = small
    out = Path(out) if out else Path(run) / "timelapse_strip.png"
    Image.fromarray(strip).save(out)
    log.info("wrote %s (steps %s)", out, ", ".join(str(grids[i][0]) for i in picks))
    return out


def timelapse(run: Path, out: Path, fps: int = TIMELAPSE_FPS, progress: bool = False) -> Path:
    """A video of a training run's fixed-seed sample grids (RUN/samples/step_*.png), in order.

    One frame per grid, the last one held for a second. The output format follows
    `out`'s extension (.mp4/.mov/.mkv, .gif, or a PNG folder).
    """
    grids = [path for _, path in sample_grids(Path(run))]
    if not grids:
        raise LiveganError(f"{Path(run, 'samples')} holds no step_*.png sample grids; "
                           "give a run folder written by `livegan train`")
    grids += [grids[-1]] * (fps - 1)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_writer(out, fps) as writer:
        for path in tqdm(grids, unit="frame", desc=out.name, disable=not progress):
            writer.write(np.asarray(Image.open(path).convert("RGB")))
    log.info("wrote %s (%d frames at %d fps)", out, writer.frames, fps)
    return out
