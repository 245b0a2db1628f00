"""Browser-like traffic for the control page, from another process: pages on its WebSocket
(one polling the preview), a crowd of tabs, one client flooding; switched from stdin.

    python -m livegan.bench.webclients http://127.0.0.1:12001 [--tabs 100] [--flood-rate R]

stdin lines: "idle" (every connection closed), "page" (one page, its preview polled five
times a second, and the seed explorer's nine thumbnails once), "crowd" (`--tabs` pages, one client flooding at `--flood-rate` and a probe
timing how soon the page answers); each is answered "ok PHASE" once it holds. At the end of
input one JSON line says what happened.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aiohttp

PREVIEW_HZ = 5.0  # a page's preview polls
PROBE_S = 0.25  # the probe's round trips (message sent -> its value back)
FLOOD_BATCH = 50  # flood messages sent between two looks at the clock


class Traffic:
    """The connections of one phase, and what they saw."""

    def __init__(self, base: str, tabs: int, flood_rate: float) -> None:
        self.base = base.rstrip("/")
        self.tabs = tabs
        self.flood_rate = flood_rate
        self.session: aiohttp.ClientSession | None = None
        self.tasks: list[asyncio.Task] = []
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.seed = 0  # explore: each page phase asks for seeds not rendered yet
        self.stats = {"received": 0, "previews": 0, "flood_sent": 0, "errors": 0,
                      "probe_ms": [], "connect_failures": 0, "thumbs": 0, "explore_ms": []}

    async def set(self, phase: str) -> None:
        await self.idle()
        if phase == "page":
            await self._tabs(1)
            self.tasks.append(asyncio.ensure_future(self._preview()))
            self.tasks.append(asyncio.ensure_future(self._explore()))
        elif phase == "crowd":
            await self._tabs(self.tabs)
            self.tasks.append(asyncio.ensure_future(self._flood()))
            self.tasks.append(asyncio.ensure_future(self._probe()))

    async def idle(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        self.tasks, self.sockets = [], []

    async def _tabs(self, count: int) -> None:
        assert self.session is not None
        opened = await asyncio.gather(*(self._open() for _ in range(count)),
                                      return_exceptions=True)
        for ws in opened:
            if isinstance(ws, BaseException):
                self.stats["connect_failures"] += 1
                continue
            self.sockets.append(ws)
            self.tasks.append(asyncio.ensure_future(self._listen(ws)))

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        assert self.session is not None
        ws = await self.session.ws_connect(f"{self.base}/ws", autoping=True)
        await ws.receive(timeout=10)  # hello
        return ws

    async def _listen(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for _ in ws:
            self.stats["received"] += 1

    async def _preview(self) -> None:
        assert self.session is not None
        while True:
            try:
                async with self.session.get(f"{self.base}/ui/preview.jpg") as response:
                    await response.read()
                    self.stats["previews"] += response.status == 200
            except aiohttp.ClientError:
                self.stats["errors"] += 1
            await asyncio.sleep(1 / PREVIEW_HZ)

    async def _explore(self) -> None:
        """The seed explorer opened once: nine thumbnails of seeds nobody asked for yet."""
        assert self.session is not None
        self.seed += 1000
        start = time.perf_counter()
        try:
            async with self.session.get(f"{self.base}/ui/explore.json",
                                        params={"seed": self.seed, "count": 9}) as response:
                items = (await response.json())["items"]
            statuses = await asyncio.gather(*(self._fetch(i["thumb"]) for i in items))
            self.stats["thumbs"] += sum(s == 200 for s in statuses)
            self.stats["explore_ms"].append((time.perf_counter() - start) * 1000)
        except (aiohttp.ClientError, KeyError, ValueError):
            self.stats["errors"] += 1

    async def _fetch(self, path: str) -> int:
        assert self.session is not None
        async with self.session.get(f"{self.base}{path}") as response:
            await response.read()
            return response.status

    async def _flood(self) -> None:
        assert self.session is not None
        async with self.session.ws_connect(f"{self.base}/ws") as ws:
            start, sent = time.perf_counter(), 0
            while True:
                for _ in range(FLOOD_BATCH):
                    await ws.send_str(json.dumps({"type": "osc", "address": "/livegan/speed",
                                                  "args": [0.1 + (sent % 100) / 1000]}))
                    sent += 1
                self.stats["flood_sent"] += FLOOD_BATCH
                ahead = sent / self.flood_rate - (time.perf_counter() - start)
                await asyncio.sleep(max(0.0, ahead))

    async def _probe(self) -> None:
        """How soon the page answers under the crowd: a value sent, and seen coming back."""
        assert self.session is not None
        async with self.session.ws_connect(f"{self.base}/ws") as ws:
            await ws.receive(timeout=10)
            k = 0
            while True:
                k += 1
                value = round(0.001 * (k % 997), 3)
                sent = time.perf_counter()
                await ws.send_str(json.dumps({"type": "osc", "address": "/livegan/morph",
                                              "args": [value]}))
                while True:
                    msg = await ws.receive(timeout=10)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    got = json.loads(msg.data).get("values", {}).get("/livegan/morph")
                    if got is not None and abs(got[0] - value) < 1e-6:
                        self.stats["probe_ms"].append((time.perf_counter() - sent) * 1000)
                        break
                await asyncio.sleep(PROBE_S)


async def serve(base: str, tabs: int, flood_rate: float) -> dict:
    traffic = Traffic(base, tabs, flood_rate)
    connector = aiohttp.TCPConnector(limit=0)
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=connector) as session:
        traffic.session = session
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            phase = line.strip()
            if phase not in ("idle", "page", "crowd"):
                continue
            await traffic.set(phase)
            print(f"ok {phase}", flush=True)
        await traffic.idle()
    probes = sorted(traffic.stats["probe_ms"])
    explores = traffic.stats["explore_ms"]
    return {**traffic.stats, "probe_ms": None, "probes": len(probes),
            "explore_ms": round(max(explores), 1) if explores else None,
            "probe_p50_ms": round(probes[len(probes) // 2], 1) if probes else None,
            "probe_max_ms": round(probes[-1], 1) if probes else None,
            "cpu_s": round(time.process_time(), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the page server, e.g. http://127.0.0.1:12001")
    parser.add_argument("--tabs", type=int, default=100)
    parser.add_argument("--flood-rate", type=float, default=2000.0)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(serve(args.base, args.tabs, args.flood_rate))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
