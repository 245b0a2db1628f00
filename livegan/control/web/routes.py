"""The page's HTTP routes under /ui/: its files, pairing, the preview, thumbnails, explore."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from pathlib import Path

from aiohttp import web

from livegan.control.web.pairing import COOKIE, PairingRefused
from livegan.control.web.preview import Key
from livegan.control.web.state import HEADERS, ServerState

STATIC = Path(__file__).parent / "static"  # the page's files: nothing else is served
STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
                ".png": "image/png", ".svg": "image/svg+xml", ".ico": "image/x-icon",
                ".json": "application/json", ".webmanifest": "application/manifest+json"}
STATIC_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
THUMB = re.compile(r"thumbs/([A-Za-z0-9_.-]{1,128})\.jpg")
EXPLORE_THUMB = re.compile(r"explore/(\d{1,10})\.jpg")
THUMB_SEED = 0  # the seed a model's thumbnail shows
THUMB_WAIT_S = 30.0  # a thumbnail request waits this long for the worker, then 503
EXPLORE_MAX = 64  # thumbnails one explore.json asks for at most
SEED_MAX = 2**32 - 1


async def ui(server: ServerState, request: web.Request) -> web.StreamResponse:
    """Everything under /ui/: the page's own files for anyone who reaches it (the page asks
    for the pairing code itself), the rest only for this machine or a paired device."""
    tail = request.path[len("/ui/"):]
    if not _well_formed(tail):
        return server.refuse("bad_path", 404, "not a file of the page", request)
    if tail == "pair":
        return await _pair(server, request)
    if request.method not in ("GET", "HEAD"):
        return server.refuse("refused", 405, f"{request.method} is not served here", request)
    if tail in ("", "index.html"):
        return _static(server, request, "index.html")
    if tail in ("preview.jpg", "explore.json") or tail.startswith(("thumbs/", "explore/")):
        if not server.paired(request):
            return server.refuse("unpaired", 403, "pair this device first: type the code the "
                                 "show prints", request)
        if tail == "preview.jpg":
            return await _preview(server, request)
        if tail == "explore.json":
            return await _explore(server, request)
        if match := THUMB.fullmatch(tail):
            return await _model_thumb(server, request, match.group(1))
        if match := EXPLORE_THUMB.fullmatch(tail):
            return await _seed_thumb(server, request, int(match.group(1)))
    if STATIC_NAME.fullmatch(tail) and ".." not in tail:
        return _static(server, request, tail)
    return server.refuse("bad_path", 404, "not a file of the page", request)


def _well_formed(tail: str) -> bool:
    """No way out of /ui/: no empty, . or .. segments, backslashes or control characters."""
    if not tail:
        return True
    if any(ord(c) < 32 or c in "\\\x7f" for c in tail):
        return False
    return all(part not in ("", ".", "..") for part in tail.split("/"))


def _static(server: ServerState, request: web.Request, name: str) -> web.StreamResponse:
    """One file of static/ by its exact name (listed, never a path built from the request)."""
    files = {p.name: p for p in STATIC.iterdir() if p.is_file() and not p.is_symlink()} \
        if STATIC.is_dir() else {}
    path = files.get(name)
    if path is None or path.suffix not in STATIC_TYPES:
        return server.refuse("bad_path", 404, "not a file of the page", request)
    server.served(request)
    return web.Response(body=path.read_bytes(), content_type=STATIC_TYPES[path.suffix],
                        charset="utf-8" if path.suffix in (".html", ".js", ".css") else None,
                        headers=HEADERS)


def same_origin(server: ServerState, request: web.BaseRequest) -> bool:
    """A browser request that may steer comes from the page itself: its Origin (when sent)
    is this server, and this machine's requests name it by address (no DNS rebinding)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return False
    if server.trusted(request.remote):
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") \
            else request.host
        host = host.strip("[]")
        if host != "localhost":
            try:
                ipaddress.ip_address(host)
            except ValueError:
                return False
    return True


