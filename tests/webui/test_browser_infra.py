"""Self-test of the browser test infrastructure (tests/webui/browser.py), independent of the studio."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from tests.webui.browser import SCREENSHOTS, browser, free_port, page, page_errors, screenshot  # noqa: F401

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Browser infra</title><link rel="icon" href="data:,"></head>
<body>
  <h1>Browser infra self-test</h1>
  <p id="status">not clicked</p>
  <button id="go" onclick="document.getElementById('status').textContent = 'clicked!'">Click me</button>
</body></html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def static_site(tmp_path):
    """Serve tmp_path (holding index.html) on 127.0.0.1 from a thread; yields the base URL."""
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_click_changes_text_and_screenshot(page, static_site):
    errors = page_errors(page)
    page.goto(static_site)
    assert page.title() == "Browser infra"
    assert page.viewport_size == {"width": 1400, "height": 1000}
    assert page.evaluate("navigator.language") == "en-US"
    assert page.inner_text("#status") == "not clicked"

    page.get_by_role("button", name="Click me").click()
    page.wait_for_function("document.getElementById('status').textContent === 'clicked!'")
    assert page.inner_text("#status") == "clicked!"

    path = screenshot(page, "browser-infra-self-test")
    assert path == SCREENSHOTS / "browser-infra-self-test.png"
    assert path.is_file()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000
    assert errors == []
