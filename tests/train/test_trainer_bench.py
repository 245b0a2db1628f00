"""`livegan bench --train`: training steps/s and images/s as JSON and as a table."""

from __future__ import annotations

import json

import pytest

from livegan.bench import train as trainbench
from livegan.cli import main


def test_bench_train_json_and_table(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture) -> None:
    # the fixed config made tiny, so the test measures nothing but the plumbing
    monkeypatch.setitem(trainbench.TRAIN_BENCH, "res", 16)
    monkeypatch.setitem(trainbench.TRAIN_BENCH, "batch", 2)
    monkeypatch.setitem(trainbench.TRAIN_BENCH, "steps", 2)
    monkeypatch.setitem(trainbench.TRAIN_BENCH, "images", 8)
    assert main(["bench", "--train", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "train" and result["resolution"] == 16 and result["batch"] == 2
    assert result["steps_per_s"] > 0 and result["images_per_s"] > 0
    assert result["device"] == "cpu" and result["mixed_precision"] is False
    table = trainbench.format_train_table(result)
    assert "steps/s" in table and "images/s" in table and "16px" in table
