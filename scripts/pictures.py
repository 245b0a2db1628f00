"""Every picture of the README, rendered from today's bundled models: run it after a model
is retrained and the README shows the model as it is.

    python scripts/pictures.py [--out docs] [--only window,default_grid,...]

- window.png: a real show's window (640x640, the HUD on, the bundled default model), as its
  own snapshot of the window saves it (SDL's dummy driver where no display is set);
- default_grid.png, paintings_grid.png: 24 seeds of each bundled model, as
  `livegan render MODEL docs/MODEL_grid.png --grid 4x6` draws them, at half size;
- bend_strip.png: one seed of the default model, unbent and then with each bending op on
  layer 8 (scripts/bend_strip.py);
- control_page.png, control_page_phone.png: the control page in headless Chromium (a wide
  window, then a 390x844 phone) beside a real show, taken by its browser tests
  (tests/web/test_page_browser.py; needs chromium and chromium-driver);
- distil_pair.png: a StyleGAN2 teacher and its `livegan distil` student side by side, for
  the same 16 held-out latents (the student, DISTIL_STUDENT, found in $LIVEGAN_MODELS);
- interpolation_strip.png: eight frames of a seed loop of the default model (seeds 9 and 22,
  as `livegan render default loop.mp4 --seeds 9,22` plays it), from seed 9 to seed 22;
- default_training_strip.png, paintings_training_strip.png: four fixed seeds of each bundled
  model across its training (its run folder's sample grids, livegan.train.timelapse), the
  run folders in $LIVEGAN_MODEL_RUNS (DEFAULT_RUN:PAINTINGS_RUN);
- train_expect.jpg: what the trainer draws after 15, 30 and 60 CPU-minutes on photographs
  and glyphs, beside held-out pictures (scripts/expect_grids.py on two quality bench runs,
  their folders in $LIVEGAN_EXPECT_RUNS).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # a display, when there is one, is used
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parent))

WINDOW = (640, 640)
SNAPSHOT_AFTER_S = 3.0  # into the show: the walk has moved and the HUD's fps has settled


def window(out: Path) -> Path:
    """The window of `livegan perform --hud`, from the show's own window snapshot."""
    import time

    import pygame

    from livegan.control.osc.config import OscConfig
    from livegan.perform import Performance
    from livegan.performconfig import PerformConfig
    from livegan.show.outputs import OutputsConfig
    from livegan.show.window import WindowConfig

    with tempfile.TemporaryDirectory() as folder:
        cfg = PerformConfig(osc=OscConfig(port=0, oscquery=False), frames=100_000,
                            outputs=OutputsConfig(out_dir=folder),
                            window=WindowConfig(size=WINDOW, hud=True))
        show = Performance(cfg)
        start, asked = time.perf_counter(), []

        def shoot(frame) -> None:
            if not asked and time.perf_counter() - start > SNAPSHOT_AFTER_S:
                asked.append(frame.index)
                show.controls.push_app("snapshot")
            elif asked and list(Path(folder).glob("snapshot-*-window.png")):
                pygame.event.post(pygame.event.Event(pygame.QUIT))

        show.on_frame = shoot
        show.run()
        shots = sorted(Path(folder).glob("snapshot-*-window.png"))
        if not shots:
            raise SystemExit("the show saved no window snapshot")
        target = out / "window.png"
        Image.open(shots[-1]).convert("RGB").save(target, optimize=True)
    return target


