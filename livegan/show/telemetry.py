"""Telemetry: the show reports fps, frames, a heartbeat, its model, errors, sound and beats
over OSC."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Protocol

log = logging.getLogger(__name__)

FPS_EVERY = 0.5  # seconds between /livegan/fps messages
HEARTBEAT_EVERY = 1.0  # seconds between /livegan/heartbeat messages
ERROR_EVERY = 1.0  # at most one render-error message a second (errors can come per frame)
MAX_ERROR_TEXT = 200  # characters of an error message sent
AUDIO_EVERY = 1 / 30  # seconds between two /livegan/audio/level and /bands messages


MAX_ONSETS = 64  # onset messages sent in one pass at most (a stalled show's backlog)

class MessageSender(Protocol):
    """Where telemetry goes: an OSC sender to one target (`livegan.control.osc.sender`)."""

    target: str  # "HOST:PORT", for logs

    def send(self, address: str, *args: Any) -> bool:
        """Send one message; never raises on a network problem."""

    def stats(self) -> dict[str, int]:
        """Counters: ``sent`` and ``failed``."""

    def close(self) -> None:
        """Close the socket."""


class Telemetry:
    """Sends the show's state to one OSC receiver (`--feedback HOST:PORT`).

    Messages: /livegan/fps f (twice a second), /livegan/frame i (each frame shown: the
    render index, as in the control log), /livegan/heartbeat i (once a second, counting
    up from 1 while the main loop runs), /livegan/dropped i (with each heartbeat: input
    messages not acted on so far: malformed, NaN/inf, unknown address, wrong arguments,
    not allowed), /livegan/model s (at start and after each swap), /livegan/error s
    (render errors at most once a second, refused swaps and patches, failed outputs);
    with sound in: /livegan/audio/level f and /livegan/audio/bands f f f (bass, mid, high;
    30 times a second, 0..1), /livegan/audio/onset i (one message per onset, numbered
    from 1, even when several came within one pass of the main loop);
    /livegan/beat i i f (the show's beat grid, once a pass when a new beat began: the
    beat's number, its place in the bar from 1, the tempo in BPM; a beat that began and
    ended within one stalled pass is not sent, its number says so). Sending never blocks or raises; `error` may be called
    from any thread.

    Args:
        sender: sends the messages (the show gives it an OscSender to `--feedback`).
    """

    def __init__(self, sender: MessageSender) -> None:
        self.sender = sender
        self.target = sender.target
        self.heartbeats = 0
        self._next_fps = 0.0
        self._next_heartbeat = 0.0
        self._next_error = 0.0
        self._model = ""
        self._render_errors = 0
        self._next_audio = 0.0
        self._onsets = 0
        self._beat: int | None = None
        self._errors: deque[str] = deque(maxlen=32)
        self._lock = threading.Lock()
        log.info("telemetry to %s", self.target)

    def frame(self, index: int) -> None:
        """A frame was shown (main thread)."""
        self.sender.send("/livegan/frame", int(index))

    def error(self, text: str) -> None:
        """Queue an error message; sent on the next tick (any thread)."""
        with self._lock:
            self._errors.append(str(text)[:MAX_ERROR_TEXT])

    def tick(self, now: float, fps: float, model: str, render_errors: int = 0,
             last_error: str = "", dropped: int = 0) -> None:
        """Send what is due at time `now` (time.perf_counter()); call often on the main thread.

        Args:
            now: the current time.
            fps: frames per second shown.
            model: name of the model playing; sent when it changes.
            render_errors: render errors so far; an increase sends `last_error`.
            last_error: the latest render error's text.
            dropped: input messages dropped so far; sent with each heartbeat.
        """
        if model != self._model:
            self._model = model
            self.sender.send("/livegan/model", model)
        if now >= self._next_fps:
            self._next_fps = _next(self._next_fps, now, FPS_EVERY)
            self.sender.send("/livegan/fps", float(fps))
        if now >= self._next_heartbeat:
            self._next_heartbeat = _next(self._next_heartbeat, now, HEARTBEAT_EVERY)
            self.heartbeats += 1
            self.sender.send("/livegan/heartbeat", self.heartbeats)
            self.sender.send("/livegan/dropped", int(dropped))
        if render_errors > self._render_errors and now >= self._next_error:
            count, self._render_errors = render_errors - self._render_errors, render_errors
            self._next_error = now + ERROR_EVERY
            self.error(f"render failed ({count}x): {last_error}")
        with self._lock:
            errors = list(self._errors)
            self._errors.clear()
        for text in errors:
            self.sender.send("/livegan/error", text)

    def audio(self, now: float, level: float, bands: tuple[float, float, float],
              onsets: int) -> None:
        """Send the sound analysis that is due at `now` (main thread, each loop)."""
        # each onset its own message, numbered, though several came since the last pass
        # (a click track's onsets outpace a slow frame); at most MAX_ONSETS a pass
        for number in range(max(self._onsets, onsets - MAX_ONSETS) + 1, onsets + 1):
            self.sender.send("/livegan/audio/onset", int(number))
        self._onsets = max(self._onsets, onsets)
        if now >= self._next_audio:
            self._next_audio = _next(self._next_audio, now, AUDIO_EVERY)
            self.sender.send("/livegan/audio/level", float(level))
            self.sender.send("/livegan/audio/bands", *(float(b) for b in bands))

    def beat(self, index: int, in_bar: int, tempo: float) -> None:
        """Send /livegan/beat when a beat began since the last call (main thread, each loop)."""
        if index != self._beat:
            self._beat = index
            self.sender.send("/livegan/beat", int(index), int(in_bar), float(tempo))

    def close(self) -> None:
        """Close the socket."""
        stats = self.sender.stats()
        log.debug("telemetry: %d sent, %d failed", stats["sent"], stats["failed"])
        self.sender.close()


def _next(due: float, now: float, every: float) -> float:
    """The next time on a fixed grid of `every` seconds (no drift); restarts after a gap."""
    due += every
    return due if due > now else now + every
