"""The show's web server: OSCQuery, the control page and one WebSocket, over aiohttp on one
daemon thread with its own event loop (it never touches torch or pygame)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from livegan.control.oscquery.answers import Describe, OscQueryAnswers
from livegan.control.web.config import WebConfig
from livegan.control.web.hooks import ShowHooks
from livegan.control.web.routes import same_origin, ui
from livegan.control.web.sockets import Sockets
from livegan.control.web.state import COUNTED, ServerState, loopback
from livegan.errors import LiveganError

log = logging.getLogger(__name__)

STOP_SECONDS = 5.0
MAX_BODY = 64 * 1024  # bytes of a request body (the pairing code's POST is the only one)


class WebServer:
    """OSCQuery (`GET /...`, HOST_INFO, LISTEN over the WebSocket at `/`) and the control page
    (`/ui/`, its WebSocket at `/ws`, preview, thumbnails), on one port or two.

    Served on the OSC host and the OSCQuery port; `web.port` gives the page its own port and
    `web.host` its own address (one not on loopback asks every other device to pair). The
    OSCQuery answers are as livegan.control.oscquery.answers gives them and readable by
    whoever may send OSC (the allow list; only this machine when OSC listens on loopback).
    Bad requests and messages are refused, counted in `counts` and logged at a limited rate.

    Args:
        describe: the namespace and its values now (ShowInputs.oscquery).
        host: the OSC host.
        port: the OSCQuery TCP port (0 picks a free one).
        osc_port: returns the OSC server's UDP port.
        allow: the OSC allow list (None: any client that can reach `host`).
        oscquery: serve OSCQuery (False: the page alone).
        web: the page's settings (None or page False: no page).
        hooks: what the page may ask of the show.
    """

    def __init__(self, describe: Describe, host: str, port: int, osc_port: Callable[[], int],
                 allow: list[str] | None = None, *, oscquery: bool = True,
                 web: WebConfig | None = None, hooks: ShowHooks | None = None) -> None:
        self.answers = OscQueryAnswers(describe, host, osc_port)
        self.host = host
        self.oscquery = oscquery
        self.web = web if web is not None and web.page else None
        self.state = ServerState(self.answers, _bind_host(host), allow, hooks or ShowHooks())
        self.counts = self.state.counts
        """What was served and refused, by kind (state.COUNTS)."""
        self.pairing = self.state.pairing
        self.preview = self.state.preview
        self.sockets = Sockets(self.state)
        self._requested_port = port
        self._ports: dict[str, int] = {}  # "oscquery" / "page" -> bound port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[Any] = []  # aiohttp AppRunners, one per bound port

    # --- the show's side ----------------------------------------------------------------

    @property
    def port(self) -> int:
        """The OSCQuery TCP port once started (the page's, when OSCQuery is off)."""
        return self._ports.get("oscquery") or self._ports.get("page") or self._requested_port

    @property
    def page_port(self) -> int | None:
        """The page's TCP port once started (None: no page)."""
        return self._ports.get("page") if self.web is not None else None

    @property
    def page_host(self) -> str:
        return (self.web.host if self.web is not None and self.web.host else self.host)

    @property
    def trust_loopback(self) -> bool:
        """This machine needs no pairing (tests turn it off to play a device elsewhere)."""
        return self.state.trust_loopback

    @trust_loopback.setter
    def trust_loopback(self, value: bool) -> None:
        self.state.trust_loopback = value

    @property
    def page_url(self) -> str | None:
        """The page's address for this machine's browser (None: no page)."""
        if self.page_port is None:
            return None
        host = _bind_host(self.page_host)
        host = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else \
            f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.page_port}/ui/"

    @property
    def pairs(self) -> bool:
        """Whether devices must pair: the page listens beyond this machine."""
        return self.web is not None and not loopback(_bind_host(self.page_host))

    def shown(self, pixels: Any) -> None:
        """A frame went on screen (main thread; O(1), never encodes here)."""
        self.preview.shown(pixels)

    def set_hud(self, hud: dict[str, Any]) -> None:
        """The HUD figures now (main thread, a few times a second)."""
        self.sockets.values.hud = hud

    def model_changed(self) -> None:
        """A hot-swap finished: pages get the new tree and model."""
        self.sockets.values.tree_due = True

    def midi_seen(self, msg: object) -> None:
        """Each MIDI message the show takes (main thread): learn may use it."""
        if self.sockets.learn.armed:
            self.sockets.learned(self.sockets.learn.midi(msg))

    def osc_seen(self, address: str, args: tuple) -> None:
        """Each UDP OSC message (OSC thread): learn may use it."""
        if self.sockets.learn.armed:
            self.sockets.learned(self.sockets.learn.osc(address, args))

    # --- start and stop -------------------------------------------------------------------

    def start(self) -> WebServer:
        """Bind and serve on a daemon thread. Raises LiveganError when a port cannot be bound."""
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._open())
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                failure.append(exc)
                ready.set()
                self._loop.run_until_complete(self._close())
                self._loop.close()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._close())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="livegan-web", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join(STOP_SECONDS)
            self._thread = None
            raise failure[0]
        if self.oscquery and not loopback(_bind_host(self.host)):
            log.warning("OSCQuery serves the namespace and its values to anyone who can reach "
                        "%s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        """Close every connection and the sockets, and end the thread."""
        self.state.thumbs.stop()
        if self._loop is not None and self._thread is not None and not self._loop.is_closed():
            try:  # queued: stops run_forever even if it has not begun yet
                self._loop.call_soon_threadsafe(self._loop.stop)
            except RuntimeError:  # closed meanwhile
                pass
        if self._thread is not None:
            self._thread.join(STOP_SECONDS)
        self._thread = None

    async def _open(self) -> None:
        web_port = self.web.port if self.web is not None else None
        shared = self.web is not None and (web_port is None or not self.oscquery)
        if self.oscquery or shared:
            app = self._app(oscquery=self.oscquery, page=shared)
            host = self.page_host if shared else self.host
            port = self._requested_port if self.oscquery or web_port is None else web_port
            bound = await self._bind(app, host, port, "OSCQuery" if self.oscquery
                                     else "the control page")
            self._ports["oscquery" if self.oscquery else "page"] = bound
            if shared:
                self._ports["page"] = bound
            if self.oscquery:
                self.answers.websocket = (_bind_host(host), bound)
        if self.web is not None and not shared:
            bound = await self._bind(self._app(oscquery=False, page=True), self.page_host,
                                     web_port or 0, "the control page")
            self._ports["page"] = bound
        self.sockets.start()

    async def _bind(self, app: web.Application, host: str, port: int, what: str) -> int:
        counter = type("Counter", (_AccessCounter,), {"state": self.state})
        runner = web.AppRunner(app, access_log_class=counter, access_log=log,
                               handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, _bind_host(host), port)
        try:
            await site.start()
        except OSError as exc:
            raise LiveganError(f"cannot serve {what} on {host}:{port}: "
                               f"{exc.strerror or exc}") from None
        return runner.addresses[-1][1]

    async def _close(self) -> None:
        await self.sockets.close()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    def _app(self, oscquery: bool, page: bool) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        if page:
            app.router.add_route("*", "/ui", self._to_page)
            app.router.add_route("*", "/ui/{tail:.*}", self._ui)
            app.router.add_route("*", "/ws", self._page_socket)
        if oscquery:
            app.router.add_route("*", "/{tail:.*}", self._oscquery)
        else:
            app.router.add_route("*", "/", self._to_page)
            app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    # --- OSCQuery ---------------------------------------------------------------------------

    async def _oscquery(self, request: web.Request) -> web.StreamResponse:
        state, client = self.state, request.remote or ""
        if request.raw_path.split("?", 1)[0] == "/" and _upgrade(request):
            if not state.may_send_osc(client) or not same_origin(state, request):
                return state.refuse("refused", 403, f"{client} may not send OSC here", request)
            return await self.sockets.serve(request, "oscquery", paired=True)
        if request.method != "GET":
            return state.refuse("refused", 405, f"{request.method} is not served; only GET",
                               request)
        if request.body_exists:
            return state.refuse("refused", 413, "a GET carries no body", request)
        if not state.may_send_osc(client):
            reason = f"{client} is not in the OSC allow list" if state.allow_list \
                else f"OSC listens on {self.host}: OSCQuery answers that machine only"
            return state.refuse("refused", 403, reason, request)
        status, body, reason = self.answers(request.raw_path)
        if status >= 300:
            return state.refuse("refused", status, reason, request)
        state.served(request)
        if body is None:
            return web.Response(status=status, content_type="application/json")
        return web.Response(status=status, body=json.dumps(body).encode(),
                            content_type="application/json")

    # --- the page -----------------------------------------------------------------------------

    async def _to_page(self, request: web.Request) -> web.StreamResponse:
        self.state.served(request)
        raise web.HTTPFound("/ui/")

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        return self.state.refuse("refused", 404, "the page is at /ui/", request)

    async def _page_socket(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        if not _upgrade(request):
            return state.refuse("refused", 400, "/ws is the page's WebSocket", request)
        if not same_origin(state, request):
            return state.refuse("refused", 403, "the WebSocket is for the page itself", request)
        return await self.sockets.serve(request, "page", paired=state.paired(request))

    async def _ui(self, request: web.Request) -> web.StreamResponse:
        return await ui(self.state, request)


class _AccessCounter(AbstractAccessLogger):
    """Counts aiohttp's own refusals (malformed requests, bodies too large): every answer
    that no handler of ours counted."""

    state: ServerState

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if request.get(COUNTED):
            return
        if response.status >= 400:
            self.state.count("refused", f"{request.method} {request.raw_path[:80]} from "
                             f"{request.remote}: HTTP {response.status}")
        else:
            self.state.counts["served"] += 1

    @property
    def enabled(self) -> bool:
        return True


def _upgrade(request: web.BaseRequest) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _bind_host(host: str) -> str:
    return "127.0.0.1" if host == "localhost" else host

