"""Sound inputs: WAV and FLAC files, real-time pacing on an injected clock, sound cards
through a fake sounddevice (no sound hardware here), and the one-line messages without one."""

from __future__ import annotations

import importlib.abc
import logging
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from livegan.control.audio.device import AudioDevice, NoSoundInput, find_input
from livegan.control.audio.files import AudioFilePlayer, open_sound_file
from livegan.control.audio.input import SoundInput
from livegan.errors import AudioError

RATE = 44100


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE, width: int = 2) -> Path:
    """samples: [N] or [N, C] floats in -1..1, written as `width`-byte PCM."""
    data = samples.reshape(len(samples), -1) if samples.ndim == 2 else samples[:, None]
    if width == 1:
        raw = (data * 127 + 128).astype(np.uint8).tobytes()
    elif width == 3:
        ints = (data * (2**23 - 1)).astype("<i4").reshape(-1)
        raw = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raw = (data * (2 ** (8 * width - 1) - 1)).astype(f"<i{width}").tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(data.shape[1])
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(raw)
    return path


def ramp(n: int) -> np.ndarray:
    return np.linspace(-0.5, 0.5, n, dtype=np.float32)


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_wav_files_of_every_pcm_width_read_as_mono(tmp_path: Path, width: int) -> None:
    left, right = ramp(1000), -ramp(1000) * 0.5
    path = write_wav(tmp_path / "x.wav", np.stack([left, right], axis=1), width=width)
    reader = open_sound_file(path)
    got = np.concatenate([reader.read(300) for _ in range(4)])
    assert reader.samplerate == RATE and len(got) == 1000
    np.testing.assert_allclose(got, (left + right) / 2, atol=2.0 / 2 ** (8 * width - 1) + 1e-6)
    reader.rewind()
    assert len(reader.read(2000)) == 1000
    reader.close()


def test_flac_reads_with_soundfile(tmp_path: Path) -> None:
    soundfile = pytest.importorskip("soundfile")
    path = tmp_path / "x.flac"
    soundfile.write(str(path), ramp(4000), RATE)
    reader = open_sound_file(path)
    np.testing.assert_allclose(reader.read(4000), ramp(4000), atol=1e-4)


