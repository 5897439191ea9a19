"""The studio's own window (webui/window.py): when it opens, what closing it does while a run trains, one studio at a
time, the favicon. The real window is driven under Xvfb by tests/webui/window_driver.py (skipped, with the reason,
where Xvfb or pywebview's Qt web view is missing); everything else runs without a display."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.catalogue.language import speaking
from core.jobs import JobRunner
from tests.webui.browser import ROOT, SCREENSHOTS, free_port
from tests.webui.served import LOCAL_ONLY_ENV, launched
from webui import window as desktop

# ---- when a window opens ------------------------------------------------------------------------------------------


def test_no_window_when_asked_for_none_or_for_no_browser(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")
    assert desktop.wants_window(False, "127.0.0.1", 7860, False, True) == (False, None)
    # --no-browser (servers, the tests' own studios) opens no window of any kind unless --window says so
    assert desktop.wants_window(None, "127.0.0.1", 7860, False, False) == (False, None)


def test_the_window_serves_on_loopback_only_and_says_why_not(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")
    use, why = desktop.wants_window(True, "0.0.0.0", 7860, False, True)
    assert not use and "127.0.0.1 only" in why and "--host 0.0.0.0" in why
    use, why = desktop.wants_window(True, "127.0.0.1", 7860, True, True)
    assert not use and "--share" in why
    assert desktop.wants_window(None, "0.0.0.0", 7860, False, True) == (False, None)  # quietly: the browser as today


def test_without_a_display_the_studio_opens_for_a_browser(monkeypatch):
    """Stands for a Linux server reached over ssh: no DISPLAY, no WAYLAND_DISPLAY."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(desktop.sys, "platform", "linux")
    use, why = desktop.wants_window(True, "127.0.0.1", 7861, False, True)
    assert not use and "http://127.0.0.1:7861" in why
    assert desktop.wants_window(None, "127.0.0.1", 7861, False, True) == (False, None)


def test_without_pywebview_the_window_asks_for_it_and_the_browser_opens(monkeypatch):
    """Stands for a machine set up with the README's two commands only (requirements-desktop.txt not installed)."""
    monkeypatch.setenv("DISPLAY", ":99")
    real = desktop.importlib.util.find_spec
    monkeypatch.setattr(desktop.importlib.util, "find_spec", lambda name: None if name == "webview" else real(name))
    use, why = desktop.wants_window(True, "127.0.0.1", 7860, False, True)
    assert not use and "requirements-desktop.txt" in why and "pywebview is not installed" in why
    assert desktop.wants_window(None, "127.0.0.1", 7860, False, True) == (False, None)


@pytest.mark.skipif(desktop._backend() != "qt", reason="the Qt web view is not installed here")
def test_a_bare_linux_without_qts_x11_libraries_gets_the_browser_and_the_apt_line(monkeypatch):
    """Stands for a minimal system (a container, a fresh server install) where Qt's X11 plugin would abort."""
    import ctypes.util

    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    real = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None if name == "xcb-cursor" else real(name))
    use, why = desktop.wants_window(True, "127.0.0.1", 7860, False, True)
    assert not use and "Qt needs libxcb-cursor" in why and "sudo apt install libxcb-cursor0" in why


# ---- what closing does --------------------------------------------------------------------------------------------


def test_closing_when_idle_quits_and_while_training_asks_first():
    assert desktop.close_action(training=False, choice=None) == "quit"
    assert desktop.close_action(training=True, choice=None) == "ask"
    assert desktop.close_action(True, desktop.KEEP) == "hide"
    assert desktop.close_action(True, desktop.STOP) == "stop"
    assert desktop.close_action(True, desktop.CANCEL) == "stay"
    assert desktop.close_action(True, "anything else") == "stay"
    assert desktop.close_action(False, desktop.STOP) == "quit"  # the run ended while the question was open


def test_the_dialog_speaks_the_page_language_and_keeps_a_run_name_as_text():
    english = desktop.dialog_texts("my-run", "en")
    chinese = desktop.dialog_texts("my-run", "zh")
    assert english["keep"] == "Keep training in the background" and chinese["keep"] == "在后台继续训练"
    assert "my-run" in english["close_question"] and "my-run" in chinese["close_question"]
    hostile = '</script><img src=x onerror="alert(1)">\'"'
    script = desktop.dialog_script(desktop.dialog_texts(hostile, "en"))
    assert json.dumps(hostile)[1:-1] in script and "innerHTML" not in script


