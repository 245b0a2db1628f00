"""Soak test: a headless show for N minutes under random OSC and MIDI, sampled every 10 s.

A real `livegan` show (SDL dummy driver) plays while another process sends random OSC to
it (mostly well-formed messages, a share of malformed and hostile ones), a fake MIDI
controller sends knob, fader and pad messages and is unplugged and plugged back in every
minute, the model is hot-swapped every two minutes and a short recording is made every
five. Every `--every` seconds a row goes to the CSV: frame rate, resident memory, render
errors, OSC datagrams and drops, MIDI messages, threads and open files.

    SDL_VIDEODRIVER=dummy python scripts/soak.py --minutes 30 --model default
    python scripts/soak.py --minutes 5 --model tiny.safetensors --csv soak.csv

Not run in CI. The summary at the end gives fps (min/median), memory (start/end/max),
errors and drops; exit status 1 if the show stopped, a render error or a handler error
occurred, or memory grew by more than --max-growth MB after the warm-up (--warmup minutes;
the whole run when it is shorter), or, with --max-growth-per-hour, its trend after the
warm-up (a least-squares line through the samples) rose faster than that.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import mido
import pygame

from livegan.bench.flood import rss_mb
from livegan.control.midi import ports as midi_module
from livegan.control.osc.config import OscConfig
from livegan.control.osc.sender import OscSender
from livegan.modelfile import find_model
from livegan.patchfile.load import load_patch
from livegan.perform import Performance
from livegan.performconfig import PerformConfig
from livegan.show.outputs import OutputsConfig
from livegan.show.window import WindowConfig

DEVICE = "nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0"
PATCH = """
[midi]
input = "nanoKONTROL2"
virtual = false

[[map]]
midi = { cc = 0 }
to = "speed"
range = [0.0, 0.6]

[[map]]
midi = { cc = 16 }
to = "truncation"
range = [0.3, 1.2]
pickup = true

[[map]]
midi = { cc = 1 }
to = "dir[0]"
range = [-3.0, 3.0]
smooth = 0.2

[[map]]
midi = { note = 36 }
to = "scene"
value = "calm"

[[map]]
midi = { note = 37 }
to = "scene"
value = "wild"

[[map]]
osc = "/wek/outputs"
to = "dir"
in = [0.0, 1.0]
range = [-3.0, 3.0]
smooth = 0.1

[scenes.calm]
speed = 0.05
truncation = 0.6
seed = 7

