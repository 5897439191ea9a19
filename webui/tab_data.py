"""Tab 1, Data: pick a dataset, map its columns, and see it as training will: warnings, statistics, and each
example token by token. Every number and message comes from core (data.load, data_check.inspect, token_view).
"""

from __future__ import annotations

import functools
import logging
import statistics
from dataclasses import dataclass, field
from types import SimpleNamespace

import gradio as gr
import yaml

from core.catalogue.message import say, text_of
from core.config import Config, ConfigError
from core.data import check as data_check
from core.data import load as datasets_io
from core.data.chat_layout import TemplateError
from core.data.errors import DataError
from core.data.files import EXTENSIONS
from core.data.formats import MAPPABLE, Mapping
from core.models import load as models
from webui import charts, data_viewer, time_estimate
from webui.form import default_of, mapping_text
from webui.lang import duration_words
from webui.studio import SAMPLES, SAMPLES_DIR

log = logging.getLogger(__name__)
PREVIEW_ROWS = 20
PREVIEW_LIMIT = 5000  # records read for the tab: a 2 GB file previews in seconds; training reads it all
PLACEHOLDER_SLOTS = 6
NOT_USED = "(not used)"
# The options an inspection reads: the data section, the model's tokenizer, and what sets length and steps.
INSPECT_KEYS = ("data.path", "data.format", "data.eval_fraction", "data.columns", "data.roles", "data.placeholders",
                "data.eval_path", "data.skip_bad_rows", "model.source", "model.system_prompt", "train.max_length",
                "train.batch_size",
                "train.grad_accum", "train.epochs", "train.max_steps", "train.seed")


def build(form, i18n) -> SimpleNamespace:
    with gr.Tab(i18n("tab.data"), id="data"):
        gr.Markdown(i18n("data.intro"))
        with gr.Row():
            with gr.Column(scale=2, min_width=320):
                chosen = build_choices(form, i18n)
            with gr.Column(scale=3):
                shown = build_views(form, i18n)
        state = gr.State({})
    return SimpleNamespace(**vars(chosen), **vars(shown), state=state)


def build_choices(form, i18n) -> SimpleNamespace:
    """The left column: the file, its format and mapping, placeholders, the held-out split and replay."""
    upload = gr.File(label=i18n("data.upload"), file_types=list(EXTENSIONS),
                     elem_id="data-upload", height=140)
    sample = gr.Dropdown([(i18n(key), name) for name, key in SAMPLES.items()],
                         value=sample_shown(default_of("data.path")),
                         label=i18n("data.sample"), elem_id="data-sample")
    form.add("data.path")
    form.add("data.format")
    # Shown here because the token view below shows what it does to every row.
    form.add("model.system_prompt")
    with gr.Accordion(i18n("data.mapping"), open=False, elem_id="data-mapping") as mapping_box:
        gr.Markdown(i18n("data.mapping_help"))
        mapping = {}
        fields = list(MAPPABLE)
        for start in range(0, len(fields), 3):
            with gr.Row():
                for name in fields[start:start + 3]:
                    mapping[name] = gr.Dropdown([(i18n("data.not_used"), NOT_USED)], value=NOT_USED, label=name,
                                                min_width=120, allow_custom_value=True, elem_id=f"data-map-{name}")
        form.add("data.columns")
        form.add("data.roles")
        form.add("data.placeholders")
    with gr.Group(visible=False, elem_id="data-placeholders") as placeholder_box:
        gr.Markdown(i18n("data.placeholders_help"))
        slots = [gr.Textbox(visible=False, elem_id=f"data-placeholder-{i}")
                 for i in range(PLACEHOLDER_SLOTS)]
    form.add("data.eval_fraction")
    form.add("data.eval_path")
    eval_upload = gr.UploadButton(i18n("data.eval_upload"), file_types=list(EXTENSIONS),
                                  size="sm", elem_id="data-eval-upload")
    form.add("data.replay")
    return SimpleNamespace(upload=upload, sample=sample, mapping_box=mapping_box, mapping=mapping,
                           placeholder_box=placeholder_box, slots=slots, eval_upload=eval_upload)


