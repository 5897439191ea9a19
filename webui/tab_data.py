"""Tab 1, Data: upload or pick a dataset, see its format, its problems, and one example as the model sees it."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from core import data as datasets_io
from core import models, templates
from webui.studio import SAMPLES, SAMPLES_DIR

PREVIEW_ROWS = 20


def build(form, i18n) -> SimpleNamespace:
    with gr.Tab(i18n("tab.data"), id="data"):
        gr.Markdown(i18n("data.intro"))
        with gr.Row():
            with gr.Column(scale=2, min_width=320):
                upload = gr.File(label=i18n("data.upload"), file_types=list(datasets_io.EXTENSIONS),
                                 elem_id="data-upload", height=140)
                sample = gr.Dropdown([(text, name) for name, text in SAMPLES.items()], value=None,
                                     label=i18n("data.sample"), elem_id="data-sample")
                form.add("data.path")
                form.add("data.format")
                form.add("data.eval_fraction")
                form.add("data.replay")
            with gr.Column(scale=3):
                summary = gr.Markdown(elem_id="data-summary")
                table = gr.Dataframe(label=i18n("data.preview"), interactive=False, wrap=True, max_height=380,
                                     elem_id="data-preview")
                example = gr.Textbox(label=i18n("data.example"), lines=10, max_lines=24, interactive=False,
                                     elem_id="data-example")
    return SimpleNamespace(upload=upload, sample=sample, summary=summary, table=table, example=example)


def connect(ui, form, studio, demo) -> None:
    path, fmt, source = form.fields["data.path"], form.fields["data.format"], form.fields["model.source"]

    def take_upload(file):
        if not file:
            return gr.skip()
        return str(studio.keep_upload(file))

    def take_sample(name):
        return str(SAMPLES_DIR / name) if name else gr.skip()

    def inspect(path_value, format_value, model_source):
        return inspect_dataset(path_value, format_value, model_source, studio)

    ui.upload.upload(take_upload, [ui.upload], [path])
    ui.sample.change(take_sample, [ui.sample], [path])
    # demo.load shows the default dataset on arrival. One inspection at a time, in order: a slow first one
    # (the tokenizer loads) must not land after, and overwrite, the one for a file uploaded meanwhile.
    for trigger in (demo.load, path.change, fmt.change):
        trigger(inspect, [path, fmt, source], [ui.summary, ui.table, ui.example], concurrency_id="inspect",
                concurrency_limit=1)


def inspect_dataset(path: str, format: str, model_source: str, studio):
    """Summary markdown, preview rows and the first example rendered with the model's chat template."""
    if not (path or "").strip():
        return "", None, ""
    try:
        loaded = datasets_io.load(path.strip(), format or "auto")
    except datasets_io.DataError as err:
        return f"**Cannot use this file.** {err}", None, ""
    lines = [f"**{loaded.format}** · {len(loaded.rows)} usable rows of {loaded.total}"
             + (f" · **{loaded.skipped} skipped**" if loaded.skipped else "")]
    lines += [f"- {note}" for note in loaded.notes]
    if loaded.problems:
        lines.append("\nProblems (these rows are skipped):")
        lines += [f"- {p}" for p in loaded.problems[:15]]
        if len(loaded.problems) > 15:
            lines.append(f"- ... and {len(loaded.problems) - 15} more")
    rendered = ""
    if loaded.rows:
        try:
            tokenizer = studio.tokenizer_for(model_source or "default")
            record = templates.tokenize_row(tokenizer, loaded.rows[0], max_length=10 ** 9)
            trained = sum(1 for t in record["labels"] if t != templates.IGNORE)
            lines.append(f"\nFirst example: {len(record['input_ids'])} tokens, {trained} of them trained.")
            rendered = templates.render(tokenizer, loaded.rows[0])
        except (models.ModelError, ValueError) as err:
            lines.append(f"\nThe example cannot be rendered with this model's template: {err}")
    return "\n".join(lines), preview_table(loaded.rows[:PREVIEW_ROWS]), rendered


def preview_table(rows: list[dict]) -> list[list] | None:
    if not rows:
        return None
    if "messages" in rows[0]:
        table = []
        for row in rows:
            messages = row.get("messages", [])
            first = {m["role"]: m["content"] for m in messages[:3]}
            turns = sum(1 for m in messages if m["role"] == "assistant")
            table.append([first.get("user", ""), first.get("assistant", ""), turns, first.get("system", "")])
        headers = ["user", "assistant", "assistant turns", "system"]
        if not any(row[3] for row in table):  # no system prompts: do not spend a column on nothing
            headers, table = headers[:3], [row[:3] for row in table]
        return {"headers": headers, "data": table}
    if "prompt" in rows[0]:
        return {"headers": ["prompt", "completion"], "data": [[r["prompt"], r["completion"]] for r in rows]}
    return {"headers": ["text"], "data": [[r["text"][:500]] for r in rows]}
