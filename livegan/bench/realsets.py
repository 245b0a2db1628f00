"""The quality bench's real picture sets, made from files that pip packages ship (nothing is
downloaded): crops of scikit-image's sample photographs and textures, and glyphs rendered
from matplotlib's fonts as small black-on-white line drawings, one subfolder per glyph."""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import random
import shutil
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from livegan.errors import ExtraMissingError

log = logging.getLogger(__name__)

SETS = ("synth", "photos", "glyphs")  # what `bench --quality --sets` takes ("all": every one)
MISSING = ("the real picture sets need scikit-image's sample images and matplotlib's fonts: "
           "pip install 'livegan[quality]'")
# scikit-image's sample pictures that its wheel holds (others are fetched on first use,
# which livegan never does): six colour photographs, three textures, one grey photograph
PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
          "ihc.png", "brick.png", "grass.png", "gravel.png", "camera.png")
CROP = (0.2, 0.5)  # a crop's side as a share of the picture's shorter side
# matplotlib's bundled fonts the glyphs are drawn in
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
         "DejaVuSans-BoldOblique.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
         "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
         "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf")
# asymmetric letters and digits: a mirrored one is a shape no font draws (b and d, p and q
# are each other's mirror images)
GLYPHS = "BCDEFGJKLNPRSZ23457abdpq"
HELD_OUT_SEED = 1  # the held-out pictures' seed (training: 0): other crops, other glyphs


def _package_dir(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ExtraMissingError(MISSING)
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def photo_files() -> list[Path]:
    """The sample pictures inside scikit-image's wheel (importing nothing from it)."""
    folder = _package_dir("skimage", "data")
    files = [folder / name for name in PHOTOS if (folder / name).is_file()]
    if len(files) < 4:
        raise ExtraMissingError(f"{MISSING} (found {len(files)} of its sample pictures)")
    return files


def font_files() -> list[Path]:
    """matplotlib's bundled TrueType fonts the glyphs are drawn in."""
    folder = _package_dir("matplotlib", "mpl-data", "fonts", "ttf")
    files = [folder / name for name in FONTS if (folder / name).is_file()]
    if not files:
        raise ExtraMissingError(f"{MISSING} (no fonts in {folder})")
    return files


def write_photos(out: Path, count: int, res: int, seed: int) -> None:
    """`count` square crops (side 20-50 % of the picture's shorter side, anywhere) of the
    sample pictures in turn, resized to res x res: PNGs in `out`."""
    rng = random.Random(seed)
    pictures = [Image.open(path).convert("RGB") for path in photo_files()]
    out.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        picture = pictures[i % len(pictures)]
        width, height = picture.size
        side = round(min(width, height) * rng.uniform(*CROP))
        left, top = rng.randint(0, width - side), rng.randint(0, height - side)
        crop = picture.crop((left, top, left + side, top + side))
        crop.resize((res, res), Image.Resampling.LANCZOS).save(out / f"{i:05d}.png")


def glyph_folder(char: str) -> str:
    """A class folder's name that no case-insensitive file system confuses (B and b)."""
    kind = "digit" if char.isdigit() else "upper" if char.isupper() else "lower"
    return f"{kind}-{char}"


def render_glyph(char: str, font: Path, res: int, rng: random.Random) -> Image.Image:
    """One glyph, black on white, at a random size (55-80 % of the picture), offset (up to
    8 %) and slant (up to 8 degrees), drawn at 4x and reduced for smooth edges."""
    big = 4 * res
    size = round(big * rng.uniform(0.55, 0.8))
    face = ImageFont.truetype(str(font), size)
    canvas = Image.new("L", (big, big), 255)
    left, top, right, bottom = face.getbbox(char)
    x = (big - (right - left)) / 2 - left + rng.uniform(-0.08, 0.08) * big
    y = (big - (bottom - top)) / 2 - top + rng.uniform(-0.08, 0.08) * big
    ImageDraw.Draw(canvas).text((x, y), char, font=face, fill=0)
    canvas = canvas.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BICUBIC, fillcolor=255)
    return canvas.resize((res, res), Image.Resampling.LANCZOS).convert("RGB")


def write_glyphs(out: Path, count: int, res: int, seed: int) -> None:
    """`count` glyphs, the same number of each (GLYPHS) in turn, each in a random font:
    PNGs in `out`/<glyph's folder>/."""
    rng = random.Random(seed)
    fonts = font_files()
    for char in GLYPHS:
        (out / glyph_folder(char)).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        char = GLYPHS[i % len(GLYPHS)]
        image = render_glyph(char, rng.choice(fonts), res, rng)
        image.save(out / glyph_folder(char) / f"{i:05d}.png")


WRITERS = {"photos": write_photos, "glyphs": write_glyphs}
NAMES = {
    "photos": "crops of scikit-image's sample photographs and textures",
    "glyphs": f"{len(GLYPHS)} glyphs in {len(FONTS)} of matplotlib's fonts, black on white",
}


def real_data(name: str, out: str | Path, res: int, train_images: int, held_out: int
              ) -> tuple[Path, Path, str]:
    """Cached train / held-out folders of set `name` ("photos" or "glyphs") under
    `out`/data, and the set's description; made once per size (seconds)."""
    root = Path(out) / "data" / f"{name}-{res}px-{train_images}-{held_out}"
    train, held = root / "train", root / "held-out"
    done = root / "complete.json"
    if not done.is_file():
        log.info("writing the bench's %s set to %s (once)", name, root)
        for folder in (train, held):
            if folder.exists():
                shutil.rmtree(folder)  # a set cut short by a kill: this folder is ours
        WRITERS[name](train, train_images, res, seed=0)
        WRITERS[name](held, held_out, res, seed=HELD_OUT_SEED)
        done.write_text(json.dumps({"set": name, "train": train_images, "held_out": held_out,
                                    "res": res}))
    described = (f"{NAMES[name]}: {train_images} training images (seed 0), {held_out} "
                 f"held-out (seed {HELD_OUT_SEED})")
    return train, held, described


def flat_share(images, threshold: float = 0.04) -> float:
    """Share of images [N, 3, R, R] in [-1, 1] that are near-flat tiles: the spread of
    their pixels (standard deviation over every pixel and channel, on a 0-1 scale) is under
    `threshold`."""
    spread = images.float().flatten(1).std(dim=1) / 2  # [N], 0..0.5
    return round(float((spread < threshold).float().mean()), 4) if len(spread) else math.nan
