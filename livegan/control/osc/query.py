"""Answers /livegan/query: the namespace in one bundle, a few answers per sender at most."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence

from livegan.control.osc.batch import Sender
from livegan.control.osc.dispatch import number
from livegan.control.osc.wire import encode_bundle, encode_message
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

Entry = tuple[str, str, str]  # address, argument types, what it does
BURST = 2  # answers a sender may have at once
EVERY = 1.0  # seconds after which a sender may have one more
MAX_SENDERS = 256  # senders remembered; past this the memory starts over


class QueryResponder:
    """Answers /livegan/query on the OSC thread, off the render and main threads.

    An answer is one datagram: a bundle of /livegan/namespace s:address s:types s:what,
    one per address, then /livegan/namespace/end; it is encoded once per patch. Answers
    go only to the asking sender's own address (to the port it names, or the one it sent
    from), and each sender address gets BURST answers, then one every EVERY seconds: a
    burst of queries cannot turn the show into a traffic reflector. Refusals are counted.

    Args:
        entries: the namespace to answer with.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, entries: Sequence[Entry],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.counts = {"answered": 0, "limited": 0, "failed": 0}
        self._reply = b""
        self._allowance: dict[str, tuple[float, float]] = {}  # ip -> (answers left, when)
        self._sockets: dict[int, socket.socket] = {}  # address family -> socket
        self._lock = threading.Lock()
        self._ratelog = RateLimitedLog(log)
        self.set_entries(entries)

    def set_entries(self, entries: Sequence[Entry]) -> None:
        """Answer with `entries` from now on (patch reloads)."""
        messages = [encode_message("/livegan/namespace", *entry) for entry in entries]
        self._reply = encode_bundle([*messages, encode_message("/livegan/namespace/end")])

    def route(self, args: tuple, sender: Sender) -> bool:
        """The /livegan/query route: [i] reply port (default: the sender's own port)."""
        port = _port(args[0]) if args else sender[1]
        if port is None:
            return False
        if not self._allowed(sender[0]):
            self.counts["limited"] += 1
            times = round(1 / EVERY)
            self._ratelog.warning("limited", "/livegan/query from %s answered at most %s a "
                                  "second; ignoring the rest", sender[0],
                                  "once" if times == 1 else f"{times} times")
            return True
        self._send(sender[0], port)
        return True

    def close(self) -> None:
        """Close the sockets."""
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()

    def _allowed(self, ip: str) -> bool:
        """Take one answer from `ip`'s allowance (refilled at one per EVERY seconds)."""
        now = self.clock()
        with self._lock:
            left, then = self._allowance.get(ip, (float(BURST), now))
            left = min(float(BURST), left + (now - then) / EVERY)
            if len(self._allowance) >= MAX_SENDERS and ip not in self._allowance:
                self._allowance.clear()
            self._allowance[ip] = (left - 1.0 if left >= 1.0 else left, now)
            return left >= 1.0

    def _send(self, ip: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        try:
            sock = self._sockets.get(family)
            if sock is None:
                sock = self._sockets[family] = socket.socket(family, socket.SOCK_DGRAM)
                sock.setblocking(False)  # a full buffer loses the answer, never stalls
            sock.sendto(self._reply, (ip, port))
        except OSError as exc:
            self.counts["failed"] += 1
            self._ratelog.warning("send", "cannot answer /livegan/query to %s:%d: %s", ip, port,
                                  exc)
            return
        self.counts["answered"] += 1
        log.info("sent the OSC namespace to %s:%d", ip, port)


def _port(value: object) -> int | None:
    """A UDP port 1..65535 from an int, or a float that means one (Pd sends only floats)."""
    value = None if isinstance(value, bool) else number(value)
    if value is None:
        return None
    port = round(value)
    return port if 0 < port < 65536 else None
