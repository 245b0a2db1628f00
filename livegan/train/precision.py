"""Which arithmetic a training run uses: bf16 autocast where it is measured faster, else fp32."""

from __future__ import annotations

import copy
import logging
import statistics
import time
from collections.abc import Callable

import torch

log = logging.getLogger(__name__)

MARGIN = 1.15  # bf16 must beat fp32 by this factor: rounding costs a little quality
REPEATS = 3  # interleaved timings of each; the medians decide


def cpu_has_bf16_units() -> bool:
    """Whether this CPU has bf16 arithmetic (AVX512-BF16 or AMX); without it, bf16 is slow."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def choose_bf16(precision: str, device: torch.device, step: Callable[[bool], None],
                modules: tuple[torch.nn.Module, ...] = ()) -> bool:
    """True to train under bf16 autocast.

    "fp32" and "bf16" are taken as said. "auto" is bf16 on a GPU; on a CPU without bf16
    units it is fp32; on one with them, `step(bf16)` (a forward and backward of a training
    batch) is timed both ways, interleaved, and bf16 is used if its median is MARGIN times
    faster. The clock is this process's CPU time, not the wall clock: on a machine that
    other programs share, a step that waited for a core would otherwise count as slow (a
    bench beside other jobs once measured 1.12x where bf16 is 1.5x faster, and trained in
    fp32 with a third fewer steps). `modules`' state (BatchNorm statistics, spectral-norm
    vectors) and the random state are put back afterwards, so the timing leaves no trace
    in the run.
    """
    if precision != "auto":
        return precision == "bf16"
    if device.type == "cuda":
        return True
    if device.type != "cpu" or not cpu_has_bf16_units():
        return False
    saved = [copy.deepcopy(m.state_dict()) for m in modules]
    with torch.random.fork_rng(devices=[]):
        times: dict[bool, list[float]] = {False: [], True: []}
        for bf16 in (False, True):  # warm both paths up
            step(bf16)
        for _ in range(REPEATS):
            for bf16 in (False, True):
                start = time.process_time()
                step(bf16)
                times[bf16].append(time.process_time() - start)
    for module, state in zip(modules, saved):
        module.load_state_dict(state)
    fp32, bf16 = (statistics.median(times[k]) for k in (False, True))
    log.info("training step %.0f ms in fp32, %.0f ms in bf16 (CPU time)", fp32 * 1e3,
             bf16 * 1e3)
    return fp32 > bf16 * MARGIN
