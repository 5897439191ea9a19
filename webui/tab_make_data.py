"""Tab 0, Make data: a stronger model (a teacher) writes training rows; the user previews five, runs the batch in
the background, reads and fixes the rows, then opens them on the Data tab.

Every option comes from core/making/config.py (MakeDataConfig) through webui/form.py; the engine (core.making) does
the work. The API key typed here stays in this page's memory: it is handed to the engine for one call and never
kept in a file, a form store or the studio.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import StudioError, entries, say, text_of
from core.config import ConfigError
from core.making.config import MakeDataConfig, used_by
from webui import make_review
from webui.form import Form, field_of
from webui.lang import duration_words

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
# Shown first, in this order; every other option of MakeDataConfig follows under "More settings", so an option
# added to the config appears here without touching this file.
TEACHER_KEYS = ("teacher.base_url", "teacher.model", "teacher.model_source", "teacher.api_key_env")
RECIPE_KEYS = ("recipe.kind", "recipe.input", "recipe.count", "output")
INPUT_TYPES = [".jsonl", ".json", ".csv", ".txt", ".md", ".parquet", ".pdf"]


def option_keys() -> list[str]:
    """Every option of MakeDataConfig as a dotted key ('teacher.model', 'output'), in the config's order."""
    keys = []
    for f in dataclasses.fields(MakeDataConfig):
        section = f.default_factory if f.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(section):
            keys += [f"{f.name}.{inner.name}" for inner in dataclasses.fields(section)]
        else:
            keys.append(f.name)
    return keys


def build(i18n) -> SimpleNamespace:
    form = Form(i18n, MakeDataConfig, label_prefix="making.")
    with gr.Tab(i18n("tab.make"), id="make") as tab:
        gr.Markdown(i18n("make.intro"))
        with gr.Row():
            with gr.Column(scale=2, min_width=320):
                teacher = build_teacher(form, i18n)
            with gr.Column(scale=3):
                recipe = build_recipe(form, i18n)
        with gr.Accordion(i18n("make.more"), open=False, elem_id="make-more"):
            shown = set(TEACHER_KEYS) | set(RECIPE_KEYS)
            for key in option_keys():
                if key not in shown:
                    form.add(key)
        review = make_review.build(i18n)
        timer = gr.Timer(POLL_SECONDS, active=False)
    return SimpleNamespace(tab=tab, form=form, timer=timer, **vars(teacher), **vars(recipe), **vars(review))


def build_teacher(form, i18n) -> SimpleNamespace:
    gr.Markdown(i18n("make.teacher"))
    form.add("teacher.base_url")
    form.add("teacher.model")
    # The key lives in this password box only: the browser keeps it for this page, the server for one call.
    api_key = gr.Textbox(type="password", label=i18n("make.api_key"), info=i18n("make.api_key_help"),
                         elem_id="make-api-key")
    form.add("teacher.api_key_env")
    form.add("teacher.model_source")
    test = gr.Button(i18n("make.test"), elem_id="make-test")
    connection = gr.Markdown(elem_id="make-connection")
    return SimpleNamespace(api_key=api_key, test=test, connection=connection)


def build_recipe(form, i18n) -> SimpleNamespace:
    gr.Markdown(i18n("make.recipe"))
    form.add("recipe.kind")
    form.add("recipe.input")
    # A button, not a drop zone: it stays ready for the next file while the path above says which one is used.
    upload = gr.UploadButton(i18n("make.upload"), file_types=INPUT_TYPES, size="sm", elem_id="make-upload")
    form.add("recipe.count")
    form.add("output")
    with gr.Row():
        preview = gr.Button(i18n("make.preview"), elem_id="make-preview-button")
        start = gr.Button(i18n("make.start"), variant="primary", elem_id="make-start")
        stop = gr.Button(i18n("make.stop"), variant="stop", interactive=False, elem_id="make-stop")
        resume = gr.Button(i18n("make.resume"), elem_id="make-resume")
    progress = gr.Markdown(elem_id="make-progress")
    samples = gr.Dataframe(label=i18n("make.preview_table"), interactive=False, wrap=True, max_height=360,
                           visible=False, elem_id="make-preview")
    return SimpleNamespace(upload=upload, preview=preview, start=start, stop=stop, resume=resume, progress=progress,
                           samples=samples)


# ---------------------------------------------------------------------------------------------- the batch


