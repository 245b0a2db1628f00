"""One WebSocket client of the web server: what it listens to, what waits to be sent to it,
and its allowance of messages a second."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from aiohttp import web

RATE = 200.0  # messages a second a client may send (a burst of as many); the rest dropped


class Client:
    """One WebSocket connection: what it listens to and what waits to be sent to it."""

    def __init__(self, ws: web.WebSocketResponse, kind: str, remote: str, port: int,
                 paired: bool) -> None:
        self.ws = ws
        self.kind = kind  # "page" (/ws) or "oscquery" (/)
        self.remote = remote
        self.port = port
        self.paired = paired
        self.listens: set[str] = set()
        self.outbox: deque[str | bytes] = deque()
        self.pending: dict[str, list] = {}  # values changed since the last values message
        self.pending_hud: dict[str, Any] | None = None
        self.pending_text: str | None = None  # the same message every client in step gets
        self.osc: dict[str, bytes] = {}  # LISTEN: address -> newest OSC message
        self.wake = asyncio.Event()
        self.last_sent = 0.0
        self.tokens = RATE
        self.refilled = time.monotonic()
        self.dropped = 0

    def take_token(self, now: float) -> bool:
        self.tokens = min(RATE, self.tokens + (now - self.refilled) * RATE)
        self.refilled = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def add_values(self, changed: dict[str, list], hud: dict | None, text: str) -> None:
        if not self.pending and self.pending_hud is None:
            self.pending, self.pending_hud, self.pending_text = changed, hud, text
        else:
            self.pending = {**self.pending, **changed}
            self.pending_hud = hud or self.pending_hud
            self.pending_text = None
        self.wake.set()
