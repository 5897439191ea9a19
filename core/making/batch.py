"""The batch: a recipe's requests sent to the teacher in parallel, their rows checked and appended to the output
JSONL as they come, each with where it came from (teacher, recipe, item, time).

Beside the output, `<output>.progress` holds one line per finished request (rows kept, drops by reason, tokens), so
Stop, a crash or a killed process loses nothing: a run on the same output resumes, skipping every request whose rows
or line are already there (a request's rows are written in one write, before its line). A request that failed for
want of an answer (retries used up, a timeout) gets no line, so a resumed batch asks it again. The API key is passed in
(or read from the environment variable the config names) and written nowhere.

    job = MakeDataJob(config, progress=show)   # show(JobProgress) after every request
    job.run()                                  # -> the last JobProgress; raises TeacherError / RecipeError
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Callable

from core.catalogue.message import Message
from core.data.errors import joined
from core.making.config import MakeDataConfig
from core.making.dedupe import NearDuplicates
from core.making.recipes import Dropped, WorkItem, read_seeds, rows_of, work_items
from core.making.teacher import LocalTeacher, RequestFailed, TeacherError, open_teacher

DROP_REASONS = ("malformed", "disagrees", "cut_off", "too_short", "too_long", "duplicate", "refused", "failed")
PREVIEW_ROWS = 5
SELF_INSTRUCT_SLACK = 3  # self_instruct asks at most this many times the requests `count` needs, then gives up


@dataclass
class JobProgress:
    """Where a batch stands; `done`/`total` count requests (total None while unknown: self_instruct)."""

    done: int = 0
    total: int | None = None
    kept: int = 0
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    seconds_left: float | None = None
    cost: float | None = None  # in the currency of the prices given; None when no price is
    wanted: int = 0  # rows wanted (self_instruct and documents stop there)
    note: Message | None = None  # the last request that failed, in words
    finished: bool = False

    @property
    def dropped(self) -> int:
        return sum(self.dropped_by_reason.values())

    def line(self) -> Message:
        """One progress line: requests done, rows kept and dropped, tokens, time left, cost."""
        total = self.total if self.total is not None else "?"
        left = f"{self.seconds_left:.0f}" if self.seconds_left is not None else "?"
        cost = f"{self.cost:.4f}" if self.cost is not None else "-"
        return Message("making.batch.progress", {"done": self.done, "total": total, "kept": self.kept,
                                                 "dropped": self.dropped, "tokens_in": self.tokens_in,
                                                 "tokens_out": self.tokens_out, "left": left, "cost": cost})

    def summary(self) -> Message:
        """The closing line: rows kept, and dropped with each reason's count."""
        reasons = joined([Message("making.batch.reason_count", {"reason": Message("making.reason." + reason),
                                                                   "count": n})
                          for reason, n in sorted(self.dropped_by_reason.items()) if n]) or "-"
        return Message("making.batch.summary", {"kept": self.kept, "dropped": self.dropped, "reasons": reasons})


