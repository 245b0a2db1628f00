"""Never lose a run: `livegan train` killed with SIGKILL at random moments, then --resume."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from livegan.train import checkpoint as ckpt
from livegan.train.loop import TrainConfig, train
from livegan.train.metrics import read_metrics
from livegan.train.recipes import apply
from livegan.train.synth import synthesize

pytestmark = pytest.mark.slow

STEPS, EVERY, KILLS = 30, 5, 3
FLAGS = ["--res", "32", "--ngf", "8", "--ndf", "8", "--batch", "4", "--steps", str(STEPS),
         "--checkpoint-every", str(EVERY), "--sample-every", "20", "--log-every", "1",
         "--keep", "3", "--precision", "fp32", "--no-progress"]


def _start(data: Path, out: Path, log: Path, resume: bool, *extra: str) -> subprocess.Popen:
    """`livegan train` in its own process, one thread (so runs compare bit for bit)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "livegan", "train", str(data), "--out", str(out), *FLAGS, *extra]
    with open(log, "a") as stderr:
        return subprocess.Popen(cmd + (["--resume"] if resume else []), env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)


def _latest(out: Path) -> int:
    found = ckpt.list_checkpoints(out / "checkpoints")
    return found[-1][0] if found else 0


def _wait_for_checkpoint_after(proc: subprocess.Popen, out: Path, step: int) -> bool:
    """True once a checkpoint newer than `step` exists; False if the process ended first."""
    deadline = time.monotonic() + 300  # a hang guard, not a speed requirement
    while time.monotonic() < deadline:
        if _latest(out) > step:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    proc.kill()
    raise AssertionError("training made no checkpoint within 5 minutes")


def _check_after_kill(out: Path) -> int:
    """Every checkpoint loads; at most one checkpoint interval of work is lost."""
    found = ckpt.list_checkpoints(out / "checkpoints")
    assert found, "a kill after the first checkpoint must leave one"
    for step, path in found:
        state = ckpt.load_checkpoint(path)  # raises on a torn file
        assert state["step"] == step
        assert {"g", "d", "g_ema", "opt_g", "opt_d", "rng", "torch_rng"} <= set(state)
    reached = max(row["step"] for row in read_metrics(out))
    assert reached - found[-1][0] <= EVERY, (reached, found[-1][0])
    return found[-1][0]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("killdata") / "synth"
    synthesize(folder, 32, 32, progress=False)
    return folder


def test_kill_9_then_resume_loses_nothing(data: Path, tmp_path: Path) -> None:
    out, log = tmp_path / "run", tmp_path / "train.log"
    chance = random.Random()
    proc = _start(data, out, log, resume=False)
    kills, resumed_from = 0, []
    for _ in range(KILLS):
        if not _wait_for_checkpoint_after(proc, out, resumed_from[-1] if resumed_from else 0):
            break  # finished before this kill: nothing left to interrupt
        time.sleep(chance.uniform(0.0, 0.5))  # anywhere: a step, a sample grid, a checkpoint
        if proc.poll() is not None:
            break
        proc.kill()
        proc.wait()
        kills += 1
        resumed_from.append(_check_after_kill(out))
        # what a kill inside atomic_write leaves: a half-written temp file, never a checkpoint
        (out / "checkpoints" / ".ckpt_99999999.pt.4242.tmp").write_bytes(b"half a checkpoint")
        (out / ".config.json.4242.tmp").write_bytes(b"{")
        proc = _start(data, out, log, resume=True)
    assert proc.wait(timeout=600) == 0, log.read_text()[-3000:]
    assert kills >= 1

    text = log.read_text()
    for step in resumed_from:
        assert f"at step {step}" in text  # "resumed .../ckpt_N.pt at step N"
    assert not list(out.rglob("*.tmp")), "stale temp files must be cleaned on resume"
    assert [row["step"] for row in read_metrics(out)] == list(range(1, STEPS + 1))
    csv_steps = [int(line.split(",")[0]) for line in
                 (out / "metrics.csv").read_text().splitlines()[1:]]
    assert csv_steps == list(range(1, STEPS + 1))

    # The interrupted run ends exactly where an uninterrupted one does: same step count,
    # weights, optimiser moments and EMA, because the random state resumes too.
    final = ckpt.load_checkpoint(out / "checkpoints" / f"ckpt_{STEPS:08d}.pt")
    reference = _uninterrupted(data, tmp_path / "reference")
    assert final["step"] == reference["step"] == STEPS
    for key in ("g", "d", "g_ema"):
        for name, tensor in reference[key].items():
            assert torch.equal(final[key][name], tensor), f"{key}.{name} differs"
    for key in ("opt_g", "opt_d"):
        for index, moments in reference[key]["state"].items():
            for name in ("exp_avg", "exp_avg_sq"):
                assert torch.equal(final[key]["state"][index][name], moments[name])


def _uninterrupted(data: Path, out: Path) -> dict:
    """The same run in this process with one thread, never killed."""
    threads = torch.get_num_threads()
    os.environ["OMP_NUM_THREADS"], old = "1", os.environ.get("OMP_NUM_THREADS")
    try:
        cfg = apply(TrainConfig(data=str(data), res=32, steps=STEPS, checkpoint_every=EVERY,
                                sample_every=20, log_every=1), "default",
                    {"ngf": 8, "ndf": 8, "batch": 4, "precision": "fp32"})  # as the command
        # builds it: the recipe, then the flags given (FLAGS) over it
        train(cfg, out, progress=False)
    finally:
        torch.set_num_threads(threads)
        if old is None:
            os.environ.pop("OMP_NUM_THREADS")
        else:
            os.environ["OMP_NUM_THREADS"] = old
    return ckpt.load_checkpoint(out / "checkpoints" / f"ckpt_{STEPS:08d}.pt")


def test_ctrl_c_saves_a_checkpoint_at_the_current_step(data: Path, tmp_path: Path) -> None:
    out, log = tmp_path / "run", tmp_path / "train.log"
    proc = _start(data, out, log, False, "--steps", "100000")  # interrupted long before
    assert _wait_for_checkpoint_after(proc, out, 0)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=300) == 130, log.read_text()[-2000:]
    reached = max(row["step"] for row in read_metrics(out))
    assert _latest(out) == reached  # stopped at a step boundary and saved exactly there
    assert ckpt.load_checkpoint(ckpt.checkpoint_path(out / "checkpoints", reached))["step"] \
        == reached
    assert "continue with --resume" in log.read_text()
