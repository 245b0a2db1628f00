"""The README's "what to expect" picture: a quality bench's sample grids after each
CPU-minute rung, one row per set, beside held-out pictures of the same set.

    python scripts/expect_grids.py BENCH_OUT_FOLDER [BENCH_OUT_FOLDER ...] --out docs/train_expect.jpg

Each folder is one `livegan bench --quality --sets S --minutes 15,30,60 --out DIR` run's
output (its grid_*min.png files); the held-out pictures are read from the set's data folder
that the bench wrote beside them. The first `--tiles` x `--tiles` samples of each grid are kept.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from livegan.train.samples import PAD, tile


def crop_tiles(grid: Image.Image, side: int, keep: int) -> Image.Image:
    """The top-left keep x keep pictures of a square grid of `side` x `side` pictures."""
    step = (grid.width - PAD) / side
    return grid.crop((0, 0, round(keep * step + PAD), round(keep * step + PAD)))


def held_out_grid(data: Path, keep: int) -> Image.Image:
    """keep x keep held-out pictures laid out as the bench lays out samples."""
    files = sorted(data.rglob("*.png"))
    files = files[:: max(1, len(files) // (keep * keep))][: keep * keep]  # spread over classes
    return Image.fromarray(tile(np.stack([np.array(Image.open(f).convert("RGB"))
                                          for f in files]), keep))


def row(run: Path, keep: int) -> tuple[str, list[tuple[str, Image.Image]]]:
    grids = sorted(run.glob("grid_*min.png"), key=lambda p: float(re.findall(r"[\d.]+", p.name)[0]))
    if not grids:
        raise SystemExit(f"{run}: no grid_*min.png (is it a quality bench's --out folder?)")
    held = Path(json.loads((run / "run" / "config.json").read_text())["data"]).parent / "held-out"
    name = held.parent.name.split("-")[0]  # the set's data folder: SET-RESpx-...
    cells = [(p.stem.removeprefix("grid_").replace("min", " CPU-min"),
              crop_tiles(Image.open(p).convert("RGB"), 6, keep)) for p in grids]
    return name, cells + [("held-out", held_out_grid(held, keep))]


def sheet(runs: list[Path], out: Path, tiles: int = 4) -> Path:
    """One row per bench folder in `runs`: its grids, then held-out pictures; saved to `out`."""
    rows = [row(r, tiles) for r in runs]
    cell = max(im.width for _, cells in rows for _, im in cells)
    label_w, label_h, gap = 70, 18, 8
    cols = max(len(cells) for _, cells in rows)
    image = Image.new("RGB", (label_w + cols * (cell + gap), len(rows) * (cell + label_h + gap)),
                      "white")
    draw = ImageDraw.Draw(image)
    for r, (name, cells) in enumerate(rows):
        y = r * (cell + label_h + gap)
        draw.text((4, y + label_h + cell // 2), name, fill="black")
        for c, (label, im) in enumerate(cells):
            x = label_w + c * (cell + gap)
            draw.text((x, y + 3), label, fill="black")
            image.paste(im.resize((cell, cell)), (x, y + label_h))
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, quality=90)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path, help="quality bench output folders, one per row")
    p.add_argument("--out", type=Path, default=Path("docs/train_expect.jpg"))
    p.add_argument("--tiles", type=int, default=4, help="pictures per side kept of each grid")
    a = p.parse_args()
    print(sheet(a.runs, a.out, a.tiles))


if __name__ == "__main__":
    main()
