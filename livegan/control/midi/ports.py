"""MIDI input with mido: ports by name substring that survive unplugging, clock, MIDI files."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from livegan.control.tempo.midiclock import TempoClock
from livegan.errors import MidiError
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

VIRTUAL_PORT = "livegan"  # the virtual input other programs can send to
RESCAN_SECONDS = 1.5  # how often the port list is read to notice unplug and replug
MAX_PENDING = 4096  # messages held between two frames; the oldest go first in a flood

Port = Any  # a mido input port (or a test's fake)
Opener = Callable[..., Port]  # opener(name, callback, virtual=False) -> port


def _mido() -> Any:
    try:
        import mido
    except ImportError:  # pragma: no cover - mido is a dependency
        raise MidiError("MIDI needs mido: pip install mido python-rtmidi") from None
    return mido


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Hide what C libraries print on stderr (ALSA's "cannot open /dev/snd/seq" lines)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


class NoMidiBackend(MidiError):
    """No MIDI backend works on this machine (no ALSA sequencer, python-rtmidi missing)."""


def _unavailable(exc: BaseException) -> NoMidiBackend:
    if isinstance(exc, ImportError):
        return NoMidiBackend("MIDI needs python-rtmidi: pip install python-rtmidi")
    if sys.platform.startswith("linux") and not os.path.exists("/dev/snd/seq"):
        return NoMidiBackend("MIDI is not available: this machine has no ALSA sequencer "
                             "(/dev/snd/seq); load it with `sudo modprobe snd-seq` or plug "
                             "in a MIDI device")
    return NoMidiBackend(f"MIDI is not available: {str(exc).strip() or type(exc).__name__}")


def _no_backend(exc: BaseException) -> bool:
    """rtmidi raises its SystemError (an OSError) when the MIDI system cannot be opened."""
    return isinstance(exc, ImportError) or type(exc).__name__ == "SystemError"


def input_names() -> list[str]:
    """Names of the MIDI inputs the backend sees now.

    Raises:
        MidiError: no MIDI backend works here (no ALSA, python-rtmidi missing).
    """
    mido = _mido()
    try:
        with _quiet_stderr():
            return list(mido.get_input_names())
    except Exception as exc:  # noqa: BLE001 - rtmidi raises its own SystemError types
        raise _unavailable(exc) from None


def output_names() -> list[str]:
    """Names of the MIDI outputs the backend sees now (MidiError as input_names)."""
    mido = _mido()
    try:
        with _quiet_stderr():
            return list(mido.get_output_names())
    except Exception as exc:  # noqa: BLE001
        raise _unavailable(exc) from None


def open_port(name: str, callback: Callable[[Any], None], virtual: bool = False) -> Port:
    """Open one mido input that calls `callback(msg)` on the backend's thread.

    Tests replace this (or pass `opener=` to MidiInputs) with a fake.

    Raises:
        MidiError: the port cannot be opened.
    """
    mido = _mido()
    try:
        with _quiet_stderr():
            return mido.open_input(name, virtual=virtual, callback=callback)
    except Exception as exc:  # noqa: BLE001 - rtmidi and mido raise several kinds
        if _no_backend(exc):
            raise _unavailable(exc) from None
        raise MidiError(f"cannot open MIDI input {name!r}: {exc}") from None


class MidiInputs:
    """The show's MIDI inputs: ports matched by name substring, a virtual port, a clock.

    Port callbacks run on the backend's thread and only store messages (newest kept, at
    most MAX_PENDING); the main thread takes them with `drain()` once a frame. A thread
    reads the port list every `rescan` seconds: a port that vanished (unplugged) is
    closed, and reopened when a name matching it returns. Where no MIDI backend works
    (no ALSA), `start()` logs one clear line and the show goes on without MIDI.

    Args:
        wanted: substrings of input names to open ("nanoKONTROL2"); ALSA numbers change.
        virtual: also open a virtual input named "livegan" where the backend can.
        on_tempo: called with beats per minute while MIDI clock arrives.
        opener: opens a port (default: `open_port`); tests pass a fake.
        lister: lists input names (default: `input_names`); tests pass a fake.
        rescan: seconds between two reads of the port list.
        clock: seconds, for the MIDI clock (tests pass their own).
    """

    def __init__(self, wanted: Sequence[str] = (), *, virtual: bool = False,
                 on_tempo: Callable[[float], None] | None = None,
                 opener: Opener | None = None, lister: Callable[[], list[str]] | None = None,
                 rescan: float = RESCAN_SECONDS,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.wanted = [w for w in wanted if w]
        self.virtual = virtual
        self.on_tempo = on_tempo
        self.opener = opener or (lambda *a, **k: open_port(*a, **k))
        self.lister = lister or (lambda: input_names())
        self.rescan = rescan
        self.clock = clock
        self.ports: dict[str, Port] = {}  # open inputs by full name (the virtual one too)
        self.available = True  # False once the backend proved unusable
        self.tempo = TempoClock()
        self.received = 0
        self._pending: deque[Any] = deque(maxlen=MAX_PENDING)
        self._told_missing: set[str] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._ratelog = RateLimitedLog(log)

    def start(self) -> MidiInputs:
        """Open the virtual port and the wanted inputs, then watch for unplug and replug."""
        if not self.wanted and not self.virtual:
            return self
        if self.virtual:
            self._open_virtual()
        if self.available:
            self.scan()
        if self.available and self.wanted:
            self._thread = threading.Thread(target=self._watch, name="livegan-midi",
                                            daemon=True)
            self._thread.start()
        return self

    def _open_virtual(self) -> None:
        try:
            self.ports[VIRTUAL_PORT] = self.opener(VIRTUAL_PORT, self.feed, virtual=True)
            log.info("MIDI: virtual input %r is open for other programs", VIRTUAL_PORT)
        except NoMidiBackend as exc:
            self.available = False
            level = logging.WARNING if self.wanted else logging.INFO  # asked for MIDI?
            log.log(level, "%s; the show goes on without MIDI", exc)
        except MidiError as exc:
            log.info("no virtual MIDI port here (%s)", exc)

    def set_wanted(self, wanted: Sequence[str]) -> None:
        """Follow a patch reload: open what is now wanted, close what no longer is."""
        self.wanted = [w for w in wanted if w]
        for name in [n for n in self.ports if n != VIRTUAL_PORT and not self._is_wanted(n)]:
            self._close(name)
        self._told_missing.clear()
        if self.wanted and self.available:
            self.scan()
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="livegan-midi",
                                                daemon=True)
                self._thread.start()

    def _is_wanted(self, name: str) -> bool:
        return any(w.lower() in name.lower() for w in self.wanted)

    def scan(self) -> None:
        """Read the port list once: close inputs that vanished, open wanted ones that appeared."""
        try:
            names = self.lister()
        except MidiError as exc:
            if self.available:
                log.warning("%s; the show goes on without MIDI", exc)
            self.available = False
            return
        for name in [n for n in self.ports if n != VIRTUAL_PORT and n not in names]:
            self._close(name)
            log.warning("MIDI input %r is gone (unplugged?); it reopens when it returns", name)
        for want in self.wanted:
            matches = [n for n in names if want.lower() in n.lower()]
            for name in matches:
                if name not in self.ports:
                    self._open(name, again=want in self._told_missing)
            if not matches and want not in self._told_missing:
                self._told_missing.add(want)
                log.warning("no MIDI input matching %r (inputs: %s); it opens when plugged in",
                            want, ", ".join(names) or "none")
            elif matches:
                self._told_missing.discard(want)

    def _open(self, name: str, again: bool) -> None:
        try:
            self.ports[name] = self.opener(name, self.feed)
        except MidiError as exc:
            self._ratelog.warning(f"open:{name}", "%s", exc)
            return
        log.info("MIDI input %s %s", "reconnected:" if again else "open:", name)

    def _close(self, name: str) -> None:
        port = self.ports.pop(name, None)
        try:
            if port is not None:
                port.close()
        except Exception as exc:  # noqa: BLE001 - an unplugged device may fail to close
            log.debug("closing MIDI input %s: %s", name, exc)

    def _watch(self) -> None:
        while not self._stopping.wait(self.rescan):
            try:
                self.scan()
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive any device
                self._ratelog.warning("scan", "MIDI port scan failed: %s", exc)

    def feed(self, msg: Any) -> None:
        """Take one message (port callbacks, the MIDI file player, tests): clock pulses set
        the tempo, everything else waits for `drain()`."""
        kind = getattr(msg, "type", "")
        if kind == "clock":
            bpm = self.tempo.tick(self.clock())
            if bpm is not None and self.on_tempo is not None:
                self.on_tempo(bpm)
        elif kind == "start":
            self.tempo.start()
        elif kind in ("stop", "continue"):
            self.tempo.reset()
        else:
            self.received += 1
            self._pending.append(msg)

    def drain(self) -> list[Any]:
        """Messages since the last call, oldest first (main thread, once a frame)."""
        messages = []
        while self._pending:
            messages.append(self._pending.popleft())
        return messages

    def stop(self) -> None:
        """Stop watching and close every port."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * self.rescan + 1)
            self._thread = None
        for name in list(self.ports):
            self._close(name)


