"""`livegan bench --audio`: a click track through a headless show, timed to the frames."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from livegan import cli
from livegan.bench.audio import EVERY, LEAD, RATE, run_audio_bench, write_click_track


def test_the_click_track_has_its_clicks_where_it_says(tmp_path: Path) -> None:
    starts = write_click_track(tmp_path / "c.wav", clicks=4)
    assert starts == [int((LEAD + k * EVERY) * RATE) for k in range(4)]
    with wave.open(str(tmp_path / "c.wav"), "rb") as f:
        x = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")
    loud = np.flatnonzero(np.abs(x) > 1000)
    assert loud[0] >= starts[0] and loud[0] < starts[0] + 10
    assert not np.any(x[: starts[0]])  # silence before the first click


@pytest.mark.usefixtures("dummy_video")
def test_the_audio_bench_times_each_click_to_a_later_frame(tiny_model: Path) -> None:
    result = run_audio_bench(str(tiny_model), "cpu", clicks=6)
    assert result["mode"] == "audio" and result["clicks"] == 6
    assert result["onsets"] == 6  # every click heard, nothing else
    assert result["matched"] + result["unmatched"] == 6 and result["matched"] >= 4
    lat = result["audio_latency_ms"]
    assert 0 < lat["p50"] <= lat["p99"] < EVERY * 1000  # the frame comes after the sound
    assert result["end_to_end_fps"] > 0 and result["hop_ms"] == pytest.approx(11.61, abs=0.01)


@pytest.mark.usefixtures("dummy_video")
def test_the_cli_prints_one_json_object(tiny_model: Path, capsys,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from livegan.bench import audio as audiobench

    monkeypatch.setattr(audiobench, "CLICKS", 3)
    assert cli.main(["bench", "--audio", "--model", str(tiny_model), "--backend", "cpu",
                     "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["audio_latency_ms"]) == {"p50", "p99"} and result["clicks"] == 3
