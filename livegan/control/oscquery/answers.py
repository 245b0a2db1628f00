"""OSCQuery answers: what `GET /path`, `GET /path?ATTRIBUTE` and `GET /?HOST_INFO` return."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from livegan.control.oscquery.tree import ATTRIBUTES, Entry, Live, Node, build, find, host_info

MAX_TARGET = 2048  # characters of a request's path and query; longer: 414
NAME = "livegan"  # HOST_INFO NAME and the mDNS service name

Describe = Callable[[], tuple[list[Entry], Live]]  # the namespace and its values, now
Answer = tuple[int, object | None, str]  # HTTP status, JSON body (None: none), reason


class OscQueryAnswers:
    """Answers OSCQuery requests from `describe()` at the time of each request, so values
    are current and a hot-swap's new sizes show at once. Only the namespace is answered,
    never a file; the caller serves the answers over HTTP (livegan.control.web.server).

    Args:
        describe: returns the namespace entries and the live values (called on the server's
            thread; it must only read thread-safe state).
        host: the address the server listens on (HOST_INFO's OSC_IP unless a wildcard).
        osc_port: returns the OSC server's UDP port (known once it is bound).
    """

    def __init__(self, describe: Describe, host: str, osc_port: Callable[[], int]) -> None:
        self.describe = describe
        self.host = host
        self.osc_port = osc_port
        self.websocket: tuple[str, int] | None = None
        """Where OSCQuery's WebSocket listens (LISTEN offered), or None."""

    def host_info(self) -> Node:
        """`GET /?HOST_INFO`: where to send OSC, what is offered, and the WebSocket."""
        info = host_info(NAME, self.osc_port(), self.host)
        if self.websocket is not None:
            info["EXTENSIONS"]["LISTEN"] = True
            host, port = self.websocket
            if host not in ("0.0.0.0", "::"):
                info["WS_IP"] = host
            info["WS_PORT"] = port
        return info

    def __call__(self, target: str) -> Answer:
        """The status, JSON body and reason for one GET of `target` (path and query)."""
        if len(target) > MAX_TARGET:
            return 414, None, f"request target longer than {MAX_TARGET} characters"
        parts = urlsplit(target)
        path = unquote(parts.path) or "/"
        if not path.startswith("/") or any(ord(c) < 32 or c == "\x7f" for c in path):
            return 400, None, "not an OSC address"
        query = parts.query
        if query == "HOST_INFO":
            return 200, self.host_info(), ""
        if query and query not in ATTRIBUTES:
            offered = ("LISTEN is a WebSocket command: {\"COMMAND\": \"LISTEN\", "
                       "\"DATA\": \"/address\"}" if self.websocket is not None
                       else "LISTEN is not offered (no websocket): poll ?VALUE") \
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
