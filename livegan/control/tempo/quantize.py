"""Quantize: scene, seed and key changes held until the next beat or bar."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

UNITS = ("beat", "bar")  # quantize = "beat" | "bar"
TARGETS = ("scene", "seed", "key")  # what a patch may quantize


class Quantizer:
    """Changes waiting for a beat or bar boundary, the newest of each kind.

    Any thread may `hold` a change (OSC, MIDI, sound, keys); the main thread calls `run`
    once a frame with the boundaries its beat clock passed, and each due change is applied
    there, once. A change held while the frame's boundary was being crossed counts as on it
    (it waits at most one frame past the beat it missed, never a whole bar).
    """

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, Callable[[], object]]] = {}
        self._lock = threading.Lock()
        self._ratelog = RateLimitedLog(log)
        self.applied = 0  # changes applied so far

    def hold(self, kind: str, unit: str, action: Callable[[], object]) -> None:
        """Apply `action` at the next `unit` ("beat" or "bar"); replaces a held `kind`."""
        with self._lock:
            self._held.pop(kind, None)
            self._held[kind] = (unit, action)

    def held(self) -> dict[str, str]:
        """What waits: kind -> unit (HUD, tests)."""
        with self._lock:
            return {kind: unit for kind, (unit, _) in self._held.items()}

    def run(self, beat: bool, bar: bool) -> int:
        """Apply what is due now that a beat (and maybe a bar) began; returns how many."""
        if not beat and not bar:
            return 0
        with self._lock:
            due = [k for k, (unit, _) in self._held.items() if bar or unit == "beat"]
            actions = [self._held.pop(k) for k in due]
        for kind, (_, action) in zip(due, actions):
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - a held change never stops the show
                self._ratelog.error(kind, "quantized %s failed: %s", kind, exc)
        self.applied += len(actions)
        return len(actions)
