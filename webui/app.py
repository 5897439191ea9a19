"""The studio: one Gradio Blocks app, six tabs in the order of the work, served safely on this machine.

Tabs are built first (each returns its components), then connected, because handlers read options that live on
other tabs (the Data tab renders with the Model tab's tokenizer; Start reads every tab).
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

# Set before gradio is imported: it reads these at import time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
for _variable in ("GRADIO_SHARE", "GRADIO_SERVER_NAME"):
    os.environ.pop(_variable, None)  # only the command line decides where the studio is reachable

import gradio as gr  # noqa: E402

from webui import demo as demo_page  # noqa: E402
from webui import quick_start  # noqa: E402
from webui import window as desktop  # noqa: E402
from webui import tab_chat, tab_data, tab_evaluate, tab_make_data, tab_model, tab_settings, tab_train  # noqa: E402
from webui.form import Form, default_of  # noqa: E402
from webui.i18n import build_i18n, choices_in_page_language, sample_choices  # noqa: E402
from webui.lang import CHOICES, SWITCH_JS, speak_the_page_language, switch_value  # noqa: E402
from webui.serving import ExposureError, launch_safely, login_for  # noqa: E402
from webui.studio import TRAINING_POLL_SECONDS, Studio  # noqa: E402


def build(studio: Studio, i18n: gr.I18n | None = None) -> gr.Blocks:
    i18n = i18n or build_i18n()
    form = Form(i18n)
    with gr.Blocks(title="Finetune Studio") as demo:
        # The /demo page is opened from the Chat tab, not from a menu. "hidden", not False: Gradio 6.31 never mounts
        # a Navbar whose visible is False and then shows its default one.
        gr.Navbar(visible="hidden")
        with gr.Row(elem_id="app-header-row"):
            gr.Markdown(i18n("app.title"), elem_id="app-header")
            language = gr.Radio(CHOICES, value=None, label=i18n("app.language"), show_label=False, scale=0,
                                min_width=220, container=False, elem_id="language-switch")
        gr.Markdown(i18n("app.subtitle"), elem_id="app-subtitle")
        with gr.Tabs(elem_id="studio-tabs") as tabs:
            quick_ui = quick_start.build(i18n, default_of("data.path"))
            make_ui = tab_make_data.build(i18n)  # before tab 1: the data it makes opens there
            data_ui = tab_data.build(form, i18n)
            model_ui = tab_model.build(form, i18n)
            settings_ui = tab_settings.build(form, i18n)
            train_ui = tab_train.build(i18n)
            chat_ui = tab_chat.build(form, i18n)
            evaluate_ui = tab_evaluate.build(i18n)
        tab_data.connect(data_ui, form, studio, demo, stats_copies=[quick_ui.expected])
        tab_make_data.connect(make_ui, studio, demo, tabs, form.fields["data.path"])
        tab_model.connect(model_ui, form, studio, demo)
        tab_settings.connect(settings_ui, form, studio, demo)
        tab_train.connect(train_ui, form, studio, demo)
        tab_chat.connect(chat_ui, form, studio, demo)
        tab_evaluate.connect(evaluate_ui, studio, demo)
        quick_start.connect(quick_ui, form, studio, tabs, train_ui)
        pace_polling(studio, train_ui, [train_ui.start, train_ui.resume, quick_ui.go], demo)
        remember_form(form, demo)
        remember_tab(tabs, demo)
        run_sources = functools.partial(tab_model.source_choices, studio.runs_dir)  # finished runs, then models
        choices_in_page_language(demo, {quick_ui.sample: sample_choices, data_ui.sample: sample_choices,
                                        quick_ui.model: run_sources,
                                        form.fields["model.source"]: run_sources})
        # The switch shows the page's language; choosing the other one keeps it (browser storage) and reloads.
        demo.load(page_language, None, language, show_progress="hidden", queue=False)
        language.input(None, language, None, js=SWITCH_JS)
    with demo.route("Demo", "demo", show_in_navbar=False) as page:  # the Chat tab's "Open demo"
        demo_page.build(demo_page.StudioShowroom(studio), i18n, page)
    speak_the_page_language(demo)
    demo.form = form  # tests drive handlers through the same form
    return demo


PACE_SECONDS = 10.0  # how soon a page notices a run started elsewhere (the command line, another browser)


def pace_polling(studio: Studio, train_ui, starters: list, demo: gr.Blocks) -> None:
    """The Train tab polls once a second while a run goes and every few seconds otherwise (studio.poll_seconds):
    a 1-second tick with nothing training kept headless Chromium busy for nothing. A start button here makes it
    quick at once; a slow check catches a run started elsewhere, or one that ended."""
    timer = train_ui.timer
    gr.on([button.click for button in starters], functools.partial(quick_polling, studio), None, timer,
          show_progress="hidden", queue=False)
    check = gr.Timer(PACE_SECONDS)
    paced = functools.partial(polling_pace, studio)
    check.tick(paced, timer, timer, show_progress="hidden", queue=False)
    demo.load(paced, timer, timer, show_progress="hidden", queue=False)


def quick_polling(studio: Studio):
    """A start was clicked: poll once a second now, and keep to it while the start checks the data."""
    studio.expect_run()
    return gr.Timer(value=TRAINING_POLL_SECONDS)


def polling_pace(studio: Studio, interval: float | None):
    """The interval the Train tab's timer should have now; nothing is sent when it has it already."""
    wanted = studio.poll_seconds()
    return gr.skip() if interval == wanted else gr.Timer(value=wanted)