[scenes.wild]
speed = 0.5
truncation = 1.0
glide = 1.0
"""
COLUMNS = ["t_s", "frames", "fps", "rss_mb", "render_errors", "osc_datagrams", "osc_dropped",
           "midi_messages", "midi_ports", "model", "threads", "open_files"]
HOSTILE = Path(__file__).resolve().parent.parent / "tests" / "hostile.py"  # its sender


class FakeController:
    """A MIDI controller behind the real MidiInputs code: it sends random knob, fader and
    pad messages from its own thread and is unplugged and plugged in again on a timer."""

    def __init__(self, rate: float, replug_every: float, seed: int = 0) -> None:
        self.rate, self.replug_every = rate, replug_every
        self.rng = random.Random(seed)
        self.names = [DEVICE]
        self.callbacks: dict[str, object] = {}
        self.sent = self.replugs = 0
        self.stopping = threading.Event()

    def list(self) -> list[str]:
        return list(self.names)

    def open(self, name: str, callback, virtual: bool = False):
        self.callbacks[name] = callback
        return mido.ports.BaseInput(name)

    def message(self) -> mido.Message:
        rng = self.rng
        kind = rng.random()
        if kind < 0.7:
            return mido.Message("control_change", control=rng.choice([0, 1, 16, 17]),
                                value=rng.randrange(128))
        if kind < 0.9:
            return mido.Message("note_on", note=rng.choice([36, 37, 38]), velocity=100)
        return mido.Message("pitchwheel", pitch=rng.randrange(-8192, 8192))

    def run(self) -> None:
        next_replug = time.monotonic() + self.replug_every
        while not self.stopping.wait(1.0 / self.rate):
            if time.monotonic() >= next_replug:  # unplug for a moment, back on a new number
                self.names = []
                self.stopping.wait(3.0)
                self.names = [DEVICE.replace("20:0", f"{20 + self.replugs % 8}:0")]
                self.replugs += 1
                next_replug = time.monotonic() + self.replug_every
            for name in self.names:
                callback = self.callbacks.get(name)
                if callback is not None:
                    callback(self.message())
                    self.sent += 1


def open_files() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


class Soak:
    """Runs the show and everything around it; `rows` holds the samples."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        models = work / "models"
        models.mkdir()
        source = find_model(args.model).resolve()
        for name in ("soak-a", "soak-b"):  # one model under two names: a real swap each time
            (models / f"{name}.safetensors").symlink_to(source)
        os.environ["LIVEGAN_MODELS"] = str(models)
        (work / "soak.toml").write_text(PATCH)
        self.midi = FakeController(args.midi_rate, 60.0)
        midi_module.input_names = self.midi.list  # the MIDI backend is the fake controller
        midi_module.open_port = self.midi.open
        self.show = Performance(PerformConfig(
            model="soak-a", backend=args.backend, osc=OscConfig(port=0), frames=None,
            window=WindowConfig(size=(256, 256), hud=True, max_fps=args.max_fps),
            outputs=OutputsConfig(out_dir=str(work / "out")),
            patch=load_patch(work / "soak.toml")))
        self.show.inputs.midi.rescan = 0.5
        self.rows: list[dict] = []
        self.sender: subprocess.Popen | None = None
        self.failure: BaseException | None = None
        self.swaps = self.recordings = 0

    def run(self) -> None:
        threading.Thread(target=self.midi.run, daemon=True, name="soak-midi").start()
        threading.Thread(target=self._conduct, daemon=True, name="soak-conductor").start()
        try:
            self.show.run()
        finally:
            self.midi.stopping.set()
            if self.sender is not None and self.sender.poll() is None:
                self.sender.kill()

    def _conduct(self) -> None:
        try:
            self._sample_loop()
        except BaseException as exc:  # noqa: BLE001 - reported by main()
            self.failure = exc
        finally:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    def _sample_loop(self) -> None:
        show, args = self.show, self.args
        while not show.osc.running:
            time.sleep(0.05)
        seconds = args.minutes * 60
        self.sender = subprocess.Popen(
            [sys.executable, str(HOSTILE), "--kind", "hostile",
             "--port", str(show.osc.port), "--rate", str(args.osc_rate),
             "--seconds", str(seconds + 60), "--seed", str(args.seed)],
            stdout=subprocess.DEVNULL)
        control = OscSender("127.0.0.1", show.osc.port)
        start = last_t = time.monotonic()
        last_frames = show.shown
        next_swap, next_record = start + 120, start + 300
        stops: list[threading.Timer] = []  # each recording's stop, 10 s after its start
        while (now := time.monotonic()) - start < seconds:
            time.sleep(min(args.every, max(0.0, start + seconds - now)))
            now = time.monotonic()
            if now >= next_swap:
                self.swaps += 1
                control.send("/livegan/model", "soak-b" if self.swaps % 2 else "soak-a")
                next_swap += 120
            if now >= next_record:
                self.recordings += 1
                control.send("/livegan/record", 1)
                stops.append(threading.Timer(10.0, control.send, ("/livegan/record", 0)))
                stops[-1].start()
                next_record += 300
            frames = show.shown
            self._sample(now - start, frames, (frames - last_frames) / (now - last_t))
            last_t, last_frames = now, frames
            if show.stage.rendered == 0 or not show.render.is_alive():
                raise RuntimeError("the render thread stopped")
        for stop in stops:  # a recording started in the last 10 s stops now, before the
            stop.cancel()   # socket closes (its timer would send on a closed socket)
        control.send("/livegan/record", 0)
        control.close()

    def _sample(self, t: float, frames: int, fps: float) -> None:
        show = self.show
        row = {"t_s": round(t, 1), "frames": frames, "fps": round(fps, 1),
               "rss_mb": round(rss_mb(), 1), "render_errors": show.stage.errors,
               "osc_datagrams": show.osc.stats()["datagrams"], "osc_dropped": show.dropped(),
               "midi_messages": show.inputs.midi.received,
               "midi_ports": len(show.inputs.midi.ports), "model": show.engine.info.name,
               "threads": threading.active_count(), "open_files": open_files()}
        self.rows.append(row)
        with open(self.args.csv, "a", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS)
            if len(self.rows) == 1:
                writer.writeheader()
            writer.writerow(row)
        print("  ".join(f"{k} {row[k]}" for k in ("t_s", "fps", "rss_mb", "render_errors",
                                                   "osc_datagrams", "osc_dropped",
                                                   "midi_messages", "midi_ports")), flush=True)


