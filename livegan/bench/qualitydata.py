"""The quality bench's images: a cached synthetic set, or an image folder split into training
and held-out images; either is written once under the bench's `--out`/data."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from livegan.errors import DatasetError

log = logging.getLogger(__name__)

HELD_OUT_SEED_OFFSET = 1  # held-out synth images come from seed + 1: no composition repeats


def _synth_style() -> str:
    from livegan.train import synth

    return str(getattr(synth, "DEFAULT_STYLE", "paintings"))


def synth_data(out: str | Path, res: int, train_images: int, held_out: int,
               progress: bool = True) -> tuple[Path, Path, str]:
    """Cached synthetic train / held-out folders under `out`/data, and the set's name; made
    once per size."""
    from livegan.train.synth import synthesize

    style = _synth_style()
    root = Path(out) / "data" / f"synth-{style}-{res}px-{train_images}-{held_out}"
    train, held = root / "train", root / "held-out"
    done = root / "complete.json"
    if not done.is_file():
        log.info("writing the bench's data set to %s (once)", root)
        for folder in (train, held):
            if folder.exists():
                shutil.rmtree(folder)  # a set cut short by a kill: this folder is ours
        synthesize(train, train_images, res, seed=0, progress=progress)
        synthesize(held, held_out, res, seed=HELD_OUT_SEED_OFFSET, progress=progress)
        done.write_text(json.dumps({"style": style, "train": train_images,
                                    "held_out": held_out, "res": res}))
    name = (f"livegan data synth ({style}): {train_images} training images (seed 0), "
            f"{held_out} held-out (seed {HELD_OUT_SEED_OFFSET})")
    return train, held, name


def folder_data(source: str | Path, out: str | Path, held_out: int) -> tuple[Path, Path, str]:
    """An image folder split deterministically: every k-th file (sorted by path) held out,
    at most `held_out` and at most a third; copied into `out`/data. Also the split's name."""
    from livegan.train.data import find_images

    source = Path(source)
    if not source.is_dir():
        raise DatasetError(f"--data {source}: no such image folder")
    files = find_images(source)
    if len(files) < 6:
        raise DatasetError(f"--data {source}: {len(files)} images; the bench needs at least 6")
    n_held = min(held_out, len(files) // 3)
    every = len(files) / n_held
    held_index = {int(i * every) for i in range(n_held)}
    root = Path(out) / "data" / f"{source.resolve().name}-{len(files)}-{n_held}"
    train, held = root / "train", root / "held-out"
    if not (root / "complete.json").is_file():
        for folder in (train, held):
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
        for i, path in enumerate(files):
            target = held if i in held_index else train
            shutil.copyfile(path, target / f"{i:06d}{path.suffix.lower()}")
        (root / "complete.json").write_text(json.dumps({"source": str(source.resolve())}))
    name = f"{source} ({len(files) - n_held} training images, {n_held} held-out: every " \
           f"{every:.1f}th by path)"
    return train, held, name


def bench_data(folder: str | None, name: str, out: str | Path, res: int, train_images: int,
               held_out: int, progress: bool = True) -> tuple[Path, Path, str]:
    """The bench's train / held-out folders and their description: `folder` split when
    given, else set `name` of realsets.SETS (synth, photos, glyphs)."""
    from livegan.bench.realsets import real_data

    if folder:
        return folder_data(folder, out, held_out)
    if name == "synth":
        return synth_data(out, res, train_images, held_out, progress)
    return real_data(name, out, res, train_images, held_out)
