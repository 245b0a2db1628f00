"""Announces the OSCQuery server over mDNS as _oscjson._tcp (zeroconf, an optional extra)."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
from typing import Any

from livegan.control.osc.server import is_loopback

log = logging.getLogger(__name__)

SERVICE = "_oscjson._tcp.local."
INSTALL = "pip install 'livegan[oscquery]'"


class Advert:
    """One mDNS announcement, registered on a daemon thread (probing takes a second or two,
    which the show never waits for) and withdrawn by `close()`.

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
        self.registered = threading.Event()
        self._zeroconf: Any = None
        self._thread = threading.Thread(target=self._register, name="livegan-mdns",
                                        daemon=True)
        self._thread.start()

    def _register(self) -> None:
        try:
            self._zeroconf = self.module.Zeroconf(interfaces=self.interfaces)
            self._zeroconf.register_service(self.info, allow_name_change=True)
        except Exception as exc:  # noqa: BLE001 - no multicast, name taken, interface gone
            log.warning("OSCQuery could not be announced over mDNS (%s); clients can still "
                        "connect by address and port", exc)
            return
        self.registered.set()
        log.info("OSCQuery announced over mDNS as %r on %s", self.info.name.split(".")[0],
                 ", ".join(self.addresses))

    def close(self) -> None:
        """Withdraw the announcement."""
        self._thread.join(10.0)
        if self._zeroconf is not None:
            try:
                if self.registered.is_set():
                    self._zeroconf.unregister_service(self.info)
            finally:
                self._zeroconf.close()
                self._zeroconf = None


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
