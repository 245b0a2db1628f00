"""`livegan bench --audio`: the time from a sound to the first frame rendered from the state
it shaped, through a real headless show playing a click track as its sound input."""

from __future__ import annotations

import os
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np

from livegan.control.audio.files import BLOCK
from livegan.show.window import WindowConfig

RATE = 44100
CLICKS = 30  # clicks timed
EVERY = 0.5  # seconds between clicks (120 BPM)
LEAD = 1.0  # seconds of silence before the first click (the show settles)
WINDOW = WindowConfig().size  # the show's default window, as in `livegan bench`

# Each onset flips z[0]: one control write per click, so a frame's control-state version
# says how many clicks shaped it.
PATCH = '[[map]]\naudio = "onset"\nto = "z[0]"\npress = "toggle"\nrange = [-2.0, 2.0]\n'


def write_click_track(path: Path, clicks: int = CLICKS, every: float = EVERY,
                      lead: float = LEAD, rate: int = RATE) -> list[int]:
    """A 16-bit mono WAV of short noise clicks in silence; returns each click's first sample."""
    rng = np.random.default_rng(0)
    starts = [int((lead + k * every) * rate) for k in range(clicks)]
    x = np.zeros(starts[-1] + int(every * rate), dtype=np.float32)
    decay = np.hanning(600)[300:]
    for start in starts:
        x[start:start + 300] = 0.7 * decay * rng.standard_normal(300)
    write_wav(path, x, rate)
    return starts


def write_wav(path: Path, x: np.ndarray, rate: int = RATE) -> Path:
    """Writes mono samples in [-1, 1] as a 16-bit mono WAV; returns `path`."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return path


class ClickTimer:
    """Matches frames to clicks: the first frame whose control version counts k onset
    writes is the first one the k-th click shaped."""

    def __init__(self, show, starts: list[int]) -> None:
        self.show = show
        self.starts = starts
        # only the sound mapping writes controls once the show runs: the version before it
        # starts counts from zero onset writes
        self.base = show.controls.version
        self.latencies: list[float] = []  # ms, one per click matched
        self.unmatched = 0  # a click whose frame came later than the next click (missed)
        self.stamps: list[float] = []
        self._seen = 0

    def frame(self, frame) -> bool:
        """Take a shown frame; True once the click track is over."""
        now = time.perf_counter()
        self.stamps.append(now)
        player = self.show.inputs.sound.player
        if player.started_at is None:
            return False
        self._count(frame.version - self.base, now, player.started_at, player.samplerate)
        return player.done.is_set()

    def _count(self, writes: int, now: float, t0: float, rate: int) -> None:
        while self._seen < min(writes, len(self.starts)):
            sound_at = t0 + self.starts[self._seen] / rate
            latency = (now - sound_at) * 1000
            if latency < EVERY * 1000:
                self.latencies.append(latency)
            else:
                self.unmatched += 1
            self._seen += 1


def run_audio_bench(model: str = "default", backend: str = "auto",
                    clicks: int | None = None) -> dict:
    """Play a click track (CLICKS clicks unless told) into a headless show; latency
    percentiles and the frame rate."""
    clicks = clicks or CLICKS
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from livegan.control.osc.config import OscConfig
    from livegan.patchfile.load import parse_patch
    from livegan.perform import Performance
    from livegan.performconfig import PerformConfig
    from livegan.show.outputs import OutputsConfig

    with tempfile.TemporaryDirectory(prefix="livegan-audiobench-") as tmp:
        track = Path(tmp) / "clicks.wav"
        starts = write_click_track(track, clicks)
        show = Performance(PerformConfig(
            model=model, backend=backend, osc=OscConfig(port=0), window=WindowConfig(size=WINDOW),
            patch=parse_patch(PATCH), audio_file=str(track),
            outputs=OutputsConfig(out_dir=str(Path(tmp) / "out"))))
        timer = ClickTimer(show, starts)
        done = threading.Event()

        def on_frame(frame) -> None:
            if timer.frame(frame) and not done.is_set():
                done.set()
                pygame.event.post(pygame.event.Event(pygame.QUIT))

        show.on_frame = on_frame
        show.run()
        values = show.inputs.sound.values if show.inputs.sound is not None else None
    return _report(show, timer, clicks, values.onsets if values is not None else 0)


def _report(show, timer: ClickTimer, clicks: int, onsets: int) -> dict:
    warm = timer.stamps[min(10, len(timer.stamps) // 2):]  # past the first, slower frames
    fps = (len(warm) - 1) / (warm[-1] - warm[0]) if len(warm) > 1 else 0.0
    analyser = show.inputs.sound.analysis.analyser if show.inputs.sound else None
    lat = timer.latencies
    return {
        "mode": "audio", "model": show.engine.info.name, "backend": show.engine.backend.name,
        "device": show.engine.backend.describe(), "resolution": show.engine.resolution,
        "clicks": clicks, "onsets": onsets, "matched": len(lat), "unmatched": timer.unmatched,
        "audio_latency_ms": {"p50": _pct(lat, 50), "p99": _pct(lat, 99)},
        "end_to_end_fps": round(fps, 1),
        "frame_interval_ms": round(1000 / fps, 2) if fps else None,
        "block_ms": round(1000 * BLOCK / RATE, 2),
        "hop_ms": round(1000 * analyser.hop / analyser.samplerate, 2) if analyser else None,
    }


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def format_audio(result: dict) -> str:
    """The sound bench for humans."""
    lat = result["audio_latency_ms"]
    rows = [
        ("model", f"{result['model']} ({result['resolution']}px) on {result['device']}"),
        ("clicks", (f"{result['clicks']} played, {result['onsets']} onsets, "
                   f"{result['matched']} timed")),
        ("sound -> frame", (f"p50 {lat['p50']} ms, p99 {lat['p99']} ms (frame interval "
                           f"{result['frame_interval_ms']} ms, sound blocks "
                           f"{result['block_ms']} ms, analysis hop {result['hop_ms']} ms)")),
        ("end to end", f"{result['end_to_end_fps']} fps"),
    ]
    return "\n".join(f"{k:>14}  {v}" for k, v in rows)