class PageWindow:
    """Stands for pywebview's window, which needs a display: records what the studio asked of it."""

    def __init__(self):
        self.calls = []

    def hide(self):
        self.calls.append("hide")

    def show(self):
        self.calls.append("show")

    def restore(self):
        self.calls.append("restore")

    def destroy(self):
        self.calls.append("destroy")

    def run_js(self, script):
        self.calls.append("dialog" if desktop.DIALOG_ID in script and "choose" in script else "script")

    def evaluate_js(self, script):
        return "zh-CN" if script == desktop.LANGUAGE_SCRIPT else None


@pytest.mark.slow
def test_the_close_choices_drive_the_studios_own_runner(tiny_config, tmp_path):
    """A real run trains (the studio's JobRunner); closing asks, Cancel keeps all, Keep hides the window while the
    run goes on, Stop stops the run at the end of a step with its adapter saved, then the window goes."""
    tiny_config.train.max_steps = 100_000
    runner = JobRunner(tmp_path / "runs", in_process=True)
    said = []
    studio_window = desktop.StudioWindow("http://127.0.0.1:1/", runner, say_line=said.append)
    studio_window.window = page = PageWindow()
    run = runner.start(tiny_config)
    deadline = time.monotonic() + 120
    while run.status().get("step", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert studio_window._on_closing() is False  # the window stays; the question is asked
    _wait_for(lambda: "dialog" in page.calls)
    assert studio_window.choose(desktop.CANCEL) == "stay" and runner.busy and "hide" not in page.calls
    assert studio_window.choose(desktop.KEEP) == "hide" and runner.busy and studio_window.hidden
    assert "goes on training in the background" in said[-1] and run.name in said[-1]
    assert studio_window.show() and not studio_window.hidden and page.calls[-2:] == ["show", "restore"]
    with speaking("en"):
        assert studio_window.choose(desktop.STOP) == "stop"
    _wait_for(lambda: "destroy" in page.calls, timeout=120)
    assert run.status()["state"] == "stopped" and run.has_adapter()
    assert studio_window._on_closing() is True  # the studio's own quit is not asked about again


@pytest.mark.slow
def test_kept_in_the_background_the_studio_quits_when_the_run_ends(tiny_config, tmp_path):
    """Keep training, then nobody reopens the window: when the run completes the studio goes by itself (no process
    left behind with a hidden window), and says how the run ended."""
    tiny_config.train.max_steps = 12
    runner = JobRunner(tmp_path / "runs", in_process=True)
    said = []
    studio_window = desktop.StudioWindow("http://127.0.0.1:1/", runner, say_line=said.append)
    studio_window.window = page = PageWindow()
    run = runner.start(tiny_config)
    _wait_for(lambda: run.status().get("step", 0) >= 1, timeout=120)
    assert studio_window.choose(desktop.KEEP) == "hide"
    threading.Thread(target=studio_window._watch_background_run, daemon=True).start()  # as the open window does
    _wait_for(lambda: "destroy" in page.calls, timeout=180)
    assert run.status()["state"] == "completed" and run.has_adapter()
    assert said[-1] == f"{run.name} ended (completed) while the window was closed; the studio quits."


def _wait_for(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"waited {timeout} s"
        time.sleep(0.1)


# ---- one studio at a time, and its icon ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_start_shows_the_running_studio_instead_of_failing_on_its_port(tmp_path):
    with launched(tmp_path) as server:
        assert json.loads(server.request("GET", desktop.HELLO_PATH)[2]) == {"app": "finetune-studio",
                                                                             "window": False}
        started = time.monotonic()
        second = subprocess.run([sys.executable, str(ROOT / "launch.py"), "--port", str(server.port), "--no-browser",
                                 "--runs-dir", str(server.runs_dir)], capture_output=True, text=True, timeout=120,
                                cwd=ROOT, env=dict(os.environ, **LOCAL_ONLY_ENV))
        assert second.returncode == 0, second.stderr
        assert f"already running at http://127.0.0.1:{server.port}/" in second.stdout
        assert time.monotonic() - started < 60 and server.proc.poll() is None  # the first one goes on serving
        status, headers, icon = server.request("GET", "/favicon.ico")
        assert status == 200 and icon == (ROOT / "assets" / "icon.png").read_bytes()


@pytest.mark.slow
def test_a_port_held_by_another_program_is_named_instead_of_a_traceback(tmp_path):
    port = free_port()
    other = socket.socket()
    other.bind(("127.0.0.1", port))
    other.listen()
    answering = threading.Thread(target=_answer_nonsense, args=(other,), daemon=True)
    answering.start()
    try:
        second = subprocess.run([sys.executable, str(ROOT / "launch.py"), "--port", str(port), "--no-browser",
                                 "--runs-dir", str(tmp_path / "runs")], capture_output=True, text=True, timeout=120,
                                cwd=ROOT, env=dict(os.environ, **LOCAL_ONLY_ENV))
    finally:
        other.close()
    assert second.returncode == 2
    assert f"Port {port} is taken by another program" in second.stderr and "Traceback" not in second.stderr


def test_the_running_studio_is_asked_directly_even_with_a_proxy_set(monkeypatch):
    """A machine with HTTP_PROXY set and no NO_PROXY (a company network): the question goes to 127.0.0.1 itself."""
    import http.server

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"app": "finetune-studio", "window": True}).encode() if self.path == \
                desktop.HELLO_PATH else b"{}"
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the discard port: a proxy that never answers
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    try:
        assert desktop.running_studio(server.server_port) == {"app": "finetune-studio", "window": True}
    finally:
        server.shutdown()
        server.server_close()
    assert desktop.running_studio(server.server_port, timeout=1) is None  # nothing listens any more