def build_views(form, i18n) -> SimpleNamespace:
    """The right column: the summary, warnings, one example token by token, lengths, problems and the rows."""
    summary = gr.Markdown(elem_id="data-summary")
    warnings = gr.Markdown(elem_id="data-warnings")
    show_rows = gr.Radio([(i18n("data.all_rows"), data_viewer.ALL)], value=data_viewer.ALL,
                         label=i18n("data.show_rows"), elem_id="data-filter")
    with gr.Row(equal_height=False):
        previous = gr.Button(i18n("data.previous"), size="sm", min_width=100, elem_id="data-previous")
        following = gr.Button(i18n("data.next"), size="sm", min_width=100, elem_id="data-next")
        shuffle = gr.Button(i18n("data.random"), size="sm", min_width=100, elem_id="data-random")
        row = gr.Number(value=1, precision=0, minimum=1, label=i18n("data.row"), min_width=90,
                        elem_id="data-row")
    position = gr.Markdown(elem_id="data-position")
    example = gr.HTML(label=i18n("data.example"), show_label=True, container=True,
                      elem_id="data-example")
    with gr.Row():
        lengths = gr.Plot(label=i18n("data.lengths"), elem_id="data-lengths", scale=3)
        stats = gr.Markdown(elem_id="data-stats")
    with gr.Accordion(i18n("data.problems"), open=False, elem_id="data-problems-box") as problems_box:
        form.add("data.skip_bad_rows")
        problems = gr.Dataframe(headers=["where", "problem"], interactive=False, wrap=True,
                                max_height=300, elem_id="data-problems")
        raw = gr.Textbox(label=i18n("data.raw"), lines=3, max_lines=12, interactive=False,
                         elem_id="data-raw")
    with gr.Accordion(i18n("data.preview"), open=False):
        table = gr.Dataframe(interactive=False, wrap=True, max_height=380, elem_id="data-preview")
    return SimpleNamespace(summary=summary, warnings=warnings, show_rows=show_rows, previous=previous, next=following,
                           random=shuffle, row=row, position=position, example=example, lengths=lengths, stats=stats,
                           problems_box=problems_box, problems=problems, raw=raw, table=table)


class DataHandlers:
    """The Data tab's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, form, studio):
        self.ui, self.form, self.studio = ui, form, studio

    def inspect(self, values: dict) -> dict:
        try:
            config = self.form.config_from(values)
        except ConfigError as err:  # e.g. data.columns typed half-way: keep the dropdowns as they are
            updates = outputs_for(self.ui, Shown(say("data.cannot_inspect", error=err)))
            return {widget: update for widget, update in updates.items() if widget not in self.ui.mapping.values()}
        try:
            return outputs_for(self.ui, inspect_dataset(config, self.studio))
        except Exception as err:  # noqa: BLE001 - the page shows a message, the log keeps the traceback
            log.exception("inspecting %s failed", config.data.path)
            return outputs_for(self.ui, Shown(say("data.read_failed", path=config.data.path,
                                                  error=f"{type(err).__name__}: {text_of(err)}")))

    def mapped(self, *values) -> str:
        return mapping_text({name: value for name, value in zip(self.ui.mapping, values)
                             if value and value != NOT_USED})

    def move(self, direction: str, state: dict, choice, number) -> dict:
        """The viewer after a click: 'previous', 'next', 'random', 'here' (the row typed) or 'first'."""
        row, position, example = data_viewer.go(state, choice, number, direction, self.studio.tokenizer_for)
        return {self.ui.row: row, self.ui.position: position, self.ui.example: example}


def take_upload(studio, file):
    """The dataset path for an uploaded file, kept out of Gradio's temporary folder."""
    return str(studio.keep_upload(file)) if file else gr.skip()


def take_sample(name):
    return str(SAMPLES_DIR / name) if name else gr.skip()


def no_path() -> str:
    return ""


def filled(state: dict, current, *values) -> str:
    return mapping_text(placeholder_values(parse_mapping(current), state.get("placeholders", []), values))


def pick_problem(state: dict, event: gr.SelectData) -> str:
    raws = state.get("raws", [])
    index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
    return raws[index] if 0 <= index < len(raws) else ""