def remember_form(form: Form, demo: gr.Blocks) -> None:
    """Keep the form in the browser's local storage, so a reload or a closed tab does not lose the settings."""
    saved = gr.BrowserState({}, storage_key="finetune-studio-form")
    # Target layers are left out: their choices come from a model lookup that a fresh page has not made yet.
    kept = {key: widget for key, widget in form.fields.items() if key != "lora.target_modules"}
    widgets = list(kept.values())
    gr.on([w.change for w in widgets], functools.partial(form_to_keep, list(kept)), widgets, saved,
          show_progress="hidden", queue=False)
    demo.load(functools.partial(restored_form, kept), saved, widgets)


def form_to_keep(keys: list[str], *values) -> dict:
    return dict(zip(keys, values))


def restored_form(kept: dict, stored) -> dict:
    """The kept widgets set to what the browser stored; those it has no value for stay as they are."""
    stored = stored or {}
    # gr.skip() for nothing stored: Gradio reads an empty dict as one value, not as "no updates".
    return {widget: gr.update(value=stored[key]) for key, widget in kept.items() if key in stored} or gr.skip()


def page_language(request: gr.Request) -> str:
    return switch_value(request)


TAB_IDS = ("quick", "make", "data", "model", "settings", "train", "chat", "evaluate")


def remember_tab(tabs: gr.Tabs, demo: gr.Blocks) -> None:
    """A reload returns to the tab the user was on (kept in the browser's local storage)."""
    saved = gr.BrowserState("", storage_key="finetune-studio-tab")
    tabs.select(chosen_tab, None, saved, show_progress="hidden", queue=False)
    demo.load(restored_tab, saved, tabs, show_progress="hidden", queue=False)


def chosen_tab(event: gr.SelectData):
    return event.id if event.id in TAB_IDS else gr.skip()


def restored_tab(tab):
    return gr.update(selected=tab) if tab in TAB_IDS else gr.skip()


def serve(host: str = "127.0.0.1", port: int = 7860, share: bool = False, auth: str | None = None,
          runs_dir: str | Path = "runs", open_browser: bool = True, max_upload_mb: int = 1024,
          window: bool | None = None) -> int:
    """Serve the studio; in its own window (webui/window.py) when `window` asks for it or, left None, where a display
    and pywebview are there. A second start on the same port shows the running studio instead."""
    try:
        login = login_for(host, share, auth)
    except ExposureError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    use_window, why_not = desktop.wants_window(window, host, port, share, open_browser)
    if why_not:
        print(why_not, flush=True)
    answered = desktop.second_start(host, port, use_window, open_browser)
    if answered is not None:
        return answered
    studio = Studio(Path(runs_dir))
    if studio.interrupted:
        print(f"Marked as interrupted (the app stopped while they ran): {', '.join(studio.interrupted)}")
    i18n = build_i18n()
    demo = build(studio, i18n)
    demo.queue(default_concurrency_limit=4)
    # Exports are offered for download straight from their folder: never copied into Gradio's cache (a merged
    # model can be many GB), and nothing outside that folder is added.
    gr.set_static_paths([studio.exports_dir])
    shell = desktop.Desktop(desktop.StudioWindow(f"http://127.0.0.1:{port}/", studio.runner) if use_window else None)
    launch_safely(demo, i18n, host=host, port=port, share=share, login=login, open_browser=open_browser and not
                  use_window, max_upload_mb=max_upload_mb, extra_routes=shell.routes(), block=not use_window)
    if use_window:
        shell.window.open()  # until the window closes: idle, or after the close dialog's choice
        demo.close()
    return 0
