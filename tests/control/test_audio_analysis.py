"""Sound analysis on synthesized signals: bands, onsets, tempo and beats, and its thread."""

from __future__ import annotations

import time

import numpy as np
import pytest

from livegan.control.audio.analysis import Analyser, AudioAnalysis
from livegan.control.audio.features import FEATURES, AudioValues

RATE = 44100


def sine(hz: float, seconds: float, amplitude: float = 0.5, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def clicks(bpm: float, seconds: float, first: float = 0.25, rate: int = RATE,
           amplitude: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """A click track: short decaying noise bursts every beat; (samples, click times)."""
    rng = np.random.default_rng(1)
    x = np.zeros(int(seconds * rate), dtype=np.float32)
    times = np.arange(first, seconds - 0.05, 60.0 / bpm)
    decay = np.hanning(600)[300:]
    for t in times:
        i = int(t * rate)
        x[i:i + 300] = amplitude * decay * rng.standard_normal(300)
    return x, times


def play(x: np.ndarray, block: int = 256, rate: int = RATE) -> tuple[Analyser, list[AudioValues]]:
    """Feed `x` block by block as a sound card would; the values after each block."""
    analyser = Analyser(rate)
    seen = []
    for start in range(0, len(x), block):
        seen.append(analyser.process(x[start:start + block]))
    return analyser, seen


def event_times(seen: list[AudioValues], count: str) -> list[float]:
    """Stream times at which a counter (onsets, beats) went up."""
    times, last = [], 0
    for v in seen:
        if getattr(v, count) > last:
            times.append(v.time)
            last = getattr(v, count)
    return times


def test_a_60_hz_sine_drives_bass_not_high() -> None:
    _, seen = play(sine(60, 2.0))
    v = seen[-1]
    assert v.bass > 0.9
    assert v.high < 0.05
    assert v.mid < v.bass / 4
    assert v.level > 0.9  # steady tone: at its own running max
    assert v.onsets == 0 and v.tempo == 0.0  # a steady tone has no onsets and no tempo


def test_a_high_tone_drives_high_not_bass() -> None:
    _, seen = play(sine(8000, 1.0))
    assert seen[-1].high > 0.9
    assert seen[-1].bass < 0.05


def test_silence_stays_at_zero() -> None:
    _, seen = play(np.zeros(RATE, dtype=np.float32))
    v = seen[-1]
    assert (v.level, v.bass, v.mid, v.high, v.onset, v.onsets) == (0, 0, 0, 0, 0, 0)


def test_white_noise_bursts_give_one_onset_each() -> None:
    rng = np.random.default_rng(0)
    x = np.zeros(4 * RATE, dtype=np.float32)
    starts = [0.5, 1.3, 2.0, 2.9]
    for s in starts:
        i = int(s * RATE)
        x[i:i + int(0.3 * RATE)] = 0.3 * rng.standard_normal(int(0.3 * RATE))
    _, seen = play(x)
    onsets = event_times(seen, "onsets")
    assert len(onsets) == len(starts)
    for found, start in zip(onsets, starts):
        assert 0 <= found - start < 0.03  # within a few hops of the burst
    # the onset envelope jumps to 1 and decays
    at = next(v for v in seen if v.onsets == 1)
    later = next(v for v in seen if v.time > at.time + 0.2)
    assert at.onset > 0.8 and later.onset < at.onset / 2


@pytest.mark.parametrize("bpm", [120.0, 100.0])
def test_a_click_track_gives_its_tempo_and_beats_on_the_clicks(bpm: float) -> None:
    x, times = clicks(bpm, 12.0)
    analyser, seen = play(x)
    assert abs(seen[-1].tempo - bpm) < 2.0
    assert analyser.onsets.count == len(times)
    beats = [b for b in event_times(seen, "beats") if b > 4.0]  # once the tempo is locked
    expected = [t for t in times if t > 4.0]
    assert abs(len(beats) - len(expected)) <= 1
    for beat in beats:  # each beat on a click, give or take two hops
        assert np.min(np.abs(np.asarray(times) - beat)) < 0.03
    phases = [v.phase for v in seen if v.time > 4.0]
    assert min(phases) < 0.1 and max(phases) > 0.9


def test_block_sizes_do_not_change_the_analysis() -> None:
    x, _ = clicks(120, 3.0)
    a, _ = play(x, block=256)
    b, _ = play(x, block=1000)
    assert a.values == b.values


def test_other_sample_rates() -> None:
    x, times = clicks(120, 8.0, rate=22050)
    analyser, seen = play(x, rate=22050)
    assert analyser.hop == 256
    assert analyser.onsets.count == len(times)
    assert abs(seen[-1].tempo - 120) < 3


def test_every_patch_feature_is_a_value() -> None:
    v = AudioValues(level=0.1, bass=0.2, mid=0.3, high=0.4, onset=0.5, beat=0.6, tempo=99.0)
    assert [v.feature(f) for f in FEATURES] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 99.0]


def test_the_analysis_thread_takes_blocks_from_another_thread() -> None:
    analysis = AudioAnalysis(RATE).start()
    try:
        x = sine(60, 0.5)
        for start in range(0, len(x), 256):
            analysis.feed(x[start:start + 256])
        deadline = time.monotonic() + 10
        while analysis.values.time < 0.49 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert analysis.values.bass > 0.9
        analysis.silence()  # the input ended: levels drop, counts stay
        while analysis.values.bass > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert analysis.values.bass == 0.0 and analysis.values.time >= 0.49
    finally:
        analysis.stop()
    assert analysis.dropped == 0


def test_bad_blocks_are_logged_and_the_thread_goes_on(caplog) -> None:
    analysis = AudioAnalysis(RATE).start()
    try:
        analysis.feed(np.array(["not", "sound"]))
        analysis.feed(sine(60, 0.2))
        deadline = time.monotonic() + 10
        while analysis.values.time < 0.15 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert analysis.values.time >= 0.15
    finally:
        analysis.stop()
    assert "sound analysis failed" in caplog.text
