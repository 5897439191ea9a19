"""Tab 1, Data: pick a dataset, map its columns, and see it as training will: warnings, statistics, and each
example token by token. Every number and message comes from core (data.load, data_check.inspect, token_view).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import SimpleNamespace

import gradio as gr
import yaml

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
from webui.lang import duration_words, from_core, lang_of, note_text, say, where_text
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
WARNING_NAMES = {"too_long": "Too long", "all_cut": "Nothing left to learn after the cut",
                 "no_eos": "No end-of-turn token", "duplicate": "Duplicates", "foreign_markup": "Other chat markup",
                 "placeholder": "Unfilled placeholders", "no_template": "No chat template",
                 "template": "Refused by the chat template", "thinking": "Thinking left out"}


def warning_name(kind: str, lang: str) -> str:
    return from_core(lang, WARNING_NAMES.get(kind, kind), f"warning.{kind}")


def build(form, i18n) -> SimpleNamespace:
    with gr.Tab(i18n("tab.data"), id="data"):
        gr.Markdown(i18n("data.intro"))
        with gr.Row():
            with gr.Column(scale=2, min_width=320):
                upload = gr.File(label=i18n("data.upload"), file_types=list(EXTENSIONS),
                                 elem_id="data-upload", height=140)
                sample = gr.Dropdown([(text, name) for name, text in SAMPLES.items()],
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
                                mapping[name] = gr.Dropdown([NOT_USED], value=NOT_USED, label=name, min_width=120,
                                                            allow_custom_value=True, elem_id=f"data-map-{name}")
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
            with gr.Column(scale=3):
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
        state = gr.State({})
    return SimpleNamespace(upload=upload, sample=sample, mapping_box=mapping_box, mapping=mapping,
                           placeholder_box=placeholder_box, slots=slots, eval_upload=eval_upload, summary=summary,
                           warnings=warnings, show_rows=show_rows, previous=previous, next=following, random=shuffle,
                           row=row, position=position, example=example, lengths=lengths, stats=stats,
                           problems_box=problems_box, problems=problems, raw=raw, table=table, state=state)


def connect(ui, form, studio, demo) -> None:
    fields = form.fields
    path, eval_path = fields["data.path"], fields["data.eval_path"]
    inputs = {fields[key] for key in INSPECT_KEYS if key in fields}
    outputs = [ui.summary, ui.warnings, ui.show_rows, ui.row, ui.position, ui.example, ui.lengths, ui.stats,
               ui.problems_box, ui.problems, ui.raw, ui.table, ui.mapping_box, *ui.mapping.values(),
               ui.placeholder_box, *ui.slots, ui.state]
    viewer = [ui.row, ui.position, ui.example]

    def inspect(values, request: gr.Request):
        lang = lang_of(request)
        try:
            config = form.config_from(values)
        except ConfigError as err:  # e.g. data.columns typed half-way: keep the dropdowns as they are
            updates = outputs_for(ui, Shown(say(lang, "data.cannot_inspect", error=err)), lang)
            return {**updates, **{dropdown: gr.skip() for dropdown in ui.mapping.values()}}
        try:
            return outputs_for(ui, inspect_dataset(config, studio, lang), lang)
        except Exception as err:  # noqa: BLE001 - the page shows a message, the log keeps the traceback
            log.exception("inspecting %s failed", config.data.path)
            return outputs_for(ui, Shown(say(lang, "data.read_failed", path=config.data.path,
                                             error=f"{type(err).__name__}: {err}")), lang)

    def take_upload(file):
        return str(studio.keep_upload(file)) if file else gr.skip()

    def take_sample(name):
        return str(SAMPLES_DIR / name) if name else gr.skip()

    def mapped(*values):
        return mapping_text({name: value for name, value in zip(ui.mapping, values) if value and value != NOT_USED})

    def filled(state, current, *values):
        return mapping_text(placeholder_values(parse_mapping(current), state.get("placeholders", []), values))

    def move(direction):
        def handler(state, choice, number, request: gr.Request):
            return data_viewer.go(state, choice, number, direction, studio.tokenizer_for, lang_of(request))
        return handler

    def pick_problem(state, event: gr.SelectData):
        raws = state.get("raws", [])
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        return raws[index] if 0 <= index < len(raws) else ""

    ui.upload.upload(take_upload, [ui.upload], [path])
    ui.upload.clear(lambda: "", None, [path])  # a cleared upload is no longer the dataset
    ui.sample.input(take_sample, [ui.sample], [path])
    path.change(sample_shown, [path], [ui.sample], show_progress="hidden", queue=False)
    ui.eval_upload.upload(take_upload, [ui.eval_upload], [eval_path]).then(
        inspect, inputs, outputs, concurrency_id="inspect", concurrency_limit=1)
    # One inspection at a time, in order: a slow first one (the tokenizer loads) must not land after, and
    # overwrite, the one for a file uploaded meanwhile. demo.load shows the default dataset on arrival.
    changed = [demo.load] + [fields[key].change for key in INSPECT_KEYS
                             if key in fields and key not in ("data.columns", "data.roles", "data.placeholders",
                                                              "data.eval_path", "data.skip_bad_rows",
                                                              "model.system_prompt")]
    typed = [fields[key] for key in ("data.columns", "data.roles", "data.placeholders", "data.eval_path",
                                     "model.system_prompt")]
    gr.on(changed, inspect, inputs, outputs, concurrency_id="inspect", concurrency_limit=1,
          trigger_mode="always_last")
    gr.on([t.blur for t in typed] + [t.submit for t in typed], inspect, inputs, outputs, concurrency_id="inspect",
          concurrency_limit=1, trigger_mode="always_last")
    gr.on([d.input for d in ui.mapping.values()], mapped, list(ui.mapping.values()), fields["data.columns"]).then(
        inspect, inputs, outputs, concurrency_id="inspect", concurrency_limit=1)
    placeholders = fields["data.placeholders"]
    gr.on([s.blur for s in ui.slots] + [s.submit for s in ui.slots], filled, [ui.state, placeholders, *ui.slots],
          placeholders).then(inspect, inputs, outputs, concurrency_id="inspect", concurrency_limit=1)
    for button, direction in ((ui.previous, "previous"), (ui.next, "next"), (ui.random, "random")):
        button.click(move(direction), [ui.state, ui.show_rows, ui.row], viewer, show_progress="hidden")
    ui.row.submit(move("here"), [ui.state, ui.show_rows, ui.row], viewer, show_progress="hidden")
    ui.show_rows.input(move("first"), [ui.state, ui.show_rows, ui.row], viewer, show_progress="hidden")
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


def inspect_dataset(config: Config, studio, lang: str = "en") -> Shown:
    """Load the config's data (the first PREVIEW_LIMIT records), check it with the model's tokenizer, plan the run."""
    d = config.data
    if not (d.path or "").strip():
        return Shown(say(lang, "data.choose"))
    try:
        mapping = Mapping(dict(d.columns), dict(d.roles))
        loaded = datasets_io.load(d.path.strip(), d.format, mapping=mapping, placeholders=dict(d.placeholders),
                                  limit=PREVIEW_LIMIT)
    except DataError as err:
        columns = getattr(err, "columns", None)
        hint = say(lang, "data.map_hint", columns=", ".join(map(str, columns))) if columns else ""
        return Shown(say(lang, "data.cannot_use", error=plain(str(err)) + plain(hint)), columns=columns,
                     mapping=dict(d.columns), open_mapping=columns is not None)
    shown = Shown(summary_markdown(loaded, d.placeholders, lang), problems=[[p.where, p.message] for p in loaded.problems],
                  preview=preview_table(loaded.rows[:PREVIEW_ROWS], lang), columns=loaded.columns, mapping=dict(d.columns),
                  open_mapping=bool(loaded.alternatives or d.columns), placeholders=dict(loaded.placeholders),
                  placeholder_values=dict(d.placeholders))
    state = {"source": config.model.source, "system_prompt": config.model.system_prompt,
             "max_length": config.train.max_length, "rows": loaded.rows, "method": config.train.method,
             "wheres": loaded.wheres, "warnings": [], "raws": [p.raw for p in loaded.problems],
             "placeholders": sorted(loaded.placeholders)[:PLACEHOLDER_SLOTS]}
    shown.state = state
    try:
        tokenizer = studio.tokenizer_for(config.model.source, config.model.system_prompt)
        inspection = data_check.inspect(config, tokenizer, runs=studio.runs(), loaded=loaded)
    except models.ModelError as err:
        shown.stats = say(lang, "data.needs_tokenizer", source=config.model.source, error=err)
        return shown
    except DataError as err:  # the separate held-out file
        shown.summary += say(lang, "data.held_out_bad", error=plain(str(err)))
        return shown
    except TemplateError as err:  # one plain sentence: which model, and what to do
        shown.stats = f"**{plain(str(err))}**"
        return shown
    except (ValueError, ConfigError) as err:
        shown.stats = say(lang, "data.template_bad", error=err)
        return shown
    report = inspection.report
    for number, warning in enumerate(report.warnings):
        if warning.rows:
            label = say(lang, "data.warning_filter" if len(warning.rows) != 1 else "data.warning_filter_one",
                        name=warning_name(warning.kind, lang), count=len(warning.rows))
            state["warnings"].append({"key": str(number), "rows": list(warning.rows), "label": label})
    shown.warnings = warnings_markdown(report.warnings, loaded.wheres, lang)
    shown.filters = [(w["label"], w["key"]) for w in state["warnings"]]
    state["lang"] = lang
    timing, too_long = time_estimate.time_lines(inspection.plan, config.model.source, lang)
    lines = statistics_lines(inspection, lang)
    if timing and inspection.plan.seconds_per_epoch is None:
        lines = lines[:-1]  # "known after a first run" gives way to the labelled rough estimate
    shown.stats = "\n".join(f"- {line}" for line in lines + timing)
    if too_long:
        shown.warnings = too_long + ("\n" + shown.warnings if report.warnings else "")
    shown.figure = charts.length_figure(data_check.histogram_bins(report.lengths, report.max_length),
                                        report.max_length, lang)
    shown.position, shown.example = data_viewer.show(state, 0, data_viewer.ALL, studio.tokenizer_for, lang)
    return shown


def summary_markdown(loaded, filled: dict, lang: str = "en") -> str:
    lines = [say(lang, "data.summary", format=loaded.format, rows=len(loaded.rows), total=loaded.total)
             + (say(lang, "data.skipped", skipped=loaded.skipped) if loaded.skipped else "")]
    lines += [f"- {plain(note_text(lang, note))}" for note in loaded.notes]
    if loaded.alternatives:
        lines.append(say(lang, "data.alternatives", names=", ".join(loaded.alternatives), format=loaded.format))
    if loaded.placeholders:
        used = ", ".join(say(lang, "data.placeholder_rows", name="{{" + name + "}}", count=count)
                         for name, count in sorted(loaded.placeholders.items()))
        missing = sorted(set(loaded.placeholders) - set(filled))
        lines.append(say(lang, "data.placeholders_used", used=used)
                     + say(lang, "data.placeholders_missing" if missing else "data.placeholders_filled"))
    return "\n".join(lines)


def warnings_markdown(warnings, wheres: list[str], lang: str = "en", listed: int = 8) -> str:
    if not warnings:
        return say(lang, "data.no_warnings")
    lines = []
    for warning in warnings:
        rows = ", ".join(where_text(lang, wheres[i]) for i in warning.rows[:listed] if i < len(wheres))
        more = say(lang, "data.more_rows", count=len(warning.rows) - listed) if len(warning.rows) > listed else ""
        key = f"warn.{warning.kind}" + (f".{warning.values['reason']}" if warning.kind == "no_eos" else "")
        lines.append(f"- ⚠️ {plain(from_core(lang, warning.message, key, warning.values))}"
                     + (say(lang, "data.warning_rows", rows=rows, more=more) if rows else ""))
    return "\n".join(lines)


def statistics_lines(inspection, lang: str) -> list[str]:
    """core.data.check.summary_lines in the page's language (the CLI prints core's English)."""
    if lang != "zh":
        return data_check.summary_lines(inspection)
    import statistics

    report, p = inspection.report, inspection.plan
    sample = ("" if report.checked == len(inspection.loaded.rows)
              else say(lang, "data.tokens_sample", rows=report.checked))
    lines = [say(lang, "data.split", train=p.train_rows, held_out=p.eval_rows,
                 separate=say(lang, "data.split_separate") if inspection.held_out else "",
                 replay=say(lang, "data.split_replay", rows=p.replay_rows) if p.replay_rows else ""),
             say(lang, "data.tokens", sample=sample, median=statistics.median(report.lengths),
                 longest=max(report.lengths), max_length=report.max_length, share=100 * report.trained_share),
             say(lang, "data.steps", per_epoch=p.steps_per_epoch, total=p.total_steps,
                 tokens=p.trained_tokens_per_epoch)]
    if not inspection.loaded.complete:
        lines.append(say(lang, "data.partial", rows=inspection.loaded.total))
    if p.seconds_per_epoch is not None:
        lines.append(say(lang, "data.time", per_epoch=duration_words(p.seconds_per_epoch, lang), run=p.speed_source))
    else:
        lines.append(say(lang, "data.time_unknown"))
    return lines


def plain(text: str) -> str:
    """Text from the file or the engine, shown in Markdown: markup such as <s> or <|im_start|> stays visible."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def outputs_for(ui, shown: Shown, lang: str = "en") -> dict:
    """Component updates for one inspection."""
    headers = [say(lang, "data.where"), say(lang, "data.problem")]
    choices = [NOT_USED] + [str(c) for c in (shown.columns or [])]
    updates = {ui.summary: shown.summary, ui.warnings: shown.warnings, ui.stats: shown.stats,
               ui.show_rows: gr.update(choices=[(say(lang, "data.all_rows"), data_viewer.ALL), *shown.filters],
                                       value=data_viewer.ALL),
               ui.row: gr.update(value=1, maximum=max(1, len(shown.state.get("rows", [])))),
               ui.position: shown.position, ui.example: shown.example, ui.lengths: shown.figure,
               ui.problems_box: gr.update(open=bool(shown.problems),
                                          label=say(lang, "data.problems_title", count=len(shown.problems))),
               ui.problems: {"headers": headers, "data": shown.problems or [["", ""]]}
               if shown.problems else None,
               ui.raw: "", ui.table: shown.preview, ui.state: shown.state,
               ui.mapping_box: gr.update(open=True) if shown.open_mapping else gr.skip(),
               ui.placeholder_box: gr.update(visible=bool(shown.placeholders))}
    for name, dropdown in ui.mapping.items():
        value = shown.mapping.get(name, NOT_USED)
        updates[dropdown] = gr.update(choices=choices + ([value] if value not in choices else []), value=value)
    names = sorted(shown.placeholders)[:PLACEHOLDER_SLOTS]
    for number, slot in enumerate(ui.slots):
        if number < len(names):
            name = names[number]
            updates[slot] = gr.update(visible=True, label=say(lang, "data.placeholder_slot", name="{{" + name + "}}",
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


def preview_table(rows: list[dict], lang: str = "en") -> dict | None:
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
        headers = [say(lang, key) for key in ("preview.user", "preview.assistant", "preview.turns", "preview.system")]
        if not any(row[3] for row in table):  # no system prompts: do not spend a column on nothing
            headers, table = headers[:3], [row[:3] for row in table]
        return {"headers": headers, "data": table}
    if "prompt" in rows[0]:
        return {"headers": [say(lang, "preview.prompt"), say(lang, "preview.completion")],
                "data": [[r["prompt"], r["completion"]] for r in rows]}
    return {"headers": [say(lang, "preview.text")], "data": [[r["text"][:500]] for r in rows]}