async def _pair(server: ServerState, request: web.Request) -> web.StreamResponse:
    """POST /ui/pair {"code": "123456"}: a session cookie (HttpOnly, SameSite=Strict) and
    the token for a right code; a wrong one is counted, and five lock the address out."""
    if request.method != "POST":
        return server.refuse("refused", 405, "POST the code", request)
    if not same_origin(server, request):
        return server.refuse("refused", 403, "pair from the page itself", request)
    client = request.remote or ""
    if server.trusted(client):
        server.served(request)
        return web.json_response({"type": "pair", "ok": True}, headers=HEADERS)
    try:
        data = json.loads(await request.text())
        code = str(data["code"]).strip()[:32]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return server.refuse("malformed", 400, "send {\"code\": \"123456\"}", request)
    try:
        token = server.pairing.attempt(client, code)
    except PairingRefused as exc:
        response = server.refuse(exc.kind, 403, str(exc), request)
        response.text = json.dumps({"type": "pair", "ok": False, "message": str(exc)})
        return response
    server.served(request)
    response = web.json_response({"type": "pair", "ok": True, "token": token}, headers=HEADERS)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
    return response


async def _preview(server: ServerState, request: web.Request) -> web.StreamResponse:
    data = server.preview.ready()
    if data is None:
        data = await asyncio.get_running_loop().run_in_executor(None, server.preview.jpeg)
    if data is None:
        return server.refuse("refused", 503, "no frame shown yet", request)
    server.served(request)
    return web.Response(body=data, content_type="image/jpeg", headers=HEADERS)


def _integer(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} is a whole number, got {text[:20]!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} is from {low} to {high}, got {value}")
    return value


async def _explore(server: ServerState, request: web.Request) -> web.StreamResponse:
    """explore.json?seed=S&count=9&step=1: thumbnails of seeds S, S+step, ... (rendered in
    the background, newest request first)."""
    try:
        seed = _integer(request, "seed", 0, 0, SEED_MAX)
        count = _integer(request, "count", 9, 1, EXPLORE_MAX)
        step = _integer(request, "step", 1, -1_000_000, 1_000_000)
    except ValueError as exc:
        return server.refuse("bad_args", 400, str(exc), request)
    seeds = [(seed + k * step) % (SEED_MAX + 1) for k in range(count)]
    for s in reversed(seeds):  # the worker takes the newest first: the first seed first
        server.thumbs.request(server.thumbs.key(None, s))
    server.served(request)
    return web.json_response({"items": [{"seed": s, "thumb": f"/ui/explore/{s}.jpg"}
                                        for s in seeds]}, headers=HEADERS)


async def _model_thumb(server: ServerState, request: web.Request,
                       name: str) -> web.StreamResponse:
    names = {m.get("name") for m in await server.models()}
    if name not in names:
        return server.refuse("bad_path", 404, f"no model {name!r} in the model folders",
                             request)
    return await _thumb(server, request, server.thumbs.key(name, THUMB_SEED))


async def _seed_thumb(server: ServerState, request: web.Request, seed: int) -> web.StreamResponse:
    if seed > SEED_MAX:
        return server.refuse("bad_args", 404, f"seeds go up to {SEED_MAX}", request)
    return await _thumb(server, request, server.thumbs.key(None, seed))


async def _thumb(server: ServerState, request: web.Request, key: Key) -> web.StreamResponse:
    known, data = server.thumbs.cached(key)
    if not known:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bytes | None] = loop.create_future()

        def finish(result: bytes | None) -> None:  # on the worker thread
            try:
                loop.call_soon_threadsafe(lambda: done.done() or done.set_result(result))
            except RuntimeError:  # the server stopped meanwhile
                pass

        server.thumbs.request(key, finish)
        try:
            data = await asyncio.wait_for(done, THUMB_WAIT_S)
        except asyncio.TimeoutError:
            return server.refuse("refused", 503, "the thumbnail is not ready yet", request)
    if data is None:
        return server.refuse("refused", 503, "no thumbnail for this model", request)
    server.served(request)
    return web.Response(body=data, content_type="image/jpeg",
                        headers={**HEADERS, "Cache-Control": "max-age=600"})
