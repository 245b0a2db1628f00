"""`livegan bench --train`: training steps/s and images/s for a fixed small config."""

from __future__ import annotations

import platform
import time

import torch

TRAIN_BENCH = {"arch": "lite", "res": 64, "batch": 8, "steps": 20, "images": 64}


def run_train_bench(steps: int | None = None, res: int | None = None, batch: int | None = None,
                    arch: str | None = None) -> dict:
    """Training speed of a fixed small config (TRAIN_BENCH) on synthetic images in a temp
    folder: D + G updates with DiffAugment and EMA, as `livegan train` runs them (no I/O)."""
    import tempfile
    from pathlib import Path

    from livegan.train.loop import TrainConfig, Trainer
    from livegan.train.synth import synthesize

    steps, res = steps or TRAIN_BENCH["steps"], res or TRAIN_BENCH["res"]
    batch, arch = batch or TRAIN_BENCH["batch"], arch or TRAIN_BENCH["arch"]
    with tempfile.TemporaryDirectory(prefix="livegan-bench-") as tmp:
        data = Path(tmp) / "data"
        synthesize(data, TRAIN_BENCH["images"], res, progress=False)
        cfg = TrainConfig(data=str(data), arch=arch, res=res, batch=batch, steps=steps + 3,
                          sample_every=10**9, checkpoint_every=10**9, quality=False)
        trainer = Trainer(cfg, Path(tmp) / "run", progress=False)
        for _ in range(3):  # warm-up: allocator, kernel selection
            trainer.step_once()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            trainer.step_once()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        trainer.dist.close()
    return {
        "mode": "train", "arch": arch, "resolution": res, "batch": batch, "steps": steps,
        "device": str(trainer.device), "threads": torch.get_num_threads(),
        "mixed_precision": trainer.amp,
        "steps_per_s": round(steps / seconds, 3),
        "images_per_s": round(steps * batch / seconds, 1),
        "ms_per_step": round(1000 * seconds / steps, 1),
        "cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
    }


def format_train_table(result: dict) -> str:
    """The training benchmark for humans."""
    rows = [
        ("config", (f"{result['arch']} {result['resolution']}px, batch {result['batch']}, "
                    f"{result['steps']} steps")),
        ("device", (f"{result['device']} ({result['threads']} threads"
                    f"{', bf16' if result['mixed_precision'] else ''})")),
        ("steps/s", f"{result['steps_per_s']}  ({result['ms_per_step']} ms/step)"),
        ("images/s", f"{result['images_per_s']}"),
    ]
    return "\n".join(f"{k:>13}  {v}" for k, v in rows)
