"""How a run hears Stop at every phase: loading, knowledge replay, probes, training.

Stop is a file in the run folder (core.runs), turned into the process's stop flag by core.training.worker. Where the
work has natural points to stop at, they read the flag: each new token of the replay and probe answers
(core.models.generate.stop_when_asked), each training step (core.training.callbacks.RunCallback). Loading has no
such point, so there a Stop is raised into the loading thread (cut_short). A run stopped before its first step ends
'stopped', with nothing new trained; the replay answers it finished are kept for a resume (core.training.replay).
"""

from __future__ import annotations

import contextlib
import threading

from core.training import ranks


class StopRequested(BaseException):
    """Stop, heard while the model loads or before the first step: the run ends 'stopped' with nothing new trained.
    A BaseException, as KeyboardInterrupt is, so that no library's `except Exception` fallback swallows it."""


@contextlib.contextmanager
def cut_short(stop: threading.Event, poll_seconds: float = 0.1):
    """Loading a large model takes minutes and offers no point at which to hear Stop; with one process a Stop raises
    StopRequested in this thread as it comes (nothing is lost: nothing has trained yet). Several processes load in
    step (their collectives would hang if one left), so they stop together just after loading."""
    if ranks.world_size() > 1:
        yield
        return
    import ctypes

    target, lock, done = threading.get_ident(), threading.Lock(), threading.Event()

    def watch():
        while not done.wait(poll_seconds):
            with lock:  # never raised once the block is left: `done` is set under the same lock
                if stop.is_set() and not done.is_set():
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(StopRequested))
                    return

    threading.Thread(target=watch, daemon=True, name="stop-while-loading").start()
    try:
        yield
    finally:
        with lock:
            done.set()
