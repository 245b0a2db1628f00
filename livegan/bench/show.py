"""`livegan bench`: generator, end-to-end and naive-loop frame rates, from one run."""

from __future__ import annotations

import os
import platform
import sys
import threading
import time

import numpy as np
import torch

from livegan.bench.flags import CANVAS_WINDOW  # the canvas runs' window, stated once
from livegan.engine import Engine, off_main_thread
from livegan.engine.canvas import canvas_request
from livegan.library import open_model
from livegan.modelfile import Model
from livegan.nets import count_gflop
from livegan.show.window import WindowConfig

WINDOW = WindowConfig().size  # the show's default window

MIN_LATENCY_SAMPLES = 5  # OSC messages timed before the end-to-end run may stop
WARMUP_FRAMES = 10  # frames a show plays before its frame rate and OSC latency are timed
LATENCY_WAIT_S = 10.0  # longest it plays on past `frames` waiting for them
CONTENDED_P99_MS = 100.0  # OSC -> frame p99 a show keeps beside a CPU-bound process
PACED_FPS = 60.0  # the paced run: --max-fps 60, a show kept to a 60 Hz projector's pace
SPEEDUP_PAIRS = 3  # (free-running show, naive loop right after it) pairs behind the speedup


def matmul_peak_gflops(device: torch.device, dtype: torch.dtype = torch.float32,
                       seconds: float = 0.5, n: int = 1024) -> float:
    """Best matmul rate of this device in `dtype` over a short burst: the yardstick for
    efficiency, in the same precision the backend computes in."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(4):
            torch.mm(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = max(best, 4 * 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def _rate(fn, frames: int) -> float:
    for _ in range(min(10, frames)):
        fn()
    start = time.perf_counter()
    for _ in range(frames):
        fn()
    return frames / (time.perf_counter() - start)


def generator_fps(engine: Engine, frames: int) -> float:
    """The engine alone: latent in, uint8 frame out, no window."""
    z = np.random.default_rng(0).standard_normal(engine.z_dim).astype(np.float32)
    return _rate(lambda: engine.render(z), frames)


def baseline_fps(model: Model, frames: int) -> float:
    """The loop a user would write: eager fp32, synchronous generate -> numpy -> surfarray
    -> scale -> flip, all on one thread (pygame's display initialised by the caller)."""
    import pygame

    g = model.generator
    screen = pygame.display.set_mode(WINDOW)
    z = torch.randn(1, model.info.z_dim)

    def step() -> None:
        with torch.no_grad():
            img = g(z)
        arr = ((img[0].permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255).astype(np.uint8)
        surf = pygame.surfarray.make_surface(arr.swapaxes(0, 1))
        screen.blit(pygame.transform.scale(surf, WINDOW), (0, 0))
        pygame.display.flip()
        pygame.event.pump()

    return _rate(step, frames)


def naive_beside(model: Model, frames: int) -> float | None:
    """The naive loop's frame rate, taken right after a show so that the two figures share
    the machine's speed of the moment. It runs on a thread that then exits, as engines are
    built (see off_main_thread), so the next show's render thread keeps the cores to
    itself. None on macOS, which wants windows on the main thread: there the bench runs it
    once, after the last show (naive_here)."""
    if windows_need_main_thread():
        return None
    return off_main_thread(lambda: naive_here(model, frames))


def windows_need_main_thread() -> bool:
    """macOS opens windows on the main thread only."""
    return sys.platform == "darwin"


def naive_here(model: Model, frames: int) -> float:
    """The naive loop on this thread, with pygame's display opened and closed around it."""
    import pygame

    pygame.display.init()
    try:
        return baseline_fps(model, frames)
    finally:
        pygame.display.quit()


def end_to_end(model: str, backend: str, frames: int,
               canvas: str | tuple[int, int] = "off",
               max_fps: float | None = None) -> dict[str, float]:
    """A real headless show (render thread, frame queue, window) with OSC messages arriving;
    returns its frame rate and OSC-to-frame latency percentiles. With a canvas the show's
    window is CANVAS_WINDOW; with max_fps the show renders no faster (--max-fps)."""
    import pygame

    from livegan.control.osc.config import OscConfig
    from livegan.control.osc.sender import OscSender
    from livegan.perform import Performance
    from livegan.performconfig import PerformConfig

    window = WindowConfig(size=WINDOW if canvas == "off" else CANVAS_WINDOW, canvas=canvas,
                          max_fps=max_fps)
    cfg = PerformConfig(model=model, backend=backend, osc=OscConfig(port=0), window=window,
                        frames=None)
    show = Performance(cfg)
    pending: list[tuple[float, int]] = []  # (send time, control version just before it)
    latencies: list[float] = []
    stamps: list[float] = []
    done = threading.Event()

    def on_frame(frame) -> None:
        now = time.perf_counter()
        stamps.append(now)
        # Only the sender writes controls here, so a frame whose snapshot is newer than the
        # version seen just before a send was rendered from that message's state.
        while pending and frame.version > pending[0][1]:
            latencies.append((now - pending.pop(0)[0]) * 1000)
        # A fast model shows `frames` before a few OSC messages have arrived: play on
        # until the latency figures have samples too (bounded, for a stalled sender).
        enough = len(latencies) >= MIN_LATENCY_SAMPLES or now - stamps[0] > LATENCY_WAIT_S
        if len(stamps) >= frames and enough and not done.is_set():
            done.set()
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    def sender() -> None:
        # from the end of the warm-up on, as the frame rate: a fresh process's first frames
        # (the window opening, the first inference on the render thread) are start-up
        while (not show.osc.running or len(stamps) < WARMUP_FRAMES) and not done.is_set():
            time.sleep(0.01)
        out = OscSender("127.0.0.1", show.osc.port)
        rng = np.random.default_rng(1)
        while not done.is_set():
            before = show.controls.version
            pending.append((time.perf_counter(), before))
            out.send("/livegan/z/0", float(rng.standard_normal()))
            time.sleep(0.03 + rng.random() * 0.02)  # no polling: the show runs undisturbed
        out.close()

    show.on_frame = on_frame
    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        show.run()
    finally:
        done.set()
    thread.join(timeout=2)
    warm = stamps[min(WARMUP_FRAMES, len(stamps) - 1):]
    fps = (len(warm) - 1) / (warm[-1] - warm[0]) if len(warm) > 1 else 0.0
    return {"fps": fps, "p50": _pct(latencies, 50), "p99": _pct(latencies, 99)}


def _show_figures(run: dict[str, float]) -> dict:
    """A show run's OSC -> frame percentiles (ms) and frame interval (ms; None at 0 fps)."""
    return {"osc_latency_ms": {"p50": round(run["p50"], 2), "p99": round(run["p99"], 2)},
            "frame_interval_ms": round(1000 / run["fps"], 2) if run["fps"] else None}


def _paced_figures(run: dict[str, float]) -> dict:
    """The paced run's figures: its frame rate, and OSC -> frame in ms and in its intervals."""
    return {"max_fps": PACED_FPS, "fps": round(run["fps"], 1), **_show_figures(run),
            "p99_intervals": round(run["p99"] * run["fps"] / 1000, 2) if run["fps"] else None}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(values, q)) if len(values) > 1 else values[0]


def run_bench(model: str = "default", backend: str = "auto", frames: int = 300,
              canvas: str | tuple[int, int] = "off", contended: bool = False,
              max_res: int = 0) -> dict:
    """All figures of the benchmark (see docs/speed.md), from one run;
    with a canvas ("auto" or (width, height)) also the canvas's generator and end-to-end
    frame rates (under "canvas"). Contended: every figure is taken while a CPU-bound process
    (livegan.bench.cpuload) runs beside the bench; "contended" says what it ran and
    repeats the show's figures under that name (None when not contended)."""
    if not contended:
        return {**_figures(model, backend, frames, canvas, max_res), "contended": None}
    from livegan.bench.cpuload import Contender

    with Contender() as load:
        result = _figures(model, backend, frames, canvas, max_res)
    return {**result, "contended": {
        "load": load.report(), "end_to_end_fps": result["end_to_end_fps"],
        "osc_latency_ms": result["osc_latency_ms"], "target_p99_ms": CONTENDED_P99_MS}}


def _figures(model: str, backend: str, frames: int, canvas: str | tuple[int, int],
             max_res: int = 0) -> dict:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

    loaded = open_model(model, max_res=max_res)
    # The shows first, while this thread has run no parallel work (see off_main_thread).
    # Speedup compares each free-running show with a naive loop run right after it, three
    # times over the bench: a machine whose speed drifts within the run (turbo, other
    # programs) moves both figures of a pair alike.
    first, e2e = _speedup_pair(loaded, model, backend, frames)
    paced = end_to_end(model, backend, frames, max_fps=PACED_FPS)
    e2e_canvas = end_to_end(model, backend, frames, canvas) if canvas != "off" else None
    pairs = [first] + [_speedup_pair(loaded, model, backend, max(30, frames // 2))[0]
                       for _ in range(SPEEDUP_PAIRS - 1)]
    if any(p["naive"] is None for p in pairs):  # macOS: one naive run, after every show
        last = naive_here(loaded, max(30, frames // 3))
        pairs = [{**p, "naive": last} for p in pairs]
    engine = Engine(loaded, backend)
    device = getattr(engine.backend, "device", torch.device("cpu"))
    dtype = getattr(engine.backend, "dtype", torch.float16 if device.type == "cuda"
                    else torch.float32)
    peak = matmul_peak_gflops(device, dtype)
    gflop = count_gflop(loaded.generator)
    gen = generator_fps(engine, frames)
    canvas_figures = canvas_bench(engine, frames, canvas, e2e_canvas)
    engine.close()
    shows, naives = (float(np.mean([p[k] for p in pairs])) for k in ("show", "naive"))
    return {
        "model": loaded.info.name, "backend": engine.backend.name,
        "device": engine.backend.describe(), "cpu": platform.processor() or platform.machine(),
        "resolution": loaded.info.resolution, "generator_fps": round(gen, 1),
        "end_to_end_fps": round(shows, 1), "baseline_fps": round(naives, 1),
        "speedup": round(shows / naives, 2) if naives else None,
        "speedup_pairs": [{"end_to_end_fps": round(p["show"], 1),
                           "baseline_fps": round(p["naive"], 1)} for p in pairs],
        "gflop_per_frame": round(gflop, 3), "matmul_peak_gflops": round(peak, 1),
        "efficiency": round(gflop * gen / peak, 3) if peak else None,
        **_show_figures(e2e),
        "paced": _paced_figures(paced),
        "precision": str(dtype).replace("torch.", ""),
        "peak_memory_mb": round(peak_memory_mb(device), 1),
        "torch": torch.__version__, "frames": frames, "canvas": canvas_figures,
    }


def _speedup_pair(loaded: Model, model: str, backend: str,
                  frames: int) -> tuple[dict, dict[str, float]]:
    """A free-running show, then the naive loop at once: ({show, naive}, the show's run)."""
    run = end_to_end(model, backend, frames)
    return {"show": run["fps"], "naive": naive_beside(loaded, max(30, frames // 3))}, run


def canvas_bench(engine: Engine, frames: int, canvas: str | tuple[int, int],
                 e2e: dict[str, float] | None) -> dict | None:
    """The cost of a live canvas: generator fps with it, beside the end-to-end figures of a
    show with it (None: no canvas asked; a model that cannot grow reports no figures)."""
    request = canvas_request(canvas, CANVAS_WINDOW)
    if request is None or e2e is None:
        return None
    engine.set_canvas(request)
    if engine.canvas is None:
        return {"size": None, "note": "the model does not grow with a spatial latent"}
    figures = {"size": list(engine.canvas.size), "cells": list(engine.canvas.cells),
               "window": list(CANVAS_WINDOW),
               "generator_fps": round(generator_fps(engine, frames), 1),
               "end_to_end_fps": round(e2e["fps"], 1)}
    engine.set_canvas(None)
    return figures


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory of this process: device memory on CUDA, resident set size on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resolution_table(model: str, backend: str, resolutions: list[int], frames: int) -> list[dict]:
    """How cost grows with resolution: the model's architecture and widths at each size,
    with random weights (speed does not depend on what was learned)."""
    from livegan.modelfile import Model, ModelInfo
    from livegan.nets import build_generator

    info = open_model(model).info
    rows = []
    for res in resolutions:
        config = {**info.config, "resolution": res}
        g = build_generator(info.arch, config).eval()
        fake = Model(ModelInfo(info.path, info.name, info.arch, config, res, info.z_dim), g, None)
        engine = Engine(fake, backend)
        fps = generator_fps(engine, frames)
        gflop = count_gflop(g)
        rows.append({"resolution": res, "gflop_per_frame": round(gflop, 3),
                     "generator_fps": round(fps, 1), "ms_per_frame": round(1000 / fps, 2),
                     "device": engine.backend.describe()})
        engine.close()
    return rows


def format_table(result: dict) -> str:
    """The human-readable report."""
    lat, load = result["osc_latency_ms"], result.get("contended")
    under = " under contention" if load else ""
    rows = [
        ("model", f"{result['model']} ({result['resolution']}px)"),
        ("backend", f"{result['backend']} on {result['device']}"),
        ("generator", f"{result['generator_fps']:.1f} fps"),
        ("end to end", f"{result['end_to_end_fps']:.1f} fps (window, headless{under})"),
        ("naive loop", f"{result['baseline_fps']:.1f} fps"),
        ("speedup", f"{result['speedup']}x" + _pair_ratios(result.get("speedup_pairs"))),
        ("work", (f"{result['gflop_per_frame']} GFLOP/frame, matmul peak "
                 f"{result['matmul_peak_gflops']} GFLOP/s, efficiency "
                 f"{100 * (result['efficiency'] or 0):.0f}%")),
        ("memory", f"peak {result['peak_memory_mb']} MB, {result['precision']}"),
        ("OSC -> frame", (f"p50 {lat['p50']} ms, p99 {lat['p99']} ms{under} "
                         f"(frame interval {result['frame_interval_ms']} ms"
                         + (f", target p99 <= {load['target_p99_ms']:.0f} ms)" if load else ")"))),
    ]
    paced = result.get("paced")
    if paced:
        plat = paced["osc_latency_ms"]
        rows.append((f"at {paced['max_fps']:.0f} fps", (
            f"--max-fps {paced['max_fps']:.0f}: {paced['fps']} fps, OSC -> frame p50 "
            f"{plat['p50']} ms, p99 {plat['p99']} ms = {paced['p99_intervals']} frame "
            f"intervals ({paced['frame_interval_ms']} ms)")))
    if load:
        work = load["load"]
        rows.insert(0, ("CONTENDED", (f"every figure measured beside a CPU-bound process: "
                                      f"{work['work']}, {work['threads']} thread, "
                                      f"{work['gflops']} GFLOP/s")))
    c = result.get("canvas")
    if c and c.get("size"):
        rows.append(("canvas", (f"{c['size'][0]}x{c['size'][1]} ({c['cells'][0]}x"
                                f"{c['cells'][1]} cells): generator {c['generator_fps']:.1f} fps,"
                                f" end to end {c['end_to_end_fps']:.1f} fps ({c['window'][0]}x"
                                f"{c['window'][1]} window)")))
    elif c:
        rows.append(("canvas", c["note"]))
    return "\n".join(f"{k:>13}  {v}" for k, v in rows)



def _pair_ratios(pairs: list[dict] | None) -> str:
    """' (3 shows, each over the naive loop right after it: 1.62, 1.71, 1.55)', or ''."""
    if not pairs:
        return ""
    ratios = ", ".join(f"{p['end_to_end_fps'] / p['baseline_fps']:.2f}" if p["baseline_fps"]
                       else "-" for p in pairs)
    return f" ({len(pairs)} shows, each over the naive loop right after it: {ratios})"


def format_resolutions(rows: list[dict]) -> str:
    """The resolution table for humans."""
    lines = [f"{'resolution':>11} {'GFLOP':>8} {'fps':>8} {'ms/frame':>9}"]
    for r in rows:
        lines.append(f"{r['resolution']:>11} {r['gflop_per_frame']:>8} {r['generator_fps']:>8} "
                     f"{r['ms_per_frame']:>9}")
    return "\n".join(lines)
