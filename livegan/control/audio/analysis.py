"""The analysis thread: blocks of samples in, the newest AudioValues out (newest value wins)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from livegan.control.audio.features import AudioValues, Follower, Spectrum, window_size
from livegan.control.audio.rhythm import Beats, Onsets, Tempo
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

MAX_BLOCKS = 256  # blocks waiting for the analysis; past this the oldest are dropped


class Analyser:
    """Hop-by-hop analysis of a mono stream (no thread: `AudioAnalysis` runs it on one).

    Args:
        samplerate: samples per second of what `process` receives.
    """

    def __init__(self, samplerate: int) -> None:
        self.samplerate = int(samplerate)
        self.size = window_size(self.samplerate)
        self.hop = self.size // 2
        dt = self.hop / self.samplerate
        self.spectrum = Spectrum(self.samplerate, self.size)
        self.followers = [Follower(dt) for _ in range(4)]  # level, bass, mid, high
        self.onsets = Onsets(dt)
        self.tempo = Tempo(dt)
        self.beats = Beats()
        self.values = AudioValues()
        self.samples = 0  # samples analysed so far
        self._frame = np.zeros(self.size, dtype=np.float32)  # [W] the newest samples
        self._pending: list[np.ndarray] = []
        self._pending_len = 0

    def process(self, block: np.ndarray) -> AudioValues:
        """Take mono samples (any length); analyse every whole hop; the newest values."""
        self._pending.append(np.asarray(block, dtype=np.float32).reshape(-1))
        self._pending_len += len(self._pending[-1])
        if self._pending_len < self.hop:
            return self.values
        data = np.concatenate(self._pending)
        whole = len(data) - len(data) % self.hop
        rest = data[whole:]
        self._pending, self._pending_len = ([rest], len(rest)) if len(rest) else ([], 0)
        for start in range(0, whole, self.hop):
            self._step(data[start:start + self.hop])
        return self.values

    def _step(self, hop: np.ndarray) -> None:
        frame = self._frame
        frame[:-self.hop] = frame[self.hop:]
        frame[-self.hop:] = hop
        self.samples += self.hop
        now = self.samples / self.samplerate
        rms, bands, flux = self.spectrum.measure(frame, self.hop)
        level, bass, mid, high = (f.step(x) for f, x in zip(self.followers, [rms, *bands]))
        onset = self.onsets.step(flux, now)
        bpm = self.tempo.step(flux, now, onset)
        self.beats.step(now, bpm, onset)
        self.values = AudioValues(
            level=level, bass=bass, mid=mid, high=high,
            onset=self.onsets.envelope(now), beat=self.beats.envelope(now), tempo=bpm,
            phase=self.beats.phase(now), onsets=self.onsets.count, beats=self.beats.count,
            time=now)

    def silence(self) -> None:
        """The input stopped: levels and envelopes to 0; counts and tempo stay."""
        v = self.values
        self.values = AudioValues(tempo=v.tempo, onsets=v.onsets, beats=v.beats, time=v.time)


class AudioAnalysis:
    """Runs an Analyser on its own thread, fed from any thread.

    `feed(block)` only stores the block (a sound card's callback must return at once);
    the thread analyses whatever arrived and replaces `values` after each hop. Reading
    `values` needs no lock: it is one immutable AudioValues, the newest.

    Args:
        samplerate: samples per second of the blocks fed.
        on_values: called on the analysis thread with the newest values after each batch of
            blocks (the patch's audio mappings write the controls from there, as OSC does).
    """

    def __init__(self, samplerate: int,
                 on_values: Callable[[AudioValues], None] | None = None) -> None:
        self.analyser = Analyser(samplerate)
        self.on_values = on_values
        self._ratelog = RateLimitedLog(log)
        self.samplerate = self.analyser.samplerate
        self.dropped = 0  # blocks dropped because the analysis fell behind
        self._blocks: deque[np.ndarray] = deque(maxlen=MAX_BLOCKS)
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def values(self) -> AudioValues:
        """The newest analysis."""
        return self.analyser.values

    def feed(self, block: np.ndarray) -> None:
        """Mono float samples from any thread (a copy the caller will not touch again)."""
        if len(self._blocks) == MAX_BLOCKS:
            self.dropped += 1
        self._blocks.append(block)
        self._ready.set()

    def silence(self) -> None:
        """The input stopped: say so in the values once what arrived is analysed."""
        self._blocks.append(np.empty(0, dtype=np.float32))  # marks the end of the input
        self._ready.set()

    def start(self) -> AudioAnalysis:
        self._thread = threading.Thread(target=self._run, name="livegan-audio", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._ready.wait(0.1)
            self._ready.clear()
            if not self._blocks:
                continue
            while self._blocks:
                block = self._blocks.popleft()
                try:
                    if len(block):
                        self.analyser.process(block)
                    else:
                        self.analyser.silence()
                except Exception as exc:  # noqa: BLE001 - bad samples never end the show
                    self._ratelog.error("block", "sound analysis failed on a block: %s", exc)
            self._hand_on()

    def _hand_on(self) -> None:
        if self.on_values is None:
            return
        try:
            self.on_values(self.analyser.values)
        except Exception as exc:  # noqa: BLE001 - a failing mapping never ends the analysis
            self._ratelog.error("values", "sound mappings failed: %s", exc)

    def stop(self) -> None:
        self._stopping.set()
        self._ready.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
