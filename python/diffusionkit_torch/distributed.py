"""Processes, ranks, devices and process groups.

Two launchers lead to the same worker: ``torchrun`` (detected by ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
``MASTER_ADDR`` in the environment), or this package's own, which starts ``--nproc-per-node`` workers with
``torch.multiprocessing`` (spawn) and gives each the same environment torchrun would (needed because Debian 12's
torchrun, PyTorch 1.13 on Python 3.11, fails in its elastic agent). The process group is gloo on the CPU and NCCL on
CUDA; on the CPU a second gloo group carries the global BatchNorm's statistics.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import torch
import torch.distributed as dist

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")


@dataclass
class Context:
    """This process's place in the run."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    device: torch.device
    batchnorm_group: object | None = None

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and logs."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """More than one process."""
        return self.world_size > 1


def under_launcher() -> bool:
    """True when torchrun (or this package's spawner, or a hand-made launch) set the rank variables."""
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


def choose_device(requested: str, local_rank: int) -> torch.device:
    """``cuda:<local_rank>`` when CUDA is asked for or (``auto``) available, else the CPU."""
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda was given but CUDA is not available.")
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(f"Local rank {local_rank} has no GPU ({torch.cuda.device_count()} visible); start at most that many processes per node.")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def initialise(requested_device: str) -> Context:
    """Joins the process group described by the environment (a single process when there is none)."""
    if not under_launcher():
        return Context(0, 1, 0, 1, choose_device(requested_device, 0))
    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
    device = choose_device(requested_device, local_rank)
    if world_size == 1:
        return Context(rank, 1, local_rank, 1, device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method="env://", rank=rank, world_size=world_size)
    batchnorm_group = dist.new_group(backend="gloo") if device.type == "cpu" else None
    return Context(rank, world_size, local_rank, local_world_size, device, batchnorm_group)


def shutdown(context: Context) -> None:
    """Leaves the process group."""
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()


def free_port() -> int:
    """A TCP port free on this machine now (for rank 0's store)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def all_reduce_max(context: Context, value: int) -> int:
    """The largest ``value`` over all ranks."""
    if not context.distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.int64, device=context.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return int(tensor.item())


def all_reduce_mean(context: Context, value: torch.Tensor) -> float:
    """The mean of a scalar tensor over all ranks (each rank's loss on its equal slice: the global batch's loss)."""
    if not context.distributed:
        return float(value.item())
    tensor = value.detach().reshape(1).to(torch.float32).clone()
    dist.all_reduce(tensor)
    return float((tensor / context.world_size).item())


def barrier(context: Context) -> None:
    """Waits for every rank."""
    if context.distributed:
        dist.barrier()