def connect(ui, form, studio, demo, stats_copies=()) -> None:
    """`stats_copies`: other pages' boxes that show the statistics too (Quick start's "what the run will do"). The
    inspection writes them itself: a second event copying data-stats could land before the first, and did, leaving
    Quick start blank."""
    ui.stats_copies = list(stats_copies)
    handlers = DataHandlers(ui, form, studio)
    fields = form.fields
    path, eval_path = fields["data.path"], fields["data.eval_path"]
    inputs = {fields[key] for key in INSPECT_KEYS if key in fields}
    outputs = [ui.summary, ui.warnings, ui.show_rows, ui.row, ui.position, ui.example, ui.lengths, ui.stats,
               ui.problems_box, ui.problems, ui.raw, ui.table, ui.mapping_box, *ui.mapping.values(),
               ui.placeholder_box, *ui.slots, ui.state, *ui.stats_copies]
    # One inspection at a time, in order: a slow first one (the tokenizer loads) must not land after, and
    # overwrite, the one for a file uploaded meanwhile.
    inspect = dict(fn=handlers.inspect, inputs=inputs, outputs=outputs, concurrency_id="inspect",
                   concurrency_limit=1)
    viewer = dict(inputs=[ui.state, ui.show_rows, ui.row], outputs=[ui.row, ui.position, ui.example],
                  show_progress="hidden")

    keep = functools.partial(take_upload, studio)
    ui.upload.upload(keep, [ui.upload], [path])
    ui.upload.clear(no_path, None, [path])  # a cleared upload is no longer the dataset
    ui.sample.input(take_sample, [ui.sample], [path])
    path.change(sample_shown, [path], [ui.sample], show_progress="hidden", queue=False)
    ui.eval_upload.upload(keep, [ui.eval_upload], [eval_path]).then(**inspect)
    # demo.load shows the default dataset on arrival; typed options are inspected when the user leaves them.
    changed = [demo.load] + [fields[key].change for key in INSPECT_KEYS
                             if key in fields and key not in ("data.columns", "data.roles", "data.placeholders",
                                                              "data.eval_path", "model.system_prompt")]
    typed = [fields[key] for key in ("data.columns", "data.roles", "data.placeholders", "data.eval_path",
                                     "model.system_prompt")]
    gr.on(changed, trigger_mode="always_last", **inspect)
    gr.on([t.blur for t in typed] + [t.submit for t in typed], trigger_mode="always_last", **inspect)
    gr.on([d.input for d in ui.mapping.values()], handlers.mapped, list(ui.mapping.values()),
          fields["data.columns"]).then(**inspect)
    placeholders = fields["data.placeholders"]
    gr.on([s.blur for s in ui.slots] + [s.submit for s in ui.slots], filled, [ui.state, placeholders, *ui.slots],
          placeholders).then(**inspect)
    for button, direction in ((ui.previous, "previous"), (ui.next, "next"), (ui.random, "random")):
        button.click(functools.partial(handlers.move, direction), **viewer)
    ui.row.submit(functools.partial(handlers.move, "here"), **viewer)
    ui.show_rows.input(functools.partial(handlers.move, "first"), **viewer)
    ui.problems.select(pick_problem, [ui.state], [ui.raw])


# ---------------------------------------------------------------------------------------------- what is shown

@dataclass
class Shown:
    """What the tab shows for one inspection, before it becomes component updates (tests read this)."""

    summary: str
    warnings: str = ""
    filters: list = field(default_factory=list)  # (label, key) for "Show rows with"
    stats: str = ""
    figure: object = None
    problems: list = field(default_factory=list)  # [where, message]
    preview: dict | None = None
    columns: list | None = None  # the file's columns for the mapping dropdowns; None when unknown
    mapping: dict = field(default_factory=dict)  # data.columns as configured
    open_mapping: bool = False
    placeholders: dict = field(default_factory=dict)  # {{name}} -> rows using it
    placeholder_values: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    position: str = ""
    example: str = ""


def inspect_dataset(config: Config, studio) -> Shown:
    """Load the config's data (the first PREVIEW_LIMIT records), check it with the model's tokenizer, plan the run."""
    d = config.data
    if not (d.path or "").strip():
        return Shown(say("data.choose"))
    try:
        mapping = Mapping(dict(d.columns), dict(d.roles))
        loaded = datasets_io.load(d.path.strip(), d.format, mapping=mapping, placeholders=dict(d.placeholders),
                                  limit=PREVIEW_LIMIT)
    except DataError as err:
        columns = getattr(err, "columns", None)
        hint = say("data.map_hint", columns=", ".join(map(str, columns))) if columns else ""
        return Shown(say("data.cannot_use", error=plain(text_of(err)) + plain(hint)), columns=columns,
                     mapping=dict(d.columns), open_mapping=columns is not None)
    shown = Shown(summary_markdown(loaded, d.placeholders),
                  problems=[[text_of(p.where), text_of(p.message)] for p in loaded.problems],
                  preview=preview_table(loaded.rows[:PREVIEW_ROWS]), columns=loaded.columns,
                  mapping=dict(d.columns), open_mapping=bool(loaded.alternatives or d.columns),
                  placeholders=dict(loaded.placeholders), placeholder_values=dict(d.placeholders))
    shown.state = {"source": config.model.source, "system_prompt": config.model.system_prompt,
                   "max_length": config.train.max_length, "rows": loaded.rows, "method": config.train.method,
                   "wheres": loaded.wheres, "warnings": [], "raws": [p.raw for p in loaded.problems],
                   "placeholders": sorted(loaded.placeholders)[:PLACEHOLDER_SLOTS]}
    try:
        tokenizer = studio.tokenizer_for(config.model.source, config.model.system_prompt)
        inspection = data_check.inspect(config, tokenizer, runs=studio.runs(), loaded=loaded)
    except models.ModelError as err:
        shown.stats = say("data.needs_tokenizer", source=config.model.source, error=err)
    except DataError as err:  # the separate held-out file
        shown.summary += say("data.held_out_bad", error=plain(text_of(err)))
    except TemplateError as err:  # one plain sentence: which model, and what to do
        shown.stats = f"**{plain(text_of(err))}**"
    except (ValueError, ConfigError) as err:
        shown.stats = say("data.template_bad", error=err)
    else:
        show_inspection(shown, inspection, config.model.source, studio.tokenizer_for)
    return shown


