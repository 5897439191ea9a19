"""The studio in its own desktop window (pywebview), the question asked when it closes while a run trains, and the
single-instance check (a second start shows the running studio instead of failing on its port).

pywebview is chosen because it is a maintained wrapper of each system's own web view: WebView2 (Edge) on Windows,
WebKit on macOS, and on Linux Qt WebEngine, which pip installs from PyPI into the project's .venv (PyQt6 and
PyQt6-WebEngine, requirements-desktop.txt) with no system packages beyond the X libraries every desktop has.
The window is optional: without pywebview, or without a display, the studio opens in the browser as before.

The server keeps listening on 127.0.0.1; the window is one more page of it. The close dialog is drawn inside the page
(the same on every system, in the page's language) and answers through pywebview's JS bridge.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import json
import os
import sys
import threading
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.catalogue.language import normalise, speaking
from core.catalogue.message import say
from core.runs import state_word

from webui.guard import WILDCARDS, is_loopback
from webui.shortcut import APP_ID, APP_NAME, ICON_PNG

KEEP, STOP, CANCEL = "keep", "stop", "cancel"
DESKTOP_INSTALL = ".venv/bin/pip install -r requirements-desktop.txt"
HELLO_PATH, SHOW_PATH = "/desktop/hello", "/desktop/show"
DIALOG_ID = "fs-close-dialog"
X11_LIBRARIES = ("xcb-cursor", "xcb-icccm", "xcb-keysyms")
X11_PACKAGES = "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"


# ---- whether to open a window -----------------------------------------------------------------------------------

def has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def library_missing() -> str | None:
    """Why pywebview cannot open a window here (None when it can): the package, or on Linux its Qt web view."""
    if importlib.util.find_spec("webview") is None:
        return "pywebview is not installed"
    if sys.platform.startswith("linux") and importlib.util.find_spec("PyQt6.QtWebEngineWidgets") is None \
            and importlib.util.find_spec("gi") is None:
        return "neither Qt WebEngine (PyQt6-WebEngine) nor GTK (python3-gi) is installed"
    if _backend() == "qt" and not os.environ.get("WAYLAND_DISPLAY"):
        # Qt's X11 plugin aborts the whole process without these (a bare system; every desktop has them)
        missing = [f"lib{name}" for name in X11_LIBRARIES if ctypes.util.find_library(name) is None]
        if missing:
            return f"Qt needs {', '.join(missing)} (on Debian or Ubuntu: sudo apt install {X11_PACKAGES})"
    return None


def wants_window(asked: bool | None, host: str, port: int, share: bool, open_browser: bool) -> tuple[bool, str | None]:
    """(open the studio's own window?, a line saying why not when the user asked for it). `asked` is --window (True),
    --no-window (False) or neither (None: a window where a display and the library are there, quietly else)."""
    if asked is False or (asked is None and not open_browser):  # --no-browser: no window of any kind (tests, servers)
        return False, None
    why_not = None
    if share or not is_loopback(host):
        why_not = say("desktop.window.not_local", host=host)
    elif not has_display():
        why_not = say("desktop.window.no_display", host=host, port=port)
    elif reason := library_missing():
        why_not = say("desktop.window.no_library", reason=reason, command=DESKTOP_INSTALL)
    if why_not is None:
        return True, None
    return False, why_not if asked else None


# ---- what closing the window does ---------------------------------------------------------------------------------

def close_action(training: bool, choice: str | None) -> str:
    """What a close does. Idle: 'quit'. While a run trains: 'ask' until the user chose; then 'hide' (keep training in
    the background), 'stop' (stop at the end of the step, save the adapter, then quit) or 'stay' (cancel)."""
    if not training:
        return "quit"
    return {None: "ask", KEEP: "hide", STOP: "stop", CANCEL: "stay"}.get(choice, "stay")


def dialog_texts(run: str, lang: str) -> dict[str, str]:
    with speaking(lang):
        return {name: say(f"desktop.window.{name}", run=run) for name in
                ("close_title", "close_question", "keep", "keep_help", "stop", "stop_help", "cancel", "stopping")}


def dialog_script(texts: dict[str, str]) -> str:
    """The in-page dialog: a veil over the studio with the question and three buttons, each calling the window's
    choose(). Built with textContent, never innerHTML: a run's name is the user's text."""
    return """(function(t){
var old=document.getElementById('%(id)s'); if(old) old.remove();
var veil=document.createElement('div'); veil.id='%(id)s'; veil.setAttribute('role','dialog');
veil.style.cssText='position:fixed;inset:0;z-index:99999;background:rgba(15,23,42,.55);display:flex;'+
 'align-items:center;justify-content:center;font-family:system-ui,sans-serif';
var box=document.createElement('div');
box.style.cssText='background:#fff;color:#111827;border-radius:12px;padding:24px 28px;max-width:560px;'+
 'box-shadow:0 20px 50px rgba(0,0,0,.35)';
function add(tag,text,css){var e=document.createElement(tag);e.textContent=text;if(css)e.style.cssText=css;
 box.appendChild(e);return e;}
add('h2',t.close_title,'margin:0 0 8px;font-size:20px');
add('p',t.close_question,'margin:0 0 18px;line-height:1.4');
function choice(name,label,help,main){var b=add('button',label,'display:block;width:100%%;text-align:left;'+
 'padding:10px 14px;margin:8px 0 2px;border-radius:8px;font-size:15px;cursor:pointer;border:1px solid #c7d2fe;'+
 (main?'background:#4f46e5;color:#fff':'background:#eef2ff;color:#1e1b4b'));b.dataset.choice=name;
 b.onclick=function(){box.querySelectorAll('button').forEach(function(x){x.disabled=true});
  window.pywebview.api.choose(name);};
 if(help) add('div',help,'font-size:13px;color:#4b5563;margin:0 0 6px 4px');}
choice('%(keep)s',t.keep,t.keep_help,true); choice('%(stop)s',t.stop,t.stop_help,false);
choice('%(cancel)s',t.cancel,'',false);
veil.appendChild(box); document.body.appendChild(veil);
})(%(texts)s);""" % {"id": DIALOG_ID, "keep": KEEP, "stop": STOP, "cancel": CANCEL, "texts": json.dumps(texts)}


def stopping_script(text: str) -> str:
    return ("(function(){var v=document.getElementById('%s');if(!v)return;var box=v.firstChild;"
            "box.querySelectorAll('button,div').forEach(function(e){e.remove()});"
            "var p=document.createElement('p');p.textContent=%s;p.setAttribute('data-stopping','1');"
            "box.appendChild(p);})();" % (DIALOG_ID, json.dumps(text)))


LANGUAGE_SCRIPT = ("(function(){var m=document.cookie.match(/(?:^|; )finetune-studio-lang=([^;]*)/);"
                   "return m?decodeURIComponent(m[1]):(navigator.language||'en');})()")
CLOSE_DIALOG_SCRIPT = f"(function(){{var d=document.getElementById('{DIALOG_ID}');if(d)d.remove();}})();"


# ---- the window -----------------------------------------------------------------------------------------------

@dataclass
class StudioWindow:
    """The studio's window. `runner` is the studio's core.jobs.JobRunner (busy, run, stop(), wait()); None for a
    window onto a studio another process serves, whose runs a close cannot touch."""

    url: str
    runner: object | None = None
    say_line: Callable[[str], None] = print
    hidden: bool = field(default=False, init=False)
    window: object | None = field(default=None, init=False)
    _quitting: bool = field(default=False, init=False)
    _asking: bool = field(default=False, init=False)

    def open(self, after: Callable | None = None) -> None:
        """Show the window and block until it is gone (pywebview runs on the main thread). `after(self)` runs in a
        thread once the window exists (tests drive the window from there)."""
        import webview

        if _is_root():  # Chromium inside Qt WebEngine refuses to sandbox itself as root (containers, CI)
            os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
        self.window = webview.create_window(APP_NAME, self.url, width=1320, height=880, min_size=(900, 600),
                                            background_color="#FFFFFF")
        self.window.events.closing += self._on_closing
        self.window.expose(self.choose)
        webview.start(self._started, (after,), gui=_backend(), icon=str(ICON_PNG), private_mode=False,
                      storage_path=_storage_dir())

    def _started(self, after: Callable | None) -> None:
        threading.Thread(target=self._watch_background_run, daemon=True, name="window-watch").start()
        if after is not None:
            after(self)

    def training(self) -> bool:
        return bool(self.runner is not None and self.runner.busy)

    def _on_closing(self) -> bool:
        """pywebview's closing event, on the GUI thread: False keeps the window. The question is asked from another
        thread (a script run from here would wait on this very thread)."""
        if self._quitting:
            return True
        action = close_action(self.training(), None)
        if action == "quit":
            self._quitting = True
            return True
        if not self._asking:
            self._asking = True
            threading.Thread(target=self._ask, daemon=True, name="window-ask").start()
        return False

    def _ask(self) -> None:
        lang = normalise(str(self.window.evaluate_js(LANGUAGE_SCRIPT) or "en"))
        run = self.runner.run.name if self.runner.run else ""
        self.window.run_js(dialog_script(dialog_texts(run, lang)))

    def choose(self, choice: str) -> str:
        """The dialog's answer (called from the page through pywebview's JS bridge, or by a test)."""
        self._asking = False
        action = close_action(self.training(), choice)
        run = self.runner.run.name if self.runner is not None and self.runner.run else ""
        if action in ("stay", "quit", "hide"):
            self.window.run_js(CLOSE_DIALOG_SCRIPT)
        if action == "hide":
            self.hidden = True
            self.window.hide()
            self.say_line(say("desktop.window.in_background", run=run))
        elif action == "stop":
            lang = normalise(str(self.window.evaluate_js(LANGUAGE_SCRIPT) or "en"))
            with speaking(lang):
                self.window.run_js(stopping_script(say("desktop.window.stopping", run=run)))
            self.runner.stop()  # the studio's own Stop: the adapter is saved at the end of the step
            threading.Thread(target=self._quit_when_stopped, daemon=True, name="window-stop").start()
        elif action == "quit":
            self.quit()
        return action

    def _quit_when_stopped(self) -> None:
        self.runner.wait()
        self.quit()

    def show(self) -> bool:
        """Bring the window back (a second start asked for it). False when there is none to show."""
        if self.window is None or self._quitting:
            return False
        self.hidden = False
        self.window.show()
        self.window.restore()
        return True

    def quit(self) -> None:
        self._quitting = True
        self.window.destroy()

    def _watch_background_run(self) -> None:
        """Kept in the background: when the run ends and the window is still hidden, nothing is left to do."""
        import time

        while not self._quitting:
            time.sleep(1.0)
            if self.hidden and not self.training():
                run = self.runner.run if self.runner is not None else None
                state = run.status().get("state", "") if run else ""
                self.say_line(say("desktop.window.run_ended", run=run.name if run else "", state=state_word(state)))
                self.quit()


def _backend() -> str | None:
    """Qt on Linux when it is installed (pywebview would try GTK first and print a traceback when gi is missing);
    elsewhere pywebview's own choice, the system's web view."""
    if not sys.platform.startswith("linux") or importlib.util.find_spec("PyQt6") is None:
        return None  # (find_spec of a submodule raises when its package is not installed at all)
    return "qt" if importlib.util.find_spec("PyQt6.QtWebEngineWidgets") is not None else None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _storage_dir() -> str:
    """Where the window's web view keeps the page's localStorage (the language choice) between starts."""
    from webui.shortcut import data_home

    base = os.environ.get("LOCALAPPDATA") if sys.platform == "win32" else None
    return str((Path(base) if base else data_home()) / APP_ID / "webview")


# ---- one studio at a time ------------------------------------------------------------------------------------------

@dataclass
class Desktop:
    """What the running studio tells a second start: its window, when it has one, and how to show it."""

    window: StudioWindow | None = None

    def routes(self) -> list:
        from fastapi import APIRouter

        api = APIRouter()
        api.add_api_route(HELLO_PATH, self.hello, methods=["GET"])
        api.add_api_route(SHOW_PATH, self.show, methods=["POST"])
        return api.routes

    def hello(self) -> dict:
        return {"app": APP_ID, "window": self.window is not None}

    def show(self) -> dict:
        return {"shown": bool(self.window is not None and self.window.show())}


# Straight to 127.0.0.1, never through HTTP_PROXY: a proxy's own answer would read as another program on the port.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def running_studio(port: int, timeout: float = 2.0) -> dict | None:
    """What answers on 127.0.0.1:port: the studio's hello ({'app': ..., 'window': ...}), {} for another program, or
    None when nothing listens."""
    try:
        with _direct.open(f"http://127.0.0.1:{port}{HELLO_PATH}", timeout=timeout) as answer:
            hello = json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError:
        return {}
    except (urllib.error.URLError, OSError):
        return None
    except ValueError:
        return {}
    return hello if isinstance(hello, dict) and hello.get("app") == APP_ID else {}


def show_running(port: int, hello: dict, window: bool) -> bool:
    """Ask the running studio to show its own window; True when it did."""
    if not (window and hello.get("window")):
        return False
    request = urllib.request.Request(f"http://127.0.0.1:{port}{SHOW_PATH}", method="POST", data=b"")
    try:
        with _direct.open(request, timeout=5.0) as answer:
            return bool(json.loads(answer.read().decode("utf-8")).get("shown"))
    except (OSError, ValueError):
        return False


def second_start(host: str, port: int, window: bool, open_browser: bool) -> int | None:
    """A studio already answers on this port: show it (its own window, else a window or a browser tab onto it) and
    say so; the exit code. None when nothing listens there: start as usual. Another program on the port: refuse."""
    if not (is_loopback(host) or host in WILDCARDS):
        return None
    hello = running_studio(port)
    if hello is None:
        return None
    if not hello:
        print(say("desktop.window.port_taken", port=port), file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{port}/"
    print(say("desktop.window.already_running", url=url), flush=True)
    if show_running(port, hello, window):
        return 0
    if window:
        StudioWindow(url).open()
    elif open_browser and has_display():
        webbrowser.open(url)
    return 0
