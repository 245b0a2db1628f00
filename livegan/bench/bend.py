"""`livegan bench --bend`: what network bending costs, as the generator's frame rate with a
set of bends on and with them off, timed in alternating rounds on one engine."""

from __future__ import annotations

import statistics
import time

import numpy as np

from livegan.bendops import OPS
from livegan.engine import Engine
from livegan.library import open_model

ROUNDS = 7  # alternating rounds of bent and unbent frames; each figure is a median


def bench_bends(layers: list[str]) -> dict[tuple[str, str], tuple[float, ...]]:
    """Every op once, at about a third of its range, spread over the layers coarse to fine
    (the set the bench times; a show rarely has more on)."""
    bends = {}
    for k, op in enumerate(OPS):
        layer = layers[k * len(layers) // len(OPS)]
        bends[(layer, op.name)] = tuple(low + (high - low) * (0.66 if low < 0 else 0.33)
                                        for low, high in zip(op.low, op.high))
    return bends


def _seconds(engine: Engine, z: np.ndarray, frames: int) -> float:
    start = time.perf_counter()
    for _ in range(frames):
        engine.render(z)
    return (time.perf_counter() - start) / frames


def run_bend_bench(model: str = "default", backend: str = "auto", frames: int = 300) -> dict:
    """Generator frame rates with the bench's bends on and off (medians of alternating
    rounds, so a burst of other work lands on both), and the cost in ms a frame."""
    loaded = open_model(model)
    engine = Engine(loaded, backend)
    try:
        bends = bench_bends(engine.bend_layers)
        z = np.random.default_rng(0).standard_normal(engine.z_dim).astype(np.float32)
        per_round = max(3, frames // ROUNDS)
        times: dict[bool, list[float]] = {False: [], True: []}
        for on in (False, True):  # warm up both ways (a first bent frame may build things)
            engine.set_bends(bends if on else {})
            _seconds(engine, z, 3)
        for r in range(ROUNDS):
            for on in ((False, True) if r % 2 == 0 else (True, False)):
                engine.set_bends(bends if on else {})
                times[on].append(_seconds(engine, z, per_round))
        bent_on = engine.bending_backend(bends).describe()
        engine.set_bends({})
        off, on = statistics.median(times[False]), statistics.median(times[True])
        return {
            "model": loaded.info.name, "backend": engine.backend.name,
            "device": engine.backend.describe(), "bent_on": bent_on,
            "resolution": loaded.info.resolution, "layers": engine.bend_layers,
            "bends": [f"{layer}/{op}=" + ",".join(f"{a:g}" for a in amounts)
                      for (layer, op), amounts in bends.items()],
            "generator_fps_off": round(1 / off, 1), "generator_fps_on": round(1 / on, 1),
            "bend_ms_per_frame": round((on - off) * 1000, 3),
            "relative_fps": round(off / on, 3), "frames": per_round * ROUNDS,
        }
    finally:
        engine.close()


def format_bends(result: dict) -> str:
    """The figure line, and what was timed."""
    layers = len({b.split("/")[0] for b in result["bends"]})
    figure = (f"{'bends':>13}  {len(result['bends'])} bends on {layers} layers: generator "
              f"{result['generator_fps_on']:.1f} fps on, {result['generator_fps_off']:.1f} fps "
              f"off ({result['bend_ms_per_frame']:+.2f} ms a frame, "
              f"{100 * result['relative_fps']:.0f}% of the unbent rate)")
    where = f"{result['model']} ({result['resolution']}px) on {result['device']}"
    if result["bent_on"] != result["device"]:
        where += f"; bent frames on {result['bent_on']}"
    return "\n".join([figure, f"{'model':>13}  {where}",
                      f"{'timed':>13}  {' '.join(result['bends'])}"])
