"""`livegan bench --json`: one JSON object with every figure of the benchmark contract."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from livegan.cli import main

CONTRACT_NUMBERS = ("resolution", "generator_fps", "end_to_end_fps", "baseline_fps", "speedup",
                    "gflop_per_frame", "efficiency")


def _watch_shows_and_naive_loops(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """("show" / "naive", on the main thread?) for each show and naive loop the bench runs."""
    import threading

    from livegan.bench import show as bench

    events: list[tuple[str, bool]] = []
    show, naive = bench.end_to_end, bench.baseline_fps

    def watched_show(*args, **kwargs):
        events.append(("show", threading.current_thread() is threading.main_thread()))
        return show(*args, **kwargs)

    def watched_naive(*args, **kwargs):
        events.append(("naive", threading.current_thread() is threading.main_thread()))
        return naive(*args, **kwargs)

    monkeypatch.setattr(bench, "end_to_end", watched_show)
    monkeypatch.setattr(bench, "baseline_fps", watched_naive)
    return events


@pytest.mark.slow
def test_bench_json_has_the_contract_keys_and_the_canvas_cost(
        dummy_video, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    """One bench with a canvas (each bench costs seconds): every figure of the contract, the
    canvas's cost, and each show followed at once by a naive run off the main thread."""
    monkeypatch.chdir(tmp_path)
    events = _watch_shows_and_naive_loops(monkeypatch)
    assert main(["bench", "--model", str(tiny_model), "--frames", "40", "--json",
                 "--backend", "cpu", "--canvas", "auto"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "one JSON object on one line, nothing else on stdout"
    result = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert result["model"] == "tiny" and result["backend"] == "cpu"
    assert isinstance(result["device"], str) and result["device"]
    assert result["resolution"] == 32
    for key in CONTRACT_NUMBERS:
        value = result[key]
        assert isinstance(value, (int, float)) and math.isfinite(value) and value > 0, key
    latency = result["osc_latency_ms"]
    for key in ("p50", "p99"):
        assert isinstance(latency[key], (int, float)) and math.isfinite(latency[key])
        assert latency[key] > 0
    assert latency["p99"] >= latency["p50"]
    assert result["speedup"] == pytest.approx(result["end_to_end_fps"] / result["baseline_fps"],
                                              rel=0.05)
    pairs = result["speedup_pairs"]  # each show beside a naive loop run right after it
    assert len(pairs) == 3 and all(p["end_to_end_fps"] > 0 and p["baseline_fps"] > 0
                                   for p in pairs)
    for key in ("end_to_end_fps", "baseline_fps"):  # the headline figures are their means
        mean = sum(p[key] for p in pairs) / len(pairs)
        assert result[key] == pytest.approx(mean, abs=0.1), key
    paced = result["paced"]  # the same show at --max-fps 60: a projector's pace
    assert paced["max_fps"] == 60 and 0 < paced["fps"] <= 63
    assert paced["frame_interval_ms"] == pytest.approx(1000 / paced["fps"], rel=0.01)
    assert paced["p99_intervals"] == pytest.approx(
        paced["osc_latency_ms"]["p99"] / paced["frame_interval_ms"], rel=0.01)
    canvas = result["canvas"]
    assert canvas["size"] == [56, 32] and canvas["window"] == [1280, 720]
    for key in ("generator_fps", "end_to_end_fps"):
        assert isinstance(canvas[key], (int, float)) and canvas[key] > 0
    from livegan.bench.show import format_table

    table = format_table(result)
    assert "--max-fps 60" in table
    assert "3 shows, each over the naive loop right after it" in table
    assert "canvas" in table and "56x32" in table
    kinds = [kind for kind, _ in events]  # the paced show 3rd, the canvas's show 4th
    assert kinds == ["show", "naive", "show", "show", "show", "naive", "show", "naive"]
    assert [main for kind, main in events if kind == "naive"] == [False] * 3


@pytest.mark.slow
def test_where_windows_stay_on_the_main_thread_one_naive_loop_runs_after_the_last_show(
        dummy_video, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS: one naive run after every show, on the main thread, shared by the pairs (the
    other platforms' order is checked with the contract above)."""
    from livegan.bench import show as bench

    monkeypatch.chdir(tmp_path)
    events = _watch_shows_and_naive_loops(monkeypatch)
    monkeypatch.setattr(bench, "windows_need_main_thread", lambda: True)
    result = bench.run_bench(str(tiny_model), "cpu", frames=30)
    assert [kind for kind, _ in events] == ["show"] * 4 + ["naive"] and events[-1][1]
    assert len({p["baseline_fps"] for p in result["speedup_pairs"]}) == 1
