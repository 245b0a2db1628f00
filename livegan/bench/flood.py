"""`livegan bench --flood`: a show's frame rate idle, beside an OSC flood and under it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

from livegan.bench.show import WINDOW

PHASE_S = 1.0  # idle, sink and flooded seconds take turns, so ratios hold on a busy machine
SETTLE_S = 0.1  # the start of each phase is not counted (the senders switching)
PHASES = ("idle", "sink", "flood")  # no sender; the flood into a socket nobody reads; the show


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class FloodBench:
    """A headless show and two sender processes switched on and off in turns.

    In "idle" seconds nothing is sent; in "sink" seconds the flood goes to a socket nobody
    reads (what the sender and the kernel cost the machine); in "flood" seconds it goes to
    the show. Frames are counted per phase.
    """

    def __init__(self, model: str, backend: str, rate: float, seconds: float) -> None:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        from livegan.control.osc.config import OscConfig
        from livegan.perform import Performance
        from livegan.performconfig import PerformConfig
        from livegan.show.window import WindowConfig

        self.rate, self.seconds = rate, seconds
        self.show = Performance(PerformConfig(model=model, backend=backend, osc=OscConfig(port=0),
                                              window=WindowConfig(size=WINDOW), frames=None))
        self.stamps: list[float] = []
        self.show.on_frame = lambda frame: self.stamps.append(time.perf_counter())
        self.spans: dict[str, list[tuple[float, float]]] = {name: [] for name in PHASES}
        self.result: dict = {"model": self.show.engine.info.name,
                             "device": self.show.engine.backend.describe(),
                             "resolution": self.show.engine.resolution, "rate": rate,
                             "seconds": seconds}
        self.failed: list[BaseException] = []

    def run(self) -> dict:
        """Play the show on this thread while the phases run on another; the figures."""
        thread = threading.Thread(target=self._conduct, daemon=True)
        thread.start()
        self.show.run()
        thread.join(timeout=5)
        if self.failed:
            raise self.failed[0]
        self.result["render_errors"] = self.show.stage.errors
        return self.result

    def fps(self, phase: str) -> float:
        spans = self.spans[phase]
        count = sum(a <= t < b for t in self.stamps for a, b in spans)
        return count / sum(b - a for a, b in spans) if spans else 0.0

    def _sender(self, port: int) -> subprocess.Popen:
        show = self.show
        return subprocess.Popen(
            [sys.executable, "-m", "livegan.bench.traffic", "--port", str(port), "--rate",
             str(self.rate), "--seconds", str(self.seconds), "--switched", "--z-dim",
             str(show.engine.z_dim), "--dirs", str(show.controls.n_dirs)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _conduct(self) -> None:
        import pygame

        senders: dict[str, subprocess.Popen] = {}
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
                sink.bind(("127.0.0.1", 0))
                time.sleep(2.0)  # warm-up: allocator, first frames, HUD font
                before, dropped = self.show.osc.stats(), self.show.dropped()
                self.result["rss_before_mb"] = round(rss_mb(), 1)
                senders = {"sink": self._sender(sink.getsockname()[1]),
                           "flood": self._sender(self.show.osc.port)}
                time.sleep(1.0)  # the senders' start-up is not part of any phase
                self._take_turns(senders)
                for process in senders.values():
                    process.stdin.close()  # end of input: a sender stops and reports
                out = senders["flood"].stdout.read()
                for process in senders.values():
                    process.wait(timeout=60)
                time.sleep(0.5)  # what is still in the socket buffer arrives
                self._figures(out, before, self.show.dropped() - dropped)
        except BaseException as exc:  # noqa: BLE001 - raised again on the show's thread
            self.failed.append(exc)
        finally:
            for process in senders.values():
                if process.poll() is None:
                    process.kill()
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    def _take_turns(self, senders: dict[str, subprocess.Popen]) -> None:
        for n in range(len(PHASES) * max(1, round(self.seconds / PHASE_S))):
            phase = PHASES[n % len(PHASES)]
            for name, process in senders.items():
                process.stdin.write("on\n" if name == phase else "off\n")
                process.stdin.flush()
            start = time.perf_counter()
            time.sleep(PHASE_S)
            self.spans[phase].append((start + SETTLE_S, time.perf_counter()))

    def _figures(self, sender_out: str, before: dict, dropped: int) -> None:
        after, idle = self.show.osc.stats(), self.fps("idle")
        try:
            sent = int(json.loads(sender_out.strip().splitlines()[-1])["sent"])
        except (ValueError, KeyError, IndexError):
            sent = -1
        received = after["datagrams"] - before["datagrams"]
        rss = rss_mb()
        self.result.update({
            "idle_fps": round(idle, 1), "sink_fps": round(self.fps("sink"), 1),
            "flood_fps": round(self.fps("flood"), 1),
            "sender_ratio": round(self.fps("sink") / idle, 3) if idle else None,
            "ratio": round(self.fps("flood") / idle, 3) if idle else None,
            "messages_sent": sent, "messages_received": received,
            "lost_before_livegan": max(0, sent - received) if sent >= 0 else None,
            "messages_delivered": after["delivered"] - before["delivered"],
            "messages_coalesced": after["coalesced"] - before["coalesced"],
            "messages_dropped": dropped, "rss_after_mb": round(rss, 1),
            "rss_growth_mb": round(rss - self.result["rss_before_mb"], 1)})


def run_flood_bench(model: str = "default", backend: str = "auto", rate: float = 10_000.0,
                    seconds: float = 10.0) -> dict:
    """A headless show while another process floods it with `rate` well-formed OSC
    messages a second (newest value per address wins), beside idle seconds and seconds
    in which the same flood goes to a socket nobody reads; `seconds` of each, in turns."""
    return FloodBench(model, backend, rate, seconds).run()


def format_flood(result: dict) -> str:
    """The flood benchmark for humans."""
    r = result
    rows = [
        ("model", f"{r['model']} ({r['resolution']}px) on {r['device']}"),
        ("flood", (f"{r['rate']:.0f} msg/s for {r['seconds']:g} s from another process, "
                   "in turns with idle seconds")),
        ("idle", f"{r['idle_fps']} fps"),
        ("sender only", (f"{r['sink_fps']} fps  ({100 * (r['sender_ratio'] or 0):.0f}% of "
                         "idle: the same flood into a socket nobody reads)")),
        ("flooded", f"{r['flood_fps']} fps  ({100 * (r['ratio'] or 0):.0f}% of idle)"),
        ("messages", (f"sent {r['messages_sent']}, received {r['messages_received']}, "
                      f"acted on {r['messages_delivered']}, superseded by a newer value "
                      f"{r['messages_coalesced']}, dropped {r['messages_dropped']}")),
        ("memory", (f"{r['rss_before_mb']} MB before, {r['rss_after_mb']} MB after "
                    f"({r['rss_growth_mb']:+} MB)")),
    ]
    return "\n".join(f"{k:>13}  {v}" for k, v in rows)
