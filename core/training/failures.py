"""What went wrong in a run, in a sentence a non-programmer can act on, and the smaller batch to retry with."""

from __future__ import annotations

import errno
import signal

from core.catalogue.message import Message, StudioError, message


def explain_failure(err: BaseException) -> Message | str:
    """A sentence a non-programmer can act on: a Message; for a ValueError or ModelError the error's own words (its
    Message when it is one of the studio's errors, a library's text otherwise)."""
    text = str(err).strip() or type(err).__name__
    if is_out_of_memory(err):
        if "cuda" in str(err).lower() or type(err).__name__ == "OutOfMemoryError":
            return message("training.failures.gpu_out_of_memory")
        return message("training.failures.machine_out_of_memory")
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        if err.filename:
            return message("training.failures.disk_full_writing", path=str(err.filename))
        return message("training.failures.disk_full")
    from core.models.load import ModelError

    if isinstance(err, (ModelError, ValueError)):
        return err.message if isinstance(err, StudioError) else text
    return message("training.failures.unexpected", error=type(err).__name__, text=text.splitlines()[0][:500])


def is_out_of_memory(err: BaseException) -> bool:
    """CUDA's out-of-memory error, or the CPU allocator's ('can't allocate memory')."""
    import torch

    text = str(err).lower()
    return (isinstance(err, (torch.cuda.OutOfMemoryError, MemoryError)) or "out of memory" in text
            or "can't allocate memory" in text)


def smaller_batch(batch_size: int, grad_accum: int) -> tuple[int, int] | None:
    """The largest batch of at most half the current one whose accumulation keeps the effective batch exactly
    (3 x 1 -> 1 x 3, 6 x 1 -> 3 x 2, 8 x 2 -> 4 x 4); None when the batch is 1 already."""
    effective = batch_size * grad_accum
    for batch in range(batch_size // 2, 0, -1):
        if effective % batch == 0:
            return batch, effective // batch
    return None


def process_death(returncode: int, log_tail: str) -> Message:
    """Why a run's process ended without saying so itself (killed, crashed), with the last lines it logged."""
    lines = [line.strip() for line in log_tail.splitlines() if line.strip()][-3:]
    tail = message("training.failures.log_tail", lines=" | ".join(line[:200] for line in lines)) if lines else ""
    return message("training.failures.process_death", what=_how_it_ended(returncode), tail=tail)


def _how_it_ended(returncode: int) -> Message:
    if returncode >= 0:
        return message("training.failures.exit_code", code=returncode)
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if name == "SIGKILL":
        return message("training.failures.killed")
    if name in ("SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE"):
        return message("training.failures.crashed", signal=name)
    return message("training.failures.signalled", signal=name)
