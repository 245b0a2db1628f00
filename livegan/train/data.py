"""Image folders for training: prepare an artist's pictures, and load a prepared folder."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from tqdm import tqdm

from livegan.errors import DatasetError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
CROP_MODES = ("center", "random", "pad")
_NO_IMAGES = "contains no images (.jpg .png .webp .bmp)"
_MAKE_DATA = (
    "run `livegan data prepare SRC OUT --res R` on a folder of pictures, "
    "or `livegan data synth OUT --count N --res R` for synthetic ones"
)


class _Unusable(Exception):
    """A file that cannot be used; the message is the reason shown to the user."""


@dataclass
class PrepareReport:
    """What `prepare` did: counts, and every file it left out with the reason."""

    found: int  # image files found under the source folder
    written: int  # PNGs written, mirrored copies included
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, reason)
    duplicates: list[Path] = field(default_factory=list)  # exact copies of an earlier file
    labels: list[str] = field(default_factory=list)  # class subfolders that received images

    def summary(self) -> str:
        """A short human-readable report, a few lines long."""
        lines = [f"found {self.found} images, wrote {self.written}"]
        if self.labels:
            lines.append(f"{len(self.labels)} classes: {', '.join(self.labels)}")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)}:")
            lines += [f"  {path}: {reason}" for path, reason in self.skipped[:10]]
            if len(self.skipped) > 10:
                lines.append(f"  ... and {len(self.skipped) - 10} more")
        if self.duplicates:
            lines.append(f"dropped {len(self.duplicates)} exact duplicates")
        return "\n".join(lines)


def find_images(folder: Path, exclude: Path | None = None) -> list[Path]:
    """Image files under `folder`, recursively and sorted; hidden files and folders are ignored.

    Args:
        folder: where to look.
        exclude: a folder inside `folder` to leave out (e.g. the output of `prepare`).
    """
    skip: tuple[str, ...] | None = None
    if exclude is not None and exclude.resolve().is_relative_to(folder.resolve()):
        skip = exclude.resolve().relative_to(folder.resolve()).parts
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative):
            continue  # .thumbnails/, macOS ._name.jpg resource forks
        if skip is not None and relative[: len(skip)] == skip:
            continue
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            found.append(path)
    return sorted(found)


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode to RGB; transparent pixels are composited onto white, like paper."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        pixels = np.asarray(image, dtype=np.float32)
        peak = 1.0 if image.mode == "F" and pixels.max() <= 1.0 else 255.0
        peak = 65535.0 if pixels.max() > 255.0 else peak  # 16-bit scans and PNGs
        image = Image.fromarray(np.clip(pixels * (255.0 / peak), 0, 255).astype(np.uint8))
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _open_rgb(path: Path, res: int, min_size: int = 0) -> Image.Image:
    """Decode a file fully into an upright RGB image, or raise _Unusable with the reason."""
    try:
        image = Image.open(path)
    except Image.DecompressionBombError:
        raise _Unusable("too many pixels to be a safe image") from None
    except (OSError, SyntaxError, ValueError):
        raise _Unusable("not a readable image") from None
    with image:
        if min(image.size) < min_size:
            width, height = image.size
            raise _Unusable(f"too small ({width}x{height}; needs {min_size} px on the short side)")
        image.draft(None, (res, res))  # JPEGs decode straight at >= res, much faster
        try:
            image.load()  # forces a full decode, so truncated files fail here
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            if "truncated" in str(exc):
                raise _Unusable("truncated file") from None
            raise _Unusable(f"corrupt image data ({exc})") from None
        try:
            return _to_rgb(ImageOps.exif_transpose(image))
        except (OSError, ValueError) as exc:
            raise _Unusable(f"cannot convert {image.mode} pixels to RGB ({exc})") from None


def _crop_box(size: tuple[int, int], crop: str, key: str) -> tuple[int, int, int, int]:
    """The square (left, top, right, bottom) to keep; `random` is seeded by `key`."""
    width, height = size
    side = min(width, height)
    if crop == "random":
        seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
        rng = np.random.default_rng(seed)
        left = int(rng.integers(0, width - side + 1))
        top = int(rng.integers(0, height - side + 1))
    else:
        left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def _letterbox(image: Image.Image) -> Image.Image:
    """Pad to a square with the mean colour of the image's outer edge."""
    width, height = image.size
    if width == height:
        return image
    pixels = np.asarray(image, dtype=np.float32)  # [H, W, 3]
    edge = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    colour = tuple(int(c + 0.5) for c in edge.mean(0))
    side = max(width, height)
    square = Image.new("RGB", (side, side), colour)
    square.paste(image, ((side - width) // 2, (side - height) // 2))
    return square


def _square(image: Image.Image, res: int, crop: str, key: str) -> Image.Image:
    """Crop or pad to a square, then resize to res x res with LANCZOS."""
    if crop == "pad":
        image = _letterbox(image)
    else:
        image = image.crop(_crop_box(image.size, crop, key))
    if image.size != (res, res):
        image = image.resize((res, res), Image.LANCZOS, reducing_gap=3.0)
    return image


def _check_source(src: Path, out: Path, res: int, crop: str) -> None:
    if not src.exists():
        raise DatasetError(f"{src} does not exist; point livegan at a folder of pictures")
    if not src.is_dir():
        raise DatasetError(f"{src} is a file, not a folder; point livegan at a folder of pictures")
    if out.resolve() == src.resolve():
        raise DatasetError(f"output folder {out} is the source folder; choose a separate one")
    if res < 8:
        raise DatasetError(f"resolution {res} is too small; use --res 64 or more")
    if crop not in CROP_MODES:
        raise DatasetError(f"unknown crop mode {crop!r}; use one of {', '.join(CROP_MODES)}")


MIRROR_SUFFIX = "_mirror"  # `livegan data prepare --mirror` writes name.png and name_mirror.png


def distinct_pictures(files: list[Path]) -> int:
    """How many pictures `files` hold: a `name_mirror.png` beside a `name.png` (what
    `livegan data prepare --mirror` writes) is the same picture flipped, so counts once."""
    stems = {p.with_suffix("") for p in files}
    twins = sum(1 for p in files if p.stem.endswith(MIRROR_SUFFIX)
                and p.with_name(p.stem[: -len(MIRROR_SUFFIX)]) in stems)
    return len(files) - twins


class _Writer:
    """Writes PNGs under `out`, mirroring the source tree and never reusing a file name."""

    def __init__(self, src: Path, out: Path) -> None:
        self.src, self.out = src, out
        self.used: set[Path] = set()

    def target(self, source: Path, suffix: str = "") -> Path:
        relative = source.relative_to(self.src)
        stem = relative.stem + suffix
        path = self.out / relative.parent / f"{stem}.png"
        count = 1
        while path in self.used:  # photo.jpg and photo.png both become photo.png
            count += 1
            path = self.out / relative.parent / f"{stem}_{count}.png"
        self.used.add(path)
        return path

    def write(self, image: Image.Image, source: Path, suffix: str = "") -> None:
        path = self.target(source, suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)


def _prepare_one(
    path: Path,
    src: Path,
    res: int,
    crop: str,
    min_size: int,
    mirror: bool,
    writer: _Writer,
    seen: set[bytes],
    report: PrepareReport,
) -> None:
    """Decode, deduplicate, square and write one file (and its mirror)."""
    image = _open_rgb(path, res, min_size)
    digest = hashlib.blake2b(image.tobytes(), digest_size=16)
    digest.update(repr(image.size).encode())
    if digest.digest() in seen:
        report.duplicates.append(path)
        return
    seen.add(digest.digest())
    image = _square(image, res, crop, path.relative_to(src).as_posix())
    writer.write(image, path)
    report.written += 1
    if mirror:
        writer.write(image.transpose(Image.FLIP_LEFT_RIGHT), path, MIRROR_SUFFIX)
        report.written += 1


def prepare(
    src: Path,
    out: Path,
    res: int,
    mirror: bool = False,
    crop: str = "center",
    min_size: int | None = None,
    progress: bool = True,
) -> PrepareReport:
    """Turn a folder of pictures into a clean folder of res x res RGB PNGs.

    Subfolders are kept (they are the class labels of conditional training). Unreadable,
    truncated and too-small files are skipped with a reason and exact duplicates dropped;
    one bad file never stops the run. Transparent pixels are composited onto white.

    Args:
        src: folder of .jpg/.jpeg/.png/.webp/.bmp files, searched recursively.
        out: folder to write into; created if missing.
        res: output side length in pixels.
        mirror: also write a horizontally flipped copy of each image (`name_mirror.png`).
        crop: `center` (centre square), `random` (a square seeded by the file's path) or
            `pad` (letterbox onto a square of the mean edge colour).
        min_size: skip images whose short side is smaller; default res // 2.
        progress: show a progress bar.

    Returns:
        A PrepareReport; its `summary()` is a short text for the user.
    """
    src, out = Path(src), Path(out)
    _check_source(src, out, res, crop)
    min_size = res // 2 if min_size is None else min_size
    files = find_images(src, exclude=out)
    if not files:
        raise DatasetError(f"{src} {_NO_IMAGES}; point livegan at a folder of pictures")
    report = PrepareReport(found=len(files), written=0)
    writer, seen = _Writer(src, out), set[bytes]()
    for path in tqdm(files, desc="prepare", unit="img", disable=not progress):
        try:
            _prepare_one(path, src, res, crop, min_size, mirror, writer, seen, report)
        except _Unusable as why:
            log.info("skipping %s: %s", path, why)
            report.skipped.append((path, str(why)))
        except Exception as exc:  # one odd file must never end a long run
            log.debug("skipping %s", path, exc_info=True)
            report.skipped.append((path, f"could not be processed ({exc})"))
    if report.written == 0:
        raise DatasetError(
            f"{src} has no usable images: all {report.found} were skipped (first reason: "
            f"{report.skipped[0][1]}); add readable pictures of at least {min_size} px"
        )
    written = {p.relative_to(out) for p in writer.used}
    report.labels = sorted({p.parts[0] for p in written if len(p.parts) > 1})
    log.info("prepared %s -> %s: %s", src, out, report.summary().replace("\n", "; "))
    return report


class ImageDataset:
    """A prepared image folder held in memory as uint8, ready to sample training batches.

    Attributes:
        images: uint8 tensor [N, 3, R, R].
        labels: int64 tensor [N]; the index into `label_names` of each image's subfolder
            when built with labels=True, else all zeros.
        label_names: sorted names of the subfolders holding images (empty without labels).
        pictures: how many distinct pictures (a mirrored copy from `livegan data prepare
            --mirror` counts with its original), what `--augment auto` goes by.
    """

    def __init__(self, folder: Path, res: int, labels: bool = False, progress: bool = True) -> None:
        """Load every image under `folder` (recursively) at res x res.

        Images of another size are centre-cropped and resized; unreadable files are
        skipped with a warning. With labels=True each immediate subfolder is one class,
        and images lying directly in `folder` are an error.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise DatasetError(f"dataset folder {folder} does not exist; {_MAKE_DATA}")
        self.folder, self.res = folder, res
        files = find_images(folder)
        if not files:
            raise DatasetError(f"dataset folder {folder} {_NO_IMAGES}; {_MAKE_DATA}")
        classes = [p.relative_to(folder).parts[:-1][:1] for p in files]
        self.label_names: list[str] = sorted({c[0] for c in classes if c}) if labels else []
        if labels:
            self._check_labelled(folder, files, classes)
        self.images, kept = self._load(files, progress)  # [N, 3, R, R]
        self.pictures = distinct_pictures([files[k] for k in kept])  # mirrored pairs once
        index = {name: i for i, name in enumerate(self.label_names)}
        self.labels = torch.tensor(
            [index[classes[k][0]] if labels else 0 for k in kept], dtype=torch.long
        )  # [N]
        log.info("loaded %d images from %s at %dx%d", len(self), folder, res, res)

    @staticmethod
    def _check_labelled(folder: Path, files: list[Path], classes: list[tuple[str, ...]]) -> None:
        loose = [p.name for p, c in zip(files, classes) if not c]
        if loose:
            shown = ", ".join(loose[:3]) + (f" and {len(loose) - 3} more" if len(loose) > 3 else "")
            raise DatasetError(
                f"{folder} has images outside any class subfolder ({shown}); move them into "
                "subfolders named after their class, or train without labels"
            )

    def _load(self, files: list[Path], progress: bool) -> tuple[torch.Tensor, list[int]]:
        images = torch.empty((len(files), 3, self.res, self.res), dtype=torch.uint8)
        kept: list[int] = []
        for k, path in enumerate(tqdm(files, desc="load", unit="img", disable=not progress)):
            try:
                image = _open_rgb(path, self.res)
            except _Unusable as why:
                log.warning("skipping %s: %s", path, why)
                continue
            image = _square(image, self.res, "center", path.name)
            pixels = torch.from_numpy(np.asarray(image).copy())  # [R, R, 3]
            images[len(kept)] = pixels.permute(2, 0, 1)
            kept.append(k)
        if not kept:
            raise DatasetError(f"dataset folder {self.folder} has no readable images; {_MAKE_DATA}")
        if len(kept) < len(files):
            images = images[: len(kept)].clone()
        return images, kept

    def __len__(self) -> int:
        return self.images.shape[0]

    def batch(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample n images with replacement.

        Returns:
            images as float32 in [-1, 1] [n, 3, R, R], and their labels [n].
        """
        if n < 1:
            raise ValueError(f"batch size must be >= 1, got {n}")
        index = torch.randint(len(self), (n,), generator=generator)  # [n]
        images = self.images[index].float().div_(127.5).sub_(1.0)  # [n, 3, R, R]
        return images, self.labels[index]
