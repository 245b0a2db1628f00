"""What one hop of sound measures: level, three bands and spectral flux, normalised to 0..1."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: The names a patch can map (`[[map]] audio = "bass"`), in the order the HUD lists them.
FEATURES = ("level", "bass", "mid", "high", "onset", "beat", "tempo")

#: Frequency bands in Hz: (low, high). High stops at the Nyquist frequency.
BANDS = {"bass": (20.0, 250.0), "mid": (250.0, 4000.0), "high": (4000.0, 16000.0)}

WINDOW_SECONDS = 0.023  # analysis window (1024 samples at 44.1 and 48 kHz)
ATTACK_SECONDS = 0.01  # level and bands rise this fast...
RELEASE_SECONDS = 0.15  # ...and fall this slowly
PEAK_SECONDS = 10.0  # the running max forgets a loud passage over about this long
FLOOR = 0.01  # the running max never drops below this (-40 dBFS): silence stays near 0
COMPRESS = 1000.0  # log(1 + C * magnitude) before the flux: quiet partials count too


@dataclass(frozen=True)
class AudioValues:
    """The newest analysis, replaced whole after each hop (readers need no lock).

    level, bass, mid, high are 0..1 against a slow running max; onset and beat are
    envelopes that jump to 1 on an onset (a beat) and decay; tempo is in beats per minute
    (0 until a tempo is found).
    """

    level: float = 0.0  # RMS, smoothed, 0..1
    bass: float = 0.0  # 20-250 Hz
    mid: float = 0.0  # 250-4000 Hz
    high: float = 0.0  # 4-16 kHz
    onset: float = 0.0  # 1 at an onset, decaying over ONSET_SECONDS
    beat: float = 0.0  # 1 on a beat, decaying within the beat
    tempo: float = 0.0  # beats per minute
    phase: float = 0.0  # 0..1 position inside the current beat
    onsets: int = 0  # onsets so far
    beats: int = 0  # beats so far
    time: float = 0.0  # seconds of sound analysed so far

    def feature(self, name: str) -> float:
        """One of FEATURES by name."""
        return float(getattr(self, name))

    @property
    def bands(self) -> tuple[float, float, float]:
        return self.bass, self.mid, self.high


def window_size(samplerate: int) -> int:
    """A power of two near WINDOW_SECONDS (1024 at 44.1 or 48 kHz, 2048 at 96 kHz)."""
    return 2 ** max(7, round(math.log2(samplerate * WINDOW_SECONDS)))


class Follower:
    """A value smoothed with a fast attack and a slow release, then divided by its slow
    running max (never below FLOOR), so any input level moves it over 0..1."""

    def __init__(self, dt: float) -> None:
        self.attack = 1.0 - math.exp(-dt / ATTACK_SECONDS)
        self.release = 1.0 - math.exp(-dt / RELEASE_SECONDS)
        self.forget = math.exp(-dt / PEAK_SECONDS)
        self.smooth = 0.0
        self.peak = FLOOR

    def step(self, x: float) -> float:
        rate = self.attack if x > self.smooth else self.release
        self.smooth += (x - self.smooth) * rate
        self.peak = max(self.smooth, self.peak * self.forget, FLOOR)
        return min(1.0, self.smooth / self.peak)


class Spectrum:
    """Per hop: RMS of the newest samples, band amplitudes of a Blackman window and the
    spectral flux (mean rise in log magnitude since the last hop).

    Args:
        samplerate: samples per second.
        window: samples in the analysis window (see window_size).
    """

    def __init__(self, samplerate: int, window: int) -> None:
        self.window = np.blackman(window).astype(np.float32)  # [W] low leakage between bands
        freqs = np.fft.rfftfreq(window, 1.0 / samplerate)  # [W/2+1]
        nyquist = samplerate / 2
        self.masks = [(freqs >= low) & (freqs < min(high, nyquist))
                      for low, high in BANDS.values()]
        self.scale = 2.0 / float(self.window.sum())  # a full-scale sine peaks near 1
        self._last: np.ndarray | None = None  # log magnitudes of the previous hop

    def measure(self, frame: np.ndarray, hop: int) -> tuple[float, list[float], float]:
        """frame: the newest `window` samples [W]; returns (rms, band amplitudes, flux)."""
        newest = frame[-hop:]
        rms = float(np.sqrt(np.mean(newest * newest)))
        magnitude = np.abs(np.fft.rfft(frame * self.window)) * self.scale  # [W/2+1]
        power = magnitude * magnitude
        bands = [float(np.sqrt(power[m].sum())) if m.any() else 0.0 for m in self.masks]
        compressed = np.log1p(COMPRESS * magnitude)
        flux = 0.0 if self._last is None else \
            float(np.maximum(compressed - self._last, 0.0).mean())
        self._last = compressed
        return rms, bands, flux