class MidiFilePlayer:
    """Plays a MIDI file into a sink in real time (or `rate` times faster) on a thread.

    Rehearse without the controller, sequence a show, or drive tests. Tempo changes in
    the file go to `on_tempo`.

    Raises:
        MidiError: from start(), when the file cannot be read.
    """

    def __init__(self, path: str | Path, sink: Callable[[Any], None], *, loop: bool = False,
                 rate: float = 1.0, on_tempo: Callable[[float], None] | None = None) -> None:
        self.path = Path(path)
        self.sink = sink
        self.loop = loop
        self.rate = rate
        self.on_tempo = on_tempo
        self.played = 0
        self.done = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> MidiFilePlayer:
        mido = _mido()
        try:
            self._file = mido.MidiFile(self.path)
        except FileNotFoundError:
            raise MidiError(f"MIDI file {self.path} not found") from None
        except Exception as exc:  # noqa: BLE001 - mido raises several kinds on bad files
            raise MidiError(f"cannot read MIDI file {self.path}: {exc}") from None
        self._tempo2bpm = mido.tempo2bpm
        self._thread = threading.Thread(target=self._run, name="livegan-midifile", daemon=True)
        self._thread.start()
        log.info("playing MIDI file %s%s", self.path, " (looping)" if self.loop else "")
        return self

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._play_once()
                if not self.loop or self._file.length <= 0:
                    break
        finally:
            self.done.set()

    def _play_once(self) -> None:
        start, at = time.perf_counter(), 0.0
        for msg in self._file:
            at += msg.time / self.rate
            wait = at - (time.perf_counter() - start)
            if wait > 0 and self._stopping.wait(wait):
                return
            if self._stopping.is_set():
                return
            if msg.is_meta:
                if msg.type == "set_tempo" and self.on_tempo is not None:
                    self.on_tempo(self._tempo2bpm(msg.tempo))
                continue
            self.played += 1
            self.sink(msg)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
