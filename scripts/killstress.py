"""Kill `livegan train` with SIGKILL at random moments, many times in a row, and check resume.

Each round starts `livegan train --resume` on the same run folder and kills it at a moment
drawn at random from three kinds: during start-up, at a random time while it trains, or
the instant a checkpoint is being written (a temp file in the checkpoint folder). After
every kill it checks that every checkpoint on disk loads (weights_only, plain data), that
none went backwards, and that at most one checkpoint interval of steps was lost. A last
round trains to the end and checks the metrics read as one run, step 1 to the last.

    python scripts/killstress.py --kills 20            # about 3-5 minutes on 2 CPU cores
    python scripts/killstress.py --kills 3 --json      # what CI runs

Exit status 0 when every check held; the summary (and --json) gives the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from livegan.train import checkpoint as ckpt
from livegan.train.metrics import read_metrics
from livegan.train.synth import synthesize

MOMENTS = ("startup", "training", "checkpoint")
HANG_S = 300.0  # a process that shows no progress for this long is a failure, not slowness
FLAGS = ["--res", "32", "--ngf", "8", "--ndf", "8", "--batch", "4", "--log-every", "1",
         "--keep", "3", "--no-progress", "--no-quality", "--sample-every", "1000000"]


class StressError(AssertionError):
    """A check failed: a checkpoint is torn, went backwards, or too much was lost."""


def train(data: Path, run: Path, log: Path, every: int, steps: int) -> subprocess.Popen:
    """`livegan train --resume` in its own process (one thread, so it shares the box)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "livegan", "train", str(data), "--out", str(run), *FLAGS,
           "--checkpoint-every", str(every), "--steps", str(steps), "--resume"]
    with open(log, "a") as stderr:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def reached(run: Path) -> int:
    """The last step the run logged (0 before the first)."""
    rows = read_metrics(run)
    return max((row["step"] for row in rows), default=0)


def latest(run: Path) -> int:
    found = ckpt.list_checkpoints(run / "checkpoints")
    return found[-1][0] if found else 0


def wait_for(condition, proc: subprocess.Popen, poll: float = 0.0005) -> bool:
    """Poll until `condition()`; False when the process ended first."""
    deadline = time.monotonic() + HANG_S
    while not condition():
        if proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise StressError(f"no progress in {HANG_S:.0f} s")
        time.sleep(poll)
    return True


def kill_at(moment: str, proc: subprocess.Popen, run: Path, rng: random.Random,
            every: int) -> bool:
    """Wait for a random moment of kind `moment`, then SIGKILL; False if it ended first."""
    if moment == "startup":
        time.sleep(rng.uniform(0.0, 3.0))
    elif moment == "training":
        start = reached(run)
        if not wait_for(lambda: reached(run) > start, proc, 0.01):
            return False
        time.sleep(rng.uniform(0.0, 2.0))
    else:
        folder = run / "checkpoints"

        def writing() -> bool:
            try:
                return any(n.endswith(".tmp") for n in os.listdir(folder))
            except FileNotFoundError:
                return False

        if not wait_for(writing, proc):
            return False
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def check(run: Path, every: int, floor: int) -> tuple[int, int]:
    """Every checkpoint loads and names its own step; none older than `floor` is the
    newest; at most `every` logged steps are past the newest. Returns (newest, lost)."""
    found = ckpt.list_checkpoints(run / "checkpoints")
    for step, path in found:
        try:
            state = ckpt.load_checkpoint(path)
        except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
            raise StressError(f"{path} does not load after a kill: {exc}") from None
        if state.get("step") != step or not {"g", "d", "g_ema", "opt_g", "opt_d"} <= set(state):
            raise StressError(f"{path} is incomplete (step {state.get('step')})")
    newest = found[-1][0] if found else 0
    if newest < floor:
        raise StressError(f"the newest checkpoint went back from step {floor} to {newest}")
    lost = reached(run) - newest
    if lost > every:
        raise StressError(f"{lost} steps past the newest checkpoint: more than one interval "
                          f"({every}) would be lost")
    return newest, lost


def stress(kills: int, every: int = 5, seed: int | None = None, out: Path | None = None,
           verbose: bool = True, moments: tuple[str, ...] = ()) -> dict:
    """Run the kill-and-resume rounds; raises StressError when a check fails.

    `moments` gives the kind of each round in turn (default: drawn at random)."""
    rng = random.Random(seed)
    out = Path(out or tempfile.mkdtemp(prefix="livegan-killstress-"))
    data, run, log = out / "data", out / "run", out / "train.log"
    if not data.is_dir():
        synthesize(data, 32, 32, progress=False)
    started, newest, done = time.monotonic(), 0, []
    far = 10**6  # the killed rounds never reach the end
    while len(done) < kills:
        moment = moments[len(done) % len(moments)] if moments else rng.choice(MOMENTS)
        proc = train(data, run, log, every, far)
        if not kill_at(moment, proc, run, rng, every):
            raise StressError(f"training ended on its own:\n{log.read_text()[-2000:]}")
        newest, lost = check(run, every, newest)
        done.append({"moment": moment, "checkpoint": newest, "lost_steps": lost})
        if verbose:
            print(f"kill {len(done):3d}/{kills} at {moment:<10} newest checkpoint "
                  f"{newest:5d}, {lost} steps to redo", flush=True)
    final = max(newest, reached(run)) + every
    proc = train(data, run, log, every, final)
    if proc.wait(timeout=HANG_S) != 0:
        raise StressError(f"the final resume failed:\n{log.read_text()[-2000:]}")
    steps = [row["step"] for row in read_metrics(run)]
    if steps != list(range(1, final + 1)):
        raise StressError(f"metrics do not read as one run: {steps[:5]}...{steps[-5:]}")
    if ckpt.load_checkpoint(ckpt.checkpoint_path(run / "checkpoints", final))["step"] != final:
        raise StressError("the last checkpoint is not at the last step")
    if list(run.rglob("*.tmp")):
        raise StressError("temp files from killed writes were left behind")
    return {"kills": kills, "every": every, "final_step": final,
            "moments": {m: sum(d["moment"] == m for d in done) for m in MOMENTS},
            "max_lost_steps": max(d["lost_steps"] for d in done) if done else 0,
            "seconds": round(time.monotonic() - started, 1), "run": str(run), "rounds": done}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=20, help="kill -9 rounds")
    p.add_argument("--every", type=int, default=5, help="steps between checkpoints")
    p.add_argument("--seed", type=int, default=None, help="seed of the moments (default: random)")
    p.add_argument("--out", default=None, help="work folder (default: a new temp folder)")
    p.add_argument("--moments", default="", help=f"kinds of moment in turn, from "
                   f"{','.join(MOMENTS)} (default: drawn at random each round)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = p.parse_args(argv)
    moments = tuple(m for m in args.moments.split(",") if m)
    if set(moments) - set(MOMENTS):
        p.error(f"--moments: choose from {', '.join(MOMENTS)}")
    try:
        result = stress(args.kills, args.every, args.seed, args.out, not args.json, moments)
    except StressError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "rounds"}))
    else:
        print(f"{result['kills']} kills ({result['moments']}), at most "
              f"{result['max_lost_steps']} steps lost (interval {result['every']}), resumed "
              f"to step {result['final_step']} in {result['seconds']} s: every check held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
