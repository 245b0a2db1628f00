"""Live sound from a sound card through sounddevice (an extra): opened by name, watched,
and reopened when a lost device returns; without one the show goes on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from livegan.errors import AudioError

log = logging.getLogger(__name__)

EXTRA = "pip install 'livegan[audio]'"
BLOCK = 256  # samples per callback
SILENT_SECONDS = 2.0  # an open stream with no callback for this long is lost
RETRY_SECONDS = 2.0  # how often a lost device is looked for


class NoSoundInput(AudioError):
    """No sound input here: sounddevice or PortAudio missing, or no input device."""


def load_sounddevice() -> Any:
    """The sounddevice module (imported only when sound input is asked for).

    Raises:
        NoSoundInput: the library or its PortAudio is not installed.
    """
    try:
        import sounddevice
    except ImportError:
        raise NoSoundInput(f"sound input needs sounddevice: {EXTRA}") from None
    except OSError as exc:  # sounddevice is there, PortAudio is not
        raise NoSoundInput(f"sound input needs the PortAudio library ({exc}); on Debian or "
                           "Ubuntu: sudo apt install libportaudio2") from None
    return sounddevice


def find_input(sd: Any, wanted: str | None) -> tuple[int, dict]:
    """The input device: the default one (wanted None or ""), an index, or the first whose
    name contains `wanted`.

    Raises:
        NoSoundInput: none matches (the message lists the inputs there are).
    """
    try:
        devices = [dict(d, index=i) for i, d in enumerate(sd.query_devices())]
    except Exception as exc:  # noqa: BLE001 - PortAudio raises its own kinds
        raise NoSoundInput(f"cannot list sound devices: {exc}") from None
    inputs = [d for d in devices if d.get("max_input_channels", 0) > 0]
    if not inputs:
        raise NoSoundInput("this machine has no sound input device")
    if not wanted:
        default = sd.default.device[0] if sd.default.device else -1
        chosen = [d for d in inputs if d["index"] == default] or inputs
    elif wanted.isdigit():
        chosen = [d for d in inputs if d["index"] == int(wanted)]
    else:
        chosen = [d for d in inputs if wanted.lower() in str(d["name"]).lower()]
    if not chosen:
        names = ", ".join(f"{d['index']}: {d['name']}" for d in inputs)
        raise NoSoundInput(f"no sound input matching {wanted!r} (inputs: {names})")
    return chosen[0]["index"], chosen[0]


class AudioDevice:
    """One sound card input feeding mono blocks to `sink` from PortAudio's callback.

    The callback only mixes to mono and hands the block on. A watcher thread notices a
    stream that stopped or fell silent for SILENT_SECONDS (a device unplugged), says so in
    one line, and tries to reopen it every RETRY_SECONDS.

    Args:
        wanted: device name substring or index; None or "" for the default input.
        sink: takes each block of mono float32 samples.
        backend: the sounddevice module (tests pass a fake; default: imported on open).
        clock: monotonic seconds.
        on_lost: called (watcher thread) when the device is lost.
    """

    def __init__(self, wanted: str | None, sink: Callable[[np.ndarray], None], *,
                 backend: Any = None, block: int = BLOCK,
                 clock: Callable[[], float] = time.monotonic,
                 watch_every: float = 0.5,
                 on_lost: Callable[[], None] | None = None) -> None:
        self.wanted = wanted or None
        self.sink = sink
        self.block = block
        self.clock = clock
        self.watch_every = watch_every
        self.on_lost = on_lost
        self.samplerate = 0
        self.name = ""
        self.lost = False
        self.reconnects = 0
        self._sd = backend
        self._stream: Any = None
        self._last_callback = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def open(self) -> int:
        """Open the input; returns its sample rate.

        Raises:
            NoSoundInput: no library, no PortAudio or no matching device.
            AudioError: the device refused to open.
        """
        if self._sd is None:
            self._sd = load_sounddevice()
        self._open_stream()
        return self.samplerate

    def _open_stream(self) -> None:
        sd = self._sd
        index, info = find_input(sd, self.wanted)
        rate = self.samplerate or int(info.get("default_samplerate") or 44100)
        channels = max(1, min(2, int(info["max_input_channels"])))
        try:
            stream = sd.InputStream(device=index, channels=channels, samplerate=rate,
                                    blocksize=self.block, dtype="float32",
                                    callback=self._callback)
            stream.start()
        except Exception as exc:  # noqa: BLE001 - PortAudio raises its own kinds
            raise AudioError(f"cannot open sound input {info['name']!r}: {exc}") from None
        self._stream, self.samplerate, self.name = stream, rate, str(info["name"])
        self._last_callback = self.clock()
        self.lost = False

    def _callback(self, indata: np.ndarray, frames: int, when: Any, status: Any) -> None:
        self._last_callback = self.clock()
        self.sink(indata.mean(axis=1, dtype=np.float32) if indata.shape[1] > 1
                  else indata[:, 0].copy())

    def start(self) -> AudioDevice:
        """Open (see open) and watch the device."""
        if self._stream is None:
            self.open()
        log.info("sound input: %s (%d Hz)", self.name, self.samplerate)
        self._thread = threading.Thread(target=self._watch, name="livegan-audiodevice",
                                        daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        next_try = 0.0
        while not self._stopping.wait(self.watch_every):
            if not self.lost:
                self.check()
            elif self.clock() >= next_try:
                next_try = self.clock() + RETRY_SECONDS
                self.reopen()

    def check(self) -> bool:
        """True while the stream runs; a lost one is closed and said in one line."""
        stream = self._stream
        active = stream is not None and bool(getattr(stream, "active", True))
        if active and self.clock() - self._last_callback < SILENT_SECONDS:
            return True
        self.lost = True
        self._close()
        log.warning("sound input %r is gone; the show goes on without sound (it reopens "
                    "when the device returns)", self.name)
        if self.on_lost is not None:
            self.on_lost()
        return False

    def reopen(self) -> bool:
        """Try once to open a lost device again (quietly when it is still missing)."""
        rescan = getattr(self._sd, "_terminate", None), getattr(self._sd, "_initialize", None)
        try:
            if all(rescan):  # PortAudio lists devices as they were when it started
                rescan[0]()
                rescan[1]()
            self._open_stream()
        except Exception as exc:  # noqa: BLE001 - the device is still away
            log.debug("sound input still missing: %s", exc)
            return False
        self.reconnects += 1
        log.info("sound input reconnected: %s", self.name)
        return True

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.close()
        except Exception as exc:  # noqa: BLE001 - a vanished device may fail to close
            log.debug("closing sound input: %s", exc)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self._close()
