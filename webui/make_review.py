"""The Make data tab's review: the rows the teacher made, read in a table, each one edited or dropped, and
"Use as training data", which opens the Data tab on the file with its checks and token view.

Edits rewrite the output file in one step (write_text_atomic), and only while no batch writes to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import say
from core.making.batch import read_rows
from core.runs import write_text_atomic

SLOTS = 4  # text fields of one row shown for editing (instruction, input, output, and one more)
CELL_CHARS = 300  # a long answer is cut in the table; the editor shows it whole


def build(i18n) -> SimpleNamespace:
    with gr.Accordion(i18n("make.review"), open=True, elem_id="make-review-box"):
        note = gr.Markdown(elem_id="make-review-note")
        with gr.Row():
            reload = gr.Button(i18n("make.reload"), size="sm", elem_id="make-reload")
            use = gr.Button(i18n("make.use"), variant="primary", elem_id="make-use")
        with gr.Column(visible=False) as body:  # shown once there are rows
            rows = gr.Dataframe(interactive=False, wrap=True, max_height=420, elem_id="make-rows")
            row = gr.Number(value=1, precision=0, minimum=1, label=i18n("make.row"), elem_id="make-row")
            slots = [gr.Textbox(visible=False, lines=2, max_lines=12, elem_id=f"make-edit-{i}")
                     for i in range(SLOTS)]
            with gr.Row():
                save = gr.Button(i18n("make.save_row"), size="sm", elem_id="make-save-row")
                drop = gr.Button(i18n("make.drop_row"), variant="stop", size="sm", elem_id="make-drop-row")
        state = gr.State({})  # {"path": the file, "fields": the text fields the slots show}
    return SimpleNamespace(review_note=note, reload=reload, use=use, review_body=body, rows=rows, row=row, slots=slots,
                           save=save, drop=drop, review_state=state)


def outputs(ui) -> list:
    return [ui.review_note, ui.review_body, ui.rows, ui.row, *ui.slots, ui.review_state]


def write_rows(path: str | Path, rows: list[dict]) -> None:
    write_text_atomic(Path(path), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def text_fields(rows: list[dict]) -> list[str]:
    """The row fields a person reads and edits: the texts, in the file's order (provenance, a mapping, stays out)."""
    names: list[str] = []
    for row in rows[:50]:
        names += [k for k, v in row.items() if isinstance(v, str) and k not in names]
    return names


def table(rows: list[dict]) -> dict | None:
    if not rows:
        return None
    names = text_fields(rows)
    data = [[number, *[cut(row.get(name, "")) for name in names]] for number, row in enumerate(rows, 1)]
    return {"headers": [say("make.row_number"), *names], "data": data}


def cut(text) -> str:
    text = str(text or "")
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + "…"


def shown(ui, path: str, number: int = 1, note: str | None = None) -> dict:
    """The review for the file at `path`: its rows, and row `number` in the editor."""
    rows = read_rows(path)
    names = text_fields(rows)[:SLOTS]
    if not rows:
        return {ui.review_note: note or say("make.no_rows", path=path), ui.review_body: gr.update(visible=False),
                ui.rows: None,
                ui.row: gr.update(value=1, maximum=1), **{slot: gr.update(visible=False) for slot in ui.slots},
                ui.review_state: {"path": path, "fields": []}}
    number = min(max(1, int(number or 1)), len(rows))
    updates = {ui.review_note: note or say("make.rows_in", rows=len(rows), path=path),
               ui.review_body: gr.update(visible=True), ui.rows: table(rows),
               ui.row: gr.update(value=number, maximum=len(rows)), ui.review_state: {"path": path, "fields": names}}
    for index, slot in enumerate(ui.slots):
        if index < len(names):
            updates[slot] = gr.update(visible=True, label=names[index], value=rows[number - 1].get(names[index], ""))
        else:
            updates[slot] = gr.update(visible=False, value="")
    return updates


class ReviewHandlers:
    def __init__(self, ui, batch):
        self.ui, self.batch = ui, batch

    def reload(self, output: str) -> dict:
        return shown(self.ui, output)

    def pick(self, state: dict, number) -> dict:
        return shown(self.ui, state.get("path", ""), number) if state.get("path") else {}

    def picked(self, state: dict, event: gr.SelectData) -> dict:
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        return self.pick(state, index + 1)

    def save(self, state: dict, number, *texts) -> dict:
        """Row `number` with the editor's texts; the row's other fields (where it came from) are kept."""
        return self.change(state, number, lambda row: {**row, **dict(zip(state["fields"], texts))}, "make.saved")

    def drop(self, state: dict, number) -> dict:
        return self.change(state, number, None, "make.dropped_row")

    def change(self, state: dict, number, edit, said: str) -> dict:
        if not state.get("path"):
            return {self.ui.review_note: say("make.no_rows", path="")}
        if self.batch.busy:  # the batch appends to the file: rewriting it now would lose rows
            return {self.ui.review_note: say("make.review_busy")}
        rows = read_rows(state["path"])
        number = int(number or 1)
        if not 1 <= number <= len(rows):
            return {self.ui.review_note: say("make.no_such_row", row=number, rows=len(rows))}
        if edit is None:
            del rows[number - 1]
        else:
            rows[number - 1] = edit(rows[number - 1])
        write_rows(state["path"], rows)
        return shown(self.ui, state["path"], number, note=say(said, row=number, rows=len(rows)))


def use_as_training_data(state: dict, output: str):
    """The Data tab, opened on the made file: setting its path runs the tab's own checks and token view."""
    path = state.get("path") or output
    if not path or not Path(path).is_file():
        return gr.skip(), gr.skip()
    return gr.Tabs(selected="data"), str(path)


def connect(ui, handlers, output, tabs, data_path) -> None:
    review = ReviewHandlers(ui, handlers.batch)
    shown_outputs = outputs(ui)
    ui.reload.click(review.reload, [output], shown_outputs)
    ui.rows.select(review.picked, [ui.review_state], shown_outputs)
    ui.row.submit(review.pick, [ui.review_state, ui.row], shown_outputs)
    ui.save.click(review.save, [ui.review_state, ui.row, *ui.slots], shown_outputs)
    ui.drop.click(review.drop, [ui.review_state, ui.row], shown_outputs)
    ui.use.click(use_as_training_data, [ui.review_state, output], [tabs, data_path])