def grid(model: str, out: Path) -> Path:
    from livegan.render import RenderConfig, render

    target = out / f"{model}_grid.png"
    render(model, target, RenderConfig(grid=(4, 6), seeds=tuple(range(1, 25)), progress=False))
    image = Image.open(target)
    half = (image.width // 2, image.height // 2)
    image.resize(half, Image.Resampling.LANCZOS).save(target, optimize=True)
    return target


def bends(out: Path) -> Path:
    from bend_strip import strip

    target = out / "bend_strip.png"
    strip("default", 7, "8", 128).save(target)
    return target


def control_page(out: Path) -> Path:
    """Both pictures of the control page, as its browser tests take them."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/web/test_page_browser.py",
                    "-k", "slider_moves or pairing"], cwd=root, check=True,
                   env={**os.environ, "LIVEGAN_SCREENSHOTS": str(out.resolve())})
    return out / "control_page.png"


LOOP_SEEDS, LOOP_FRAMES, LOOP_TILE = (9, 22), 8, 160  # the seed loop's strip


def interpolation(out: Path) -> Path:
    """Frames of a seed loop, side by side: eight evenly spaced over its first half (from the
    first seed to the second), 160 px each with 2 px of black between."""
    from livegan.render import RenderConfig, render

    with tempfile.TemporaryDirectory() as tmp:
        frames = Path(tmp) / "frames"
        render("default", frames, RenderConfig(seconds=8.0, fps=30, seeds=LOOP_SEEDS,
                                               progress=False))
        files = sorted(frames.glob("*.png"))
        half = len(files) // 2
        files = [files[round(i * half / (LOOP_FRAMES - 1))] for i in range(LOOP_FRAMES)]
        pad, tile = 2, LOOP_TILE
        strip = Image.new("RGB", (len(files) * (tile + pad) - pad, tile))
        for i, path in enumerate(files):
            frame = Image.open(path).convert("RGB").resize((tile, tile), Image.Resampling.LANCZOS)
            strip.paste(frame, (i * (tile + pad), 0))
    target = out / "interpolation_strip.png"
    strip.save(target, optimize=True)
    return target


def run_folders(picture: str, variable: str, names: tuple[str, ...], what: str,
                wanted: tuple[str, ...] = ()) -> dict[str, Path]:
    """The run folders that $`variable` names, colon-separated in the order of `names` (an
    empty one where not `wanted`; wanted: all by default); one sentence naming the variable
    and what goes in it when a wanted one is missing."""
    folders = dict(zip(names, os.environ.get(variable, "").split(":")))
    if any(not folders.get(name) for name in wanted or names):
        spelled = ":".join(f"{name.upper()}_RUN" for name in names)
        raise SystemExit(f"{picture}: set {variable}={spelled} ({what})")
    return {name: Path(folder) for name, folder in folders.items() if folder}


MODEL_RUNS = "LIVEGAN_MODEL_RUNS"  # the bundled models' run folders, default:paintings


def training_strip(model: str, out: Path) -> Path:
    """Four fixed seeds of a bundled model across its training, from its run's grids."""
    from livegan.train.timelapse import frames_strip

    runs = run_folders(f"{model}_training_strip", MODEL_RUNS, ("default", "paintings"),
                       "the `livegan train --out` folders of the bundled models", (model,))
    return frames_strip(runs[model], out / f"{model}_training_strip.png")


DISTIL_STUDENT = "teacher64-fast"  # a student of `livegan distil`, in a models folder


def distil_pair(out: Path) -> Path:
    """16 held-out latents drawn by a distilled student's teacher (left) and by the student
    (right), twice the size: the teacher is the file the student's metadata names."""
    from livegan.distil.agreement import draw, held_out_latents, side_by_side
    from livegan.distil.teacher import open_teacher
    from livegan.library import open_model

    student = open_model(DISTIL_STUDENT)
    was = student.info.training["distilled_from"]
    teacher = open_teacher(was["path"], was["truncation"])
    z = held_out_latents(student.info.z_dim, 16)
    target = side_by_side(draw(teacher.generator, z), draw(student.generator, z),
                          out / "distil_pair.png")
    image = Image.open(target)
    image.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST).save(target)
    return target


EXPECT_RUNS = "LIVEGAN_EXPECT_RUNS"  # the quality bench --out folders, photos:glyphs


def train_expect(out: Path) -> Path:
    """The README's "what to expect" sheet from two quality bench runs (photographs, then
    glyphs; `--minutes 15,30,60`), their folders in $LIVEGAN_EXPECT_RUNS as PHOTOS:GLYPHS."""
    from expect_grids import sheet

    runs = run_folders("train_expect", EXPECT_RUNS, ("photos", "glyphs"),
                       "the bench-* folders that `livegan bench --quality --sets "
                       "photos|glyphs --minutes 15,30,60` writes")
    return sheet(list(runs.values()), out / "train_expect.jpg")


SUFFIX = {"train_expect": ".jpg"}  # photographs: a JPEG a fifth the size of the PNG
PICTURES = {
    "window": window,
    "default_grid": lambda out: grid("default", out),
    "paintings_grid": lambda out: grid("paintings", out),
    "bend_strip": bends,
    "interpolation_strip": interpolation,
    "default_training_strip": lambda out: training_strip("default", out),
    "paintings_training_strip": lambda out: training_strip("paintings", out),
    "control_page": control_page,  # makes control_page_phone.png too
    "control_page_phone": lambda out: out / "control_page_phone.png",
    "distil_pair": distil_pair,
    "train_expect": train_expect,
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="docs", help="folder to write the pictures into")
    p.add_argument("--only", default=",".join(PICTURES),
                   help=f"pictures to make (default all: {','.join(PICTURES)})")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.only.split(","):
        print(PICTURES[name.strip()](out))


if __name__ == "__main__":
    main()
