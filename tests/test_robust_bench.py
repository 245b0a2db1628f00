"""`livegan bench --flood`: one JSON object with idle and flooded frame rates, messages and
memory, from a real show and a real sender process (figures are reported, never asserted)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from livegan.bench.flood import format_flood
from livegan.cli import main

NUMBERS = ("idle_fps", "sink_fps", "sender_ratio", "flood_fps", "ratio", "rss_before_mb",
           "rss_after_mb")


@pytest.mark.slow
def test_bench_flood_reports_every_figure(dummy_video, tiny_model: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--flood", "--flood-seconds", "2", "--flood-rate", "2000", "--json",
                 "--model", str(tiny_model), "--backend", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "one JSON object on one line"
    result = json.loads(out)
    for key in NUMBERS:
        assert isinstance(result[key], (int, float)) and math.isfinite(result[key]), key
        assert result[key] > 0, key
    assert 0 < result["messages_received"] <= result["messages_sent"] <= 4000  # 2 s at 2000/s
    # all well-formed: each acted on, or superseded by a newer value to its address
    assert result["messages_delivered"] + result["messages_coalesced"] == \
        result["messages_received"]
    assert result["messages_dropped"] == 0 and result["render_errors"] == 0
    assert "of idle" in format_flood(result)