class Batch:
    """The batch in the background: one per studio, shared by every page, owned by a thread here and never by a
    browser event. The key is passed to the job and forgotten with it."""

    def __init__(self, runs_dir):
        self.runs_dir = runs_dir  # where run:NAME teachers are found
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.progress = None
        self.output: str | None = None
        self.ended: str | Exception | None = None  # "done", "stopped", or the error that ended it

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, config: MakeDataConfig, api_key: str | None) -> bool:
        """Start the batch (resuming what the output file holds); False when one runs already."""
        from core.making import batch as making

        with self.lock:
            if self.busy:
                return False
            self.stop_event = threading.Event()
            self.progress, self.ended, self.output = None, None, config.output
            job = making.MakeDataJob(config, api_key=api_key or None, progress=self.report, stop=self.stop_event)
            self.thread = threading.Thread(target=self.work, args=(job,), name="make-data", daemon=True)
            self.thread.start()
            return True

    def work(self, job) -> None:
        try:
            job.run()
            self.ended = "stopped" if self.stop_event.is_set() else "done"
        except Exception as err:  # noqa: BLE001 - the page shows it; the log keeps the traceback
            log.exception("making data failed")
            self.ended = err

    def report(self, progress) -> None:
        self.progress = progress

    def stop(self) -> None:
        self.stop_event.set()

    def wait(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


class MakeDataHandlers:
    """The Make data tab's handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, form, runs_dir, batch: Batch | None = None):
        self.ui, self.form, self.runs_dir = ui, form, runs_dir
        self.batch = batch or Batch(runs_dir)

    def config(self, values: dict) -> MakeDataConfig:
        return self.form.config_from(values)

    def test_connection(self, values: dict) -> dict:
        """One prompt to the teacher: its reply and how long it took, or what went wrong, plainly."""
        from core.making.teacher import open_teacher  # the openai client loads on first use, not with the page

        try:
            config = self.config(values)
            teacher = open_teacher(config.teacher, values.get(self.ui.api_key) or None, runs_dir=self.runs_dir)
            reply, seconds = teacher.test_connection()
        except (StudioError, ConfigError) as err:
            return {self.ui.connection: "❌ " + text_of(err)}
        return {self.ui.connection: say("make.connected", seconds=seconds, reply=quoted(reply))}

    def preview(self, values: dict) -> dict:
        """Five rows made by the teacher, nothing written: the recipe can be tuned before the whole batch."""
        from core.making import batch as making

        seen = []  # the preview's own counts: why its answers were dropped, if they were
        try:
            rows = making.preview(self.config(values), n=making.PREVIEW_ROWS, runs_dir=self.runs_dir,
                                  api_key=values.get(self.ui.api_key) or None, progress=seen.append)
        except (StudioError, ConfigError) as err:
            return {self.ui.progress: "❌ " + text_of(err), self.ui.samples: gr.update(visible=False)}
        counts = "\n\n" + progress_line(seen[-1]) if seen else ""
        if not rows:
            return {self.ui.progress: say("make.preview_empty") + counts, self.ui.samples: gr.update(visible=False)}
        return {self.ui.progress: say("make.previewed", rows=len(rows)) + counts,
                self.ui.samples: gr.update(visible=True, value=make_review.table(rows))}

    def start(self, values: dict) -> dict:
        """Start (or resume) the batch; the rows already in the output file are kept and not asked for again."""
        try:
            config = self.config(values)
        except (StudioError, ConfigError) as err:
            return {self.ui.progress: "❌ " + text_of(err)}
        if not self.batch.start(config, values.get(self.ui.api_key)):
            return {self.ui.progress: say("make.busy")}
        return {self.ui.progress: say("make.started", output=config.output), self.ui.timer: gr.Timer(active=True),
                **self.buttons(running=True)}

    def stop(self) -> dict:
        self.batch.stop()
        return {self.ui.progress: say("make.stopping"), self.ui.stop: gr.update(interactive=False)}

    def tick(self) -> dict:
        """Progress while the batch runs; when it ends, the last counts and the rows to review."""
        batch = self.batch
        line = progress_line(batch.progress) if batch.progress is not None else say("make.waiting")
        if batch.busy:
            return {self.ui.progress: line, **self.buttons(running=True)}
        ended = batch.ended
        if isinstance(ended, Exception):
            line = "❌ " + text_of(ended) + ("\n\n" + line if batch.progress is not None else "")
        elif ended is not None:
            line = say("make.done" if ended == "done" else "make.stopped") + "\n\n" + line
        updates = {self.ui.progress: line, self.ui.timer: gr.Timer(active=False), **self.buttons(running=False)}
        if batch.output:
            updates.update(make_review.shown(self.ui, batch.output))
        return updates

    def buttons(self, running: bool) -> dict:
        return {self.ui.start: gr.update(interactive=not running), self.ui.resume: gr.update(interactive=not running),
                self.ui.stop: gr.update(interactive=running)}


def options_for_kind(form, kind: str) -> dict:
    """Only the options the chosen recipe reads are shown (an option's `kinds` in core/making/config.py)."""
    updates = {}
    for key, widget in form.fields.items():
        meta = field_of(key, MakeDataConfig).metadata
        if meta.get("kinds"):
            updates[widget] = gr.update(visible=used_by(meta, kind))
    return updates


def progress_line(p) -> str:
    """done/total, kept, dropped by reason, tokens, time left and cost, in the page's language."""
    dropped = ", ".join(say("make.dropped_reason", reason=reason_words(reason), count=count)
                        for reason, count in sorted(p.dropped_by_reason.items())) or "0"
    total = p.total if p.total is not None else "?"  # self_instruct asks until it has the rows wanted
    lines = [say("make.progress", done=p.done, total=total, kept=p.kept, wanted=p.wanted),
             say("make.dropped", reasons=dropped),
             say("make.tokens", tokens_in=p.tokens_in, tokens_out=p.tokens_out)]
    if p.seconds_left is not None and not p.finished:  # "0 s left" says nothing once it ended
        lines.append(say("make.time_left", left=duration_words(p.seconds_left)))
    if p.cost is not None:
        lines.append(say("make.cost", cost=p.cost))
    if p.note is not None:  # the last request that failed, and why
        lines.append("⚠️ " + text_of(p.note))
    return "\n".join(f"- {line}" for line in lines)


def reason_words(reason: str) -> str:
    """A drop reason (core.making.batch.DROP_REASONS) in the page's language."""
    key = "making.reason." + reason
    return say(key) if key in entries() else reason


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in (text or "").strip().splitlines()) or "> …"


def take_upload(studio, file):
    return str(studio.keep_upload(file)) if file else gr.skip()


def connect(ui, studio, demo, tabs, data_path) -> MakeDataHandlers:
    """Wire the tab; `data_path` is the Data tab's data.path widget ("Use as training data" sets it)."""
    handlers = MakeDataHandlers(ui, ui.form, studio.runs_dir)
    fields = ui.form.fields
    values = set(fields.values()) | {ui.api_key}
    ui.upload.upload(functools.partial(take_upload, studio), [ui.upload], [fields["recipe.input"]])
    kind = fields["recipe.kind"]
    gr.on([demo.load, kind.change], functools.partial(options_for_kind, ui.form), [kind],
          [w for k, w in fields.items() if field_of(k, MakeDataConfig).metadata.get("kinds")],
          show_progress="hidden", queue=False)
    ui.test.click(handlers.test_connection, values, [ui.connection])
    ui.preview.click(handlers.preview, values, [ui.progress, ui.samples])
    running = [ui.progress, ui.timer, ui.start, ui.stop, ui.resume]
    ui.start.click(handlers.start, values, running)
    ui.resume.click(handlers.start, values, running)
    ui.stop.click(handlers.stop, None, [ui.progress, ui.stop])
    ticked = [*running, *make_review.outputs(ui)]
    ui.timer.tick(handlers.tick, None, ticked, show_progress="hidden")
    # A page opened (or reloaded) while a batch runs follows it.
    demo.load(functools.partial(follow, handlers), None, [ui.timer], show_progress="hidden", queue=False)
    make_review.connect(ui, handlers, fields["output"], tabs, data_path)
    remember(ui.form, demo)
    return handlers


def remember(form, demo) -> None:
    """Keep the form (never the key, which is no option) in the browser's local storage: after a reload or a
    restart of the studio, Resume finds the same settings."""
    saved = gr.BrowserState({}, storage_key="finetune-studio-make-data")
    keys, widgets = list(form.fields), list(form.fields.values())
    gr.on([w.change for w in widgets], functools.partial(kept_values, keys), widgets, saved,
          show_progress="hidden", queue=False)
    demo.load(functools.partial(restored, form.fields), saved, widgets, show_progress="hidden", queue=False)


def kept_values(keys: list[str], *values) -> dict:
    return dict(zip(keys, values))


def restored(fields: dict, stored) -> dict:
    stored = stored or {}
    return {widget: gr.update(value=stored[key]) for key, widget in fields.items() if key in stored} or gr.skip()


def follow(handlers: MakeDataHandlers):
    return gr.Timer(active=True) if handlers.batch.busy else gr.skip()
