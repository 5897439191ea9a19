"""The run queue: runs waiting to start one after another, kept in `<runs_dir>/queue.json` so a restart loses none.

The studio and `launch.py queue` may change the file at the same moment, so every change is a read-modify-write
under a file lock (and a thread lock, for the studio's own threads), and the file is replaced atomically. Each entry
holds the config as Config saves it; it is checked when added, so a bad config is refused then, not at 3 a.m.

When the studio starts and finds a run left `interrupted` (its process died with the studio), the queue is held
(`held_by`: that run) until the user resumes or skips it: starting the next run would otherwise take the GPU the
interrupted run needs, and the user would find it half done behind a row of newer runs.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from core.catalogue.message import StudioError
from core.config import Config
from core.runs import file_lock, write_json_atomic

QUEUE_FILE = "queue.json"
_THREAD_LOCK = threading.RLock()  # without fcntl (Windows), this still serialises the studio's own writers


class QueueError(StudioError, ValueError):
    """A queue change that cannot be done: a key 'queue.<name>' (an unknown entry, an unreadable file)."""


@dataclass
class Entry:
    """One queued run: `name` is the run's name as queued (its folder may get -2 when the name is taken by then)."""

    id: str
    name: str
    config: dict
    added_at: float

    @property
    def method(self) -> str:
        return self.config.get("train", {}).get("method", "")

    @property
    def data(self) -> str:
        return self.config.get("data", {}).get("path", "")

    def to_config(self) -> Config:
        return Config.from_dict(self.config, source=f"queue entry {self.name} ({self.id})")


class RunQueue:
    """The queue of one runs folder. Every method reads the file afresh: another process may have changed it."""

    def __init__(self, runs_dir: str | Path = "runs"):
        self.runs_dir = Path(runs_dir)
        self.path = self.runs_dir / QUEUE_FILE

    # ---- reading ----------------------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        return [Entry(**item) for item in self._read()["entries"]]

    def held_by(self) -> str | None:
        """The interrupted run the queue waits for (Resume or Skip releases it), or None."""
        return self._read().get("held_by")

    def find(self, id_or_name: str) -> Entry:
        """An entry by its id, or by its name when one entry has it; else QueueError naming what there is."""
        entries = self.entries()
        for entry in entries:
            if entry.id == id_or_name:
                return entry
        named = [e for e in entries if e.name == id_or_name]
        if len(named) == 1:
            return named[0]
        if named:
            raise QueueError("queue.ambiguous", name=id_or_name, ids=", ".join(e.id for e in named))
        known = ", ".join(f"{e.id} ({e.name})" for e in entries) or "-"
        raise QueueError("queue.unknown_entry", entry=id_or_name, known=known)

    # ---- changing ---------------------------------------------------------------------------------------------

    def add(self, config: Config, check_data: bool = True) -> Entry:
        """Queue a run of `config` at the end. The config is checked as if read from a file (ConfigError with its
        key), and its data as the run would load it (DataError naming the file and row), unless check_data=False
        (tests, or a caller that checked already)."""
        values = config.to_dict()
        Config.from_dict(values, source=f"the config of {config.name}")
        if check_data:
            _check_data(config)
        entry = Entry(id=uuid.uuid4().hex[:8], name=config.name, config=values, added_at=time.time())
        with self._changing() as state:
            state["entries"].append(asdict(entry))
        return entry

    def remove(self, entry_id: str) -> Entry:
        with self._changing() as state:
            entry = self._located(state, entry_id)
            state["entries"] = [e for e in state["entries"] if e["id"] != entry.id]
        return entry

    def move(self, entry_id: str, new_index: int) -> list[Entry]:
        """Put the entry at `new_index` (0 is next to start; an index past either end means that end)."""
        with self._changing() as state:
            entry = self._located(state, entry_id)
            rest = [e for e in state["entries"] if e["id"] != entry.id]
            rest.insert(max(0, min(new_index, len(rest))), asdict(entry))
            state["entries"] = rest
        return self.entries()

    def take_next(self) -> Entry | None:
        """Remove and return the first entry, or None when the queue is empty or held for an interrupted run."""
        with self._changing() as state:
            if state.get("held_by") or not state["entries"]:
                return None
            return Entry(**state["entries"].pop(0))

    def put_back(self, entry: Entry) -> None:
        """Return a taken entry to the front (its run could not start after all)."""
        with self._changing() as state:
            state["entries"].insert(0, asdict(entry))

    def hold(self, run_name: str) -> None:
        with self._changing() as state:
            state["held_by"] = run_name

    def release(self) -> None:
        with self._changing() as state:
            state["held_by"] = None

    # ---- the file ---------------------------------------------------------------------------------------------

    def _read(self) -> dict:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"entries": [], "held_by": None}
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise QueueError("queue.unreadable", path=str(self.path), problem=str(err)) from None
        if not isinstance(state, dict) or not isinstance(state.get("entries"), list):
            raise QueueError("queue.unreadable", path=str(self.path), problem="no 'entries' list")
        return state

    def _located(self, state: dict, id_or_name: str) -> Entry:
        """find(), against the state being changed (the file is locked, so it is the same)."""
        found = self.find(id_or_name)
        if not any(e["id"] == found.id for e in state["entries"]):
            raise QueueError("queue.unknown_entry", entry=id_or_name, known="-")
        return found

    @contextlib.contextmanager
    def _changing(self):
        with self._locked():
            state = self._read()
            yield state
            write_json_atomic(self.path, state)

    @contextlib.contextmanager
    def _locked(self):
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with _THREAD_LOCK, file_lock(self.runs_dir / ".queue.lock"):
            yield


def _check_data(config: Config) -> None:
    """The data as the run's method takes it (and grpo's rewards against its answers): what core.jobs.check_data
    checks, said here because the training stage cannot import jobs."""
    from core.data.load import load_for_training
    from core.training import rewards

    data, _ = load_for_training(config.data, config.train.method)
    if config.train.method == "grpo":
        rewards.check(config.train, data.rows, data.path)
