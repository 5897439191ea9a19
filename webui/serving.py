"""The rules every page of the app is served under, the studio (webui/app.py) and `launch.py demo` (webui/demo.py)
alike: a login whenever it is reachable beyond this machine, only the given address, nothing served from outside
the app's own folders."""

from __future__ import annotations

import ipaddress
import os
import sys

import gradio as gr
from starlette.middleware import Middleware

from webui.lang import LanguageScript
from webui.studio import APP_ROOT

CSS_FILE = APP_ROOT / "assets" / "studio.css"


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


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
