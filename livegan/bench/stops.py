"""`livegan bench --stops`: what `--max-res` buys on a StyleGAN2 skip model."""

from __future__ import annotations

import time

import numpy as np

from livegan.engine import Engine
from livegan.library import open_model
from livegan.nets import count_gflop

STOP_ROUNDS = 3  # interleaved rounds of the --stops table


def stops_table(model: str, backend: str, frames: int = 2) -> list[dict]:
    """What `--max-res` buys on a StyleGAN2 skip model: every stop from 64 (a small model:
    from a quarter of its size) up to its full size, timed in one process in interleaved rounds (a busy
    machine slows them alike), with each stop's share of the full frame's work and time."""
    full = open_model(model)
    stops = [r for r in (2 ** k for k in range(2, 15))
             if max(4, min(64, full.info.resolution // 4)) <= r <= full.info.resolution]
    engines = [(r, Engine(open_model(model, max_res=r), backend)) for r in stops]
    z = np.random.default_rng(0).standard_normal(full.info.z_dim).astype(np.float32)
    times: dict[int, list[float]] = {r: [] for r in stops}
    for _ in range(STOP_ROUNDS):
        for r, engine in engines:
            engine.render(z)  # warm (and past any one-off work)
            start = time.perf_counter()
            for _ in range(frames):
                engine.render(z)
            times[r].append((time.perf_counter() - start) / frames)
    rows = []
    for r, engine in engines:
        seconds = float(np.median(times[r]))
        rows.append({"max_res": r, "gflop_per_frame": round(count_gflop(engine.model.generator), 3),
                     "generator_fps": round(1 / seconds, 2),
                     "ms_per_frame": round(1000 * seconds, 2),
                     "device": engine.backend.describe()})
        engine.close()
    for row in rows:
        row["work_share"] = round(row["gflop_per_frame"] / max(rows[-1]["gflop_per_frame"], 1e-9), 3)
        row["time_share"] = round(row["ms_per_frame"] / max(rows[-1]["ms_per_frame"], 1e-9), 3)
    return rows


def format_stops(rows: list[dict]) -> str:
    """The --stops table for humans."""
    lines = [f"{'--max-res':>9} {'GFLOP':>7} {'fps':>7} {'ms':>6} {'work':>6} {'time':>6}"]
    for r in rows:
        lines.append(f"{r['max_res']:>9} {r['gflop_per_frame']:>7.1f} {r['generator_fps']:>7} "
                     f"{r['ms_per_frame']:>6} {r['work_share']:>6.0%} {r['time_share']:>6.0%}")
    return "\n".join(lines + [f"on {rows[-1]['device']}"])
