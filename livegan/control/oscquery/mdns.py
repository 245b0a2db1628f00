"""Announces the OSCQuery server over mDNS as _oscjson._tcp (zeroconf, an optional extra)."""

from __future__ import annotations

import asyncio
import atexit
import ipaddress
import logging
import re
import socket
import threading
import time
from typing import Any

from livegan.control.osc.server import is_loopback

log = logging.getLogger(__name__)

SERVICE = "_oscjson._tcp.local."
INSTALL = "pip install 'livegan[oscquery]'"
EXIT_WAIT_S = 2.0  # at exit, the longest wait for the goodbyes of adverts still live


class Advert:
    """One mDNS announcement, made and withdrawn on a daemon thread of its own: probing
    takes a second or two and the goodbye a quarter of a second, and the show waits for
    neither (`close()` returns at once). An advert still live when Python exits is withdrawn
    then, for at most EXIT_WAIT_S.

    Args:
        module: the zeroconf module.
        name: the instance name clients list ("livegan 12001").
        host: the OSC host: loopback announces on 127.0.0.1 only (programs on this
            machine), 0.0.0.0 on every interface, an address on that interface.
        port: the OSCQuery server's TCP port.
    """

    def __init__(self, module: Any, name: str, host: str, port: int) -> None:
        self.module = module
        self.addresses = _addresses(host)
        self.info = module.ServiceInfo(
            SERVICE, f"{name}.{SERVICE}", port=port, properties={"txtvers": "1"},
            addresses=[socket.inet_aton(a) for a in self.addresses], server=_server_name())
        self.interfaces = module.InterfaceChoice.All if host in ("0.0.0.0", "") \
            else self.addresses
        self.registered = threading.Event()  # announced: probed and the announcements sent
        self._closing = threading.Event()
        self._wake = threading.Event()  # closing, or the registration ended
        self._thread = threading.Thread(target=self._run, name="livegan-mdns", daemon=True)
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            self._thread.start()
        except BaseException:
            with _LIVE_LOCK:
                _LIVE.discard(self)
            raise

    def close(self) -> None:
        """Withdraw the announcement, without waiting: the goodbye is sent (or the probing
        given up) and zeroconf closed on the advert's thread (`join` waits for it). Safe
        to call again, and when the announcement never happened or failed."""
        self._closing.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds for the advert's thread to finish (after `close`:
        the goodbye sent and zeroconf closed); True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            if not self._closing.is_set():
                self._serve()
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(self)

    def _serve(self) -> None:
        """Open zeroconf, announce, wait for `close`, withdraw, close zeroconf."""
        try:
            zc = self.module.Zeroconf(interfaces=self.interfaces)
        except Exception as exc:  # noqa: BLE001 - no multicast, interface gone
            self._warn(exc)
            return
        try:
            # the registration runs on zeroconf's event loop, so `close` can cut the probing
            # short instead of waiting it out
            registration = asyncio.run_coroutine_threadsafe(self._register(zc), zc.loop)
            registration.add_done_callback(lambda _: self._wake.set())
            self._wake.wait()
            if registration.cancel():  # closed before it was announced
                return
            try:
                registration.result()
            except Exception as exc:  # noqa: BLE001 - name taken, interface gone
                self._warn(exc)
                return
            self.registered.set()
            log.info("OSCQuery announced over mDNS as %r on %s",
                     self.info.name.split(".")[0], ", ".join(self.addresses))
            self._closing.wait()
            zc.unregister_service(self.info)  # the goodbye
        except Exception as exc:  # noqa: BLE001 - the show never hears of a failed goodbye
            log.debug("mDNS withdrawal failed: %s", exc)
        finally:
            # also says goodbye for whatever a cancelled registration had announced
            try:
                zc.close()
            except Exception as exc:  # noqa: BLE001
                log.debug("zeroconf did not close cleanly: %s", exc)

    async def _register(self, zc: Any) -> None:
        announcing = await zc.async_register_service(self.info, allow_name_change=True)
        await announcing

    def _warn(self, exc: Exception) -> None:
        log.warning("OSCQuery could not be announced over mDNS (%s); clients can still "
                    "connect by address and port", exc)


_LIVE: set[Advert] = set()  # adverts whose thread still runs
_LIVE_LOCK = threading.Lock()


@atexit.register
def _withdraw_all(timeout: float = EXIT_WAIT_S) -> None:
    """At exit: close every advert still live and give their goodbyes up to `timeout`
    seconds in all (their threads are daemons: Python would cut them off)."""
    with _LIVE_LOCK:
        adverts = list(_LIVE)
    for advert in adverts:
        advert.close()
    deadline = time.monotonic() + timeout
    for advert in adverts:
        advert.join(max(0.0, deadline - time.monotonic()))


def advertise(name: str, host: str, port: int) -> Advert | None:
    """Announce `name` at `host`:`port`; None (one line saying what to install) without
    zeroconf, or for an IPv6 host (announced over IPv4 only)."""
    try:
        import zeroconf
    except ImportError:
        log.info("OSCQuery is not announced over mDNS (clients connect by address): %s",
                 INSTALL)
        return None
    if ":" in host:
        log.info("OSCQuery is not announced over mDNS for the IPv6 host %s", host)
        return None
    if is_loopback(host):
        log.info("OSCQuery announced to this machine only (127.0.0.1), as OSC listens on "
                 "loopback; --host 0.0.0.0 announces it on the network")
    return Advert(zeroconf, name, host, port)


def _addresses(host: str) -> list[str]:
    """IPv4 addresses to announce for `host`."""
    if is_loopback(host):
        return ["127.0.0.1"]
    if host not in ("0.0.0.0", ""):
        return [host]
    import ifaddr  # a dependency of zeroconf

    found = [ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips
             if isinstance(ip.ip, str) and not ipaddress.ip_address(ip.ip).is_link_local]
    return sorted(set(found)) or ["127.0.0.1"]


def _server_name() -> str:
    """This machine's name as an mDNS host name."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40].strip("-") or "livegan"
    return f"{name}.local."
