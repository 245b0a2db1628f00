"""`livegan train` under torchrun with 2 CPU processes (gloo): trains, only rank 0 writes,
both ranks hold the same weights, and --resume works under DDP too."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from livegan.train import checkpoint as ckpt
from livegan.train.metrics import read_metrics
from livegan.train.synth import synthesize

pytestmark = pytest.mark.slow

FLAGS = ["--res", "32", "--ngf", "8", "--ndf", "8", "--batch", "4", "--checkpoint-every", "5",
         "--sample-every", "5", "--log-every", "1", "--no-progress", "--no-quality"]


def _torchrun(data: Path, out: Path, steps: int, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "livegan", "train", str(data), "--out", str(out), "--steps", str(steps),
           *FLAGS, *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, check=False, env=env, capture_output=True, text=True,
                          timeout=600)


def test_two_process_ddp_run_and_resume(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "run"
    synthesize(data, 24, 32, progress=False)
    first = _torchrun(data, out, 10)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "training on 2 processes (DDP, gloo): 8 images per step" in first.stderr
    assert [s for s, _ in ckpt.list_checkpoints(out / "checkpoints")] == [5, 10]

    second = _torchrun(data, out, 15, "--resume")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "at step 10" in second.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["world_size"] == 2
    # one writer: every step logged exactly once, one grid per sample step, no temp files
    assert [r["step"] for r in read_metrics(out)] == list(range(1, 16))
    csv_rows = (out / "metrics.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in csv_rows] == list(range(1, 16))
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        f"step_{s:08d}.png" for s in (5, 10, 15)]
    assert not list(out.rglob("*.tmp"))
    state = ckpt.load_checkpoint(out / "checkpoints" / f"ckpt_{15:08d}.pt")
    assert state["step"] == 15 and set(state["g"]) == set(state["g_ema"])
    # rank 1 holds exactly what rank 0 saved: both report the same weights, bit for bit
    for run in (first, second):
        digests = dict(re.findall(r"rank (\d) at step \d+: weights (\w+)", run.stderr))
        assert set(digests) == {"0", "1"}, run.stderr[-2000:]
        assert digests["0"] == digests["1"]
