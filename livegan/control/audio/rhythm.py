"""Rhythm from spectral flux: onsets (adaptive threshold), tempo (autocorrelation), beats."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

THRESHOLD_SECONDS = 0.25  # the onset threshold follows the median flux of this long a past
THRESHOLD_RATIO = 1.5  # an onset's flux is at least this many times the median...
THRESHOLD_SHARE = 0.1  # ...plus this share of the loudest flux lately...
FLUX_FLOOR = 0.01  # ...and never below this (a steady low tone wobbles by less)
RISE = 2.0  # and a sudden rise: this many times the mean flux of the two hops before
REFRACTORY_SECONDS = 0.08  # at most one onset in this long (a drum hit spans a few hops)
ONSET_SECONDS = 0.15  # the onset envelope decays by e in this long

TEMPO_SECONDS = 6.0  # tempo from the onset strength of the last few seconds
TEMPO_EVERY = 0.25  # seconds between two tempo estimates
TEMPO_RANGE = (60.0, 180.0)  # beats per minute considered
TEMPO_PRIOR = 120.0  # octave errors lean towards this (a log-normal weight, one octave wide)
TEMPO_CONFIDENCE = 0.2  # autocorrelation peak / energy needed to accept a tempo
TEMPO_ONSETS = 4  # onsets heard within TEMPO_SECONDS before a tempo is looked for
BEAT_PULL = 0.3  # share of an onset's distance from the predicted beat that moves the phase
BEAT_WINDOW = 0.2  # onsets within this share of a beat from the prediction steer it


class Onsets:
    """Onset detection on spectral flux with a threshold that adapts to the music.

    Args:
        dt: seconds per hop.
    """

    def __init__(self, dt: float) -> None:
        self.dt = dt
        self._recent: deque[float] = deque(maxlen=max(3, round(THRESHOLD_SECONDS / dt)))
        self._loudest = 0.0
        self._forget = math.exp(-dt / 5.0)
        self._quiet_until = -1.0
        self.count = 0
        self.last: float | None = None  # stream time of the newest onset

    def step(self, flux: float, now: float) -> bool:
        """One hop's flux at stream time `now`; True on an onset."""
        self._loudest = max(flux, self._loudest * self._forget)
        recent = self._recent
        median = float(np.median(recent)) if recent else 0.0
        before = (recent[-1] + recent[-2]) / 2 if len(recent) > 1 else 0.0
        recent.append(flux)
        threshold = THRESHOLD_RATIO * median + max(THRESHOLD_SHARE * self._loudest, FLUX_FLOOR)
        if flux <= threshold or flux <= RISE * before or now < self._quiet_until:
            return False
        self._quiet_until = now + REFRACTORY_SECONDS
        self.count += 1
        self.last = now
        return True

    def envelope(self, now: float) -> float:
        """1 at an onset, decaying; exactly 0 once below 1 %."""
        if self.last is None:
            return 0.0
        value = math.exp(-(now - self.last) / ONSET_SECONDS)
        return value if value >= 0.01 else 0.0


class Tempo:
    """Beats per minute from the autocorrelation of the onset strength (the flux).

    Args:
        dt: seconds per hop.
    """

    def __init__(self, dt: float) -> None:
        self.dt = dt
        self._strength: deque[float] = deque(maxlen=round(TEMPO_SECONDS / dt))
        self._onsets: deque[float] = deque()  # stream times of recent onsets
        self._next = 2.0  # first estimate once two seconds are heard
        self.bpm = 0.0
        slow, fast = (60.0 / b / dt for b in TEMPO_RANGE)  # lags in hops
        self._lags = np.arange(max(1, math.floor(fast)), math.ceil(slow) + 1)
        bpm = 60.0 / (self._lags * dt)
        self._weight = np.exp(-0.5 * np.log2(bpm / TEMPO_PRIOR) ** 2)

    def step(self, flux: float, now: float, onset: bool) -> float:
        """One hop; returns the tempo (0 until one is found; the last one while unsure)."""
        self._strength.append(flux)
        if onset:
            self._onsets.append(now)
        while self._onsets and self._onsets[0] < now - TEMPO_SECONDS:
            self._onsets.popleft()
        if now >= self._next and len(self._onsets) >= TEMPO_ONSETS:
            self._next = now + TEMPO_EVERY
            found = self.estimate()
            if found:
                self.bpm = found
        return self.bpm

    def estimate(self) -> float | None:
        """The tempo now, or None when the sound has no clear pulse."""
        x = np.asarray(self._strength, dtype=np.float64)
        if len(x) <= self._lags[-1] + 1:
            return None
        x = x - x.mean()
        energy = float(np.dot(x, x))
        if energy <= 0:
            return None
        n = 1 << (2 * len(x) - 1).bit_length()
        spectrum = np.fft.rfft(x, n)
        ac = np.fft.irfft(spectrum * np.conj(spectrum), n)[: len(x)] / energy
        scores = ac[self._lags] * self._weight
        best = int(np.argmax(scores))
        lag = int(self._lags[best])
        if ac[lag] < TEMPO_CONFIDENCE:
            return None
        left, mid, right = ac[lag - 1], ac[lag], ac[lag + 1]  # parabola through the peak
        bend = left - 2 * mid + right
        shift = 0.5 * (left - right) / bend if bend < 0 else 0.0
        bpm = 60.0 / ((lag + max(-0.5, min(0.5, shift))) * self.dt)
        return float(min(TEMPO_RANGE[1], max(TEMPO_RANGE[0], bpm)))


class Beats:
    """Beat ticks from the tempo, phase-locked to the onsets that fall near them."""

    def __init__(self) -> None:
        self.count = 0
        self.last: float | None = None  # stream time of the newest beat
        self._next: float | None = None
        self._period = 0.0

    def step(self, now: float, bpm: float, onset: bool) -> bool:
        """One hop at stream time `now`; True when a beat falls in it."""
        if bpm <= 0:
            return False
        self._period = 60.0 / bpm
        if self._next is None:
            if onset:
                self._next = now
            else:
                return False
        elif onset:
            self._steer(now)
        if now + 1e-9 < self._next:
            return False
        self.last = self._next
        self._next += self._period * max(1, math.floor((now - self._next) / self._period) + 1)
        self.count += 1
        return True

    def _steer(self, onset: float) -> None:
        """Move the next beat a little towards an onset near the last or the next one."""
        assert self._next is not None
        for beat in (self._next, self._next - self._period):
            error = onset - beat
            if abs(error) <= BEAT_WINDOW * self._period:
                self._next += BEAT_PULL * error
                return

    def envelope(self, now: float) -> float:
        """1 on a beat, falling to 0 a third of the way to the next."""
        if self.last is None or self._period <= 0:
            return 0.0
        return max(0.0, 1.0 - (now - self.last) / (self._period / 3))

    def phase(self, now: float) -> float:
        """0..1 position inside the current beat."""
        if self.last is None or self._period <= 0:
            return 0.0
        return ((now - self.last) / self._period) % 1.0
