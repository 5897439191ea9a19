"""What went wrong in a run, in a sentence a non-programmer can act on, and the smaller batch to retry with."""

from __future__ import annotations

import errno
import signal

OUT_OF_MEMORY_ADVICE = ("Try a smaller batch size (with more gradient accumulation), a shorter max length, 4-bit "
                        "quantization, or turn gradient checkpointing on.")


def explain_failure(err: BaseException) -> str:
    """A sentence a non-programmer can act on."""
    text = str(err).strip() or type(err).__name__
    if is_out_of_memory(err):
        where = "The GPU" if "cuda" in str(err).lower() or type(err).__name__ == "OutOfMemoryError" else "The machine"
        return f"{where} ran out of memory. {OUT_OF_MEMORY_ADVICE}"
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        where = f" while writing {err.filename}" if err.filename else ""
        return (f"The disk is full{where}. Free some space, then resume the run: it continues from its last "
                "complete checkpoint.")
    from core.data.errors import DataError
    from core.models.load import ModelError

    if isinstance(err, (DataError, ModelError, ValueError)):
        return text
    return f"{type(err).__name__}: {text.splitlines()[0][:500]} (details in train.log)"


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


def process_death(returncode: int, log_tail: str) -> str:
    """Why a run's process ended without saying so itself (killed, crashed), with the last lines it logged."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if name == "SIGKILL":
            what = ("The training process was killed (SIGKILL): by hand, or by the system when the machine ran out "
                    "of memory (RAM).")
        elif name in ("SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE"):
            what = (f"The training process crashed ({name}), inside a library (a driver, CUDA or bitsandbytes "
                    "fault); `python launch.py doctor` checks this machine's GPU stack.")
        else:
            what = f"The training process was stopped by {name}."
    else:
        what = f"The training process ended with exit code {returncode} before reporting how the run went."
    lines = [line.strip() for line in log_tail.splitlines() if line.strip()][-3:]
    tail = " Last lines of train.log: " + " | ".join(line[:200] for line in lines) if lines else ""
    return what + tail + " The run can be resumed from its last complete checkpoint."
