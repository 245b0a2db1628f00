"""A CPU-bound neighbour for `livegan bench --contended`: one process spinning on matmuls.

`Contender` starts `python -m livegan.bench.cpuload` (numpy matmuls on one thread, at the
caller's own priority: a render job or a browser beside the show, not a background task) and
always stops it on leaving its `with` block, on an error or Ctrl-C too. The process also
stops by itself when its parent goes away (its stdin closes), so a killed bench leaves no
spinning process behind.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

SIZE = 256  # matmul side: a few ms a product, well inside one core's caches
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
STOP_WAIT_S = 5.0  # how long a stop request may take before the process is killed


class Contender:
    """`with Contender() as load:` a CPU-bound process runs; `load.report()` says how much
    work it did and how, after the block."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self.process: subprocess.Popen | None = None
        self.matmuls = 0
        self.seconds = 0.0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def __enter__(self) -> Self:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "livegan.bench.cpuload", "--size", str(self.size)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, **ONE_THREAD})
        try:
            ready = self.process.stdout.readline()  # after its first product: spinning now
            if not ready.startswith("ready"):
                raise RuntimeError("the CPU load process did not start "
                                   f"(exit status {self.process.wait(STOP_WAIT_S)})")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        """Ask the process to stop (its stdin closes), kill it if it does not; then reap it."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        try:
            out, _ = process.communicate(timeout=STOP_WAIT_S)  # closes its stdin first
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        except BaseException:  # Ctrl-C while stopping: it still goes
            process.kill()
            process.wait()
            raise
        for line in out.splitlines():
            if line.startswith("{"):
                done = json.loads(line)
                self.matmuls, self.seconds = int(done["matmuls"]), float(done["seconds"])

    def report(self) -> dict:
        """What ran beside the measurement: the process and the work it got through."""
        gflops = 2 * self.size**3 * self.matmuls / self.seconds / 1e9 if self.seconds else 0.0
        return {"processes": 1, "threads": 1, "work": f"numpy matmul {self.size}x{self.size} "
                "float32", "priority": "same as the bench", "seconds": round(self.seconds, 1),
                "gflops": round(gflops, 2)}


def spin(size: int, stop: threading.Event) -> tuple[int, float]:
    """Multiply until `stop` is set; the number of products and the seconds spent."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty_like(a)
    start = time.perf_counter()
    np.matmul(a, b, out=out)  # the first product counts: a load stopped at once did it too
    count = 1
    print("ready", flush=True)
    while not stop.is_set():
        np.matmul(a, b, out=out)
        count += 1
    return count, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """`python -m livegan.bench.cpuload [--size N]`: spin until stdin closes, then print
    {"matmuls": N, "seconds": S}."""
    p = argparse.ArgumentParser(prog="python -m livegan.bench.cpuload")
    p.add_argument("--size", type=int, default=SIZE)
    args = p.parse_args(argv)
    stop = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()  # returns at end of input: the parent stopped us or went away
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        count, seconds = spin(args.size, stop)
    except KeyboardInterrupt:
        return 130
    print(json.dumps({"matmuls": count, "seconds": seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
