"""MIDI clock: the tempo and the beat position from 0xF8 pulses (24 a beat)."""

from __future__ import annotations

from collections import deque

CLOCKS_PER_BEAT = 24  # MIDI clock (0xF8) runs at 24 pulses per quarter note
SILENCE_SECONDS = 1.0  # no pulse for this long: the sender stopped, its old pulses say nothing


class TempoClock:
    """Beats per minute from MIDI clock pulses (24 a beat), averaged over one beat, and the
    beats counted since the sender's last Start.

    `tick` runs on the MIDI thread; the main thread reads `beats` and `running` (plain
    numbers, so no lock is needed).
    """

    def __init__(self) -> None:
        self._times: deque[float] = deque(maxlen=CLOCKS_PER_BEAT + 1)
        self._count = 0
        self.bpm: float | None = None
        self.pulses = 0  # since the last Start (MIDI 0xFA), or since the first pulse
        self.last: float | None = None  # time of the last pulse

    def reset(self) -> None:
        """Forget the pulse timing (the sender stopped or continued); the count stays."""
        self._times.clear()
        self._count = 0

    def start(self) -> None:
        """The sender pressed Start: beats count again from 0, the first beat of a bar."""
        self.reset()
        self.pulses = 0

    def tick(self, now: float) -> float | None:
        """One pulse at time `now` (seconds); returns the tempo four times a beat, else None."""
        if self._times and now - self._times[-1] > SILENCE_SECONDS:
            self.reset()  # a pause: the old pulses say nothing about the new tempo
        self._times.append(now)
        self._count += 1
        self.pulses += 1
        self.last = now
        if len(self._times) <= CLOCKS_PER_BEAT or self._count % 6:
            return None
        span = self._times[-1] - self._times[0]  # 24 intervals: one beat
        if span <= 0:
            return None
        self.bpm = 60.0 / span
        return self.bpm

    @property
    def beats(self) -> float:
        """Beats since the last Start (whole at every 24th pulse)."""
        return self.pulses / CLOCKS_PER_BEAT

    def running(self, now: float) -> bool:
        """Whether pulses are arriving (one within the last SILENCE_SECONDS)."""
        last = self.last
        return last is not None and now - last <= SILENCE_SECONDS