def show_inspection(shown: Shown, inspection, source: str, tokenizer_for) -> None:
    """What the check found: warnings (and a filter for each), statistics, the expected time, the lengths chart and
    the first row as trained."""
    report, state = inspection.report, shown.state
    for number, warning in enumerate(report.warnings):
        if warning.rows:
            label = say("data.warning_filter" if len(warning.rows) != 1 else "data.warning_filter_one",
                        name=say(f"data.warning.{warning.kind}"), count=len(warning.rows))
            state["warnings"].append({"key": str(number), "rows": list(warning.rows), "label": label})
    shown.warnings = warnings_markdown(report.warnings, inspection.loaded.wheres)
    shown.filters = [(w["label"], w["key"]) for w in state["warnings"]]
    timing, too_long = time_estimate.time_lines(inspection.plan, source)
    lines = statistics_lines(inspection)
    if timing and inspection.plan.seconds_per_epoch is None:
        lines = lines[:-1]  # "known after a first run" gives way to the labelled rough estimate
    shown.stats = "\n".join(f"- {line}" for line in lines + timing)
    if too_long:
        shown.warnings = too_long + ("\n" + shown.warnings if report.warnings else "")
    shown.figure = charts.length_figure(data_check.histogram_bins(report.lengths, report.max_length),
                                        report.max_length)
    shown.position, shown.example = data_viewer.show(state, 0, data_viewer.ALL, tokenizer_for)


def summary_markdown(loaded, filled: dict) -> str:
    lines = [say("data.summary", format=loaded.format, rows=len(loaded.rows), total=loaded.total)
             + (say("data.skipped", skipped=loaded.skipped) if loaded.skipped else "")]
    lines += [f"- {plain(text_of(note))}" for note in loaded.notes]
    if loaded.alternatives:
        lines.append(say("data.alternatives", names=", ".join(loaded.alternatives), format=loaded.format))
    if loaded.placeholders:
        used = ", ".join(say("data.placeholder_rows", name="{{" + name + "}}", count=count)
                         for name, count in sorted(loaded.placeholders.items()))
        missing = sorted(set(loaded.placeholders) - set(filled))
        lines.append(say("data.placeholders_used", used=used)
                     + say("data.placeholders_missing" if missing else "data.placeholders_filled"))
    return "\n".join(lines)


def warnings_markdown(warnings, wheres: list, listed: int = 8) -> str:
    if not warnings:
        return say("data.no_warnings")
    lines = []
    for warning in warnings:
        rows = ", ".join(text_of(wheres[i]) for i in warning.rows[:listed] if i < len(wheres))
        more = say("data.more_rows", count=len(warning.rows) - listed) if len(warning.rows) > listed else ""
        lines.append(f"- ⚠️ {plain(text_of(warning.message))}"
                     + (say("data.warning_rows", rows=rows, more=more) if rows else ""))
    return "\n".join(lines)


def statistics_lines(inspection) -> list[str]:
    """core.data.check.summary_lines in the page's language (the command line prints core's English)."""
    report, p = inspection.report, inspection.plan
    sample = "" if report.checked == len(inspection.loaded.rows) else say("data.tokens_sample", rows=report.checked)
    lines = [say("data.split", train=p.train_rows, held_out=p.eval_rows,
                 separate=say("data.split_separate") if inspection.held_out else "",
                 replay=say("data.split_replay", rows=p.replay_rows) if p.replay_rows else ""),
             say("data.tokens", sample=sample, median=statistics.median(report.lengths),
                 longest=max(report.lengths), max_length=report.max_length, share=100 * report.trained_share),
             say("data.steps", per_epoch=p.steps_per_epoch, total=p.total_steps, tokens=p.trained_tokens_per_epoch)]
    if not inspection.loaded.complete:
        lines.append(say("data.partial", rows=inspection.loaded.total))
    if p.seconds_per_epoch is not None:
        lines.append(say("data.time", per_epoch=duration_words(p.seconds_per_epoch), run=p.speed_source))
    else:
        lines.append(say("data.time_unknown"))
    return lines


