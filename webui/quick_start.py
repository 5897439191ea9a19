"""Quick start, the first tab: three choices (the data, the model, go) and the expected time, for someone who has
never fine-tuned. Every other option keeps its default and stays one click away on tabs 1-6, each with its one-sentence
help. The choices here are the same form fields the other tabs show (data.path, model.source): one config object."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from core.config import ConfigError
from core.data.files import EXTENSIONS
from core.jobs import BusyError
from core.models import builtin
from webui.lang import lang_of, say
from webui.studio import SAMPLES, SAMPLES_DIR
from webui.tab_data import sample_shown
from webui.tab_model import local_model_folders


def build(i18n, default_path: str) -> SimpleNamespace:
    with gr.Tab(i18n("tab.quick"), id="quick"):
        gr.Markdown(i18n("quick.intro"))
        with gr.Row():
            with gr.Column(scale=2, min_width=320):
                sample = gr.Dropdown([(text, name) for name, text in SAMPLES.items()], value=sample_shown(default_path),
                                     label=i18n("quick.data"), elem_id="quick-sample")
                upload = gr.File(label=i18n("quick.upload"), file_types=list(EXTENSIONS), height=110,
                                 elem_id="quick-upload")
                model = gr.Dropdown(local_model_folders(), value=builtin.DEFAULT.source, allow_custom_value=True,
                                    label=i18n("quick.model"), elem_id="quick-model")
                go = gr.Button(i18n("quick.go"), variant="primary", elem_id="quick-go")
                notice = gr.Markdown(elem_id="quick-notice")
            with gr.Column(scale=3):
                gr.Markdown(i18n("quick.what_you_get"))
                expected = gr.Markdown(elem_id="quick-expected")
                gr.Markdown(i18n("quick.more"))
    return SimpleNamespace(sample=sample, upload=upload, model=model, go=go, notice=notice, expected=expected)


def connect(ui, form, studio, tabs, data_ui, train_ui) -> None:
    path, source = form.fields["data.path"], form.fields["model.source"]

    def start(values, request: gr.Request):
        lang = lang_of(request)
        try:
            run = studio.runner.start(form.config_from(values))
        except (ConfigError, BusyError) as err:
            return f"**{err}**", gr.skip(), gr.skip()
        return say(lang, "train.started", name=run.name), {"run": run.name}, gr.update(selected="train")

    # The same fields the Data and Model tabs show: a choice here is a choice there, and the other way round.
    ui.sample.input(lambda name: str(SAMPLES_DIR / name) if name else gr.skip(), [ui.sample], [path])
    ui.upload.upload(lambda file: str(studio.keep_upload(file)) if file else gr.skip(), [ui.upload], [path])
    ui.model.input(lambda value: value or gr.skip(), [ui.model], [source])
    source.change(lambda value: gr.update(value=value), [source], [ui.model], show_progress="hidden", queue=False)
    path.change(sample_shown, [path], [ui.sample], show_progress="hidden", queue=False)
    # The Data tab's statistics for these choices: split, steps and the expected time (with its warning).
    data_ui.stats.change(lambda text: text, [data_ui.stats], [ui.expected], show_progress="hidden", queue=False)
    ui.go.click(start, form.inputs(), [ui.notice, train_ui.view, tabs], concurrency_id="start", concurrency_limit=1)
