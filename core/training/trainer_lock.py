"""One trainer per runs folder: the studio and `launch.py queue run` both take runs from the same queue, and two of
them training at once would share one GPU and each run out of memory.

`<runs_dir>/trainer.lock` names the process that trains there (its pid, the time it started, so a pid reused by
another program is not mistaken for it, and the run). A process takes it before a run starts and gives it back when
its last run ends; a lock whose process is gone (killed, crashed, the machine restarted) is taken over. Reading and
writing it happens under core.runs.file_lock, the short kind, so two processes never both find it free.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.runs import ACTIVE_STATES, file_lock, list_runs, write_json_atomic

LOCK_FILE = "trainer.lock"


@dataclass
class Holder:
    pid: int
    run: str
    since: float
    process_started: float | None = None  # psutil's create_time of pid, to tell a reused pid apart


class TrainerLock:
    """The trainer lock of one runs folder, as seen from this process."""

    def __init__(self, runs_dir: str | Path):
        self.runs_dir = Path(runs_dir)
        self.path = self.runs_dir / LOCK_FILE

    def holder(self) -> Holder | None:
        """The other live process that trains here, or None (free, ours, or left by a dead process)."""
        with self._guarded():
            return self._other()

    def acquire(self, run: str) -> Holder | None:
        """Take the lock for `run` (again, when this process holds it: the run's name is updated). None when taken;
        else the live process that holds it, and nothing changes."""
        with self._guarded():
            other = self._other()
            if other is None:
                write_json_atomic(self.path, asdict(Holder(os.getpid(), run, time.time(), _started(os.getpid()))))
            return other

    def release(self) -> None:
        """Give the lock back, if this process holds it."""
        with self._guarded():
            found = self._read()
            if found is not None and found.pid == os.getpid():
                self.path.unlink(missing_ok=True)

    def _other(self) -> Holder | None:
        found = self._read()
        if found is None or found.pid == os.getpid() or not _alive(found):
            return None
        return found

    def _read(self) -> Holder | None:
        try:
            return Holder(**json.loads(self.path.read_text(encoding="utf-8")))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError, TypeError):
            return None  # half a file cannot be written (atomic replace); anything else is not a holder

    def _guarded(self):
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        return file_lock(self.runs_dir / ".trainer.guard")


def other_trainer(runs_dir: str | Path) -> Holder | None:
    """Another process that trains in `runs_dir`: the lock's holder, else the owner of an active run there
    (`launch.py train` takes no lock: two of them at once on two GPUs is a choice; a queue joining them is not).
    Called when this process trains nothing there, so an active run is another's."""
    found = TrainerLock(runs_dir).holder()
    if found is not None:
        return found
    for run in list_runs(runs_dir):
        status = run.status()
        pid = status.get("pid")
        if status.get("state") in ACTIVE_STATES and isinstance(pid, int) and pid != os.getpid() \
                and _alive(Holder(pid, run.name, 0.0)):
            return Holder(pid, run.name, status.get("started_at") or 0.0)
    return None


def _started(pid: int) -> float | None:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _alive(holder: Holder) -> bool:
    """Whether the holder's process still runs: the same pid, started at the same time, and not a zombie."""
    import psutil

    try:
        process = psutil.Process(holder.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        started = process.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    return holder.process_started is None or abs(started - holder.process_started) < 1.0
