"""Recording a show: frames encoded at a fixed frame rate on their own thread, memory flat."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livegan.errors import OutputError
from livegan.show.videofile import VIDEO_FPS, VIDEO_SUFFIXES, FrameWriter, open_writer

log = logging.getLogger(__name__)

DEFAULT_FPS = VIDEO_FPS
QUEUE_FRAMES = 16  # frames waiting for the encoder; beyond this they are dropped and counted
LIVE_PRESET = "superfast"  # x264 preset: light on the CPU the generator also needs


@dataclass(frozen=True)
class RecordingReport:
    """What a finished recording holds and what it lost."""

    path: Path
    frames: int  # frames in the file
    fps: int
    offered: int  # frames the show offered while recording
    dropped: int  # offered frames lost because the encoder queue was full
    duplicated: int  # slots filled by repeating a frame because the show ran slower than fps
    error: str | None = None  # why encoding stopped early, if it did

    @property
    def seconds(self) -> float:
        return self.frames / self.fps

    def summary(self) -> str:
        """One line for the log: where, how long, and what was dropped."""
        text = (f"recorded {self.frames} frames ({self.seconds:.1f} s at {self.fps} fps) "
                f"to {self.path}; {self.dropped} frames dropped (encoder behind), "
                f"{self.duplicated} repeated (show slower than {self.fps} fps)")
        return text + (f"; encoding stopped early: {self.error}" if self.error else "")


class Recorder:
    """Encodes the frames a show offers into a video at a fixed frame rate.

    Time is cut into slots of 1/fps seconds from `start`; the first frame offered in a
    slot fills it, later ones in the same slot are skipped, and slots no frame reached
    repeat the previous frame, so the video plays at the show's real speed with
    pts = frame index. `add` never blocks: frames go to the encoder thread through a
    bounded queue and when it is full the frame is dropped and counted (memory stays flat).

    Args:
        path: .mp4, .mov or .mkv file to write (H.264 via PyAV).
        fps: frames per second of the video.
        queue_frames: frames that may wait for the encoder.

    Raises:
        OutputError: the extension is not a video one, or PyAV is not installed.
    """

    def __init__(self, path: Path | str, fps: int = DEFAULT_FPS,
                 queue_frames: int = QUEUE_FRAMES) -> None:
        path = Path(path)
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise OutputError(f"cannot record to {path}: use a video file name ending in "
                              f"{', '.join(VIDEO_SUFFIXES)}")
        self.path = path
        self.fps = int(fps)
        self._writer: FrameWriter = open_writer(path, self.fps, preset=LIVE_PRESET)
        self._queue: queue.Queue[tuple[np.ndarray | None, int]] = queue.Queue(queue_frames)
        self._thread = threading.Thread(target=self._encode_all, name="livegan-record",
                                        daemon=True)
        self.t0: float | None = None
        self._next_slot = 0  # first slot still without a frame
        self._end_slot = 0  # one past the latest slot any frame was offered for
        self.offered = self.dropped = self.skipped = self.duplicated = 0
        self.error: str | None = None

    def start(self, t0: float) -> Recorder:
        """Start the encoder thread; slot 0 begins at time `t0` (time.perf_counter())."""
        self.t0 = t0
        self._thread.start()
        return self

    @property
    def recording(self) -> bool:
        return self._thread.is_alive() and self.error is None

    def add(self, frame: np.ndarray, t: float) -> None:
        """Offer a uint8 frame [H, W, 3] finished at time `t`; never blocks (main thread)."""
        if self.t0 is None or self.error is not None:
            return
        slot = int((t - self.t0) * self.fps + 1e-6)
        if slot < 0:
            return  # rendered before the recording started
        self.offered += 1
        self._end_slot = max(self._end_slot, slot + 1)
        if slot < self._next_slot:
            self.skipped += 1  # this slot already has its frame
            return
        try:
            self._queue.put_nowait((np.array(frame, copy=True), slot))
        except queue.Full:
            self.dropped += 1  # a later frame in this slot, or the next one, takes its place
            return
        self._next_slot = slot + 1

    def stop(self, t: float | None = None) -> RecordingReport:
        """Finish the file; with `t`, the video runs until then (repeating the last frame)."""
        if self._thread.is_alive():
            end = self._end_slot  # slots of dropped frames at the end are filled too
            if t is not None and self.t0 is not None:
                end = max(end, int((t - self.t0) * self.fps + 1e-6))
            self._queue.put((None, end))
            self._thread.join()
        elif self.t0 is None:
            self._writer.close()
        report = RecordingReport(self.path, self._writer.frames, self.fps, self.offered,
                                 self.dropped, self.duplicated, self.error)
        log.info(report.summary())
        return report

    def _encode_all(self) -> None:
        """The encoder thread: fill every slot in order, then finish the file."""
        last: np.ndarray | None = None
        next_slot = 0
        while True:
            frame, slot = self._queue.get()
            if self.error is not None:
                if frame is None:
                    self._close_quietly()
                    return
                continue  # keep draining so the show never waits on a dead encoder
            try:
                if frame is None:
                    self._pad(last, next_slot, slot)
                    self._writer.close()
                    return
                self._pad(last if last is not None else frame, next_slot, slot)
                self._writer.write(frame)
            except Exception as exc:  # noqa: BLE001 - a full disk must not stop the show
                self.error = str(exc) or type(exc).__name__
                log.error("recording to %s failed, the show goes on: %s", self.path, self.error)
                continue
            last, next_slot = frame, slot + 1

    def _close_quietly(self) -> None:
        try:
            self._writer.close()
        except Exception:
            log.debug("closing %s after an error failed too", self.path, exc_info=True)

    def _pad(self, frame: np.ndarray | None, start: int, end: int) -> None:
        """Repeat `frame` into slots start .. end - 1."""
        if frame is None:
            return
        for _ in range(start, end):
            self._writer.write(frame)
            self.duplicated += 1
