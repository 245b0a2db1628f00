"""The `livegan` command: parse flags, build a config, call the library. Nothing else."""

from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from livegan.argtypes import (
    arch,
    bend,
    canvas,
    grid,
    port,
    positive,
    positive_float,
    recipe,
    seeds,
    size,
)
from livegan.bench.flags import add_bench
from livegan.control.osc.server import DEFAULT_PORT
from livegan.distil.flags import add_distil
from livegan.engine import BACKENDS
from livegan.errors import LiveganError
from livegan.show.snapshot import DEFAULT_OUT_DIR
from livegan.show.videofile import VIDEO_FPS
from livegan.show.window import WindowConfig

WINDOW_SIZE = WindowConfig.size  # the window's default, for the help text

log = logging.getLogger("livegan")

EPILOG = """examples:
  livegan perform                         window with the bundled model, OSC on 127.0.0.1:12000
  SDL_VIDEODRIVER=dummy livegan perform --frames 300    headless, quits after 300 frames
  livegan data synth data/synth --count 2000 --res 128
  livegan train data/synth --out runs/mine --steps 8000
  livegan export runs/mine --out models/mine.safetensors
  livegan bench --json
  livegan perform --record show.mp4       record into ./livegan-out (plus a control log)
  livegan render default loop.mp4 --seeds 1,2,3 --seconds 12
  livegan render default wide.png --canvas 1920x1080
  livegan import ffhq.pkl                 a StyleGAN2/3 .pkl becomes models/ffhq.safetensors
  livegan perform --model ffhq.pkl        (or play it directly: imported once, then cached)
  livegan distil ffhq.pkl --out faces-fast --minutes 120    a StyleGAN at livegan's speed
"""


