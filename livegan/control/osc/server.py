"""The OSC receiver: one thread takes UDP datagrams, filters them and delivers messages."""

from __future__ import annotations

import errno
import ipaddress
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from livegan.control.osc.batch import Coalescer, Coalescing, Datagram, Sender, take
from livegan.control.osc.wire import (
    MALFORMED,
    NONFINITE,
    TOO_DEEP,
    Headers,
    Message,
    parse_datagram,
)
from livegan.errors import LiveganError
from livegan.ratelog import RateLimitedLog

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)

DEFAULT_PORT = 12000  # where Wekinator sends /wek/outputs
DEFAULT_HOST = "127.0.0.1"  # loopback: only this machine can steer the show
POLL_SECONDS = 0.1  # receive timeout: how soon stop() is noticed
RECEIVE_BUFFER = 4 * 1024 * 1024  # asked of the OS so bursts wait in the kernel, not dropped
# After each batch the receive thread rests in proportion to the time the batch took, so
# that it holds the interpreter (which the render thread needs between frames) for at
# most about this share of the time; what arrives meanwhile waits in the socket for the
# next batch. A lone message is handled at once; under a flood batches grow.
RECEIVE_SHARE = 0.05
MAX_REST_SECONDS = 0.02  # the most a datagram waits behind the batch before it

NOT_ALLOWED = "not_allowed"
HANDLER_ERROR = "handler_error"
#: Every reason a received message is not delivered; each has a counter in ``stats()``.
DROP_REASONS = (MALFORMED, NONFINITE, TOO_DEEP, NOT_ALLOWED, HANDLER_ERROR)

Handler = Callable[[str, tuple, tuple[str, int]], None]

_EADDRINUSE_WINDOWS = 10048


class Allowlist:
    """Sender addresses allowed to steer the show: IP addresses and networks.

    Raises:
        LiveganError: an entry is not an IP address, a network or "localhost".
    """

    def __init__(self, entries: list[str]) -> None:
        self._networks = [n for e in entries for n in _parse_allow(e)]
        self._cache: dict[str, bool] = {}

    def __call__(self, ip: str) -> bool:
        """Whether ``ip`` is allowed (cached per address, at most 1024 remembered)."""
        verdict = self._cache.get(ip)
        if verdict is None:
            try:
                address = ipaddress.ip_address(ip.split("%", 1)[0])
            except ValueError:
                verdict = False
            else:
                if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                    address = address.ipv4_mapped
                verdict = any(address in network for network in self._networks)
            if len(self._cache) > 1024:
                self._cache.clear()
            self._cache[ip] = verdict
        return verdict


