"""`livegan bench --contended`: a real CPU-bound process runs beside the bench, and is gone after."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import livegan.bench.show
from livegan.bench.cpuload import Contender
from livegan.cli import main

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def load_processes(parent: int | None = None) -> list[int]:
    """Live (not zombie) livegan.bench.cpuload processes whose parent is `parent`."""
    parent = os.getpid() if parent is None else parent
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z" and b"livegan.bench.cpuload" in cmdline:
            found.append(int(entry.name))
    return found


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@needs_proc
def test_the_load_runs_inside_the_block_and_is_gone_after() -> None:
    with Contender() as load:
        assert load_processes() == [load.pid]
    assert gone(load.pid) and load_processes() == []
    report = load.report()
    assert load.matmuls > 0 and report["gflops"] > 0 and report["threads"] == 1


@needs_proc
@pytest.mark.parametrize("stop", [RuntimeError, KeyboardInterrupt])
def test_an_error_or_ctrl_c_stops_the_load(stop: type[BaseException]) -> None:
    with pytest.raises(stop), Contender() as load:
        assert not gone(load.pid)
        raise stop("bench broke")
    assert gone(load.pid) and load_processes() == []


@needs_proc
def test_a_killed_bench_leaves_no_load_behind() -> None:
    code = ("from livegan.bench.cpuload import Contender\n"
            "load = Contender().__enter__()\n"
            "print(load.pid, flush=True)\n"
            "import time; time.sleep(600)\n")
    bench = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(bench.stdout.readline())
    assert load_processes(bench.pid) == [pid]
    os.kill(bench.pid, signal.SIGKILL)
    bench.wait()
    deadline = time.monotonic() + 30  # a hang guard: it stops as soon as its stdin closes
    while _state(pid) not in ("gone", "Z") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(pid) in ("gone", "Z"), "the load outlived its bench"  # Z: init reaps it


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


@needs_proc
@pytest.mark.slow
def test_bench_contended_json_and_table(dummy_video, tiny_model: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    during: list[list[int]] = []
    show = livegan.bench.show.end_to_end

    def watched(*args, **kwargs):
        during.append(load_processes())
        return show(*args, **kwargs)

    monkeypatch.setattr(livegan.bench.show, "end_to_end", watched)
    assert main(["bench", "--model", str(tiny_model), "--frames", "30", "--json",
                 "--backend", "cpu", "--contended"]) == 0
    # the show at full speed, paced at 60 fps, then twice more for the speedup's pairs: the
    # same one load process beside every run
    assert len(during) == 4 and len(during[0]) == 1 and all(d == during[0] for d in during)
    assert gone(during[0][0]) and load_processes() == []
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    result = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    contended = result["contended"]
    assert contended["load"]["processes"] == 1 and contended["load"]["threads"] == 1
    assert contended["load"]["gflops"] > 0
    assert contended["end_to_end_fps"] == result["end_to_end_fps"] > 0
    for key in ("p50", "p99"):
        value = contended["osc_latency_ms"][key]
        assert isinstance(value, (int, float)) and math.isfinite(value) and value > 0
    assert contended["osc_latency_ms"]["p99"] >= contended["osc_latency_ms"]["p50"]
    table = livegan.bench.show.format_table(result)
    assert "CONTENDED" in table and "under contention" in table


def test_bench_without_contention_says_so_and_refuses_other_modes(capsys) -> None:
    assert livegan.bench.show.format_table({**FIGURES, "contended": None}).count("contention") == 0
    assert main(["bench", "--contended", "--flood"]) == 2
    assert "--contended" in capsys.readouterr().err


FIGURES = {"model": "m", "resolution": 32, "backend": "cpu", "device": "cpu",
           "generator_fps": 1.0, "end_to_end_fps": 1.0, "baseline_fps": 1.0, "speedup": 1.0,
           "gflop_per_frame": 1.0, "matmul_peak_gflops": 1.0, "efficiency": 1.0,
           "peak_memory_mb": 1.0, "precision": "float32", "frame_interval_ms": 1.0,
           "osc_latency_ms": {"p50": 1.0, "p99": 2.0}}
