"""Ableton Link: join the tempo and beat of other Link apps on the network (optional extra)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

INSTALL = "pip install 'livegan[link]'"  # LinkPython-extern: Link is GPL, so it stays optional


class LinkSession:
    """One Link peer: the session's tempo and beat, read and set from the main thread.

    Peers find each other by multicast on the local network. When they leave, the session's
    tempo and beat stay where they were, so the show goes on at the last tempo.

    Args:
        module: the `link` module of LinkPython-extern (see `open_link`).
        bpm: the tempo offered to the session; a session already running keeps its own.
    """

    def __init__(self, module: Any, bpm: float) -> None:
        self._link = module.Link(float(bpm))
        self._link.enabled = True

    def beat(self, per_bar: int) -> float:
        """The session's beat now, aligned so that bars of `per_bar` beats start together."""
        state = self._link.captureAppSessionState()
        return float(state.beatAtTime(self._link.clock().micros(), float(per_bar)))

    def tempo(self) -> float:
        """The session's beats per minute."""
        return float(self._link.captureAppSessionState().tempo())

    def set_tempo(self, bpm: float) -> None:
        """Propose a tempo to every peer (a mapping or scene here changed it)."""
        state = self._link.captureAppSessionState()
        state.setTempo(float(bpm), self._link.clock().micros())
        self._link.commitAppSessionState(state)

    def peers(self) -> int:
        """How many other Link apps share the session."""
        return int(self._link.numPeers())

    def close(self) -> None:
        """Leave the session."""
        self._link.enabled = False


def open_link(bpm: float) -> LinkSession | None:
    """Join (or start) a Link session; None, with one line saying what to install, when
    LinkPython-extern is missing or Link cannot start: the show keeps its own beat."""
    try:
        import link as module
    except ImportError:
        log.warning("Ableton Link needs LinkPython-extern: %s; the show keeps its own beat",
                    INSTALL)
        return None
    try:
        session = LinkSession(module, bpm)
    except Exception as exc:  # noqa: BLE001 - the C++ side raises RuntimeError and others
        log.warning("Ableton Link could not start (%s); the show keeps its own beat", exc)
        return None
    log.info("Ableton Link on: %.1f bpm, %d peers", session.tempo(), session.peers())
    return session
