"""The rules every page of the app is served under, the studio (webui/app.py) and `launch.py demo` (webui/demo.py)
alike: a login whenever it is reachable beyond this machine, only the given address, nothing served from outside
the app's own folders."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlparse

import gradio as gr
from gradio.routes import App, ORJSONResponse
from starlette.middleware import Middleware

from webui.guard import Guard, is_loopback, server_names
from webui.lang import LanguageScript
from webui.studio import APP_ROOT

CSS_FILE = APP_ROOT / "assets" / "studio.css"
ICON_FILE = APP_ROOT / "assets" / "icon.png"  # the page's favicon, the window's and the shortcut's icon


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
                  extra_routes: list | None = None, block: bool = True) -> None:
    """Serve a page of this app under the same rules: only the given address, no analytics, only the server's own
    names in the Host header and only its own pages as callers, no CORS grant to other origins, wrong passwords
    slowed down (webui/guard.py), no file served outside the app's own folders. `extra_routes` (FastAPI routes, e.g.
    the demo's OpenAI-compatible API) are served by the same server, ahead of Gradio's own. `block=False` returns once
    the server listens (the desktop window then runs on the main thread, webui/window.py). No Gradio footer: its
    settings panel offered a second, half-working language switch, a PWA notice, Screen Studio and a run history that
    is not the studio's runs. Every HTML page gets the language script (webui/lang.py)."""
    if not share:
        print(f"Finetune Studio: open http://{host}:{port} in a browser (Ctrl+C stops it).", flush=True)
    # Wrong passwords are counted per client address: uvicorn must not take that address from X-Forwarded-For, which
    # it trusts from 127.0.0.1 by default, i.e. from every client of a loopback studio and of the share tunnel, so any
    # guesser could name a new address each time. (Gradio reads X-Forwarded-Proto/-Host itself for its links.)
    os.environ.setdefault("FORWARDED_ALLOW_IPS", "")
    app = GuardedApp(lambda inner: Guard(inner, server_names(host), lambda: _share_host(blocks)),
                     routes=list(extra_routes or []), middleware=[Middleware(LanguageScript)],
                     default_response_class=ORJSONResponse)
    blocks.launch(server_name=host, server_port=port, share=share, auth=login, i18n=i18n,
                  max_file_size=f"{max_upload_mb}mb", inbrowser=open_browser and _has_display(), show_error=False,
                  css_paths=[CSS_FILE], footer_links=[], strict_cors=True, ssr_mode=False,
                  allowed_paths=[], quiet=not share, favicon_path=ICON_FILE, prevent_thread_lock=not block, _app=app,
                  _frontend=False)
    # _frontend=False skips Gradio's "is localhost reachable" probe (for notebooks): one HEAD with a 3 s timeout, which
    # a busy machine misses and the studio then exits with "a shareable link must be created". Seen starting three
    # studios at once on 2 cores, about 1 start in 15. The address was printed above; Guard checks every request.
    # Gradio's own start-up lines are left out unless sharing (they print the public link): its hint to share
    # contradicts the README. The local address is said before launch() blocks.


class GuardedApp(App):
    """Gradio's app with webui.guard.Guard in front of everything, Gradio's own CORS middleware included: Gradio adds
    that middleware outside any passed in app_kwargs and answers CORS preflights itself, granting every localhost
    origin, so a guard passed there would come too late. Handed to launch() as its `_app` (gradio 6.31, pinned)."""

    def __init__(self, guard, **kwargs):
        self._guard = guard
        super().__init__(**kwargs)

    def build_middleware_stack(self):
        return self._guard(super().build_middleware_stack())


def _share_host(blocks: gr.Blocks) -> list[str]:
    """The share link's host once launch() has opened the tunnel (its requests arrive with that Host)."""
    url = getattr(blocks, "share_url", None)
    return [urlparse(url).hostname or ""] if url else []


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