def _add_perform(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("perform", help="open a window and play a model live, steered by OSC",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("patch", nargs="?", help="patch file (TOML) with model, mappings, scenes")
    p.add_argument("--model", default=None, help="model name from the model folders, or a path "
                   "(default: the patch's model, else the bundled 'default'); a StyleGAN2/3 "
                   ".pkl or another program's .pt is imported once into ./models")
    p.add_argument("--space", choices=("z", "w"), default=argparse.SUPPRESS,
                   help="a StyleGAN model's latent: z (its seeds, as the original code's) or "
                        "w (walks, glides and directions in its style space)")
    p.add_argument("--max-res", type=positive, default=argparse.SUPPRESS, metavar="R",
                   help="a StyleGAN2 model with skip outputs renders only up to its RxR block "
                        "(R a power of two; the window scales it up): a 1024 model at "
                        "--max-res 256 skips its two finest blocks, about 60 %% of its "
                        "frame's time on a CPU")
    p.add_argument("--backend", default=argparse.SUPPRESS, choices=BACKENDS,
                   help="engine (default: the patch's, else auto)")
    p.add_argument("--osc-port", type=port, default=argparse.SUPPRESS,
                   help=f"UDP port for OSC input (default: the patch's, else {DEFAULT_PORT})")
    p.add_argument("--host", default=argparse.SUPPRESS, help="address OSC listens on (default: the "
                   "patch's, else 127.0.0.1); 0.0.0.0 lets other machines steer the show")
    p.add_argument("--midi", action="append", default=argparse.SUPPRESS, metavar="NAME",
                   help="open MIDI inputs whose name contains NAME (repeatable; replaces the "
                        "patch's [midi] input)")
    p.add_argument("--oscquery-port", type=port, default=argparse.SUPPRESS, metavar="PORT",
                   help="TCP port of the OSCQuery server (default: the patch's, else the OSC "
                        "port + 1)")
    p.add_argument("--no-oscquery", action="store_true",
                   help="do not serve the namespace over OSCQuery (HTTP)")
    p.add_argument("--no-web", action="store_true",
                   help="do not serve the control page (OSCQuery stays)")
    p.add_argument("--web-port", type=port, default=None, metavar="PORT",
                   help="serve the control page on its own TCP port (default: the OSCQuery "
                        "port, at /ui/)")
    p.add_argument("--web-host", default=None, metavar="ADDRESS",
                   help="address the control page listens on (default: the OSC host); "
                        "0.0.0.0 lets phones and tablets open it, each after typing the "
                        "pairing code the show prints")
    p.add_argument("--open", action="store_true",
                   help="open the control page in the default browser")
    p.add_argument("--link", action="store_true",
                   help="join an Ableton Link session: tempo and beat shared with other apps "
                        "(needs livegan[link]; also [tempo] link = true in the patch)")
    p.add_argument("--midi-file", default=argparse.SUPPRESS, metavar="FILE.mid",
                   help="play a MIDI file as input (rehearsal, sequenced shows)")
    p.add_argument("--midi-loop", action="store_true", help="loop the --midi-file")
    p.add_argument("--audio", nargs="?", const="", default=argparse.SUPPRESS, metavar="DEVICE",
                   help="sound in from a sound card: name part or index (no value: the default "
                        "input; needs livegan[audio]); replaces the patch's [audio] (default: "
                        "the patch's, else no sound)")
    p.add_argument("--audio-file", default=argparse.SUPPRESS, metavar="FILE.wav",
                   help="play a sound file as sound in, in real time (WAV; FLAC with "
                        "livegan[audio]); replaces the patch's [audio]")
    p.add_argument("--audio-loop", action="store_true", help="loop the --audio-file")
    p.add_argument("--size", type=size, default=argparse.SUPPRESS,
                   help="window size WxH (default: the patch's, else {}x{})".format(*WINDOW_SIZE))
    p.add_argument("--canvas", type=canvas, default=argparse.SUPPRESS, metavar="auto|WxH|off",
                   help="frames of the window's shape: auto (its aspect at about the model's "
                        "height), WxH, or off (square, letterboxed; the default unless the "
                        "patch's [window] canvas says otherwise)")
    p.add_argument("--fullscreen", action="store_true", help="borderless fullscreen")
    p.add_argument("--display", type=int, default=argparse.SUPPRESS,
                   help="monitor index (default: the patch's, else 0)")
    p.add_argument("--vsync", action="store_true", help="sync to the monitor's refresh")
    p.add_argument("--max-fps", type=positive_float, default=argparse.SUPPRESS, metavar="FPS",
                   help="render no faster than FPS (default: the patch's, else as fast as "
                        "the machine goes); an installation at 60 leaves the CPU cool")
    p.add_argument("--kiosk", action="store_true", help="installations: fullscreen, quit keys "
                   "off, a stopped render restarts, a stalled one exits for its service")
    p.add_argument("--out-dir", default=DEFAULT_OUT_DIR,
                   help="folder for recordings, control logs and snapshots (nothing else written)")
    p.add_argument("--record", nargs="?", const="", default=None, metavar="NAME.mp4",
                   help="record from the start: a name goes in the output folder, a path "
                        "(~/show.mp4) where it says (no name: timestamped)")
    p.add_argument("--record-fps", type=positive, default=VIDEO_FPS,
                   help="frame rate of recordings")
    p.add_argument("--ndi", default=None, metavar="NAME", help="send frames as an NDI source")
    p.add_argument("--vcam", action="store_true", help="send frames to a virtual webcam")
    p.add_argument("--syphon", nargs="?", const="livegan", default=None, metavar="NAME",
                   help="publish frames as a Syphon server (macOS; default name: livegan)")
    p.add_argument("--spout", nargs="?", const="livegan", default=None, metavar="NAME",
                   help="send frames as a Spout sender (Windows; default name: livegan)")
    p.add_argument("--feedback", default=None, metavar="HOST:PORT",
                   help="send telemetry (fps, frame, heartbeat, model, errors, sound) over OSC")
    p.add_argument("--hud", action="store_true", help="show the on-screen display at start (H)")
    p.add_argument("--nearest", action="store_true",
                   help="scale the picture with crisp square pixels instead of smoothly")
    p.add_argument("--frames", type=positive, default=None, help="quit after N frames")
    p.add_argument("--seed", type=int, default=argparse.SUPPRESS, help="seed of the latent walk (default: "
                   "the patch's [motion] seed, else 0)")


# what --help says of a training flag whose default comes from the recipe
_RECIPE_SAYS = "(default: the --recipe's)"


def _add_train(sub: argparse._SubParsersAction) -> None:
    from livegan.train.loop import TrainConfig
    from livegan.train.recipes import RECIPES

    d = TrainConfig
    p = sub.add_parser("train", help="train a model on a folder of images",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("data", help="folder of images (see `livegan data prepare`)")
    p.add_argument("--out", required=True, default=argparse.SUPPRESS,
                   help="run folder: checkpoints, samples, metrics")
    p.add_argument("--arch", type=arch, default=argparse.SUPPRESS,
                   help=f"generator architecture: lite, fastgan or dcgan {_RECIPE_SAYS}")
    p.add_argument("--res", type=int, default=d.res, help="resolution (power of two)")
    p.add_argument("--steps", type=positive, default=argparse.SUPPRESS,
                   help=f"total steps (default: {d.steps}; with --resume, the run's own)")
    p.add_argument("--batch", type=positive, default=argparse.SUPPRESS,
                   help=f"images per step {_RECIPE_SAYS}")
    p.add_argument("--lr", type=float, default=argparse.SUPPRESS,
                   help=f"generator learning rate (Adam) {_RECIPE_SAYS}")
    p.add_argument("--lr-d", type=float, default=argparse.SUPPRESS,
                   help=f"discriminator learning rate {_RECIPE_SAYS}")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed")
    p.add_argument("--ngf", type=positive, default=argparse.SUPPRESS,
                   help="generator width (0: by resolution, cheap enough to play live) "
                   f"{_RECIPE_SAYS}")
    p.add_argument("--ndf", type=positive, default=argparse.SUPPRESS,
                   help=f"discriminator width (0: the discriminator's own) {_RECIPE_SAYS}")
    p.add_argument("--g-options", default=argparse.SUPPRESS, metavar="NAME=VALUE,...",
                   help="more generator options, e.g. norm=pixel,noise=1 (fastgan: cap, norm, "
                   "double_up, noise, excite, shuffle; lite: cap, norm); added to the "
                   "recipe's (projected: norm=pixel), a name given here replacing the recipe's "
                   f"value {_RECIPE_SAYS}")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=argparse.SUPPRESS,
                   help=f"arithmetic: auto uses bf16 where this machine does it faster "
                   f"{_RECIPE_SAYS}")
    p.add_argument("--checkpoint-minutes", type=float, default=d.checkpoint_minutes,
                   help="also checkpoint after this many minutes of training (0 = off)")
    p.add_argument("--augment", default=argparse.SUPPRESS,
                   help=f"DiffAugment policy, e.g. color,translation,cutout, none, or auto "
                   f"(translation alone from 1,000 pictures, all three below) {_RECIPE_SAYS}")
    p.add_argument("--r1", type=float, default=argparse.SUPPRESS,
                   help=f"R1 penalty weight (0 = off) {_RECIPE_SAYS}")
    p.add_argument("--from", dest="start_from", default=argparse.SUPPRESS, metavar="MODEL",
                   help="start from a trained model (a name from `livegan models` or a "
                   ".safetensors file of a trainable arch at the same --res) instead of noise")
    p.add_argument("--mirror", choices=("on", "off", "auto"), default=argparse.SUPPRESS,
                   help="flip training pictures left-right at random: auto (the default) "
                   "does unless the pictures have a handedness, like letters or symbols")
    p.add_argument("--labels", action="store_true", help="conditional: subfolders are classes")
    p.add_argument("--sample-every", type=positive, default=d.sample_every)
    p.add_argument("--checkpoint-every", type=positive, default=d.checkpoint_every)
    p.add_argument("--keep", type=positive, default=d.keep, help="checkpoints kept")
    p.add_argument("--log-every", type=positive, default=d.log_every,
                   help="steps between rows of metrics.jsonl / metrics.csv")
    p.add_argument("--no-quality", action="store_true",
                   help="skip the quality figures computed at each sample grid")
    p.add_argument("--recipe", type=recipe, default="default", choices=sorted(RECIPES),
                   help="a named set of settings: default is projected where the quality "
                   "extra is installed (else the first trainer's, v1); flags you give win "
                   "over it")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any training setting, e.g. --set d_arch=residual --set recon=0")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="offline: seed loops, grids, large canvases, replays",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("model", nargs="?", help="model name or path (not needed with --replay "
                   "or --timelapse)")
    p.add_argument("out", help="out.mp4 / .mov / .mkv / .gif, a folder for PNG frames, "
                   "or out.png for a still or a --grid")
    p.add_argument("--seconds", type=float, default=8.0, help="length of a seed loop")
    p.add_argument("--fps", type=positive, default=None, help="frames per second "
                   "(default 30; a replay: the recording's; a timelapse: 10)")
    p.add_argument("--seeds", type=seeds, default=None, help="seeds to loop through or tile, "
                   "e.g. 1,2,3 or 1-8 (default 1,2,3,4; a grid counts up from 1)")
    p.add_argument("--grid", type=grid, default=None, metavar="RxC", help="grid of samples")
    p.add_argument("--canvas", type=size, default=None, metavar="WxH",
                   help="grow a picture larger than the model was trained on")
    p.add_argument("--upscale", type=positive, default=1, metavar="K",
                   help="resample each frame K times larger (Lanczos)")
    p.add_argument("--size", type=size, default=None, metavar="WxH",
                   help="final frame size (resized to cover, centre-cropped)")
    p.add_argument("--truncation", type=float, default=1.0, help="truncation (1 = as trained; "
                   "lower is closer to the average picture)")
    p.add_argument("--space", choices=("z", "w"), default="z",
                   help="a StyleGAN model's latent: z (its seeds, as the original code's) or "
                        "w (walks, glides and directions in its style space)")
    p.add_argument("--max-res", type=positive, default=0, metavar="R",
                   help="a StyleGAN2 model with skip outputs renders only up to its RxR block "
                        "(R a power of two; the window scales it up): a 1024 model at "
                        "--max-res 256 costs about a sixteenth of its full frame")
    p.add_argument("--label", type=int, default=0, help="class of a conditional model")
    p.add_argument("--ease", default="smooth", choices=["smooth", "linear"],
                   help="smooth rests on each seed, linear moves at constant speed")
    p.add_argument("--replay", default=None, metavar="LOG",
                   help="re-render a recording's .controls.jsonl")
    p.add_argument("--timelapse", default=None, metavar="RUN",
                   help="video of a training run's sample grids")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--bend", type=bend, action="append", default=[], metavar="LAYER/OP=A[,B]",
                   help="bend a layer's feature maps in every frame, as /livegan/bend does, "
                        "e.g. 16/rotate=45 or 8/translate=0.25,0 (repeat for more)")


def _add_misc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a training run's generator as a model file")
    p.add_argument("run", help="run folder from `livegan train`")
    p.add_argument("--out", required=True, help="model file, e.g. models/mine.safetensors")
    p.add_argument("--name", default=None, help="model name (default: the file name)")
    p.add_argument("--directions", type=int, default=16, help="directions to find (0 = none)")

    p = sub.add_parser("data", help="prepare an image folder, or synthesize one")
    dsub = p.add_subparsers(dest="data_cmd", required=True)
    q = dsub.add_parser(
        "prepare", help="clean, crop and resize a folder of images",
        description="Copy a folder of pictures (any size; jpg, png, webp, bmp; subfolders kept as "
                    "labels) into square PNGs ready for `livegan train`. Unreadable, too small "
                    "and duplicate files are skipped with a reason.",
        epilog="example: livegan data prepare ~/Pictures/set data/set --res 256 --mirror")
    q.add_argument("src", help="folder of your pictures (read only, never changed)")
    q.add_argument("out", help="folder to write the prepared PNGs to")
    q.add_argument("--res", type=int, required=True,
                   help="side of the square images in pixels: the resolution you will train at "
                        "(a power of two: 64, 128, 256, ...)")
    q.add_argument("--mirror", action="store_true",
                   help="also write a mirrored copy of each picture (name_mirror.png)")
    q.add_argument("--crop", default="center", choices=["center", "random", "pad"],
                   help="how a non-square picture becomes square (default: center)")
    q = dsub.add_parser(
        "synth", help="make a procedural abstract-art data set",
        description="Draw a data set of abstract pictures (nothing downloaded): to try "
                    "training before you have your own images, and the quality bench's data.",
        epilog="example: livegan data synth data/synth --count 2000 --res 128 --style marbling")
    q.add_argument("out", help="folder to write synth_00000.png, synth_00001.png, ... to")
    q.add_argument("--count", type=positive, default=2000, help="images (default: 2000)")
    q.add_argument("--res", type=int, default=128, help="side in pixels (default: 128)")
    q.add_argument("--seed", type=int, default=0,
                   help="the same seed draws the same pictures (default: 0)")
    q.add_argument("--style", default="paintings",
                   help="look of the images: paintings or marbling (default: paintings)")

    add_bench(sub)

    _add_import(sub)
    sub.add_parser("models", help="list installed models")
    p = sub.add_parser("osc", help="print the OSC namespace, and a patch's mappings")
    p.add_argument("patch", nargs="?", help="patch file (TOML) whose mappings to list")

    p = sub.add_parser("midi", help="list MIDI ports; `livegan midi learn` builds mappings")
    p.add_argument("action", nargs="?", default="list", choices=["list", "learn"])
    p.add_argument("--out", default=None, metavar="FILE.toml",
                   help="learn: write the [[map]] entries to this patch file as they come")
    p.add_argument("--port", action="append", default=None, metavar="NAME",
                   help="learn: inputs whose name contains NAME (default: every input)")


IMPORT_EPILOG = """files livegan imports (recognised by their content, not their name):
  NVIDIA StyleGAN2-ADA and StyleGAN3 network pickles   network-snapshot-*.pkl, ffhq.pkl ...
  rosinality's stylegan2-pytorch checkpoints           550000.pt (g_ema is played)
  lucidrains' lightweight-gan checkpoints              models/NAME/model_N.pt
  lucidrains' stylegan2-pytorch checkpoints            models/NAME/model_N.pt
Pickles are read by a restricted reader that knows only these files' classes and tensors:
no code from the file ever runs. The model file keeps the resolution, z and w sizes, the
average w (truncation), a conditional model's labels, and where it came from, and gets
SeFa and GANSpace directions (/livegan/dir/sefa0 ..., /livegan/dir/pca0 ...).

examples:
  livegan import ffhq.pkl                     -> models/ffhq.safetensors
  livegan import network-snapshot-000400.pkl --out portraits
  livegan perform --model ffhq.pkl            import on the fly (once), then play
  livegan perform --model ffhq.pkl --max-res 256   a 1024 model rendered to its 256 block
"""


def _add_import(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="turn a StyleGAN2/3 .pkl or another program's checkpoint "
                       "into a livegan model", epilog=IMPORT_EPILOG,
                       description="Import a generator made by another program into a livegan "
                                   "model file in ./models (or $LIVEGAN_MODELS).",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="the .pkl or .pt to import")
    p.add_argument("--out", default=None, metavar="NAME",
                   help="model name (written to the models folder) or a path ending in "
                        ".safetensors (default: the file's name)")
    p.add_argument("--force", action="store_true", help="replace a model of the same name")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livegan", description="A GAN as a live instrument: play it, steer it, train it.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_perform(sub)
    _add_train(sub)
    _add_render(sub)
    _add_misc(sub)
    add_distil(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="livegan: %(message)s", stream=sys.stderr)
    from livegan import commands

    try:
        name = "import_" if args.command == "import" else args.command  # a Python keyword
        return getattr(commands, name)(args) or 0
    except LiveganError as exc:
        print(f"livegan: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
