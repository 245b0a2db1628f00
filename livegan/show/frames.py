"""The bounded hand-over of finished frames from the render thread to the window."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    """A finished frame and where it came from."""

    pixels: np.ndarray  # uint8 [H, W, 3]
    index: int  # frames rendered so far by this render thread
    version: int  # control-state version it was rendered from (OSC latency figures)
    rendered_at: float  # time.perf_counter() when it was finished


class FrameQueue:
    """A few slots; when full the oldest frame is dropped, so the newest always wins
    and neither side ever waits on the other for longer than it asks to."""

    def __init__(self, slots: int = 2) -> None:
        self._frames: deque[Frame] = deque(maxlen=slots)
        self._ready = threading.Condition()
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._ready:
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            self._frames.append(frame)
            self._ready.notify()

    def latest(self, timeout: float) -> Frame | None:
        """The newest frame (older ones are discarded), waiting up to `timeout` seconds."""
        with self._ready:
            if not self._frames:
                self._ready.wait(timeout)
            if not self._frames:
                return None
            frame = self._frames[-1]
            self._frames.clear()
            return frame