class OscServer:
    """Receive OSC on one daemon thread and hand each message to ``handler``.

    The thread takes what waits in the socket in batches (see RECEIVE_SHARE), so a flood
    costs work per batch and per address, not per message: within a batch, plain
    messages to an address that ``coalesce`` names count only the newest (the others
    are ``coalesced``); all others are delivered in order. Bundles (nested up to 8
    deep) are flattened and delivered at once whatever their timetag. Addresses
    starting with ``/_`` (TouchDesigner's ``/_samplerate``) are ignored. Malformed
    datagrams, NaN/infinite arguments, senders outside ``allow`` and handler exceptions
    are dropped, counted in ``stats()`` and logged at a limited rate; nothing a sender
    does stops the thread.

    Args:
        handler: called as ``handler(address, args, sender)`` on the server thread for
            each message; it should only store values and return quickly.
        host: address to listen on; loopback by default, anything else reachable from
            the network.
        port: UDP port; 0 picks a free one (see ``port`` once started).
        allow: sender IP addresses or networks ("192.168.1.0/24") accepted; ``None``
            accepts every sender that can reach ``host``.
        coalesce: returns the current `Coalescing` (asked again before each batch, so
            it may change, e.g. on a patch reload); ``None``: every message is delivered.

    Raises:
        LiveganError: an ``allow`` entry is not an IP address or network.
    """

    def __init__(
        self,
        handler: Handler,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        allow: list[str] | None = None,
        coalesce: Callable[[], Coalescing] | None = None,
    ) -> None:
        self.handler = handler
        self.host = host
        self._requested_port = port
        self._bound_port = 0
        self._headers: Headers = {}  # the parser's known headers (livegan.control.osc.wire)
        self._allow = None if allow is None else Allowlist(allow)
        self.coalesce = coalesce
        self._coalescer = Coalescer()
        self._counts = {key: 0 for key in _COUNTER_KEYS}
        self._ratelog = RateLimitedLog(log)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.last_message: Message | None = None
        """The latest message delivered (for the HUD), or None."""

    @property
    def port(self) -> int:
        """The UDP port bound once started (the actual one when asked for port 0)."""
        return self._bound_port or self._requested_port

    @property
    def running(self) -> bool:
        """Whether the receive thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Bind the socket and start the receive thread.

        Returns:
            self, so ``server = OscServer(h).start()`` reads naturally.

        Raises:
            LiveganError: the port is in use or the host cannot be bound.
        """
        if self._thread is not None:
            raise RuntimeError("OscServer already started")
        if not is_loopback(self.host) and self._allow is None:
            log.warning(
                "OSC listens on %s:%s: anyone on the network can steer the show "
                "(list trusted senders in the patch's osc.allow)",
                self.host or "every interface",
                self._requested_port,
            )
        self._sock = _bind(self.host, self._requested_port)
        self._bound_port = self._sock.getsockname()[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="livegan-osc", daemon=True)
        self._thread.start()
        log.info("OSC listening on %s:%d", self.host, self.port)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the receive thread (within about 0.1 s), join it and close the socket."""
        thread, self._thread = self._thread, None
        self._stopping.set()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("OSC thread did not stop within %.1f s", timeout)
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stats(self) -> dict[str, int]:
        """A copy of the counters.

        ``datagrams`` counts UDP packets; ``received`` counts messages found in them
        (a datagram that cannot be split into messages counts as one, and so does one
        superseded by a newer one to its address in the same batch), and
        ``received == delivered + ignored + coalesced + sum(drops)`` where the drops are
        the keys in ``DROP_REASONS``. ``socket_errors`` counts failed receives.
        """
        return dict(self._counts)

    def feed(self, datagram: bytes, sender: Sender = ("127.0.0.1", 0)) -> None:
        """Parse and deliver one datagram as if it arrived from ``sender``.

        Tests call this with raw bytes. Never raises. Not meant to be called
        concurrently with a running server.
        """
        self.feed_batch([(datagram, sender)])

    def feed_batch(self, batch: list[Datagram]) -> None:
        """Deliver datagrams that arrived together, the newest per coalescable address.

        A plain message (not a bundle) to an address the ``coalesce`` rule names is
        delivered only if no newer one to the same address is in ``batch``, and then in
        the place of the newest; everything else is delivered in order. Never raises.
        Not meant to be called concurrently with a running server.
        """
        counts = self._counts
        counts["datagrams"] += len(batch)
        if self._allow is not None:
            kept = []
            for item in batch:
                if self._allow(item[1][0]):
                    kept.append(item)
                else:
                    counts["received"] += 1
                    self._drop(NOT_ALLOWED, item[1], "sender not in osc.allow")
            batch = kept
        if self.coalesce is not None and len(batch) > 1:
            self._coalescer.set_rule(self.coalesce())
            batch, superseded = self._coalescer.reduce(batch)
            counts["received"] += superseded
            counts["coalesced"] += superseded
        for datagram, sender in batch:
            self._parse_and_deliver(datagram, sender)

    def _parse_and_deliver(self, datagram: bytes, sender: Sender) -> None:
        counts = self._counts
        try:
            messages, drops = parse_datagram(datagram, self._headers)
        except Exception:  # noqa: BLE001 - a parser bug must not stop the show
            self._ratelog.error("parser", "OSC parser failed", exc_info=True)
            messages, drops = [], [MALFORMED]
        counts["received"] += len(messages) + len(drops)
        for reason in drops:
            self._drop(reason, sender, _DROP_DETAIL[reason])
        for address, args in messages:
            self._deliver(address, args, sender)

    def _deliver(self, address: str, args: tuple, sender: Sender) -> None:
        """Hand one parsed message to the handler, counting the outcome."""
        counts = self._counts
        if address.startswith("/_"):
            counts["ignored"] += 1
            return
        self.last_message = (address, args)
        try:
            self.handler(address, args, sender)
        except Exception as exc:  # noqa: BLE001 - a handler bug must not stop the receiver
            counts[HANDLER_ERROR] += 1
            self._ratelog.warning(
                HANDLER_ERROR,
                "OSC handler failed on %s %.200r: %s",
                address,
                args,
                exc,
                exc_info=True,
            )
            return
        counts["delivered"] += 1

    def _drop(self, reason: str, sender: Sender, detail: str) -> None:
        self._counts[reason] += 1
        self._ratelog.warning(reason, "dropped OSC from %s:%s: %s", sender[0], sender[1], detail)

    def _socket_error(self, exc: OSError) -> None:
        if not self._stopping.is_set():
            self._counts["socket_errors"] += 1
            self._ratelog.warning("socket_error", "OSC receive failed: %s", exc)
            self._stopping.wait(POLL_SECONDS)  # don't spin on a persistent error

    def _serve(self) -> None:
        """The receive loop: wait, take what is there, rest (RECEIVE_SHARE); never dies on
        bad input."""
        sock = self._sock
        assert sock is not None
        stopping = self._stopping
        rest_factor = 1 / RECEIVE_SHARE - 1
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while not stopping.is_set():
                try:
                    if not selector.select(POLL_SECONDS):
                        continue  # nothing arrived: check for stop()
                except (OSError, ValueError):  # the socket was closed by stop()
                    return
                start = time.perf_counter()
                batch = take(sock, self._socket_error)
                if batch:
                    self.feed_batch(batch)
                # what arrives meanwhile waits in the socket for the next batch
                time.sleep(min(MAX_REST_SECONDS, (time.perf_counter() - start) * rest_factor))


_COUNTER_KEYS = ("datagrams", "received", "delivered", "ignored", "coalesced", *DROP_REASONS,
                 "socket_errors")
_DROP_DETAIL = {
    MALFORMED: "malformed datagram",
    NONFINITE: "NaN or infinite argument",
    TOO_DEEP: "bundles nested deeper than 8",
}


def _bind(host: str, port: int) -> socket.socket:
    """A bound non-blocking UDP socket; a clear LiveganError when it can't bind.

    SO_REUSEADDR is deliberately not set: UDP has no TIME_WAIT, so a quick restart
    binds without it, while on Linux it would let a second livegan bind the same port
    and silently take the messages away from the first.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: no port stealing either
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        except OSError:
            pass  # the OS keeps its default size
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", 0) == _EADDRINUSE_WINDOWS:
            raise LiveganError(
                f"OSC port {port} is already in use (another livegan or Wekinator "
                "receiver?): pick another with --osc-port"
            ) from None
        reason = exc.strerror or str(exc)
        raise LiveganError(f"cannot listen for OSC on {host}:{port}: {reason}") from None
    return sock


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or "localhost") reaches this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_allow(entry: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """One allowlist entry: an IP address, a network, or "localhost"."""
    entry = entry.strip()
    if entry == "localhost":
        return [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1")]
    try:
        return [ipaddress.ip_network(entry, strict=False)]
    except ValueError:
        raise LiveganError(
            f"OSC allow entry {entry!r} is not an IP address or network "
            "(such as 127.0.0.1 or 192.168.1.0/24)"
        ) from None
