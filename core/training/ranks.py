"""Which process of a run this is, and the few decisions every process of a run must take together.

A run of several processes (accelerate launch: ddp, fsdp, DeepSpeed) has one rank 0, which alone writes the run
folder. Stopping is decided together: each process reads the stop request on its own, and `any_rank` makes it
the same answer everywhere, so no process takes a step that the others skip (which would hang them all).
With one process every function here is a no-op answer.
"""

from __future__ import annotations

import os


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def start(cpu: bool) -> None:
    """Join the run's process group (gloo on the CPU, nccl on GPUs) before anything needs it."""
    if world_size() > 1:
        from accelerate import PartialState

        PartialState(cpu=cpu)


def _distributed() -> bool:
    import torch.distributed as dist

    return world_size() > 1 and dist.is_available() and dist.is_initialized()


def any_rank(flag: bool) -> bool:
    """True on every process when it is True on any one of them."""
    if not _distributed():
        return flag
    import torch
    import torch.distributed as dist

    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def total(number: float) -> float:
    """The sum of `number` over every process (tokens counted by each process's data loader)."""
    if not _distributed():
        return number
    import torch
    import torch.distributed as dist

    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    value = torch.tensor([float(number)], dtype=torch.float64, device=device)
    dist.all_reduce(value)
    return float(value.item())


def gather(item) -> list:
    """`item` from every process, in rank order (each process's GPU memory, for rank 0 to record)."""
    if not _distributed():
        return [item]
    import torch.distributed as dist

    items = [None] * world_size()
    dist.all_gather_object(items, item)
    return items


def main_first():
    """A context in which rank 0 works first and the others wait for it (then read what it wrote)."""
    if not _distributed():
        import contextlib

        return contextlib.nullcontext()
    from accelerate import PartialState

    return PartialState().main_process_first()
