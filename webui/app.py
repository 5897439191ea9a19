"""The studio: one Gradio Blocks app, six tabs in the order of the work, served safely on this machine.

Tabs are built first (each returns its components), then connected, because handlers read options that live on
other tabs (the Data tab renders with the Model tab's tokenizer; Start reads every tab).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

# Set before gradio is imported: it reads these at import time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
for _variable in ("GRADIO_SHARE", "GRADIO_SERVER_NAME"):
    os.environ.pop(_variable, None)  # only the command line decides where the studio is reachable

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from webui import demo as demo_page  # noqa: E402
from webui import quick_start  # noqa: E402
from webui import tab_chat, tab_data, tab_evaluate, tab_model, tab_settings, tab_train  # noqa: E402
from webui.form import Form, default_of  # noqa: E402
from webui.i18n import build_i18n  # noqa: E402
from webui.lang import CHOICES, SWITCH_JS, LanguageScript, speak_the_page_language, switch_value  # noqa: E402
from webui.studio import APP_ROOT, Studio  # noqa: E402

CSS_FILE = APP_ROOT / "assets" / "studio.css"


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
            data_ui = tab_data.build(form, i18n)
            model_ui = tab_model.build(form, i18n)
            settings_ui = tab_settings.build(form, i18n)
            train_ui = tab_train.build(i18n)
            chat_ui = tab_chat.build(form, i18n)
            evaluate_ui = tab_evaluate.build(i18n)
        tab_data.connect(data_ui, form, studio, demo)
        tab_model.connect(model_ui, form, studio, demo)
        tab_settings.connect(settings_ui, form, studio)
        tab_train.connect(train_ui, form, studio, demo)
        tab_chat.connect(chat_ui, form, studio, demo)
        tab_evaluate.connect(evaluate_ui, studio, demo)
        quick_start.connect(quick_ui, form, studio, tabs, data_ui, train_ui)
        remember_form(form, demo)
        remember_tab(tabs, demo)
        # The switch shows the page's language; choosing the other one keeps it (browser storage) and reloads.
        demo.load(page_language, None, language, show_progress="hidden", queue=False)
        language.input(None, language, None, js=SWITCH_JS)
    with demo.route("Demo", "demo", show_in_navbar=False) as page:  # the Chat tab's "Open demo"
        demo_page.build(demo_page.StudioShowroom(studio), i18n, page)
    speak_the_page_language(demo)
    demo.form = form  # tests drive handlers through the same form
    return demo


def remember_form(form: Form, demo: gr.Blocks) -> None:
    """Keep the form in the browser's local storage, so a reload or a closed tab does not lose the settings."""
    saved = gr.BrowserState({}, storage_key="finetune-studio-form")
    # Target layers are left out: their choices come from a model lookup that a fresh page has not made yet.
    keys = [key for key in form.fields if key != "lora.target_modules"]
    widgets = [form.fields[key] for key in keys]

    def save(*values):
        return dict(zip(keys, values))

    def restore(stored):
        stored = stored or {}
        return [gr.update(value=stored[key]) if key in stored else gr.skip() for key in keys]

    gr.on([w.change for w in widgets], save, widgets, saved, show_progress="hidden", queue=False)
    demo.load(restore, saved, widgets)


def page_language(request: gr.Request) -> str:
    return switch_value(request)


TAB_IDS = ("quick", "data", "model", "settings", "train", "chat", "evaluate")


def remember_tab(tabs: gr.Tabs, demo: gr.Blocks) -> None:
    """A reload returns to the tab the user was on (kept in the browser's local storage)."""
    saved = gr.BrowserState("", storage_key="finetune-studio-tab")

    def chosen(event: gr.SelectData):
        return event.id if event.id in TAB_IDS else gr.skip()

    tabs.select(chosen, None, saved, show_progress="hidden", queue=False)
    demo.load(lambda tab: gr.update(selected=tab) if tab in TAB_IDS else gr.skip(), saved, tabs,
              show_progress="hidden", queue=False)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ExposureError(ValueError):
    """The command line asks to serve beyond this machine without a login, or gives a half login."""


def login_for(host: str, share: bool, auth: str | None, what: str = "the studio") -> tuple[str, str] | None:
    """The login the server must require: none on loopback, USER:PASS otherwise (ExposureError when missing)."""
    if (share or not is_loopback(host)) and not auth:
        where = (f"--share makes {what} reachable from the internet" if share
                 else f"--host {host} makes {what} reachable from other machines")
        raise ExposureError(f"{where}; add --auth USER:PASS.")
    if not auth:
        return None
    user, _, password = auth.partition(":")
    if not user or not password:
        raise ExposureError("--auth needs USER:PASS")
    return user, password


def launch_safely(blocks: gr.Blocks, i18n: gr.I18n, *, host: str, port: int, share: bool,
                  login: tuple[str, str] | None, open_browser: bool, max_upload_mb: int = 1,
                  extra_routes: list | None = None) -> None:
    """Serve a page of this app under the same rules: only the given address, no analytics, no CORS grant to
    other origins, no file served outside the app's own folders. `extra_routes` (FastAPI routes, e.g. the demo's
    OpenAI-compatible API) are served by the same server, ahead of Gradio's own. No Gradio footer: its settings
    panel offered a second, half-working language switch, a PWA notice, Screen Studio and a run history that is not
    the studio's runs. Every HTML page gets the language script (webui/lang.py)."""
    if not share:
        print(f"Finetune Studio: open http://{host}:{port} in a browser (Ctrl+C stops it).", flush=True)
    blocks.launch(server_name=host, server_port=port, share=share, auth=login, i18n=i18n,
                  max_file_size=f"{max_upload_mb}mb", inbrowser=open_browser and _has_display(), show_error=False,
                  css_paths=[CSS_FILE], footer_links=[], strict_cors=True, ssr_mode=False,
                  allowed_paths=[], quiet=not share, app_kwargs={"routes": list(extra_routes or []),
                                                           "middleware": [Middleware(LanguageScript)]})
    # Gradio's own start-up lines are left out unless sharing (they print the public link): its hint to share
    # contradicts the README. The local address is said before launch() blocks.


def serve(host: str = "127.0.0.1", port: int = 7860, share: bool = False, auth: str | None = None,
          runs_dir: str | Path = "runs", open_browser: bool = True, max_upload_mb: int = 1024) -> int:
    try:
        login = login_for(host, share, auth)
    except ExposureError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    studio = Studio(Path(runs_dir))
    if studio.interrupted:
        print(f"Marked as interrupted (the app stopped while they ran): {', '.join(studio.interrupted)}")
    i18n = build_i18n()
    demo = build(studio, i18n)
    demo.queue(default_concurrency_limit=4)
    # Exports are offered for download straight from their folder: never copied into Gradio's cache (a merged
    # model can be many GB), and nothing outside that folder is added.
    gr.set_static_paths([studio.exports_dir])
    launch_safely(demo, i18n, host=host, port=port, share=share, login=login, open_browser=open_browser,
                  max_upload_mb=max_upload_mb)
    return 0


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))

