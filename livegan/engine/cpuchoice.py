"""`auto` on a CPU: time the CPU paths at start and keep the fastest, never one slower than
plain eager fp32.

The candidates are eager fp32 (the yardstick), the torch CPU backend (its own pick of
layout, precision and TorchScript freezing) and OpenVINO when it is installed. They are
timed in interleaved rounds, so a burst of other work on a shared machine lands on all of
them alike; each gets the median of its rounds, and a candidate must beat eager fp32 by
MARGIN to be chosen over it.

The choice is kept per model weights for the life of the process: a model swapped in
again (a scene, an installation cycling through models) plays on the path it first
chose instead of being timed anew, so its frame rate and memory do not change mid-show.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from livegan.engine.base import Backend, weights_hash
from livegan.engine.cpu import CpuBackend, CpuCaches
from livegan.errors import BackendError

log = logging.getLogger(__name__)

MARGIN = 0.05  # a candidate must be this much faster than eager fp32 (a fraction of its time)
MIN_ROUNDS, MAX_ROUNDS = 3, 9  # interleaved timing rounds, as many as TIMING_BUDGET_S allows
# (fewer when the rounds overrun twice the budget: a machine busier than the warm-up showed)
TIMING_BUDGET_S = 1.5  # seconds of timing at start, all candidates together
FRAMES_PER_ROUND = 2  # frames of each candidate per round (their mean is the round's time)


def _candidates(generator: nn.Module, z_dim: int, n_labels: int,
                caches: CpuCaches) -> list[tuple[str, Callable[[], Backend]]]:
    from livegan.engine.openvino import OpenVinoBackend

    return [
        ("eager fp32", lambda: CpuBackend(generator, z_dim, n_labels, precision="eager",
                                          caches=caches)),
        ("torch", lambda: CpuBackend(generator, z_dim, n_labels, caches=caches)),
        ("openvino", lambda: OpenVinoBackend(generator, z_dim, n_labels)),
    ]


def fastest_cpu_backend(generator: nn.Module, z_dim: int, n_labels: int = 0,
                        caches: CpuCaches | None = None) -> Backend:
    """Build the CPU candidates, time them, return the fastest (eager fp32 unless another
    beats it by MARGIN) and close the rest. Logs the timings and the choice in one line.
    A model timed before with the same `caches` (a show's) gets the path it chose then,
    untimed: caches.chosen maps (weights, z size, labels, threads, candidates) to the name
    of the path chosen."""
    caches = caches or CpuCaches()
    candidates = _candidates(generator, z_dim, n_labels, caches)
    key = (weights_hash(generator), z_dim, n_labels, torch.get_num_threads(),
           tuple(name for name, _ in candidates))
    known = caches.chosen.get(key)
    for name, make in candidates:
        if known == (name,):
            try:
                backend = make()
            except BackendError:
                break  # it built before; if it cannot now, time the candidates again
            log.info("CPU path %s (chosen when this model first played)", backend.describe())
            return backend
    built: list[tuple[str, Backend]] = []
    for name, make in candidates:
        try:
            built.append((name, make()))
        except BackendError as exc:  # not installed, or cannot run this model
            log.info("%s not timed: %s", name, str(exc).splitlines()[0])
    medians = time_interleaved([b for _, b in built], z_dim)
    chosen = choose(medians)
    log.info("CPU paths (median ms a frame, %s): %s; chose %s",
             "interleaved rounds", ", ".join(f"{b.describe()} {m * 1e3:.2f}"
                                             for (_, b), m in zip(built, medians)),
             built[chosen][1].describe())
    for i, (_, backend) in enumerate(built):
        if i != chosen:
            backend.close()
    caches.chosen.put(key, (built[chosen][0],))
    return built[chosen][1]


def choose(medians: list[float], margin: float = MARGIN) -> int:
    """Index of the fastest of `medians` (seconds a frame; [0] is eager fp32), or 0 unless
    it beats eager fp32 by `margin`."""
    eager, others = medians[0], medians[1:]
    best = min(range(len(others)), key=others.__getitem__, default=None)
    return 0 if best is None or others[best] >= eager * (1 - margin) else best + 1


def time_interleaved(backends: list[Backend], z_dim: int) -> list[float]:
    """Median seconds a frame of each backend, over rounds that take turns between them."""
    z = np.random.default_rng(0).standard_normal(z_dim).astype(np.float32)
    first = []
    for backend in backends:  # warm up, and size the rounds to the budget
        start = time.perf_counter()
        backend.render(z)
        first.append(time.perf_counter() - start)
    warm = max(sum(first), 1e-6)  # seconds of one frame of each
    frames = FRAMES_PER_ROUND if warm * FRAMES_PER_ROUND < TIMING_BUDGET_S else 1
    rounds = int(min(MAX_ROUNDS, max(MIN_ROUNDS, TIMING_BUDGET_S // (warm * frames))))
    deadline = time.perf_counter() + 2 * TIMING_BUDGET_S  # a machine busier than the warm-up
    times: list[list[float]] = [[] for _ in backends]
    for r in range(rounds):
        for k in range(len(backends)):
            i = (r + k) % len(backends)  # each round starts with the next one
            start = time.perf_counter()
            for _ in range(frames):
                backends[i].render(z)
            times[i].append((time.perf_counter() - start) / frames)
        if time.perf_counter() > deadline:
            break  # at least one round: a choice from fewer samples, not a stalled start
    return [statistics.median(t) for t in times]
