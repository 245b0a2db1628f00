"""The OSCQuery server: the namespace as JSON over HTTP, on one daemon thread."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import unquote, urlsplit

from livegan.control.osc.server import Allowlist, is_loopback
from livegan.control.oscquery.tree import ATTRIBUTES, Entry, Live, build, find, host_info
from livegan.errors import LiveganError
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

MAX_TARGET = 2048  # characters of a request's path and query; longer: 414
REQUEST_SECONDS = 5.0  # a client that sends its request slower than this is cut off
NAME = "livegan"  # HOST_INFO NAME and the mDNS service name

Describe = Callable[[], tuple[list[Entry], Live]]  # the namespace and its values, now


class OscQueryServer:
    """Answers OSCQuery requests (`GET /path`, `GET /path?ATTRIBUTE`, `GET /?HOST_INFO`).

    Every answer is built from `describe()` at the time of the request, so values are
    current and a hot-swap's new sizes show at once. Requests are served one at a time on
    one daemon thread, each connection closed after its answer (HTTP/1.0). Only the
    namespace is served, never a file. Refused: unknown paths (404), unknown attributes
    and malformed requests (400), bodies (413), long targets (414), methods other than
    GET (405), senders outside `allow` (403); each is counted and logged at a limited rate.

    Args:
        describe: returns the namespace entries and the live values (called on the HTTP
            thread; it must only read thread-safe state).
        host: address to listen on, the OSC host (loopback unless the show opens it up).
        port: TCP port (0 picks a free one).
        osc_port: returns the OSC server's UDP port (known once it is bound).
        allow: the OSC allow list (None: any client that can reach `host`).
    """

    def __init__(self, describe: Describe, host: str, port: int, osc_port: Callable[[], int],
                 allow: list[str] | None = None) -> None:
        self.describe = describe
        self.host = host
        self.osc_port = osc_port
        self.counts = {"served": 0, "refused": 0}
        self._requested_port = port
        self._allow = None if allow is None else Allowlist(allow)
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ratelog = RateLimitedLog(log)

    @property
    def port(self) -> int:
        """The TCP port bound once started."""
        return self._httpd.server_address[1] if self._httpd else self._requested_port

    def start(self) -> OscQueryServer:
        """Bind and serve. Raises LiveganError when the port cannot be bound."""
        try:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            server_class = type("Server", (HTTPServer,), {"address_family": family})
            self._httpd = server_class((self.host, self._requested_port), _Handler)
        except OSError as exc:
            raise LiveganError(f"cannot serve OSCQuery on {self.host}:{self._requested_port}: "
                               f"{exc.strerror or exc}") from None
        self._httpd.app = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.2,),
                                        name="livegan-oscquery", daemon=True)
        self._thread.start()
        if not is_loopback(self.host):
            log.warning("OSCQuery serves the namespace and its values to anyone who can reach "
                        "%s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def answer(self, target: str, client: str) -> tuple[int, object | None, str]:
        """The status, JSON body (None: none) and reason for one GET of `target`."""
        if self._allow is not None and not self._allow(client):
            return 403, None, f"{client} is not in the OSC allow list"
        if len(target) > MAX_TARGET:
            return 414, None, f"request target longer than {MAX_TARGET} characters"
        parts = urlsplit(target)
        path = unquote(parts.path) or "/"
        if not path.startswith("/") or any(ord(c) < 32 or c == "\x7f" for c in path):
            return 400, None, "not an OSC address"
        query = parts.query
        if query == "HOST_INFO":
            return 200, host_info(NAME, self.osc_port(), self.host), ""
        if query and query not in ATTRIBUTES:
            offered = "LISTEN is not offered (no websocket): poll ?VALUE" \
                if query.startswith("LISTEN") else f"attributes are {', '.join(ATTRIBUTES)}"
            return 400, None, f"unknown query {query[:40]!r}; {offered}"
        entries, live = self.describe()
        node = find(build(entries, live), path)
        if node is None:
            return 404, None, f"no OSC address {path[:80]!r}"
        if not query:
            return 200, node, ""
        if query not in node:
            return 204, None, f"{path[:80]} has no {query}"
        return 200, {query: node[query]}, ""

    def count(self, status: int, target: str, reason: str) -> None:
        if status < 300:
            self.counts["served"] += 1
        else:
            self.counts["refused"] += 1
            self._ratelog.warning(f"http{status}", "OSCQuery refused %.80r (%d): %s", target,
                                  status, reason)


class _Handler(BaseHTTPRequestHandler):
    server_version = "livegan-oscquery"
    protocol_version = "HTTP/1.0"  # one request a connection: an idle client holds nothing
    timeout = REQUEST_SECONDS

    def do_GET(self) -> None:
        app: OscQueryServer = self.server.app  # type: ignore[attr-defined]
        if self.headers.get("Content-Length", "0").strip() not in ("", "0") \
                or "Transfer-Encoding" in self.headers:
            status, body, reason = 413, None, "a GET carries no body"
        else:
            status, body, reason = app.answer(self.path, self.client_address[0])
        app.count(status, self.path, reason)
        self._reply(status, body, reason)

    def _refuse(self) -> None:
        app: OscQueryServer = self.server.app  # type: ignore[attr-defined]
        app.count(405, self.path, f"{self.command} is not served")
        self._reply(405, None, "only GET is served")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _refuse

    def _reply(self, status: int, body: object | None, reason: str) -> None:
        data = json.dumps(body).encode() if body is not None else \
            json.dumps({"error": reason}).encode() if status >= 400 else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if status == 405:
            self.send_header("Allow", "GET")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (malformed request line, headers too long): counted."""
        app: OscQueryServer = self.server.app  # type: ignore[attr-defined]
        line = getattr(self, "raw_requestline", b"")[:80].decode("latin-1", "replace")
        app.count(code, getattr(self, "path", "") or line, message or "malformed request")
        self.request_version = "HTTP/1.0"  # a status line even for what is not HTTP at all
        self.close_connection = True
        self._reply(code, None, message or "malformed request")

    def log_message(self, format: str, *args: object) -> None:
        log.debug("OSCQuery %s: " + format, self.client_address[0], *args)