def test_flac_without_soundfile_says_what_to_install(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.flac"
    path.write_bytes(b"fLaC not really")
    monkeypatch.setitem(sys.modules, "soundfile", None)
    with pytest.raises(AudioError, match=r"needs soundfile: pip install 'livegan\[audio\]'"):
        open_sound_file(path)


def test_missing_and_broken_files_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found"):
        open_sound_file(tmp_path / "nope.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(AudioError, match="bad.wav"):
        open_sound_file(tmp_path / "bad.wav")


class FakeClock:
    """Time that only moves when the player waits."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return False


def test_the_file_plays_in_real_time_on_its_clock(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "x.wav", ramp(1000), rate=1000)
    clock, got = FakeClock(), []
    ended = []
    player = AudioFilePlayer(path, lambda b: got.append((clock(), len(b))), block=256,
                             clock=clock, wait=clock.wait, on_end=lambda: ended.append(1))
    player.run()
    # each block is handed on when its last sample is due: a sound card's buffer
    assert [n for _, n in got] == [256, 256, 256, 232]
    assert [t - 100.0 for t, _ in got] == pytest.approx([0.256, 0.512, 0.768, 1.0])
    assert player.started_at == 100.0 and player.delivered == 1000 and ended == [1]


def test_a_late_player_catches_up_at_once(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "x.wav", ramp(1000), rate=1000)
    clock = FakeClock()
    got = []

    def slow_sink(block: np.ndarray) -> None:
        got.append(clock())
        clock.now += 0.6  # a stall: the next blocks are already due

    AudioFilePlayer(path, slow_sink, block=256, clock=clock, wait=clock.wait).run()
    assert len(got) == 4
    assert clock.waits == pytest.approx([0.256])  # no waiting once behind


def test_a_looping_file_plays_again_until_stopped(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "x.wav", ramp(500), rate=1000)
    clock = FakeClock()
    player: AudioFilePlayer

    def sink(block: np.ndarray) -> None:
        if player.delivered >= 1800:
            player._stopping.set()

    player = AudioFilePlayer(path, sink, loop=True, block=256, clock=clock, wait=clock.wait)
    player.run()
    assert player.delivered >= 1800
    assert clock.now - 100.0 == pytest.approx(player.delivered / 1000 + 0.244, abs=0.3)


def test_an_empty_looping_file_ends(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "x.wav", np.zeros(0, dtype=np.float32), rate=1000)
    player = AudioFilePlayer(path, lambda b: None, loop=True)
    player.run()
    assert player.done.is_set() and player.delivered == 0


def test_the_real_clock_paces_a_short_file(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "x.wav", ramp(4410))  # 0.1 s
    player = AudioFilePlayer(path, lambda b: None).start()
    assert player.done.wait(10)
    assert player.delivered == 4410


# --- sound cards (a fake sounddevice: this machine has no sound hardware) ----------------


class FakeStream:
    def __init__(self, device: int, channels: int, samplerate: int, blocksize: int,
                 dtype: str, callback) -> None:
        self.device, self.channels, self.samplerate = device, channels, samplerate
        self.callback = callback
        self.active = False
        self.closed = False

    def start(self) -> None:
        self.active = True

    def push(self, block: np.ndarray) -> None:
        self.callback(block, len(block), None, None)

    def close(self) -> None:
        self.active, self.closed = False, True


class FakeSoundDevice:
    """The parts of the sounddevice module livegan uses."""

    def __init__(self, devices: list[dict], default: int = -1) -> None:
        self.devices = devices
        self.default = type("Default", (), {"device": (default, -1)})()
        self.streams: list[FakeStream] = []
        self.rescans = 0

    def query_devices(self) -> list[dict]:
        return list(self.devices)

    def InputStream(self, **kwargs) -> FakeStream:
        if kwargs["device"] >= len(self.devices):
            raise RuntimeError("Invalid device")
        stream = FakeStream(**kwargs)
        self.streams.append(stream)
        return stream

    def _terminate(self) -> None:
        self.rescans += 1

    def _initialize(self) -> None:
        pass


DEVICES = [
    {"name": "HDMI out", "max_input_channels": 0, "default_samplerate": 48000.0},
    {"name": "USB Audio CODEC", "max_input_channels": 2, "default_samplerate": 48000.0},
    {"name": "Built-in Mic", "max_input_channels": 1, "default_samplerate": 44100.0},
]


def test_inputs_are_found_by_default_index_or_name() -> None:
    sd = FakeSoundDevice(DEVICES, default=2)
    assert find_input(sd, None)[0] == 2
    assert find_input(sd, "usb")[0] == 1
    assert find_input(sd, "1")[0] == 1
    with pytest.raises(NoSoundInput, match=r"no sound input matching 'zoom' \(inputs: 1: USB"):
        find_input(sd, "zoom")
    with pytest.raises(NoSoundInput, match="no sound input device"):
        find_input(FakeSoundDevice(DEVICES[:1]), None)


def test_a_sound_card_feeds_the_analysis_in_mono() -> None:
    sd = FakeSoundDevice(DEVICES, default=1)
    sound = SoundInput("USB", backend=sd)
    assert sound.start()
    try:
        stream = sd.streams[0]
        assert (stream.channels, stream.samplerate) == (2, 48000)
        t = np.arange(48000) / 48000
        tone = (0.5 * np.sin(2 * np.pi * 60 * t)).astype(np.float32)
        for start in range(0, 48000, 256):
            block = tone[start:start + 256]
            stream.push(np.stack([block, block], axis=1))  # [N, 2] as PortAudio gives
        deadline = time.monotonic() + 10
        while (sound.values.time < 0.9) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sound.values.bass > 0.9 and sound.values.high < 0.05
    finally:
        sound.stop()
    assert stream.closed


def test_no_sound_card_is_one_line_and_no_values(caplog) -> None:
    caplog.set_level(logging.WARNING)
    sound = SoundInput("", backend=FakeSoundDevice(DEVICES[:1]))
    assert sound.start() is False
    assert sound.values is None
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["this machine has no sound input device; the show goes on without sound"]
    sound.stop()


def test_without_sounddevice_one_line_names_the_extra(caplog,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    caplog.set_level(logging.WARNING)
    assert SoundInput("").start() is False
    assert [r.getMessage() for r in caplog.records] == [
        ("sound input needs sounddevice: pip install 'livegan[audio]'; the show goes on "
        "without sound")]


class NoPortAudio(importlib.abc.MetaPathFinder):
    """sounddevice installed, its PortAudio library not: importing it raises OSError."""

    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")


def test_without_portaudio_one_line_says_how_to_get_it(caplog,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    caplog.set_level(logging.WARNING)
    assert SoundInput("").start() is False
    (line,) = [r.getMessage() for r in caplog.records]
    assert "PortAudio" in line and "libportaudio2" in line and "show goes on" in line


def test_a_lost_device_is_one_line_and_reopens_when_it_returns(caplog) -> None:
    caplog.set_level(logging.INFO)
    sd = FakeSoundDevice(DEVICES, default=2)
    now = [0.0]
    silenced = threading.Event()
    device = AudioDevice(None, lambda b: None, backend=sd, clock=lambda: now[0],
                         on_lost=silenced.set)
    assert device.open() == 44100
    assert device.check()
    now[0] += 5.0  # no callback for 5 s: unplugged
    caplog.clear()
    assert not device.check() and device.lost and silenced.is_set()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        ("sound input 'Built-in Mic' is gone; the show goes on without sound (it reopens "
        "when the device returns)")]
    assert sd.streams[0].closed
    sd.devices = DEVICES[:2]  # still away (and the list is read again each try)
    sd.default.device = (-1, -1)
    device.wanted = "mic"
    assert not device.reopen() and sd.rescans == 1
    sd.devices = DEVICES  # plugged back in
    assert device.reopen() and not device.lost
    assert "sound input reconnected: Built-in Mic" in caplog.text
    assert device.samplerate == 44100 and sd.streams[-1].active
    device.stop()


def test_the_watcher_notices_a_stream_that_stopped(caplog) -> None:
    sd = FakeSoundDevice(DEVICES, default=1)
    device = AudioDevice(None, lambda b: None, backend=sd, watch_every=0.01).start()
    try:
        sd.streams[0].active = False  # PortAudio ended the stream (device gone)
        deadline = time.monotonic() + 10
        while not device.lost and time.monotonic() < deadline:
            time.sleep(0.01)
        assert device.lost
        assert caplog.text.count("is gone") == 1
    finally:
        device.stop()
