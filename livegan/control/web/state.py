"""What the page server's routes and WebSocket share: who may ask, what was refused, the
pairing, the previews and the show's side."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from typing import Any

from aiohttp import web

from livegan.control.osc.server import Allowlist
from livegan.control.oscquery.answers import OscQueryAnswers
from livegan.control.web.hooks import ShowHooks
from livegan.control.web.pairing import COOKIE, Pairing
from livegan.control.web.preview import Preview, Thumbs
from livegan.ratelog import RateLimitedLog

log = logging.getLogger("livegan.control.web.server")

#: Every count in `counts`: HTTP answers and refusals, then WebSocket traffic.
COUNTS = ("served", "refused", "bad_path", "unpaired", "clients", "messages", "binary", "huge",
          "malformed", "nonfinite", "flood", "unknown", "bad_args", "bad_name", "clipped",
          "not_offered", "slow", "pair_wrong", "pair_locked", "save_refused", "learn_refused")
#: Set on a request whose answer was counted (aiohttp's own refusals are counted apart).
COUNTED = web.RequestKey("livegan_counted", bool) if hasattr(web, "RequestKey") \
    else "livegan_counted"
HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
MODELS_S = 10.0  # the model list is read again after this long


def loopback(ip: str | None) -> bool:
    """Whether a client address is this machine (IPv4-mapped IPv6 included)."""
    try:
        address = ipaddress.ip_address((ip or "").split("%", 1)[0])
    except ValueError:
        return ip == "localhost"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def session_token(request: web.BaseRequest) -> str | None:
    """The session a request carries: the cookie, the X-Livegan-Session header or ?token=."""
    return request.cookies.get(COOKIE) or request.headers.get("X-Livegan-Session") \
        or request.query.get("token")


class ServerState:
    """The shared part of one web server.

    Args:
        answers: the OSCQuery answers (and the namespace's `describe`).
        host: the OSC host.
        allow: the OSC allow list (None: any client that can reach `host`).
        hooks: what the page may ask of the show.
    """

    def __init__(self, answers: OscQueryAnswers, host: str, allow: list[str] | None,
                 hooks: ShowHooks) -> None:
        self.answers = answers
        self.host = host
        self.hooks = hooks
        self.counts = dict.fromkeys(COUNTS, 0)
        self.pairing = Pairing()
        self.trust_loopback = True  # tests set False to play a device on the network
        self.preview = Preview()
        self.thumbs = Thumbs(hooks.render_thumb, hooks.model_name)
        self._allow = None if allow is None else Allowlist(allow)
        self._models: tuple[float, list[dict[str, Any]]] = (-1e9, [])
        self._ratelog = RateLimitedLog(log)

    @property
    def allow_list(self) -> bool:
        return self._allow is not None

    def may_send_osc(self, client: str) -> bool:
        """Whether `client` may read OSCQuery and use its WebSocket: the OSC allow list, and
        only this machine when OSC listens on loopback."""
        if self._allow is not None and not self._allow(client):
            return False
        return loopback(client) or not loopback(self.host)

    def trusted(self, client: str | None) -> bool:
        """Whether `client` needs no pairing (this machine)."""
        return self.trust_loopback and loopback(client)

    def paired(self, request: web.BaseRequest) -> bool:
        """Whether the page's request may steer: this machine, or a paired session."""
        return self.trusted(request.remote) or self.pairing.valid(session_token(request))

    def served(self, request: web.BaseRequest) -> None:
        self.counts["served"] += 1
        request[COUNTED] = True

    def refuse(self, kind: str, status: int, reason: str, request: web.BaseRequest,
               ) -> web.Response:
        """A counted, rate-logged refusal."""
        self.count(kind, f"{request.method} {request.raw_path[:80]} from {request.remote}: "
                   f"{reason}")
        request[COUNTED] = True
        response = web.json_response({"error": reason}, status=status, headers=HEADERS)
        if status == 405:
            response.headers["Allow"] = "GET"
        return response

    def count(self, kind: str, detail: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self._ratelog.warning(kind, "control page refused %s (%s)", detail, kind)

    async def models(self) -> list[dict[str, Any]]:
        """The installed models with their thumbnails' addresses (read at most every
        MODELS_S, off the loop)."""
        read_at, models = self._models
        if time.monotonic() - read_at > MODELS_S:
            loop = asyncio.get_running_loop()
            try:
                found = await loop.run_in_executor(None, self.hooks.models)
            except Exception as exc:  # noqa: BLE001 - an unreadable folder: no models listed
                self._ratelog.warning("models", "cannot list the models: %s", exc)
                found = []
            models = [{**m, "thumb": f"/ui/thumbs/{m['name']}.jpg"} for m in found]
            self._models = (time.monotonic(), models)
        return models
