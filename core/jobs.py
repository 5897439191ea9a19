"""The background training thread: one run at a time, owned by the engine, never by a browser event.

Closing the browser or reloading the page touches nothing here; the UI and the command line only read the run
folder and call start/stop. Every way the thread can end is written to status.json: completed, stopped, or
failed with a plain-language message.
"""

from __future__ import annotations

import errno
import gc
import os
import threading
import time
import traceback
from pathlib import Path

from core.config import Config
from core.runs import Run


class BusyError(RuntimeError):
    """A run is already in progress; the message names it."""


class JobRunner:
    """Starts and stops training runs in a background thread, one at a time."""

    def __init__(self, runs_dir: str | Path = "runs", callbacks: list | None = None):
        self.runs_dir = Path(runs_dir)
        self.callbacks = callbacks or []  # extra TrainerCallbacks that only watch (the benchmark's timers)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # Completion is an Event, not Thread.is_alive(): on Python 3.11 a Ctrl-C that interrupts join() marks a
        # still-running thread as finished, and Stop would then think there is nothing to stop.
        self._done = threading.Event()
        self._done.set()
        self.run: Run | None = None

    @property
    def busy(self) -> bool:
        return not self._done.is_set()

    def start(self, config: Config, resume: Run | None = None) -> Run:
        """Create the run folder and start training in the background; refuse if a run is in progress."""
        with self._lock:  # two clicks at once must not both pass the busy check
            if self.busy:
                raise BusyError(f"A run is in progress ({self.run.name}); stop it or wait for it to finish.")
            if resume is None:
                run = Run.create(self.runs_dir, config.name)
                if run.name != config.name:
                    config.name = run.name  # the config saved with the run names its real folder
                config.save(run.config_file)
            else:
                run = resume
                state = run.status().get("state")
                if state not in ("stopped", "failed", "interrupted"):
                    raise BusyError(f"Run {run.name} is {state}; only a stopped, failed or interrupted run resumes.")
                if run.last_checkpoint() is None:
                    raise BusyError(f"Run {run.name} has no complete checkpoint to resume from; start it anew.")
            run.update_status(state="queued", step=0, total_steps=0, message="Starting ...",
                              started_at=time.time(), ended_at=None, pid=os.getpid())
            self.run = run
            self._stop = threading.Event()
            self._done = threading.Event()
            threading.Thread(target=self._work, args=(config, run, self._stop, self._done), daemon=True,
                             name=f"train-{run.name}").start()
            return run

    def stop(self) -> bool:
        """Ask the run to stop at the end of the current step; its adapter is then saved. False if none runs."""
        if not self.busy:
            return False
        self._stop.set()
        self.run.update_status(state="stopping", message="Stopping at the end of this step ...")
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (for the command line and tests); True if it ended."""
        return self._done.wait(timeout)

    def _train_with_retry(self, config: Config, run: Run, stop: threading.Event) -> str:
        """Train (resuming from the run's last complete checkpoint if it has one); on running out of GPU
        memory, where the config allows it, try once more with half the batch and twice the accumulation."""
        from core.training import train as training

        while True:
            resume_from = run.last_checkpoint()
            run.log(f"Run {run.name} resumed from {resume_from.name}." if resume_from else f"Run {run.name} started.")
            try:
                return training.train(config, run, stop, resume_from=str(resume_from) if resume_from else None,
                                      callbacks=self.callbacks)
            except Exception as err:
                if not (is_out_of_memory(err) and config.train.retry_on_oom and config.train.batch_size > 1):
                    raise
                config.train.batch_size //= 2
                config.train.grad_accum *= 2
                config.train.retry_on_oom = False  # once: a second failure is reported, not retried
                run.log(f"Out of memory. Retrying with batch size {config.train.batch_size} and gradient "
                        f"accumulation {config.train.grad_accum} (the same effective batch).")
                release_memory()
                config.save(run.config_file)

    def _work(self, config: Config, run: Run, stop: threading.Event, done: threading.Event) -> None:
        try:
            state = self._train_with_retry(config, run, stop)
            step = run.status().get("step", 0)
            message = (f"Completed {step} steps; adapter saved." if state == "completed"
                       else _stopped_message(run, step))
            run.update_status(state=state, message=message, ended_at=time.time())
            run.log(message)
        except BaseException as err:  # anything at all: the run must end as failed, never as 'training' forever
            message = explain_failure(err)
            run.log("Failed: " + message)
            run.log(traceback.format_exc())
            run.update_status(state="failed", message=message, ended_at=time.time())
        finally:
            release_memory()
            done.set()


def _stopped_message(run: Run, step: int) -> str:
    if run.has_adapter() and step > 0:
        return f"Stopped at step {step}; adapter saved."
    return "Stopped before the first step finished; nothing was saved."


def explain_failure(err: BaseException) -> str:
    """A sentence a non-programmer can act on."""
    text = str(err).strip() or type(err).__name__
    if is_out_of_memory(err):
        return ("The GPU ran out of memory. Try a smaller batch size (with more gradient accumulation), a shorter "
                "max length, 4-bit quantization, or turn gradient checkpointing on.")
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
    import torch

    return isinstance(err, torch.cuda.OutOfMemoryError) or "out of memory" in str(err).lower()


def release_memory() -> None:
    """Free the model and trainer's memory once the thread ends, so the next run or the chat has room."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
