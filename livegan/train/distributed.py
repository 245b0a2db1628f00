"""torch.distributed set-up: one process or many under torchrun, gloo on CPU, nccl on GPU."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn


def _cpu_cores() -> int:
    """Cores this process may use: its affinity, capped by OMP_NUM_THREADS when set."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    asked = os.environ.get("OMP_NUM_THREADS", "").strip()
    return max(1, min(cores, int(asked)) if asked.isdigit() and int(asked) > 0 else cores)


@dataclass
class Dist:
    """Rank, world size and device of this process; a single process when not under torchrun."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @classmethod
    def from_env(cls) -> Dist:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available()
        device = torch.device("cuda", local) if cuda else torch.device("cpu")
        if world > 1 and not dist.is_initialized():
            if cuda:
                torch.cuda.set_device(device)
            dist.init_process_group("nccl" if cuda else "gloo")
        if not cuda:
            # Processes sharing a CPU each get an equal share of its cores.
            torch.set_num_threads(max(1, _cpu_cores() // world))
        return cls(rank=int(os.environ.get("RANK", "0")), world_size=world, device=device)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, module: nn.Module) -> nn.Module:
        """DistributedDataParallel around `module` when there are several processes."""
        if self.world_size == 1:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(module, device_ids=ids)

    def agree(self, flag: bool) -> bool:
        """Rank 0's `flag`, on every rank (one tiny broadcast when there are several)."""
        if self.world_size == 1:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        dist.broadcast(t, src=0)
        return bool(t.item())

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()

    def close(self) -> None:
        if self.world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()
