"""The render thread: one control snapshot per frame onto the stage, finished frames out."""

from __future__ import annotations

import threading
import time

from livegan.control.controls import Controls
from livegan.show.frames import FrameQueue
from livegan.stage.stage import Stage

ERROR_PAUSE = 0.05  # seconds between tries while the engine keeps failing


class RenderThread(threading.Thread):
    """Reads one control snapshot per frame, renders it on the stage, hands the frame on.

    A generator error keeps the last good frame on screen (nothing is put); the thread
    never dies of one. All state lives in `stage`, so a new thread can take over.

    Args:
        stage: the render side's state.
        controls: read once a frame.
        frames: where finished frames go.
        max_fps: render no faster than this (None: as fast as it goes).
    """

    def __init__(self, stage: Stage, controls: Controls, frames: FrameQueue,
                 max_fps: float | None = None) -> None:
        super().__init__(name="livegan-render", daemon=True)
        self.stage, self.controls, self.frames = stage, controls, frames
        self.interval = 1.0 / max_fps if max_fps else 0.0  # seconds between frame starts
        self.stopping = threading.Event()

    def run(self) -> None:
        last = due = time.perf_counter()
        while not self.stopping.is_set():
            if self.interval:  # --max-fps: wait for this frame's slot, never catch up in a burst
                wait = due - time.perf_counter()
                if wait > 0 and self.stopping.wait(wait):
                    break
                due = max(due + self.interval, time.perf_counter())
            now = time.perf_counter()
            dt, last = min(now - last, 0.25), now
            snap = self.controls.snapshot()
            frame = self.stage.frame(snap, dt)
            if frame is None:
                self.stopping.wait(ERROR_PAUSE)
                continue
            self.frames.put(frame)

    def stop(self) -> None:
        """Stop and join the thread (within 5 s)."""
        self.stopping.set()
        if self.ident is not None:  # started
            self.join(timeout=5)