def _answer_nonsense(listener: socket.socket) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        conn.recv(4096)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nnot a studio")
        conn.close()


# ---- the real window, under Xvfb ----------------------------------------------------------------------------------

def _window_skip_reason() -> str | None:
    if shutil.which("xvfb-run") is None:
        return "no display server: Debian's xvfb is not installed (apt-get install xvfb)"
    if desktop.library_missing():
        return f"the window library is missing: {desktop.library_missing()} (pip install -r requirements-desktop.txt)"
    if shutil.which("import") is None or shutil.which("xwininfo") is None:
        return "no screenshot tools: apt-get install imagemagick x11-utils"
    return None


needs_window = pytest.mark.skipif(_window_skip_reason() is not None, reason=_window_skip_reason() or "")


def _drive(scenario: str, tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "out"
    command = ["xvfb-run", "-a", "-s", "-screen 0 1400x950x24", sys.executable, "-m", "tests.webui.window_driver",
               scenario, str(free_port()), str(tmp_path / "runs"), str(out), *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=420,
                          env=dict(os.environ, **LOCAL_ONLY_ENV))
    seen = json.loads((out / "observed.json").read_text(encoding="utf-8"))
    assert "error" not in seen and done.returncode == 0, (seen, done.stdout[-3000:], done.stderr[-3000:])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for picture in out.glob("*.png"):
        shutil.copyfile(picture, SCREENSHOTS / picture.name)
    return seen


@pytest.mark.slow
@needs_window
def test_the_studio_opens_in_its_own_window_and_an_idle_close_quits(tmp_path):
    seen = _drive("idle", tmp_path)
    assert "Finetune Studio" in seen["titles"] and seen["on_screen"]
    assert seen["exit_code"] == 0  # closed while idle: no question, the studio quit


@pytest.mark.slow
@needs_window
def test_closing_the_window_while_training_asks_and_each_answer_does_what_it_says(tmp_path, tiny_config):
    tiny_config.train.max_steps = 100_000
    tiny_config.name = "window-run"
    tiny_config.save(tmp_path / "config.yaml")
    seen = _drive("training", tmp_path, str(tmp_path / "config.yaml"))
    assert seen["buttons"] == ["keep=Keep training in the background", "stop=Stop and save the adapter",
                               "cancel=Cancel"]
    assert seen["buttons_zh"] == ["keep=在后台继续训练", "stop=停止并保存适配器", "cancel=取消"]
    assert seen["after_cancel"] == {"hidden": False, "training": True, "on_screen": True}
    keep = seen["after_keep"]
    assert keep["hidden"] and keep["training"] and not keep["on_screen"]
    assert seen["second_start"]["code"] == 0 and "already running" in seen["second_start"]["output"]
    again = seen["after_second_start"]
    assert not again["hidden"] and again["on_screen"] and again["training"] and again["step"] >= keep["step"]
    run = Path(seen["run"])
    status = json.loads((run / "status.json").read_text(encoding="utf-8"))
    assert status["state"] == "stopped" and (run / "adapter" / "adapter_config.json").exists()
    assert seen["exit_code"] == 0
