"""Run folders: the contract the UI, the command line and the tests all read.

runs/<name>/config.yaml, status.json, metrics.jsonl, adapter/ (or model/ for full and freeze tuning), checkpoints/,
train.log, and accelerate.yaml for runs of several processes. Status and config are written atomically (temp file,
then rename), so a crash never leaves half a file. The studio (or `launch.py train`) creates the folder; the run's
own process writes into it, and asks to stop through a file there (.stop), which every process of the run can see.
Status lines are catalogue Messages (core/catalogue/runs.py): the file keeps their English and their key.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from core.catalogue.message import Message, entries

try:
    import fcntl
except ImportError:  # Windows: the thread lock below still serialises writers within one process
    fcntl = None

_STATUS_LOCK = threading.Lock()  # status.json is read-modify-written from several threads
STOP_FILE = ".stop"

ACTIVE_STATES = ("queued", "loading", "training", "stopping")
FINAL_STATES = ("completed", "stopped", "failed", "interrupted")


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def file_lock(path: Path):
    """Hold an exclusive lock on `path` (created if missing) while the block runs, across processes: the run's
    process, the studio and the command line may change the same file at once. Where fcntl is missing (Windows),
    no lock."""
    if fcntl is None:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def unique_name(runs_dir: Path, name: str) -> str:
    """Never overwrite a run: 'demo' becomes 'demo-2', 'demo-3', ... when taken."""
    if not (runs_dir / name).exists():
        return name
    base = re.sub(r"-\d+$", "", name)
    n = 2
    while (runs_dir / f"{base}-{n}").exists():
        n += 1
    return f"{base}-{n}"


@dataclass
class Run:
    """One run folder on disk."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_file(self) -> Path:
        return self.path / "config.yaml"

    @property
    def status_file(self) -> Path:
        return self.path / "status.json"

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def adapter_dir(self) -> Path:
        return self.path / "adapter"

    @property
    def model_dir(self) -> Path:
        """The whole trained model, for full and freeze tuning (instead of adapter/)."""
        return self.path / "model"

    @property
    def weights_dir(self) -> Path:
        """Where the run's trained weights and its tokenizer are: adapter/ or model/."""
        return self.model_dir if self.has_model() and not self.has_adapter() else self.adapter_dir

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def log_file(self) -> Path:
        return self.path / "train.log"

    @property
    def accelerate_file(self) -> Path:
        return self.path / "accelerate.yaml"

    @classmethod
    def create(cls, runs_dir: str | Path, name: str) -> "Run":
        runs_dir = Path(runs_dir)
        runs_dir.mkdir(parents=True, exist_ok=True)
        name = unique_name(runs_dir, name)
        path = runs_dir / name
        path.mkdir()
        return cls(path)

    # ---- status -----------------------------------------------------------------------------------------------

    def status(self) -> dict:
        try:
            return json.loads(self.status_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return _unknown_status(Message("runs.no_status"))
        except json.JSONDecodeError:
            return _unknown_status(Message("runs.unreadable_status"))

    def update_status(self, **changes) -> dict:
        """Change some fields of status.json. A `message` is a catalogue Message: the file keeps its English under
        "message" (for people and tools reading the file) and its key and values under "message_key" (for the page,
        which says it in its own language)."""
        if "message" in changes:
            said = changes["message"]
            changes["message"] = str(said)
            changes["message_key"] = said.to_json() if isinstance(said, Message) else None
        # Read, change, write under one lock: Stop (the studio's process) and the trainer's callback (the run's
        # process) both update the status, and without it one can write back a step the other had moved past.
        with _STATUS_LOCK, self._file_lock():
            status = self.status() if self.status_file.exists() else {}
            status.update(changes)
            write_json_atomic(self.status_file, status)
            return status

    def _file_lock(self):
        return file_lock(self.path / ".status.lock")

    # ---- stop requests: a file, so every process of the run sees it ----------------------------------------

    def request_stop(self) -> None:
        write_text_atomic(self.path / STOP_FILE, f"{time.time()}\n")

    def stop_requested(self) -> bool:
        return (self.path / STOP_FILE).exists()

    def clear_stop(self) -> None:
        (self.path / STOP_FILE).unlink(missing_ok=True)

    # ---- metrics ----------------------------------------------------------------------------------------------

    def append_metric(self, record: dict) -> None:
        # One line per write, flushed: readers polling the file see whole lines only.
        with open(self.metrics_file, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def read_metrics(self, offset: int = 0) -> tuple[list[dict], int]:
        """Metrics after byte `offset`, and the offset to ask from next time (so pollers read only new lines)."""
        if not self.metrics_file.exists():
            return [], offset
        with open(self.metrics_file, "rb") as f:
            f.seek(offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next poll
        records = [json.loads(line) for line in chunk[:end].splitlines() if line.strip()]
        return records, offset + end

    def log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.log_file, "a", encoding="utf-8") as f:
            f.write(f"{stamp} {message}\n")

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def has_adapter(self) -> bool:
        return (self.adapter_dir / "adapter_config.json").exists()

    def has_model(self) -> bool:
        """A whole model saved by a full or freeze run."""
        return (self.model_dir / "config.json").exists()

    def has_weights(self) -> bool:
        """Something to chat with, evaluate, export or show: an adapter or a whole model."""
        return self.has_adapter() or self.has_model()

    def resumable(self) -> bool:
        """Whether Resume can continue the run: from its last complete checkpoint, or, when it never finished a
        step (stopped while loading or writing the replay answers), from the start in this folder, reusing the
        knowledge-replay answers it wrote."""
        return self.last_checkpoint() is not None or not self.read_metrics()[0]

    def carried_over(self) -> dict:
        """The status fields an attempt starts with: the step and total of the checkpoint it continues from, so a
        resumed run stopped before its next step still shows the steps it did, and the time the earlier attempts
        took (`earlier_seconds`), which elapsed_seconds counts, so the duration covers the whole run. A new run
        starts from nothing."""
        status = self.status() if self.status_file.exists() else {}
        step = total = 0
        checkpoint = self.last_checkpoint()
        if checkpoint is not None:
            state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
            step, total = state.get("global_step", 0), state.get("max_steps", 0)
        return {"step": step, "total_steps": total, "earlier_seconds": round(elapsed_seconds(status), 1)}

    def last_checkpoint(self) -> Path | None:
        """The newest complete checkpoint. The trainer writes trainer_state.json last, so a checkpoint cut short
        by a crash or a full disk has none (or an unreadable one) and is never offered for resuming."""
        def step(path: Path) -> int:
            tail = path.name.rsplit("-", 1)[-1]
            return int(tail) if tail.isdigit() else -1

        for candidate in sorted(self.checkpoints_dir.glob("checkpoint-*"), key=step, reverse=True):
            try:
                json.loads((candidate / "trainer_state.json").read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if any((candidate / name).exists() for name in ("adapter_model.safetensors", "model.safetensors",
                                                            "model.safetensors.index.json")):
                return candidate
        return None


def list_runs(runs_dir: str | Path) -> list[Run]:
    """Run folders, newest first."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    found = [Run(p) for p in runs_dir.iterdir() if (p / "status.json").exists()]
    return sorted(found, key=lambda r: r.status_file.stat().st_mtime, reverse=True)


def mark_interrupted(runs_dir: str | Path) -> list[str]:
    """At start-up, a run still marked active belongs to a process that died: say so instead of 'training' forever."""
    changed = []
    for run in list_runs(runs_dir):
        status = run.status()
        if status.get("state") in ACTIVE_STATES and not _alive(status.get("pid")):
            run.update_status(state="interrupted", ended_at=time.time(),
                              message=Message("runs.interrupted", {"state": state_word(status["state"]),
                                                                   "step": status.get("step", 0)}))
            changed.append(run.name)
    return changed


def status_message(status: dict) -> Message | str:
    """The status line of a run as the page should say it: its Message when the file has its key, else the text."""
    said = status.get("message_key")
    return Message.from_json(said) if isinstance(said, dict) else status.get("message", "")


def state_word(state: str) -> Message | str:
    """A run's state as a word of the page's language ('training', 'failed' ...; an unknown one as it is)."""
    return Message(f"state.{state}") if f"state.{state}" in entries() else state


def _unknown_status(why: Message) -> dict:
    """The status of a folder without a readable status.json, in the form update_status writes."""
    return {"state": "unknown", "message": str(why), "message_key": why.to_json()}


def _alive(pid) -> bool:
    """Whether the process is running (a zombie, killed but not yet reaped, is not)."""
    if not isinstance(pid, int):
        return False
    if pid == os.getpid():
        return True
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def elapsed_seconds(status: dict, now: float | None = None) -> float:
    """How long the run has taken: its earlier attempts (before a resume) and the current one, until it ended or
    until now. A status without started_at (queued in an older version, or no run) has taken nothing yet."""
    started = status.get("started_at")
    if not started:
        return float(status.get("earlier_seconds") or 0)
    ended = status.get("ended_at") or (time.time() if now is None else now)
    return float(status.get("earlier_seconds") or 0) + max(ended - started, 0.0)


def duration_text(seconds: float) -> str:
    """A duration as people say it: '45 s', '12 min', '2.5 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
