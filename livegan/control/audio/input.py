"""A show's sound input: a file or a sound card, analysed on its own thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from livegan.control.audio.analysis import AudioAnalysis
from livegan.control.audio.device import AudioDevice
from livegan.control.audio.features import AudioValues
from livegan.control.audio.files import AudioFilePlayer
from livegan.errors import AudioError

log = logging.getLogger(__name__)


class SoundInput:
    """Sound from `--audio-file` (real time, optionally looping) or `--audio [DEVICE]`.

    `start()` opens the source and starts the analysis; without a sound library or
    device it logs one line and the show goes on without sound (`values` stays None).
    Read `values` from any thread: the newest AudioValues, no lock.

    Args:
        device: sound card name substring or index ("" for the default input), or None.
        file: a sound file to play as input instead (WAV; FLAC with soundfile).
        loop: loop the file.
        backend: the sounddevice module (tests pass a fake).
        on_values: called on the analysis thread with the newest values (see AudioAnalysis).
    """

    def __init__(self, device: str | None = None, file: str | None = None, *,
                 loop: bool = False, backend: Any = None,
                 on_values: Callable[[AudioValues], None] | None = None) -> None:
        self.analysis: AudioAnalysis | None = None
        self.on_values = on_values
        self.player = AudioFilePlayer(file, self._feed, loop=loop, on_end=self._silence) \
            if file else None
        self.device = AudioDevice(device, self._feed, backend=backend,
                                  on_lost=self._silence) \
            if device is not None and not file else None

    @property
    def values(self) -> AudioValues | None:
        """The newest analysis, or None while no sound comes in."""
        analysis = self.analysis
        return analysis.values if analysis is not None else None

    def start(self) -> bool:
        """Open the source and start the analysis; False (one line logged) without sound.

        Raises:
            AudioError: the sound file cannot be read.
        """
        source = self.player or self.device
        if source is None:
            return False
        try:
            rate = source.open()
        except AudioError as exc:
            if source is self.player:
                raise
            log.warning("%s; the show goes on without sound", exc)
            self.device = None
            return False
        self.analysis = AudioAnalysis(rate, self.on_values).start()
        source.start()
        return True

    def _feed(self, block: Any) -> None:
        analysis = self.analysis
        if analysis is not None:
            analysis.feed(block)

    def _silence(self) -> None:
        if self.analysis is not None:
            self.analysis.silence()

    def stop(self) -> None:
        for source in (self.player, self.device):
            if source is not None:
                source.stop()
        if self.analysis is not None:
            self.analysis.stop()