def plain(text: str) -> str:
    """Text from the file or the engine, shown in Markdown: markup such as <s> or <|im_start|> stays visible."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def outputs_for(ui, shown: Shown) -> dict:
    """Component updates for one inspection."""
    headers = [say("data.where"), say("data.problem")]
    columns = [str(c) for c in (shown.columns or [])]
    choices = [(say("data.not_used"), NOT_USED), *columns]
    updates = {ui.summary: shown.summary, ui.warnings: shown.warnings, ui.stats: shown.stats,
               ui.show_rows: gr.update(choices=[(say("data.all_rows"), data_viewer.ALL), *shown.filters],
                                       value=data_viewer.ALL),
               ui.row: gr.update(value=1, maximum=max(1, len(shown.state.get("rows", [])))),
               ui.position: shown.position, ui.example: shown.example, ui.lengths: shown.figure,
               ui.problems_box: gr.update(open=bool(shown.problems),
                                          label=say("data.problems_title", count=len(shown.problems))),
               ui.problems: {"headers": headers, "data": shown.problems or [["", ""]]}
               if shown.problems else None,
               ui.raw: "", ui.table: shown.preview, ui.state: shown.state,
               ui.placeholder_box: gr.update(visible=bool(shown.placeholders))}
    updates.update({copy: shown.stats for copy in getattr(ui, "stats_copies", ())})
    if shown.open_mapping:  # opened for columns to map; never closed under the user's hands
        updates[ui.mapping_box] = gr.update(open=True)
    for name, dropdown in ui.mapping.items():
        value = shown.mapping.get(name, NOT_USED)
        extra = [value] if value != NOT_USED and value not in columns else []
        updates[dropdown] = gr.update(choices=choices + extra, value=value)
    names = sorted(shown.placeholders)[:PLACEHOLDER_SLOTS]
    for number, slot in enumerate(ui.slots):
        if number < len(names):
            name = names[number]
            updates[slot] = gr.update(visible=True, label=say("data.placeholder_slot", name="{{" + name + "}}",
                                                        count=shown.placeholders[name]),
                                      value=str(shown.placeholder_values.get(name, "")))
        else:
            updates[slot] = gr.update(visible=False, value="")
    return updates


def sample_shown(path: str):
    """The bundled-sample dropdown names the sample when the dataset is one, and is empty otherwise."""
    for name in SAMPLES:
        if path and path.strip() in (str(SAMPLES_DIR / name), f"assets/datasets/{name}"):
            return name
    return None


def placeholder_values(given: dict, names: list[str], values) -> dict:
    """data.placeholders after the placeholder fields were edited: a cleared field removes its value."""
    given = dict(given)
    for name, value in zip(names, values):
        if (value or "").strip():
            given[name] = value.strip()
        else:
            given.pop(name, None)
    return given


def parse_mapping(text) -> dict:
    try:
        parsed = yaml.safe_load(text or "")
    except yaml.YAMLError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def preview_table(rows: list[dict]) -> dict | None:
    if not rows:
        return None
    if "messages" in rows[0]:
        table = []
        for row in rows:
            messages = row.get("messages", [])
            first = {m["role"]: m["content"] for m in messages[:3]}
            answer = row.get("chosen", first.get("assistant", ""))
            turns = sum(1 for m in messages if m["role"] == "assistant") + (1 if "chosen" in row else 0)
            table.append([first.get("user", ""), answer, turns, first.get("system", "")])
        headers = [say(key) for key in ("preview.user", "preview.assistant", "preview.turns", "preview.system")]
        if not any(row[3] for row in table):  # no system prompts: do not spend a column on nothing
            headers, table = headers[:3], [row[:3] for row in table]
        return {"headers": headers, "data": table}
    if "prompt" in rows[0]:
        return {"headers": [say("preview.prompt"), say("preview.completion")],
                "data": [[r["prompt"], r["completion"]] for r in rows]}
    return {"headers": [say("preview.text")], "data": [[r["text"][:500]] for r in rows]}
