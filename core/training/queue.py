"""The run queue: runs waiting to start one after another, kept in `<runs_dir>/queue.json` so a restart loses none.

The studio and `launch.py queue` may change the file at the same moment, so every change is a read-modify-write
under a file lock (and a thread lock, for the studio's own threads), and the file is replaced atomically. Each entry
holds the config as Config saves it; it is checked when added, so a bad config is refused then, not at 3 a.m.

When the studio starts and finds a run left `interrupted` (its process died with the studio), the queue is held
(`held_by`: that run) until the user resumes or skips it: starting the next run would otherwise take the GPU the
interrupted run needs, and the user would find it half done behind a row of newer runs.

A chain file (core/training/chain.py) is queued as one entry per stage, bound by `chain` (its id, name, stage and
number). A stage that starts from the one before waits until that stage's run completed: then its `model.source`
becomes `run:<that run's folder>`. When a stage's run fails or is stopped, or the stage before it left the queue
unfinished (skipped, removed), the chain's remaining stages are taken out, and why is kept in `notes`, which the
Train tab and `launch.py queue` show.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from core.catalogue.message import Message, StudioError
from core.config import Config
from core.models import parent
from core.runs import Run, file_lock, state_word, status_message, write_json_atomic
from core.training.chain import StageError

QUEUE_FILE = "queue.json"
KEPT_NOTES = 10  # the newest notes on chains taken out of the queue; older ones only in the runs' logs
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
    # A stage of a chain: {"id", "name", "stage", "number", "count", "follows", "before", "after"}: `before` is the
    # stage before's name, `after` the folder of its completed run, filled in when it completed (None until then).
    chain: dict | None = None

    @property
    def waiting(self) -> bool:
        """A stage that starts from the stage before, whose run has not completed yet."""
        return bool(self.chain and self.chain.get("follows") and not self.chain.get("after"))

    @property
    def stage_text(self) -> str:
        """'chain-demo 2/3 sft' for a stage of a chain, '' for a run of its own."""
        if not self.chain:
            return ""
        chain = self.chain
        return f"{chain['name']} {chain['number']}/{chain['count']} {chain['stage']}"

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

    def notes(self) -> list[dict]:
        """What happened to chains lately, oldest first: {"message": a Message, "at": the time}."""
        return [{"message": Message.from_json(note["message"]), "at": note["at"]}
                for note in self._read().get("notes", [])]

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
        entry = Entry(id=uuid.uuid4().hex[:8], name=config.name, config=_checked(config, check_data),
                      added_at=time.time())
        with self._changing() as state:
            state["entries"].append(asdict(entry))
        return entry

    def add_chain(self, stages: list, check_data: bool = True) -> list[Entry]:
        """Queue a chain's stages (core.training.chain.Stage) at the end, in order, all or none. Each stage is
        checked as add() checks a run; a stage that cannot be queued is named (StageError)."""
        chain_id, now, entries = uuid.uuid4().hex[:8], time.time(), []
        for index, stage in enumerate(stages):
            config = stage.config()  # a stage after the first has a stand-in model until the stage before ran
            try:
                values = _checked(config, check_data)
            except StudioError as err:
                raise StageError("config.stages.stage_refused", stage=stage.label, number=stage.number,
                                 count=len(stages), reason=err) from None
            chain = {"id": chain_id, "name": stage.chain, "stage": stage.label, "number": stage.number,
                     "count": len(stages), "follows": stage.follows,
                     "before": stages[index - 1].label if index else None, "after": None}
            entries.append(Entry(id=uuid.uuid4().hex[:8], name=config.name, config=values, added_at=now, chain=chain))
        with self._changing() as state:
            state["entries"].extend(asdict(entry) for entry in entries)
        return entries

    def stage_ended(self, run: Run, chain: dict | None = None) -> None:
        """A run of a chain's stage ended (`chain`, else the one its status.json names): when it completed, the
        next stage starts from it; otherwise the chain's remaining stages leave the queue, with the reason kept."""
        status = run.status()
        chain = chain or status.get("chain")
        if not isinstance(chain, dict) or "id" not in chain:
            return
        with self._changing() as state:
            if status.get("state") == "completed":
                for item in state["entries"]:
                    stage = item.get("chain") or {}
                    if stage.get("id") == chain["id"] and stage.get("number") == chain["number"] + 1 \
                            and stage.get("follows"):
                        stage["after"] = str(run.path.resolve())
                        item["config"].setdefault("model", {})["source"] = parent.PREFIX + stage["after"]
                return
            reason = Message("queue.chain_stage_ended", {"run": run.name, "state": state_word(status.get("state")),
                                                         "reason": status_message(status)})
            _drop(state, chain["id"], reason)

    def note(self, said: Message) -> None:
        """Keep a note on a chain for the Train tab and `launch.py queue` (a stage skipped as already done)."""
        with self._changing() as state:
            _keep_note(state, said)

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
        """Remove and return the first entry that can start, or None when none can or the queue is held for an
        interrupted run. A chain's stage waits while the stage before is still queued (moved behind it); one whose
        stage before left the queue unfinished takes the rest of its chain out, saying why."""
        with self._changing() as state:
            if state.get("held_by"):
                return None
            while True:
                entries = [Entry(**item) for item in state["entries"]]
                ready = next((entry for entry in entries if not entry.waiting), None)
                orphan = next((entry for entry in entries if entry.waiting and not any(
                    other.chain and other.chain["id"] == entry.chain["id"]
                    and other.chain["number"] < entry.chain["number"] for other in entries)), None)
                if orphan is not None and (ready is None or entries.index(orphan) < entries.index(ready)):
                    _drop(state, orphan.chain["id"], Message("queue.chain_stage_gone",
                                                             {"stage": orphan.chain.get("before") or "-"}))
                    continue
                if ready is None:
                    return None
                state["entries"] = [item for item in state["entries"] if item["id"] != ready.id]
                return ready

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


def _drop(state: dict, chain_id: str, reason: Message) -> None:
    """Take a chain's entries out of the queue state, keeping a note that names them and why."""
    gone = [Entry(**item) for item in state["entries"] if (item.get("chain") or {}).get("id") == chain_id]
    if not gone:
        return
    state["entries"] = [item for item in state["entries"] if (item.get("chain") or {}).get("id") != chain_id]
    _keep_note(state, Message("queue.chain_dropped", {"chain": gone[0].chain["name"],
                                                      "stages": ", ".join(entry.name for entry in gone),
                                                      "reason": reason}))


def _keep_note(state: dict, said: Message) -> None:
    state["notes"] = [*state.get("notes", []), {"message": said.to_json(), "at": time.time()}][-KEPT_NOTES:]


def _checked(config: Config, check_data: bool) -> dict:
    """The config's values, checked as if read from a file (ConfigError with its key), and its data as the run would
    load it unless check_data is False."""
    values = config.to_dict()
    Config.from_dict(values, source=f"the config of {config.name}")
    if check_data:
        _check_data(config)
    return values


def _check_data(config: Config) -> None:
    """The data as the run's method takes it (and grpo's rewards against its answers): what core.jobs.check_data
    checks, said here because the training stage cannot import jobs."""
    from core.data.load import load_for_training
    from core.training import rewards

    data, _ = load_for_training(config.data, config.train.method)
    if config.train.method == "grpo":
        rewards.check(config.train, data.rows, data.path)
