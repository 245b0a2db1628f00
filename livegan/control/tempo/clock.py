"""The beat clock: where the show is on the beat grid, from Link, MIDI clock or its own count."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from livegan.control.controls import Controls
from livegan.control.tempo.midiclock import TempoClock

SOURCES = ("link", "midi", "internal")


class TempoSession(Protocol):
    """A shared tempo and beat (an Ableton Link session, `livegan.control.tempo.link`)."""

    def beat(self, per_bar: int) -> float: ...
    def tempo(self) -> float: ...
    def set_tempo(self, bpm: float) -> None: ...
    def peers(self) -> int: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Beat:
    """Where the show is on the beat grid."""

    position: float  # beats counted (Link: the session's beat; MIDI: since its Start)
    tempo: float  # beats per minute
    source: str  # link, midi or internal
    per_bar: int  # beats in a bar

    @property
    def index(self) -> int:
        """The beat under way, counting from 0."""
        return math.floor(self.position)

    @property
    def in_bar(self) -> int:
        """Which beat of its bar it is, from 1 to per_bar."""
        return self.index % self.per_bar + 1


class BeatClock:
    """The show's beat grid, advanced once a frame on the main thread.

    With a Link session it follows the session's beat and tempo (and proposes the tempo to
    the session when a mapping or scene here changes it); else, while MIDI clock pulses
    arrive, it counts them (24 a beat, from the sender's Start); else it counts beats
    itself at the controls' tempo, carrying on from wherever the others left it. The
    session's tempo is written into the controls' `tempo`, which `speed_unit = "beats"`
    follows. A jump backwards (a new session, a MIDI Start) passes no boundary.

    Args:
        controls: the show's control state (its `tempo` param).
        per_bar: beats in a bar (Link's quantum).
        midi: the MIDI clock, or None when MIDI clock is not followed.
        link: a Link session, or None.
        clock: seconds (tests pass their own).
    """

    def __init__(self, controls: Controls, *, per_bar: int = 4,
                 midi: TempoClock | None = None, link: TempoSession | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.controls = controls
        self.per_bar = per_bar
        self.midi = midi
        self.link = link
        self.clock = clock
        self.beats = 0  # beat boundaries passed so far
        self.bars = 0  # bar boundaries passed so far
        self._beat = Beat(0.0, controls.param("tempo"), "internal", per_bar)
        self._last: float | None = None
        self._written: float | None = None  # the session tempo last written into controls

    @property
    def beat(self) -> Beat:
        """Where the grid was at the last `tick` (any thread may read it)."""
        return self._beat

    def tick(self, now: float | None = None) -> tuple[bool, bool]:
        """Move on to `now`; returns whether a beat, and whether a bar, began since the last
        tick."""
        now = self.clock() if now is None else now
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        old = self._beat.position
        position, source = self._position(now, dt)
        self._beat = Beat(position, self.controls.param("tempo"), source, self.per_bar)
        if position <= old:  # standing still, or a jump back: nothing begins
            return False, False
        beat = math.floor(position) > math.floor(old)
        bar = math.floor(position / self.per_bar) > math.floor(old / self.per_bar)
        self.beats += beat
        self.bars += bar
        return beat, bar

    def _position(self, now: float, dt: float) -> tuple[float, str]:
        if self.link is not None:
            tempo = self.controls.param("tempo")
            if self._written is not None and abs(tempo - self._written) > 1e-6:
                self.link.set_tempo(tempo)  # someone here moved the tempo: tell the peers
            self.controls.set_param("tempo", self.link.tempo())
            self._written = self.controls.param("tempo")
            return self.link.beat(self.per_bar), "link"
        if self.midi is not None and self.midi.running(now):
            return self.midi.beats, "midi"
        return self._beat.position + dt * self.controls.param("tempo") / 60.0, "internal"

    def describe(self) -> str:
        """One HUD line: tempo, source, beat in the bar."""
        b = self._beat
        peers = ""
        if self.link is not None:
            n = self.link.peers()
            peers = f", {n} peer{'s' if n != 1 else ''}"
        return f"tempo {b.tempo:.1f} bpm ({b.source}{peers})  beat {b.in_bar}/{b.per_bar}"

    def close(self) -> None:
        """Leave the Link session, if any."""
        if self.link is not None:
            self.link.close()
            self.link = None
