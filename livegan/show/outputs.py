"""A show's outputs besides the window: recording + control log, snapshots, video out, telemetry."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from livegan.errors import LiveganError
from livegan.show.controllog import ControlLog, ModelRef, log_path_for
from livegan.show.frames import Frame
from livegan.show.recorder import DEFAULT_FPS, Recorder
from livegan.show.snapshot import DEFAULT_OUT_DIR, OutputFolder, Snapshots
from livegan.show.telemetry import MessageSender, Telemetry
from livegan.show.videoout import VideoOut, open_video_outs

log = logging.getLogger(__name__)

RECORDING_KIND = "recording"
RECORDING_SUFFIX = ".mp4"


@dataclass(frozen=True)
class OutputsConfig:
    """Where a show writes and what it sends out."""

    out_dir: str = DEFAULT_OUT_DIR  # every file the show writes goes in here
    record: str | None = None  # record from the start to this name in out_dir ("" = generated)
    record_fps: int = DEFAULT_FPS  # frame rate of recordings
    ndi: str | None = None  # NDI source name, or None for no NDI
    vcam: bool = False  # send frames to a virtual webcam
    syphon: str | None = None  # Syphon server name (macOS), or None for no Syphon
    spout: str | None = None  # Spout sender name (Windows), or None for no Spout


class Recording:
    """One recording: the video and, next to it, the control log that can re-render it."""

    def __init__(self, path: Path, fps: int) -> None:
        self.recorder = Recorder(path, fps)
        self.log = ControlLog(log_path_for(path), fps, video=path.name)
        self.started = time.perf_counter()
        self.log.start(self.started)
        self.recorder.start(self.started)
        log.info("recording to %s (control log %s)", path, self.log.path.name)

    def stop(self) -> str:
        now = time.perf_counter()
        self.log.stop(now)
        return self.recorder.stop(now).summary()


class Outputs:
    """Feeds the outputs of a show; the show calls it from its main loop and render hook.

    Args:
        cfg: what to record, send and where to write.
        feedback: where telemetry goes (an OSC sender to `--feedback`), or None for none.

    Raises:
        LiveganError: a --record folder that cannot be created.
    """

    def __init__(self, cfg: OutputsConfig, feedback: MessageSender | None = None) -> None:
        self.cfg = cfg
        self.folder = OutputFolder(cfg.out_dir)
        self.snapshots = Snapshots(self.folder)
        self.telemetry = Telemetry(feedback) if feedback is not None else None
        self.video_outs: list[VideoOut] = []
        self.recording: Recording | None = None
        self.reports: list[str] = []  # summaries of finished recordings
        self._finishing: list[threading.Thread] = []  # recordings being closed
        self._last: Frame | None = None
        self._ref: tuple[Any, ModelRef] | None = None  # (engine, its ModelRef), render thread

    def start(self) -> None:
        """Open the video outs and start recording if asked (before the first frame)."""
        cfg = self.cfg
        self.video_outs = open_video_outs(cfg.ndi, cfg.vcam, cfg.record_fps, cfg.syphon,
                                          cfg.spout)
        if self.cfg.record is not None:
            self.set_recording(True, strict=True)

    def rendered(self, engine: Any, index: int, t: float, z: np.ndarray, label: int) -> None:
        """Render-thread hook: log the exact latent of each frame while recording."""
        recording = self.recording
        if recording is None:
            return
        ref = self._ref
        if ref is None or ref[0] is not engine:
            ref = (engine, ModelRef.of(engine))
            self._ref = ref
        recording.log.record(ref[1], index, t, z, label, getattr(engine, "bends", None),
                             engine.style_now if getattr(engine, "style", False) else None)

    def shown(self, frame: Frame) -> None:
        """A frame went on screen (main thread): pass it to every output."""
        self._last = frame
        if self.recording is not None:
            self.recording.recorder.add(frame.pixels, frame.rendered_at)
        for out in self.video_outs:
            out.send(frame.pixels)
        if self.telemetry is not None:
            self.telemetry.frame(frame.index)

    def tick(self, fps: float, model: str, render_errors: int = 0, last_error: str = "",
             dropped: int = 0) -> None:
        """Periodic work on the main thread (telemetry); call every loop, frame or not.
        `dropped` counts the input messages not acted on so far."""
        if self.telemetry is not None:
            self.telemetry.tick(time.perf_counter(), fps, model, render_errors, last_error,
                                dropped)

    def error(self, text: str) -> None:
        """Report an error to the telemetry receiver (any thread)."""
        if self.telemetry is not None:
            self.telemetry.error(text)

    def set_recording(self, on: bool, strict: bool = False) -> None:
        """Start or stop recording (/livegan/record 1|0, --record).

        With strict=False (OSC) a recording that cannot start is logged and reported; with
        strict=True (the command line) it raises LiveganError.
        """
        if not on:
            if self.recording is not None:
                recording, self.recording = self.recording, None
                # flushing the encoder takes a moment: never on the main thread mid-show
                finish = threading.Thread(target=lambda: self.reports.append(recording.stop()),
                                          name="livegan-record-finish")
                self._finishing = [t for t in self._finishing if t.is_alive()] + [finish]
                finish.start()
            return
        if self.recording is not None:
            log.info("already recording to %s", self.recording.recorder.path)
            return
        try:
            self.recording = Recording(self._recording_path(), self.cfg.record_fps)
        except LiveganError as exc:
            if strict:
                raise
            log.error("cannot start recording: %s", exc)
            self.error(f"record: {exc}")

    def _recording_path(self) -> Path:
        if self.cfg.record:  # typed by the operator: may name any folder (messages cannot)
            return self.folder.place(self.cfg.record)
        return self.folder.new_path(RECORDING_KIND, RECORDING_SUFFIX)

    def snapshot(self, window: np.ndarray | None = None) -> list[Path]:
        """Save the last frame (and the window's pixels, if given) as PNGs in the folder."""
        frame = self._last.pixels if self._last is not None else None
        try:
            return self.snapshots.take(frame, window)
        except LiveganError as exc:
            log.error("snapshot failed: %s", exc)
            self.error(f"snapshot: {exc}")
            return []

    def hud_lines(self) -> list[str]:
        """Lines for the HUD while recording."""
        recording = self.recording
        if recording is None:
            return []
        rec = recording.recorder
        seconds = time.perf_counter() - recording.started
        return [f"REC {seconds:5.1f} s  {rec.path.name}  dropped {rec.dropped}"]

    def wait(self) -> None:
        """Wait until stopped recordings are finished and snapshots written."""
        for thread in self._finishing:
            thread.join()
        self._finishing = []
        self.snapshots.wait()

    def close(self) -> None:
        """Stop recording, finish files and snapshots, close video outs and telemetry."""
        self.set_recording(False)
        self.wait()
        for out in self.video_outs:
            out.close()
        self.video_outs = []
        if self.telemetry is not None:
            self.telemetry.close()
