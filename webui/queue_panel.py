"""The Train tab's queue: the runs waiting to start (name, method, data, when added, and a chain's name and stage)
with Up, Down and Remove; after a restart that left a run interrupted, the choice to resume it or skip it; and the
latest note on a chain (its later stages taken out when a stage failed, a stage skipped as already done).

The list is read from the runs folder's queue.json at each poll of the Train tab and sent only when it changed, so
a reloaded page, a second browser and `launch.py queue` all see the same queue.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import StudioError, say, text_of
from core.config import Config

COLUMNS = ("queue.col.position", "queue.col.name", "queue.col.chain", "queue.col.method", "queue.col.data",
           "queue.col.added")


def build(i18n) -> SimpleNamespace:
    with gr.Accordion(i18n("queue.panel"), open=True, elem_id="queue-panel"):
        held = gr.Markdown(elem_id="queue-held")
        with gr.Row(visible=False) as held_row:
            resume_held = gr.Button(i18n("queue.resume_held"), size="sm", elem_id="queue-resume")
            skip_held = gr.Button(i18n("queue.skip_held"), size="sm", elem_id="queue-skip")
        table = gr.Dataframe(headers=list(COLUMNS), interactive=False, elem_id="queue-table")
        with gr.Row():
            pick = gr.Dropdown([], value=None, label=i18n("queue.pick"), scale=3, elem_id="queue-pick")
            up = gr.Button(i18n("queue.up"), size="sm", scale=0, elem_id="queue-up")
            down = gr.Button(i18n("queue.down"), size="sm", scale=0, elem_id="queue-down")
            remove = gr.Button(i18n("queue.remove"), size="sm", scale=0, elem_id="queue-remove")
        seen = gr.State("")  # what the panel shows now, so a poll sends it only when the queue changed
    return SimpleNamespace(held=held, held_row=held_row, resume_held=resume_held, skip_held=skip_held, table=table,
                           pick=pick, up=up, down=down, remove=remove, seen=seen)


class QueueHandlers:
    """The queue panel's handlers; each answers {component: update}. `notice` is the Train tab's notice line."""

    def __init__(self, ui, studio, notice):
        self.ui, self.studio, self.notice = ui, studio, notice
        self.outputs = [ui.held, ui.held_row, ui.table, ui.pick, ui.seen]

    def refresh(self, seen: str | None, picked: str | None = None) -> dict:
        """The panel as the queue file says, or {} when it shows that already."""
        try:
            queue = self.studio.queue
            entries, held, notes = queue.entries(), queue.held_by(), queue.notes()[-1:]
        except StudioError as err:  # an unreadable queue file: say which and why, once
            shown = f"unreadable:{err}"
            return {} if shown == seen else {self.ui.held: f"**{text_of(err)}**", self.ui.seen: shown}
        shown = json.dumps([[e.id for e in entries], held, picked in {e.id for e in entries},
                            [note["at"] for note in notes]])
        if shown == seen:
            return {}
        rows = [[str(n), e.name, e.stage_text, e.method, Path(e.data).name, _when(e.added_at)]
                for n, e in enumerate(entries, 1)]
        table = {"headers": [say(key) for key in COLUMNS],
                 "data": rows or [[say("table.none_yet"), *[""] * (len(COLUMNS) - 1)]]}
        choices = [(f"{n}. {e.name} ({e.id})", e.id) for n, e in enumerate(entries, 1)]
        kept = picked if picked in {e.id for e in entries} else None
        note = say("queue.held", run=held) if held else ("" if entries else say("queue.empty"))
        if notes:  # what last happened to a chain: why its later stages left the queue
            said = say("queue.note", when=_when(notes[0]["at"]), note=notes[0]["message"])
            note = f"{note}\n\n{said}" if note else said
        return {self.ui.held: note, self.ui.held_row: gr.update(visible=bool(held)), self.ui.table: table,
                self.ui.pick: gr.update(choices=choices, value=kept), self.ui.seen: shown}

    def tick(self, seen: str | None, picked: str | None):
        self.studio.start_queued_if_idle()
        return self.refresh(seen, picked) or gr.skip()

    def move(self, picked: str | None, step: int) -> dict:
        if not picked:
            return {self.notice: say("queue.pick_first")}
        try:
            ids = [e.id for e in self.studio.queue.entries()]
            position = max(0, min(ids.index(picked) + step, len(ids) - 1)) if picked in ids else 0
            entry = self.studio.queue.find(picked)
            self.studio.queue.move(entry.id, position)
        except StudioError as err:
            return {self.notice: f"**{text_of(err)}**", **self.refresh(None, None)}
        return {self.notice: say("queue.moved", name=entry.name, position=position + 1), **self.refresh(None, picked)}

    def remove(self, picked: str | None) -> dict:
        if not picked:
            return {self.notice: say("queue.pick_first")}
        try:
            entry = self.studio.queue.remove(picked)
        except StudioError as err:
            return {self.notice: f"**{text_of(err)}**", **self.refresh(None, None)}
        return {self.notice: say("queue.removed", name=entry.name), **self.refresh(None, None)}

    def resume_held(self) -> dict:
        """Resume the interrupted run the queue waits for; the queue follows it when it ends."""
        run = self.studio.run_named(self.studio.queue.held_by() or "")
        if run is None:
            return {self.notice: say("queue.not_held"), **self.refresh(None, None)}
        try:
            self.studio.start_run(Config.from_yaml(run.config_file), resume=run)
        except StudioError as err:  # no checkpoint to resume from: Skip is the way on
            return {self.notice: f"**{text_of(err)}**"}
        return {self.notice: say("train.resuming", name=run.name), **self.refresh(None, None)}

    def skip_held(self) -> dict:
        held = self.studio.queue.held_by()
        if not held:
            return {self.notice: say("queue.not_held"), **self.refresh(None, None)}
        started = self.studio.runner.skip_held()
        note = say("queue.skipped", run=held) + (" " + say("train.started", name=started.name) if started else "")
        return {self.notice: note, **self.refresh(None, None)}


def connect(ui, studio, notice, timer, demo) -> None:
    handlers = QueueHandlers(ui, studio, notice)
    changed = [notice, *handlers.outputs]
    timer.tick(handlers.tick, [ui.seen, ui.pick], handlers.outputs, show_progress="hidden", concurrency_id="poll",
               concurrency_limit=None)
    demo.load(lambda picked: handlers.refresh(None, picked), [ui.pick], handlers.outputs, show_progress="hidden")
    ui.up.click(lambda picked: handlers.move(picked, -1), [ui.pick], changed)
    ui.down.click(lambda picked: handlers.move(picked, 1), [ui.pick], changed)
    ui.remove.click(handlers.remove, [ui.pick], changed)
    ui.resume_held.click(handlers.resume_held, None, changed, concurrency_id="start", concurrency_limit=1)
    ui.skip_held.click(handlers.skip_held, None, changed, concurrency_id="start", concurrency_limit=1)


def _when(added_at: float) -> str:
    """When an entry was added: the time today, the date and time before."""
    moment = time.localtime(added_at)
    today = time.localtime()[:3] == moment[:3]
    return time.strftime("%H:%M" if today else "%Y-%m-%d %H:%M", moment)