def summary(soak: Soak) -> tuple[str, bool]:
    rows, args = soak.rows, soak.args
    if not rows:
        return "no samples taken", False
    fps = [r["fps"] for r in rows]
    rss = [r["rss_mb"] for r in rows]
    stats = soak.show.osc.stats()
    growth = rss[-1] - rss[0]
    warm = [r for r in rows if r["t_s"] >= args.warmup * 60] or rows
    warm_growth = warm[-1]["rss_mb"] - warm[0]["rss_mb"]
    per_hour = (statistics.linear_regression([r["t_s"] for r in warm],
                                             [r["rss_mb"] for r in warm]).slope * 3600
                if len(warm) > 2 else 0.0)
    ok = (soak.failure is None and rows[-1]["render_errors"] == 0
          and stats["handler_error"] == 0 and warm_growth <= args.max_growth
          and (args.max_growth_per_hour is None or per_hour <= args.max_growth_per_hour))
    soak_engine = soak.show.engine
    lines = [
        (f"soak: {args.minutes:g} min, {len(rows)} samples every {args.every:g} s, model "
         f"{soak_engine.info.name} on {soak_engine.backend.describe()}"),
        (f"  fps      min {min(fps):.1f}  median {statistics.median(fps):.1f}  "
         f"max {max(fps):.1f}  ({rows[-1]['frames']} frames)"),
        (f"  memory   start {rss[0]:.1f} MB  end {rss[-1]:.1f} MB  max {max(rss):.1f} MB  "
         f"(growth {growth:+.1f} MB)"),
        (f"  after warm-up ({warm[0]['t_s']:.0f} s on)  {warm_growth:+.1f} MB, trend "
         f"{per_hour:+.2f} MB/hour"),
        (f"  errors   render {rows[-1]['render_errors']}  OSC handler "
         f"{stats['handler_error']}  {'stopped: ' + str(soak.failure) if soak.failure else ''}"),
        (f"  OSC      {stats['datagrams']} datagrams, {stats['coalesced']} superseded by a "
         f"newer value, {rows[-1]['osc_dropped']} dropped "
         f"(malformed {stats['malformed']}, NaN/inf {stats['nonfinite']}, too deep "
         f"{stats['too_deep']}, unknown/bad args {soak.show.inputs.dispatcher.dropped()})"),
        (f"  MIDI     {soak.midi.sent} sent, {rows[-1]['midi_messages']} received, "
         f"{soak.midi.replugs} unplug/replug"),
        (f"  swaps    {soak.swaps} model swaps ({soak.show.stage.crossfade.fades} "
         f"crossfades), {soak.recordings} recordings, threads {rows[-1]['threads']}, open "
         f"files {rows[-1]['open_files']}"),
        f"  csv      {args.csv}",
        "  PASS" if ok else "  FAIL",
    ]
    text = "\n".join(lines)
    return text, ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--model", default="default", help="model name or path")
    p.add_argument("--backend", default="auto")
    p.add_argument("--max-fps", type=float, default=None,
                   help="cap the frame rate as an installation would (default: uncapped)")
    p.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--osc-rate", type=float, default=500.0, help="OSC datagrams per second")
    p.add_argument("--midi-rate", type=float, default=100.0, help="MIDI messages per second")
    p.add_argument("--csv", default="soak.csv", help="where the samples go")
    p.add_argument("--max-growth", type=float, default=50.0,
                   help="MB of memory growth after the warm-up that still passes")
    p.add_argument("--max-growth-per-hour", type=float, default=None,
                   help="MB/hour of memory trend after the warm-up that still passes")
    p.add_argument("--warmup", type=float, default=10.0,
                   help="minutes of warm-up left out of the memory figures")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    Path(args.csv).unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix="livegan-soak-"))
    try:
        soak = Soak(args, work)
        soak.run()
        text, ok = summary(soak)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
