"""The background training thread: one run at a time, owned by the engine, never by a browser event.

Closing the browser or reloading the page touches nothing here; the UI and the command line only read the run
folder and call start/stop. Every way the thread can end is written to status.json: completed, stopped, or
failed with a plain-language message.
"""

from __future__ import annotations

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

    def __init__(self, runs_dir: str | Path = "runs"):
        self.runs_dir = Path(runs_dir)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.run: Run | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

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
            run.update_status(state="queued", step=0, total_steps=0, message="Starting ...",
                              started_at=time.time(), ended_at=None, pid=os.getpid())
            self.run = run
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._work, args=(config, run, self._stop), daemon=True,
                                            name=f"train-{run.name}")
            self._thread.start()
            return run

    def stop(self) -> bool:
        """Ask the run to stop at the end of the current step; its adapter is then saved. False if none runs."""
        if not self.busy:
            return False
        self._stop.set()
        self.run.update_status(state="stopping", message="Stopping at the end of this step ...")
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (for the command line and tests); True if it ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.busy

    def _work(self, config: Config, run: Run, stop: threading.Event) -> None:
        from core import training

        run.log(f"Run {run.name} started.")
        try:
            resume_from = _last_checkpoint(run)
            state = training.train(config, run, stop, resume_from=resume_from)
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


def _last_checkpoint(run: Run) -> str | None:
    checkpoints = sorted(run.checkpoints_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(checkpoints[-1]) if checkpoints else None


def _stopped_message(run: Run, step: int) -> str:
    if run.has_adapter() and step > 0:
        return f"Stopped at step {step}; adapter saved."
    return "Stopped before the first step finished; nothing was saved."


def explain_failure(err: BaseException) -> str:
    """A sentence a non-programmer can act on."""
    import torch

    text = str(err).strip() or type(err).__name__
    if isinstance(err, torch.cuda.OutOfMemoryError) or "out of memory" in text.lower():
        return ("The GPU ran out of memory. Try a smaller batch size (with more gradient accumulation), a shorter "
                "max length, 4-bit quantization, or turn gradient checkpointing on.")
    from core.data import DataError
    from core.models import ModelError

    if isinstance(err, (DataError, ModelError, ValueError)):
        return text
    return f"{type(err).__name__}: {text.splitlines()[0][:500]} (details in train.log)"


def release_memory() -> None:
    """Free the model and trainer's memory once the thread ends, so the next run or the chat has room."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
