"""Training timelapse: the fixed-seed sample grids of a run as an mp4 and as a frames strip."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
from PIL import Image

from livegan.errors import OutputError

log = logging.getLogger(__name__)

STEP = re.compile(r"^step_(\d+)\.png$")
GRID_ROWS = 6  # the trainer's grids: 6 x 6 tiles with 2 black pixels between (samples.py)
GRID_PAD = 2


def sample_grids(run: Path) -> list[tuple[int, Path]]:
    """(step, path) of RUN/samples/step_*.png, oldest first."""
    folder = Path(run) / "samples"
    found = [(int(m.group(1)), p) for p in folder.glob("step_*.png") if (m := STEP.match(p.name))]
    return sorted(found)


def _even(image: np.ndarray) -> np.ndarray:
    """Pad to even width and height (H.264 needs them)."""
    h, w, _ = image.shape
    return np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)))


def _with_progress(image: np.ndarray, fraction: float) -> np.ndarray:
    """The grid with a thin bar along the bottom showing how far training had got."""
    bar = np.zeros((6, image.shape[1], 3), np.uint8)
    bar[2:5, : max(1, round(fraction * image.shape[1]))] = 200
    return np.concatenate([image, bar], axis=0)


def timelapse(run: Path, out: Path | None = None, fps: int = 8, hold: int = 2) -> Path:
    """Write RUN's sample grids (fixed seeds, every N steps) as an H.264 mp4.

    Each grid is shown for `hold` frames at `fps`, the last one for a second, over a bar
    showing progress through training. Returns the path (default RUN/timelapse.mp4).
    """
    grids = sample_grids(run)
    if not grids:
        raise OutputError(f"{Path(run) / 'samples'} holds no step_*.png grids; train first")
    try:
        import av
    except ImportError:
        raise OutputError("the timelapse video needs PyAV: pip install 'livegan[record]'") from None
    out = Path(out) if out else Path(run) / "timelapse.mp4"
    tmp = out.with_name(f".{out.name}.tmp")
    last = grids[-1][0] or 1
    size = Image.open(grids[0][1]).size  # (W, H); every grid of a run has the same
    first = _even(_with_progress(np.zeros((size[1], size[0], 3), np.uint8), 0.0))
    with av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = first.shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "medium"}
        for i, (step, path) in enumerate(grids):
            image = Image.open(path).convert("RGB")
            image = np.asarray(image if image.size == size else image.resize(size))
            frame = _even(_with_progress(image, step / last))
            repeat = max(fps, hold) if i == len(grids) - 1 else hold
            for _ in range(repeat):
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.replace(out)
    log.info("wrote the training timelapse %s (%d grids)", out, len(grids))
    return out


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
