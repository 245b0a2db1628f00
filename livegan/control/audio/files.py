"""Sound files as input: WAV through the standard library, FLAC and more through soundfile,
played into the analysis in real time (rehearsal, tests, sound-driven installations)."""

from __future__ import annotations

import logging
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from livegan.errors import AudioError

log = logging.getLogger(__name__)

BLOCK = 256  # samples per block handed on, as a sound card's callback would (5.8 ms at 44.1 kHz)
EXTRA = "pip install 'livegan[audio]'"


class WavReader:
    """Blocks of mono float32 samples from a PCM WAV file (8, 16, 24 or 32 bit)."""

    def __init__(self, path: Path) -> None:
        try:
            self._file = wave.open(str(path), "rb")  # noqa: SIM115 - closed by close()
        except (wave.Error, EOFError) as exc:
            raise AudioError(f"cannot read WAV file {path}: {exc}") from None
        self.samplerate = self._file.getframerate()
        self.channels = self._file.getnchannels()
        self.width = self._file.getsampwidth()
        if self.width not in (1, 2, 3, 4) or self.samplerate <= 0:
            raise AudioError(f"{path}: {8 * self.width}-bit WAV is not supported "
                             "(8, 16, 24 and 32-bit PCM are)")

    def read(self, frames: int) -> np.ndarray:
        raw = self._file.readframes(frames)
        width = self.width
        if width == 3:  # 24-bit: pad each sample to 32 bits, sign in the top byte
            b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
            padded = np.zeros((len(b), 4), dtype=np.uint8)
            padded[:, 1:] = b
            data = padded.view("<i4").reshape(-1).astype(np.float32) / 2**31
        elif width == 1:  # 8-bit WAV is unsigned
            data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128) / 128
        else:
            kind = "<i2" if width == 2 else "<i4"
            data = np.frombuffer(raw, dtype=kind).astype(np.float32) / 2 ** (8 * width - 1)
        return data.reshape(-1, self.channels).mean(axis=1, dtype=np.float32)

    def rewind(self) -> None:
        self._file.rewind()

    def close(self) -> None:
        self._file.close()


class SoundFileReader:
    """Blocks of mono float32 samples through soundfile (FLAC, OGG, float WAV, AIFF...)."""

    def __init__(self, path: Path) -> None:
        try:
            import soundfile
        except (ImportError, OSError):
            raise AudioError(f"reading {path.suffix or 'this'} files needs soundfile: "
                             f"{EXTRA} (WAV files play without it)") from None
        try:
            self._file = soundfile.SoundFile(str(path))
        except Exception as exc:  # noqa: BLE001 - libsndfile raises its own kinds
            raise AudioError(f"cannot read sound file {path}: {exc}") from None
        self.samplerate = self._file.samplerate

    def read(self, frames: int) -> np.ndarray:
        data = self._file.read(frames, dtype="float32", always_2d=True)  # [N, C]
        return data.mean(axis=1, dtype=np.float32)

    def rewind(self) -> None:
        self._file.seek(0)

    def close(self) -> None:
        self._file.close()


def open_sound_file(path: str | Path) -> WavReader | SoundFileReader:
    """A reader for `path`: WAV with the standard library, the rest (and WAV the standard
    library cannot read, such as 32-bit float) with soundfile.

    Raises:
        AudioError: missing, unreadable, or needing soundfile where it is not installed.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"sound file {path} not found")
    if path.suffix.lower() in (".wav", ".wave"):
        try:
            return WavReader(path)
        except AudioError as exc:
            try:
                return SoundFileReader(path)
            except AudioError:
                raise exc from None
    return SoundFileReader(path)


class AudioFilePlayer:
    """Plays a sound file into `sink` in real time on a thread, a block at a time.

    Block k reaches the sink when its last sample is due (start + (k + 1) * BLOCK /
    samplerate on `clock`), as a sound card delivers a buffer once it is full. A player
    that fell behind catches up at once.

    Args:
        path: the file (see open_sound_file).
        sink: takes each block of mono float32 samples (the analysis's feed).
        loop: play again from the start when the file ends.
        block: samples per block.
        clock: seconds (tests pass their own, with `wait`).
        wait: waits up to the given seconds, True when the player is stopping meanwhile.
        on_end: called once the file ended (not looping) or the player stopped.

    Raises:
        AudioError: from open(), when the file cannot be read.
    """

    def __init__(self, path: str | Path, sink: Callable[[np.ndarray], None], *,
                 loop: bool = False, block: int = BLOCK,
                 clock: Callable[[], float] = time.perf_counter,
                 wait: Callable[[float], bool] | None = None,
                 on_end: Callable[[], None] | None = None) -> None:
        self.path = Path(path)
        self.sink = sink
        self.loop = loop
        self.block = block
        self.clock = clock
        self.on_end = on_end
        self.samplerate = 0
        self.started_at: float | None = None  # clock time of the file's first sample
        self.delivered = 0  # samples handed to the sink
        self.done = threading.Event()
        self._stopping = threading.Event()
        self._wait = wait or self._stopping.wait
        self._reader: Any = None
        self._thread: threading.Thread | None = None

    def open(self) -> int:
        """Open the file; returns its sample rate."""
        if self._reader is None:
            self._reader = open_sound_file(self.path)
            self.samplerate = self._reader.samplerate
        return self.samplerate

    def start(self) -> AudioFilePlayer:
        self.open()
        self._thread = threading.Thread(target=self.run, name="livegan-audiofile", daemon=True)
        self._thread.start()
        log.info("playing sound file %s (%d Hz)%s", self.path, self.samplerate,
                 " looping" if self.loop else "")
        return self

    def run(self) -> None:
        """Play until the end (or forever when looping) or stop(); on this thread."""
        self.open()
        try:
            self._play()
        finally:
            self._reader.close()
            if self.on_end is not None:
                self.on_end()
            self.done.set()

    def _play(self) -> None:
        self.started_at = start = self.clock()
        rate, empty_rounds = self.samplerate, 0
        while not self._stopping.is_set():
            samples = self._reader.read(self.block)
            if not len(samples):
                if not self.loop or empty_rounds:  # an empty file cannot loop
                    return
                empty_rounds += 1
                self._reader.rewind()
                continue
            empty_rounds = 0
            delay = start + (self.delivered + len(samples)) / rate - self.clock()
            if delay > 0 and self._wait(delay):
                return
            self.sink(samples)
            self.delivered += len(samples)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
