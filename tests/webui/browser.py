"""Real-browser end-to-end test helpers: headless Chromium driven by Playwright.

The browser is Debian's ``chromium`` package (``apt-get install -y chromium``), launched by the
Python ``playwright`` package through ``executable_path``; ``playwright install`` is never needed.

Use it from a test module by importing the fixtures and helpers (always as ``tests.webui.browser``, so
there is one copy of the module)::

    from tests.webui.browser import browser, page, screenshot, studio_server, free_port  # noqa: F401

    def test_studio_opens(page, tmp_path):
        with studio_server(tmp_path / "runs", free_port()) as url:
            page.goto(url)
            page.get_by_text("Finetune Studio").first.wait_for()
            screenshot(page, "studio-home")

Without Chromium or Playwright the browser tests skip locally, with the reason; when the ``CI``
environment variable is set they fail instead, because CI must run them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

# Playwright adds --headless itself. Without the rest Chromium stalls on network lookups here;
# --no-proxy-server keeps 127.0.0.1 traffic off any proxy set in the environment.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
VIEWPORT = {"width": 1400, "height": 1000}
LOCALE = "en-US"
SERVER_START_TIMEOUT = 120.0
SERVER_STOP_GRACE = 10.0


class StudioServerError(RuntimeError):
    """The studio server exited or did not answer in time; the message ends with its log tail."""


def chromium_available() -> str | None:
    """None when browser tests can run, else the reason they cannot."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if not os.path.isfile(CHROMIUM) or not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    return None


def in_ci() -> bool:
    """True when the CI environment variable is set (to anything but '', 0, false or no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> None:
    """Skip the current test when the browser is missing, or fail it when running in CI."""
    reason = chromium_available()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"browser tests must run in CI, but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no server log: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


def _answers_200(url: str) -> bool:
    # No proxies: the request must go straight to 127.0.0.1 whatever the environment says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group, SIGKILL it after SERVER_STOP_GRACE seconds."""
    if proc.poll() is not None:
        return

    def signal_group(sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)  # the server leads its own session, so this is its group only
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)

    signal_group(signal.SIGTERM)
    try:
        proc.wait(timeout=SERVER_STOP_GRACE)
    except subprocess.TimeoutExpired:
        signal_group(signal.SIGKILL)
        proc.wait(timeout=SERVER_STOP_GRACE)


@contextlib.contextmanager
def studio_server(runs_dir: str | os.PathLike, port: int, extra_env: dict[str, str] | None = None,
                  timeout: float = SERVER_START_TIMEOUT) -> Iterator[str]:
    """Run ``launch.py --port PORT --runs-dir RUNS_DIR`` on 127.0.0.1 and yield its base URL.

    Output goes to ``<runs_dir's parent>/studio-<port>.log``. Raises StudioServerError (with the
    log tail) if the server exits or has not answered 200 on ``/`` within ``timeout`` seconds.
    The server is always stopped on exit: SIGTERM, then SIGKILL after 10 s.
    """
    runs_dir = Path(runs_dir).resolve()
    runs_dir.parent.mkdir(parents=True, exist_ok=True)
    command = ["--host", "127.0.0.1", "--port", str(port), "--runs-dir", str(runs_dir), "--no-browser"]
    with _served(command, port, runs_dir.parent / f"studio-{port}.log", extra_env, timeout) as url:
        yield url


@contextlib.contextmanager
def demo_server(source: str | os.PathLike, port: int, log_dir: str | os.PathLike, *extra_args: str,
                timeout: float = SERVER_START_TIMEOUT) -> Iterator[str]:
    """Run ``launch.py demo SOURCE --port PORT --no-browser EXTRA`` on 127.0.0.1 and yield its base URL, as
    studio_server does (log in ``log_dir/demo-<port>.log``)."""
    command = ["demo", str(source), "--port", str(port), "--no-browser", *extra_args]
    with _served(command, port, Path(log_dir) / f"demo-{port}.log", None, timeout) as url:
        yield url


@contextlib.contextmanager
def _served(arguments: list[str], port: int, log_path: Path, extra_env: dict[str, str] | None,
            timeout: float) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ)
    env.update({
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    env.update(extra_env or {})
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, str(ROOT / "launch.py"), *arguments], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _answers_200(url):
            code = proc.poll()
            if code is not None:
                raise StudioServerError(f"server exited with code {code} before answering {url}\n"
                                        f"--- {log_path} ---\n{_log_tail(log_path)}")
            if time.monotonic() > deadline:
                raise StudioServerError(f"server did not answer 200 on {url} within {timeout:.0f} s\n"
                                        f"--- {log_path} ---\n{_log_tail(log_path)}")
            time.sleep(0.25)
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (Playwright Browser) shared by the tests of one module."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser):
    """A fresh page (own context: 1400x1000 viewport, en-US locale), closed after the test."""
    context = browser.new_context(viewport=VIEWPORT, locale=LOCALE)
    try:
        yield context.new_page()
    finally:
        context.close()


@contextlib.contextmanager
def page_in(browser, locale: str, failure_name: str, timeout_ms: int = 60_000):
    """A fresh page in `locale` (its own context, so its own language and storage); a screenshot named
    `failure_name` when the test fails inside it."""
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    except Exception:
        screenshot(page, failure_name)
        raise
    finally:
        context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG to <repo>/test-artifacts/screenshots/<name>.png and return its path."""
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def page_errors(page) -> list[str]:
    """Start collecting the page's uncaught JS errors and console errors; returns the live list."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    return errors


def set_number(page, elem_id, value):
    """Type a number into the form field #elem_id and leave it (Gradio applies the value on blur)."""
    box = page.locator(f"#{elem_id} input").first
    box.fill(str(value))
    box.press("Tab")


def set_dropdown_text(page, elem_id, value):
    """Type a custom value into the dropdown #elem_id (one that allows them) and confirm it."""
    box = page.locator(f"#{elem_id} input").first
    box.click()
    box.fill(str(value))
    box.press("Enter")
