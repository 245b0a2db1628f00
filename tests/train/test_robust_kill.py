"""kill -9 at random moments, three times in a row (start-up, mid-training and mid-write of a
checkpoint, in a random order at random times), then resume to the end: no torn checkpoint,
never more than one checkpoint interval lost, metrics that read as one run."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "killstress.py"

pytestmark = pytest.mark.slow


def _killstress():
    spec = importlib.util.spec_from_file_location("killstress", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["killstress"] = module
    spec.loader.exec_module(module)
    return module


def test_three_kills_at_random_moments_then_resume(tmp_path: Path) -> None:
    killstress = _killstress()
    moments = list(killstress.MOMENTS)
    random.shuffle(moments)
    result = killstress.stress(3, every=5, out=tmp_path, verbose=False, moments=tuple(moments))
    assert result["kills"] == 3 and result["moments"] == {m: 1 for m in killstress.MOMENTS}
    assert result["max_lost_steps"] <= 5
    assert result["final_step"] > 5
