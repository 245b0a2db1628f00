"""`livegan bench --web`: the control page's cost to a show and its slider -> frame latency."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from livegan.bench.show import WINDOW

PHASE_S = 2.0  # seconds of each phase; phases take turns, so ratios hold on a busy machine
SETTLE_S = 0.3  # the start of each phase is not counted (connections opening and closing)
TURNS = ("alone", "page", "alone", "crowd")  # repeated ROUNDS times
ROUNDS = 3
WARMUP_S = 2.0
TABS = 100
FLOOD_RATE = 2000.0  # messages a second from the flooding client (ten times what it may)
LATENCY_FPS = 60.0  # the latency run: a show kept to a 60 Hz projector's pace
LATENCY_SAMPLES = 150  # slider messages timed
SLIDER = "/livegan/dir/0"  # what the timed slider moves


def _show(model: str, backend: str, max_fps: float | None = None):
    """A headless show with its control page on free ports."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from livegan.control.osc.config import OscConfig
    from livegan.perform import Performance
    from livegan.performconfig import PerformConfig
    from livegan.show.window import WindowConfig

    return Performance(PerformConfig(model=model, backend=backend, osc=OscConfig(port=0),
                                     window=WindowConfig(size=WINDOW, max_fps=max_fps), frames=None))


def _quit() -> None:
    import pygame

    pygame.event.post(pygame.event.Event(pygame.QUIT))



