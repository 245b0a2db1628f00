"""Crossfades on a model hot-swap: the outgoing model's frames blend into the incoming one's."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FADE_SECONDS = 0.5  # how long a swap blends the old model into the new one


def fit(frame: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`frame` resized to `shape` (nearest pixel): models of different resolutions blend."""
    if frame.shape == shape:
        return frame
    rows = np.arange(shape[0]) * frame.shape[0] // shape[0]
    cols = np.arange(shape[1]) * frame.shape[1] // shape[1]
    return frame[rows][:, cols]


def blend(old: np.ndarray, new: np.ndarray, amount: float) -> np.ndarray:
    """uint8 frame `amount` (0..1) of the way from `old` to `new`."""
    weight = round(min(1.0, max(0.0, amount)) * 256)
    mixed = new.astype(np.uint16) * weight + fit(old, new.shape).astype(np.uint16) * (256 - weight)
    return (mixed >> 8).astype(np.uint8)


class Crossfade:
    """Blends the frames of the model going out into those of the model coming in.

    Runs on the render thread. While a fade is on, the outgoing engine keeps rendering
    the same latent (when its latent size matches) so both pictures move; otherwise, or
    once it fails, its last frame is held. The outgoing engine is closed when the fade
    ends. Frames stay uint8 [H, W, 3] at the incoming model's size throughout.

    Args:
        seconds: length of a fade; 0 switches at once.
    """

    def __init__(self, seconds: float = FADE_SECONDS) -> None:
        self.seconds = seconds
        self.fades = 0  # fades started so far
        self._old: Any = None  # the outgoing engine while it still renders
        self._still: np.ndarray | None = None  # the outgoing model's latest frame
        self._start: float | None = 0.0

    @property
    def active(self) -> bool:
        """Whether a fade is in progress."""
        return self._still is not None

    def start(self, old_engine: Any, last_frame: np.ndarray | None, now: float | None = None,
              renders: bool = True) -> None:
        """Fade from `old_engine` (closed when done), whose last frame was `last_frame`.

        Args:
            old_engine: the engine going out.
            last_frame: its latest frame; None (nothing shown yet) switches at once.
            now: time.perf_counter() of the swap; None: the time of the first frame
                mixed (so the fade's clock is that frame's own, as the control log has it).
            renders: whether `old_engine` may keep rendering the shared latent.
        """
        self.finish()
        if last_frame is None or self.seconds <= 0:
            old_engine.close()
            return
        self._old = old_engine if renders else None
        if not renders:
            old_engine.close()
        self._still, self._start = last_frame, now
        self.fades += 1

    def mix(self, frame: np.ndarray, z: np.ndarray, label: int, now: float) -> np.ndarray:
        """The frame to show: `frame` of the incoming model blended with the outgoing one."""
        if self._still is None:
            return frame
        if self._start is None:
            self._start = now
        amount = (now - self._start) / self.seconds
        if amount >= 1.0:
            self.finish()
            return frame
        if self._old is not None:
            try:
                self._still = self._old.render(z, label)
            except Exception as exc:  # noqa: BLE001 - hold its last frame instead
                log.warning("the outgoing model failed during the crossfade (%s); "
                            "holding its last frame", exc)
                self._close_old()
        return blend(self._still, frame, amount)

    def finish(self) -> None:
        """End a fade now and close the outgoing engine."""
        self._close_old()
        self._still = None

    def _close_old(self) -> None:
        old, self._old = self._old, None
        if old is not None:
            try:
                old.close()
            except Exception as exc:  # noqa: BLE001 - a broken engine must not stop the show
                log.warning("closing the outgoing engine failed: %s", exc)
