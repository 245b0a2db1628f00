"""`livegan bench`'s flags: the show's figures and every mode's (livegan.bench.MODES)."""

from __future__ import annotations

import argparse

from livegan.argtypes import canvas, positive, recipe
from livegan.engine import BACKENDS
from livegan.show.snapshot import DEFAULT_OUT_DIR

CANVAS_WINDOW = (1280, 720)  # the window of the canvas runs (16:9, as a projector)


def add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure frames per second against the naive loop")
    p.add_argument("--model", default="default")
    p.add_argument("--backend", default=BACKENDS[0], choices=BACKENDS)
    p.add_argument("--frames", type=positive, default=300)
    p.add_argument("--max-res", type=positive, default=0, metavar="R",
                   help="a StyleGAN2 skip model renders only up to its RxR block")
    p.add_argument("--stops", action="store_true",
                   help="time every --max-res stop of a StyleGAN2 skip model (64 up to its "
                        "size) in one process: fps, and each stop's share of the work and time")
    p.add_argument("--canvas", type=canvas, default="off", metavar="auto|WxH",
                   help="also time a live canvas (auto: 16:9 at about the model's height) in a "
                        "{}x{} window".format(*CANVAS_WINDOW))
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--contended", action="store_true",
                   help="take every figure while a CPU-bound process (numpy matmuls, 1 thread, "
                        "same priority) runs beside the show; it is stopped afterwards")
    p.add_argument("--train", action="store_true",
                   help="measure training steps/s and images/s instead (fixed small config)")
    p.add_argument("--flood", action="store_true",
                   help="measure a headless show idle and flooded with OSC from another "
                        "process (alternating seconds): frame rates, messages, memory")
    p.add_argument("--bend", action="store_true",
                   help="measure what network bending costs: generator frame rates with a "
                        "set of bends (every op once) on and off")
    p.add_argument("--web", action="store_true",
                   help="measure the control page: page slider -> frame latency, and a "
                        "show's frame rate with a page open and with 100 pages connected "
                        "while one floods")
    p.add_argument("--audio", action="store_true",
                   help="measure the latency from a sound (a click in a sound file played "
                        "into a headless show) to the first frame it shaped")
    p.add_argument("--distil", action="store_true",
                   help="how close a student of `livegan distil` (--model) draws its teacher on "
                        "held-out latents: PSNR, KID beside a blurred copy's, per CPU-minute, "
                        "and both frame rates")
    p.add_argument("--teacher", default=None, metavar="MODEL",
                   help="--distil: the teacher (default: the file the student names)")
    p.add_argument("--pairs", type=positive, default=256, metavar="N",
                   help="--distil: held-out latents judged (default 256)")
    p.add_argument("--flood-rate", type=float, default=10_000.0, metavar="MSG_PER_S",
                   help="--flood: messages per second")
    p.add_argument("--flood-seconds", type=float, default=10.0, metavar="S",
                   help="--flood: seconds of flood (as many idle seconds alternate)")
    p.add_argument("--res", default=None, metavar="R,R,...",
                   help="also time the model's architecture at these resolutions, e.g. "
                        "64,128,256,512 (random weights: speed only); with --quality: "
                        "the training resolution (default 64)")
    _add_quality(p)


def _add_quality(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quality", action="store_true",
                   help="train on a fixed data set for CPU-minute budgets and report FID, KID, "
                        "precision and recall on InceptionV3 features (pip install "
                        "'livegan[quality]')")
    p.add_argument("--minutes", default=None, metavar="M,M,...",
                   help="--quality: CPU-minute budgets (default 5,15,30,60)")
    p.add_argument("--data", default=None, metavar="FOLDER", help="--quality: image folder, "
                   "split into training and held-out images (default: livegan data synth)")
    p.add_argument("--sets", default=None, metavar="SET,...",
                   help="--quality: data sets, one run each and their mean: synth (default), "
                        "photos (scikit-image's sample photographs), glyphs (letters from "
                        "matplotlib's fonts), or all")
    p.add_argument("--images", type=positive, default=None, metavar="N",
                   help="--quality: training images of the bench's sets (default 2000); e.g. "
                        "400 to see how a recipe does on an artist-sized set (not with --data)")
    p.add_argument("--recipe", type=recipe, default="default",
                   help="--quality: training recipe")
    p.add_argument("--set", action="append", default=[], dest="settings", metavar="KEY=VALUE",
                   help="--quality: a training setting over the recipe, e.g. --set lr=2e-4")
    p.add_argument("--seed", type=int, default=0, help="--quality: training seed")
    p.add_argument("--samples", type=positive, default=1000,
                   help="--quality: samples judged per budget, and held-out images")
    p.add_argument("--out", default=f"{DEFAULT_OUT_DIR}/quality-bench",
                   help="--quality: folder for the data cache, grids and results")
    p.add_argument("--no-progress", action="store_true", help="--quality: no progress bars")