def _beside(show: Any, work: Callable[[], None], failed: list[BaseException]) -> None:
    """Run `work` on a thread while the show plays on this one; raise what the work
    reported failing (it appends to `failed`)."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    show.run()
    thread.join(timeout=10)
    if failed:
        raise failed[0]

class LoadRun:
    """A free-running show while another process opens the page (`page`: one page with its
    preview polled five times a second and nine seed thumbnails), a crowd (`crowd`: TABS pages and one client
    flooding) or nothing (`alone`), in turns; frames counted per phase."""

    def __init__(self, model: str, backend: str) -> None:
        self.show = _show(model, backend)
        self.stamps: list[float] = []
        self.show.on_frame = lambda frame: self.stamps.append(time.perf_counter())
        self.spans: dict[str, list[tuple[float, float]]] = {p: [] for p in set(TURNS)}
        self.clients: dict = {}
        self.failed: list[BaseException] = []

    def run(self) -> LoadRun:
        _beside(self.show, self._conduct, self.failed)
        return self

    def fps(self, phase: str) -> float:
        spans = self.spans[phase]
        count = sum(a <= t < b for t in self.stamps for a, b in spans)
        return count / sum(b - a for a, b in spans) if spans else 0.0

    def _conduct(self) -> None:
        process = None
        try:
            while self.show.web is None or self.show.web.page_port is None \
                    or len(self.stamps) < 5:
                time.sleep(0.05)
            base = f"http://127.0.0.1:{self.show.web.page_port}"
            process = subprocess.Popen(
                [sys.executable, "-m", "livegan.bench.webclients", base, "--tabs", str(TABS),
                 "--flood-rate", str(FLOOD_RATE)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            time.sleep(WARMUP_S)
            for _ in range(ROUNDS):
                for phase in TURNS:
                    self._switch(process, phase)
                    start = time.perf_counter()
                    time.sleep(PHASE_S)
                    self.spans[phase].append((start + SETTLE_S, time.perf_counter()))
            self._switch(process, "idle")
            process.stdin.close()
            self.clients = json.loads(process.stdout.read().strip().splitlines()[-1])
            process.wait(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - raised again on the show's thread
            self.failed.append(exc)
        finally:
            if process is not None and process.poll() is None:
                process.kill()
            _quit()

    @staticmethod
    def _switch(process: subprocess.Popen, phase: str) -> None:
        process.stdin.write(("page" if phase == "page" else "crowd" if phase == "crowd"
                             else "idle") + "\n")
        process.stdin.flush()
        answer = process.stdout.readline().strip()
        if answer != f"ok {'idle' if phase == 'alone' else phase}":
            raise RuntimeError(f"the page's clients did not switch to {phase}: {answer!r}")


class LatencyRun:
    """A show kept to LATENCY_FPS and one page whose slider moves a few times a second:
    for each message, the time until the first frame rendered from its value (a frame
    whose control-state version is newer than the one seen just before the send)."""

    def __init__(self, model: str, backend: str) -> None:
        self.show = _show(model, backend, LATENCY_FPS)
        self.pending: list[tuple[float, int]] = []
        self.latencies: list[float] = []
        self.stamps: list[float] = []
        self.show.on_frame = self._frame
        self.failed: list[BaseException] = []

    def run(self) -> LatencyRun:
        _beside(self.show, lambda: asyncio.run(self._slider()), self.failed)
        return self

    def _frame(self, frame) -> None:
        now = time.perf_counter()
        self.stamps.append(now)
        while self.pending and frame.version > self.pending[0][1]:
            self.latencies.append((now - self.pending.pop(0)[0]) * 1000)

    async def _slider(self) -> None:
        import aiohttp

        try:
            while self.show.web is None or self.show.web.page_port is None \
                    or len(self.stamps) < 30:
                await asyncio.sleep(0.05)
            url = f"http://127.0.0.1:{self.show.web.page_port}/ws"
            rng = random.Random(1)
            async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
                await ws.receive(timeout=10)  # hello
                reader = asyncio.ensure_future(_drain(ws))
                while len(self.latencies) < LATENCY_SAMPLES:
                    text = json.dumps({"type": "osc", "address": SLIDER,
                                       "args": [round(rng.uniform(-3, 3), 4)]})
                    self.pending.append((time.perf_counter(), self.show.controls.version))
                    await ws.send_str(text)
                    await asyncio.sleep(0.03 + rng.random() * 0.02)
                reader.cancel()
        except BaseException as exc:  # noqa: BLE001 - raised again on the show's thread
            self.failed.append(exc)
        finally:
            _quit()

    def figures(self) -> dict:
        warm = self.stamps[30:]
        fps = (len(warm) - 1) / (warm[-1] - warm[0]) if len(warm) > 1 else 0.0
        p50, p99 = (float(np.percentile(self.latencies, q)) for q in (50, 99))
        return {"max_fps": LATENCY_FPS, "fps": round(fps, 1), "samples": len(self.latencies),
                "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
                "p99_intervals": round(p99 * fps / 1000, 2) if fps else None}


async def _drain(ws) -> None:
    async for _ in ws:  # values and HUD messages, as a page takes them
        pass


def run_web_bench(model: str = "default", backend: str = "auto") -> dict:
    """The control page's figures (see the README): slider -> frame latency on a show paced
    at 60 fps, and a free-running show's frame rate alone, with a page open (its preview
    polled) and with TABS pages connected while one client floods, in turns."""
    latency = LatencyRun(model, backend).run()
    load = LoadRun(model, backend).run()
    alone = load.fps("alone")
    web = load.show.web
    counts = web.counts if web is not None else {}
    return {
        "model": load.show.engine.info.name, "device": load.show.engine.backend.describe(),
        "resolution": load.show.engine.resolution,
        "slider_latency": latency.figures(),
        "alone_fps": round(alone, 1), "page_fps": round(load.fps("page"), 1),
        "crowd_fps": round(load.fps("crowd"), 1),
        "page_ratio": round(load.fps("page") / alone, 3) if alone else None,
        "crowd_ratio": round(load.fps("crowd") / alone, 3) if alone else None,
        "tabs": TABS, "flood_rate": FLOOD_RATE, "phase_s": PHASE_S, "rounds": ROUNDS,
        "clients": load.clients,
        "server": {k: counts.get(k, 0) for k in ("messages", "flood", "clients", "served")},
        "preview_encoded": web.preview.encoded if web is not None else 0,
    }


def format_web(result: dict) -> str:
    """The control page's figures for humans."""
    r, lat, c = result, result["slider_latency"], result["clients"]
    rows = [
        ("model", f"{r['model']} ({r['resolution']}px) on {r['device']}"),
        ("slider", (f"page slider -> frame p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms = "
                    f"{lat['p99_intervals']} frame intervals at {lat['fps']} fps "
                    f"({lat['samples']} messages)")),
        ("alone", f"{r['alone_fps']} fps"),
        ("page open", (f"{r['page_fps']} fps ({100 * (r['page_ratio'] or 0):.0f}% of alone; "
                       "one page, its preview polled 5 times a second, 9 seed thumbnails "
                       f"rendered in {c.get('explore_ms')} ms at worst)")),
        ("crowd", (f"{r['crowd_fps']} fps ({100 * (r['crowd_ratio'] or 0):.0f}% of alone; "
                   f"{r['tabs']} pages, one client flooding {r['flood_rate']:.0f} msg/s)")),
        ("answers", (f"the page answered a probe in {c.get('probe_p50_ms')} ms (p50), "
                     f"{c.get('probe_max_ms')} ms at worst, during the crowd; "
                     f"{r['server']['flood']} flood messages dropped")),
    ]
    return "\n".join(f"{k:>10}  {v}" for k, v in rows)