class MakeDataJob:
    """One batch. `api_key` None reads the variable `teacher.api_key_env` names; `stop` (an Event) ends it early:
    no new request starts, those under way finish and are written. `progress(JobProgress)` runs after each."""

    def __init__(self, config: MakeDataConfig, api_key: str | None = None,
                 progress: Callable[[JobProgress], None] | None = None, stop: threading.Event | None = None,
                 runs_dir: str | Path = "runs", write: bool = True, teacher=None):
        self.config, self.recipe = config, config.recipe
        self.api_key = api_key if api_key is not None else api_key_from_env(config)
        self.on_progress = progress or (lambda _: None)
        self.stop = stop or threading.Event()
        self.runs_dir, self.write, self.teacher = runs_dir, write, teacher
        self.output = Path(config.output)
        self.ledger = ledger_path(self.output)
        self.progress = JobProgress()
        self.rows: list[dict] = []  # the rows kept by this run (what preview shows)
        self._started, self._done_here = time.monotonic(), 0

    def run(self) -> JobProgress:
        done = self._resume() if self.write else set()
        self.duplicates = NearDuplicates(self.recipe.rouge_threshold, self._known_texts())
        items = [item for item in self._items() if item.id not in done] if self.recipe.kind != "self_instruct" \
            else (item for item in self._items() if item.id not in done)
        if isinstance(items, list):
            self.progress.total = self.progress.done + len(items)
        if self.teacher is None:
            self.teacher = open_teacher(self.config.teacher, self.api_key, self.runs_dir, self.stop)
        self._send_all(iter(items))
        self.progress.finished = not self.stop.is_set()
        self.progress.seconds_left = 0.0 if self.progress.finished else None
        self.on_progress(self.progress)
        return self.progress

    def _items(self):
        wanted = self.recipe.count
        self.progress.wanted = wanted
        if self.recipe.kind == "self_instruct":
            needed = math.ceil(wanted / self.recipe.tasks_per_request)
            return islice(work_items(self.recipe), SELF_INSTRUCT_SLACK * needed + 2)
        return work_items(self.recipe)

    def _enough(self) -> bool:
        return self.recipe.kind in ("self_instruct", "documents") and self.progress.kept >= self.recipe.count

    def _send_all(self, items) -> None:
        """Keep `concurrency` requests under way; take their answers as they come, in this thread (one writer)."""
        width = 1 if isinstance(self.teacher, LocalTeacher) else self.config.teacher.concurrency
        pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="teacher")
        pending: dict = {}
        try:
            while True:
                while len(pending) < width and not self.stop.is_set() and not self._enough():
                    item = next(items, None)
                    if item is None:
                        break
                    pending[pool.submit(self.teacher.complete, item.messages)] = item
                if not pending:
                    return
                finished, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                for future in finished:
                    self._take(pending.pop(future), future)
        except TeacherError:
            self.stop.set()  # the other requests would fail the same way: end their retries now
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _take(self, item: WorkItem, future) -> None:
        """One answered request: its rows checked, written, counted."""
        try:
            answer = future.result()
        except RequestFailed as err:
            self.progress.note = err.message
            if err.reason == "failed":  # timeouts, rate limits, server errors: worth asking again on resume
                return self._count([], {err.reason: 1}, 0, 0)
            return self._record(item, [], {err.reason: 1}, 0, 0)
        drops: dict[str, int] = {}
        try:
            if answer.finish_reason == "length" and self.recipe.kind in ("answer", "explain"):
                raise Dropped("cut_off")  # an answer cut off mid-way teaches the student to stop mid-way
            rows = self._checked(rows_of(self.recipe, item, answer.text), drops)
        except Dropped as dropped:
            rows, drops = [], {dropped.reason: 1}
        self._record(item, rows, drops, answer.tokens_in, answer.tokens_out)

    def _checked(self, rows: list[dict], drops: dict) -> list[dict]:
        """Rows of sensible length, not near-duplicates of a seed or an earlier row, up to the rows wanted."""
        kept = []
        for row in rows:
            if self.recipe.kind in ("self_instruct", "documents") and \
                    self.progress.kept + len(kept) >= self.recipe.count:
                break  # rows past the count wanted are neither kept nor counted as dropped
            size = len(row["output"])
            reason = "too_short" if size < self.recipe.min_chars else "too_long" if size > self.recipe.max_chars \
                else None
            if reason is None and self.recipe.kind in ("self_instruct", "documents"):
                reason = "duplicate" if self.duplicates.is_near(row["instruction"]) else None
            if reason:
                drops[reason] = drops.get(reason, 0) + 1
                continue
            self.duplicates.add(row["instruction"])
            kept.append(row)
        return kept

    def _record(self, item: WorkItem, rows: list[dict], drops: dict, tokens_in: int, tokens_out: int) -> None:
        made_by = {"teacher": self.teacher_name(), "recipe": self.recipe.kind, "item": item.id,
                   "time": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        if item.source:
            made_by["source"] = item.source
        rows = [{**row, "made_by": made_by} for row in rows]
        if self.write:
            _append(self.output, rows)  # the rows first: a request with rows but no ledger line counts as done
            _append(self.ledger, [{"item": item.id, "kept": len(rows), "dropped": drops, "tokens_in": tokens_in,
                                   "tokens_out": tokens_out}])
        self.rows += rows
        self._count(rows, drops, tokens_in, tokens_out)

    def _count(self, rows: list[dict], drops: dict, tokens_in: int, tokens_out: int) -> None:
        p = self.progress
        p.done += 1
        p.kept += len(rows)
        for reason, n in drops.items():
            p.dropped_by_reason[reason] = p.dropped_by_reason.get(reason, 0) + n
        p.tokens_in += tokens_in
        p.tokens_out += tokens_out
        p.cost = self._cost()
        self._done_here += 1
        rate = self._done_here / max(time.monotonic() - self._started, 1e-6)
        if p.total is not None:
            p.seconds_left = (p.total - p.done) / rate
        elif self.recipe.kind == "self_instruct" and p.kept:
            p.seconds_left = max(0, self.recipe.count - p.kept) / (p.kept / max(p.done, 1)) / rate
        self.on_progress(p)

    def _cost(self) -> float | None:
        t = self.config.teacher
        if not (t.price_in or t.price_out):
            return None
        return self.progress.tokens_in / 1e6 * t.price_in + self.progress.tokens_out / 1e6 * t.price_out

    def teacher_name(self) -> str:
        t = self.config.teacher
        return f"{t.model} @ {t.base_url}" if t.base_url.strip() else t.model_source

    # ---- resuming ------------------------------------------------------------------------------------------------

    def _resume(self) -> set[str]:
        """The requests already done (rows in the output, or a line in the ledger), with their counts."""
        found = earlier(self.output)
        self.progress = dataclasses.replace(found.progress, cost=None)
        self.progress.cost = self._cost()
        self._earlier_texts = found.texts
        return found.done

    def _known_texts(self) -> list[str]:
        """What new rows must not repeat: the seeds shown to the teacher, and the rows of an earlier run."""
        texts = getattr(self, "_earlier_texts", []) + [row["instruction"] for row in self.rows]
        if self.recipe.kind == "self_instruct":
            return [seed["instruction"] for seed in read_seeds(self.recipe)] + texts
        return texts


@dataclass
class Earlier:
    """What earlier runs on an output file did: their counts, the requests done, the instructions written."""

    progress: JobProgress
    done: set[str]
    texts: list[str]


def earlier(output: str | Path) -> Earlier:
    """Read the output and its ledger (cutting a torn last line off either): what a resumed batch skips."""
    output = Path(output)
    progress, done, texts = JobProgress(), set(), []
    for row in _read_lines(output):
        made_by = row.get("made_by") if isinstance(row.get("made_by"), dict) else {}
        if made_by.get("item"):
            done.add(str(made_by["item"]))
        progress.kept += 1
        texts.append(str(row.get("instruction", "")))
    for line in _read_lines(ledger_path(output)):  # kept rows are counted from the output, which the user may edit
        for reason, n in (line.get("dropped") or {}).items():
            progress.dropped_by_reason[reason] = progress.dropped_by_reason.get(reason, 0) + int(n)
        progress.tokens_in += int(line.get("tokens_in") or 0)
        progress.tokens_out += int(line.get("tokens_out") or 0)
        done.add(str(line.get("item")))
    progress.done = len(done)
    return Earlier(progress, done, texts)


def api_key_from_env(config: MakeDataConfig) -> str | None:
    name = config.teacher.api_key_env.strip()
    return os.environ.get(name) if name else None


def ledger_path(output: Path) -> Path:
    return output.with_name(output.name + ".progress")


def preview(config: MakeDataConfig, n: int = PREVIEW_ROWS, api_key: str | None = None, runs_dir: str | Path = "runs",
            teacher=None, stop: threading.Event | None = None,
            progress: Callable[[JobProgress], None] | None = None) -> list[dict]:
    """The first rows the recipe gives (at most n; `progress` sees the drops), written nowhere."""
    small = dataclasses.replace(config, recipe=dataclasses.replace(config.recipe, count=n))
    job = MakeDataJob(small, api_key=api_key, runs_dir=runs_dir, write=False, teacher=teacher, stop=stop,
                      progress=progress)
    job.run()
    return job.rows


def _append(path: Path, records: list[dict]) -> None:
    """Whole lines in one write, flushed, so a killed process leaves whole lines (or a torn last one, cut on
    resume)."""
    if not records:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    with open(path, "a", encoding="utf-8") as file:
        file.write(text)
        file.flush()


def _read_lines(path: Path) -> list[dict]:
    """The JSON lines of a file; a torn last line (a process killed mid-write) is cut off the file first."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        with open(path, "r+b") as file:
            file.truncate(raw.rfind(b"\n") + 1)
    return read_rows(path)


def read_rows(path: str | Path) -> list[dict]:
    """The rows of a made-data file, read only: a line cut short by a crash mid-write is left out (a resumed batch
    asks for it again)."""
    path = Path(path)
    if not path.is_file():
        return []
    found = []
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found
