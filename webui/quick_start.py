"""Quick start, the first tab: three choices (the data, the model, go) and the expected time, for someone who has
never fine-tuned. Every other option keeps its default and stays one click away on tabs 1-6, each with its one-sentence
help. The choices here are the same form fields the other tabs show (data.path, model.source): one config object."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import StudioError, say, text_of
from core.data.files import EXTENSIONS
from core.models import builtin
from webui import model_picker
from webui.studio import SAMPLES
from webui.tab_data import sample_shown, take_sample, take_upload
from webui.tab_model import local_model_folders


def build(i18n, default_path: str) -> SimpleNamespace:
    with gr.Tab(i18n("tab.quick"), id="quick"):
        gr.Markdown(i18n("quick.intro"))
        with gr.Row():
            with gr.Column(scale=2, min_width=320):
                sample = gr.Dropdown([(i18n(key), name) for name, key in SAMPLES.items()],
                                     value=sample_shown(default_path), label=i18n("quick.data"), elem_id="quick-sample")
                upload = gr.File(label=i18n("quick.upload"), file_types=list(EXTENSIONS), height=110,
                                 elem_id="quick-upload")
                model = gr.Dropdown(local_model_folders(), value=builtin.DEFAULT.source, allow_custom_value=True,
                                    label=i18n("quick.model"), elem_id="quick-model")
                model_note = gr.Markdown(elem_id="quick-model-note")  # size, license, what it needs here
                go = gr.Button(i18n("quick.go"), variant="primary", elem_id="quick-go")
                notice = gr.Markdown(elem_id="quick-notice")
            with gr.Column(scale=3):
                gr.Markdown(i18n("quick.what_you_get"))
                # Blank for the ~10 s the first inspection takes looked broken: it says it is being worked out.
                expected = gr.Markdown(i18n("quick.working_out"), elem_id="quick-expected")
                gr.Markdown(i18n("quick.more"))
    return SimpleNamespace(sample=sample, upload=upload, model=model, model_note=model_note, go=go, notice=notice,
                           expected=expected)


class QuickStartHandlers:
    """Quick start's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, form, studio, tabs, train_ui):
        self.ui, self.form, self.studio, self.tabs, self.train_ui = ui, form, studio, tabs, train_ui

    def start(self, values: dict) -> dict:
        """Start a run as the tabs configure it, and move to the Train tab to watch it."""
        try:
            run = self.studio.start_run(self.form.config_from(values))  # bad data is refused here, by key
        except StudioError as err:
            return {self.ui.notice: f"**{text_of(err)}**"}
        return {self.ui.notice: say("train.started", name=run.name), self.train_ui.view: {"run": run.name},
                self.tabs: gr.update(selected="train")}

def chosen_model(value):
    return value or gr.skip()


def same_model(value):
    return gr.update(value=value)


def connect(ui, form, studio, tabs, train_ui) -> None:
    handlers = QuickStartHandlers(ui, form, studio, tabs, train_ui)
    path, source = form.fields["data.path"], form.fields["model.source"]
    # The same fields the Data and Model tabs show: a choice here is a choice there, and the other way round.
    ui.sample.input(take_sample, [ui.sample], [path])
    ui.upload.upload(functools.partial(take_upload, studio), [ui.upload], [path])
    ui.model.input(chosen_model, [ui.model], [source])
    source.change(same_model, [source], [ui.model], show_progress="hidden", queue=False)
    # The picked model's size, license and fit on this machine, as the Model tab's picker says it.
    picker = model_picker.PickerHandlers(SimpleNamespace(picked=ui.model_note), form, None, None)
    source.change(picker.describe, set(model_picker.sizing_fields(form)), [ui.model_note], show_progress="hidden")
    path.change(sample_shown, [path], [ui.sample], show_progress="hidden", queue=False)
    # ui.expected shows the Data tab's statistics (split, steps, the expected time): its inspection writes both.
    ui.go.click(handlers.start, form.inputs(), [ui.notice, train_ui.view, tabs], concurrency_id="start",
                concurrency_limit=1)
