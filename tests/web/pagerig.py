"""A show's inputs behind a real OSC server and a real page server (no window, no model), and
WebSocket helpers for the control page's tests."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from livegan.control.controls import Controls
from livegan.control.inputs import ShowInputs
from livegan.control.osc.namespace import OscNamespace
from livegan.control.osc.server import OscServer
from livegan.control.web.config import WebConfig
from livegan.control.web.hooks import ShowHooks
from livegan.control.web.server import WebServer
from livegan.patchfile.load import PatchConfig, load_patch, parse_patch

PAGE = WebConfig()  # the page on the OSCQuery port, loopback
WAIT = 5.0  # loopback delivery bound; each wait ends as soon as its message arrives
PATCH = """\
# the show's patch
[[map]]
osc = "/fader"
to = "truncation"
range = [0.2, 1.2]

[scenes.calm]
speed = 0.02
"""


def gradient(model: str | None, seed: int) -> np.ndarray:
    """A stand-in for the show's thumbnail renderer: a 64x64 picture that depends on seed."""
    ramp = np.linspace(0, 255, 64, dtype=np.float32)
    return np.stack([np.add.outer(ramp, ramp) / 2, np.full((64, 64), seed % 256),
                     np.tile(ramp, (64, 1))], axis=-1).astype(np.uint8)


class PageRig:
    """ShowInputs with a patch file in `folder`, its OSC server and a WebServer with the page;
    learned mappings and stored scenes play at once (the show hands them to its main thread)."""

    def __init__(self, folder: Path, patch: str | None = PATCH, web: WebConfig = PAGE,
                 allow: list[str] | None = None, trusted: bool = True,
                 render_thumb: Callable | None = gradient) -> None:
        self.path = folder / "show.toml" if patch is not None else None
        if self.path is not None:
            self.path.write_text(patch, encoding="utf-8")
        self.controls = Controls(z_dim=6, n_dirs=4)
        namespace = OscNamespace(self.controls, ["pc0", "pc1", "warm", "calm"])
        self.inputs = ShowInputs(self.controls, namespace,
                                 load_patch(self.path) if self.path else PatchConfig())
        self.osc = OscServer(self._osc_in, port=0).start()
        self.thumbs_asked: list[tuple[str | None, int]] = []

        def render(model: str | None, seed: int) -> np.ndarray:
            self.thumbs_asked.append((model, seed))
            return render_thumb(model, seed)

        hooks = ShowHooks(
            dispatcher=self.inputs.dispatcher, version=lambda: self.controls.version,
            models=lambda: [{"name": "tiny", "resolution": 32, "arch": "lite"}],
            model_name=lambda: "tiny", render_thumb=render if render_thumb else None,
            patch=lambda: self.inputs.patch, apply_patch=self.inputs.set_patch,
            check_patch=parse_patch,
            patch_text=patch or "", patch_path=self.path, patch_model="tiny")
        self.server = WebServer(self.inputs.oscquery, "127.0.0.1", 0, lambda: self.osc.port,
                                allow, web=web, hooks=hooks)
        self.server.trust_loopback = trusted
        self.server.start()
        self.inputs.on_midi = self.server.midi_seen

    def _osc_in(self, address: str, args: tuple, sender: tuple[str, int]) -> None:
        self.server.osc_seen(address, args)
        self.inputs.dispatcher(address, args, sender)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server.page_port}{path}"

    def close(self) -> None:
        self.server.stop()
        self.osc.stop()


def run(coroutine) -> Any:
    """Run one test's client side to its end."""
    return asyncio.run(asyncio.wait_for(coroutine, 60))


async def until(ws: aiohttp.ClientWebSocketResponse, kind: str,
                check: Callable[[dict], bool] = lambda m: True, timeout: float = WAIT) -> dict:
    """The next JSON message of `kind` that passes `check` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {kind!r} message within {timeout} s")
        msg = await ws.receive(timeout=left)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.CLOSING):
            raise ConnectionError(f"closed while waiting for {kind!r}: {msg.extra}")
        if msg.type != aiohttp.WSMsgType.TEXT:
            continue
        data = json.loads(msg.data)
        if data.get("type") == kind and check(data):
            return data


def outward_address() -> str | None:
    """This machine's address on its network (None: it has only loopback)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # nothing is sent
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class PageClient:
    """The page's WebSocket from a thread of its own, for tests that drive a real show
    frame by frame (the show's main thread never waits on it): messages are kept."""

    def __init__(self, url: str, **connect: Any) -> None:
        self.messages: list[dict] = []
        self.binary: list[bytes] = []
        self._loop = asyncio.new_event_loop()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ready = threading.Event()
        self._failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(url, connect), daemon=True)
        self._thread.start()
        if not self._ready.wait(WAIT) or self._failure:
            raise ConnectionError(f"no WebSocket at {url}: {self._failure}")

    def _run(self, url: str, connect: dict) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve(url, connect))

    async def _serve(self, url: str, connect: dict) -> None:
        try:
            async with aiohttp.ClientSession() as session, \
                    session.ws_connect(url, **connect) as ws:
                self._ws = ws
                self._ready.set()
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        self.messages.append(json.loads(msg.data))
                    elif msg.type == aiohttp.WSMsgType.BINARY:
                        self.binary.append(msg.data)
        except Exception as exc:  # noqa: BLE001 - reported by the constructor or ignored
            self._failure.append(exc)
            self._ready.set()

    def send(self, message: dict) -> None:
        """Queue a message (returns at once)."""
        assert self._ws is not None
        asyncio.run_coroutine_threadsafe(self._ws.send_json(message), self._loop)

    def seen(self, kind: str, check: Callable[[dict], bool] = lambda m: True) -> dict | None:
        """The newest message of `kind` that passes `check`, or None."""
        return next((m for m in reversed(list(self.messages))
                     if m.get("type") == kind and check(m)), None)

    def close(self) -> None:
        ws = self._ws
        if ws is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(ws.close()))
        self._thread.join(WAIT)
        if not self._thread.is_alive():
            self._loop.close()
