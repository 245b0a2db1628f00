"""Sending OSC: one UDP target, never blocking, never raising on a network problem."""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any

from livegan.control.osc.wire import encode_message
from livegan.errors import LiveganError
from livegan.ratelog import RateLimitedLog

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)


class OscSender:
    """Send OSC messages (telemetry, feedback, query replies) to one UDP target.

    ``send`` never raises on a network problem: a failed send is counted in
    ``stats()`` and logged at a limited rate, so a closed or unreachable receiver
    cannot disturb the show.

    Args:
        host: target host name or IP address (resolved once, here).
        port: target UDP port.

    Raises:
        LiveganError: the host cannot be resolved or the port is out of range.
    """

    def __init__(self, host: str, port: int) -> None:
        if not 0 < port < 65536:
            raise LiveganError(f"OSC target port must be 1..65535, got {port}")
        try:
            family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        except (OSError, UnicodeError) as exc:
            raise LiveganError(f"cannot resolve OSC target host {host!r}: {exc}") from None
        self.host = host
        self.port = port
        self.target = f"{host}:{port}"  # as written in logs and on the HUD
        self._address = sockaddr
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.setblocking(False)  # a full send buffer drops a message, never stalls
        self._counts = {"sent": 0, "failed": 0}
        self._ratelog = RateLimitedLog(log)

    def send(self, address: str, *args: Any) -> bool:
        """Send one message; ints go as i (h beyond 32 bits), floats as f, str as s.

        bool goes as T/F, bytes as b and None as N. Numpy scalars are accepted.

        Returns:
            True if the message was handed to the OS, False if it failed (counted).

        Raises:
            TypeError: an argument of a type OSC cannot carry.
        """
        datagram = encode_message(address, *args)
        try:
            self._sock.sendto(datagram, self._address)
        except OSError as exc:
            self._counts["failed"] += 1
            self._ratelog.warning("send", "OSC send to %s:%d failed: %s", self.host, self.port, exc)
            return False
        self._counts["sent"] += 1
        return True

    @classmethod
    def to(cls, target: str) -> OscSender:
        """A sender to "HOST:PORT" (or a bare "PORT" for 127.0.0.1), e.g. `--feedback`.

        Raises:
            LiveganError: the target is malformed or the host cannot be resolved.
        """
        return cls(*parse_hostport(target))

    def stats(self) -> dict[str, int]:
        """A copy of the counters: ``sent`` and ``failed``."""
        return dict(self._counts)

    def close(self) -> None:
        """Close the socket; later sends fail and are counted."""
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def parse_hostport(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """Read an OSC target such as "127.0.0.1:9000", "[::1]:9000" or "9000".

    Args:
        text: ``HOST:PORT``; a bare ``PORT`` means ``default_host``.
        default_host: host used when ``text`` gives only a port.

    Returns:
        ``(host, port)``.

    Raises:
        LiveganError: ``text`` is not of that form or the port is not 1..65535.
    """
    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = default_host, text
    elif host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # a bare IPv6 address without brackets is ambiguous
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not host or not 0 < port < 65536:
        raise LiveganError(f"bad OSC target {text!r}: expected HOST:PORT such as 127.0.0.1:9000")
    return host, port
