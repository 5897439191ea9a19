"""The studio and demo servers the security tests poke at: started for real with `launch.py` on 127.0.0.1, with
the environment a careless Gradio app would be made public by, and the raw-HTTP helpers the tests read them with."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from tests.webui.browser import ROOT, StudioServerError, free_port

MAX_UPLOAD_MB = 1
START_TIMEOUT = 120.0
REFUSAL_TIMEOUT = 60.0
EVIL_ORIGINS = ("https://evil.example", "null")
HOSTILE_NAMES = ("../../evil.jsonl", "/etc/evil.jsonl", "..\\..\\evil.jsonl")
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, so nothing leaves the machine
LOCAL_ONLY_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "PYTHONUNBUFFERED": "1",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
    **{name: DEAD_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                                     "all_proxy")},
}
HOSTILE_ENV = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SHARE": "True"}
LOOPBACK = {"127.0.0.1", "::1"}


# ---------------------------------------------------------------------------------------------- helpers


class Server:
    """A running studio: its URL, process, folders and log."""

    def __init__(self, port: int, proc: subprocess.Popen, base: Path, log_path: Path):
        self.port, self.proc, self.base, self.log_path = port, proc, base, log_path
        self.url = f"http://127.0.0.1:{port}/"
        self.runs_dir = base / "runs"
        self.uploads_dir = base / "uploads"  # Studio.uploads_dir: the folder beside the runs dir
        self.temp_dir = base / "gradio-tmp"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lower-case names, body); the path is sent exactly as given."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def upload(self, name: str, data: bytes) -> tuple[int, bytes]:
        """POST one file to Gradio's upload route, with ``name`` as the multipart file name, unescaped."""
        boundary = "----studio-test-" + secrets.token_hex(8)
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        status, _, answer = self.request("POST", "/gradio_api/upload", body,
                                         {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return status, answer

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, 15)  # the server leads its own session: this signals it and its children only
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, 9)
        proc.wait(timeout=10)


@contextlib.contextmanager
def launched(base: Path, *extra_args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``launch.py --host 127.0.0.1 --port P --runs-dir BASE/runs --no-browser EXTRA`` like studio_server, plus
    what studio_server cannot pass (extra CLI flags), with GRADIO_TEMP_DIR set to BASE/gradio-tmp."""
    port = free_port()
    log_path = base / f"studio-{port}.log"
    full_env = dict(os.environ, **LOCAL_ONLY_ENV, GRADIO_TEMP_DIR=str(base / "gradio-tmp"), **(env or {}))
    command = [sys.executable, str(ROOT / "launch.py"), "--host", "127.0.0.1", "--port", str(port),
               "--runs-dir", str(base / "runs"), "--no-browser", *extra_args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=full_env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(port, proc, base, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise StudioServerError(f"studio did not start (exit code {proc.poll()})\n{server.log()[-4000:]}")
            time.sleep(0.25)
        yield server
    finally:
        _stop(proc)


def listening_addresses(pid: int) -> list[tuple[str, int]]:
    """(ip, port) of every listening inet socket of the process and its children."""
    root = psutil.Process(pid)
    found = []
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            found += [(c.laddr.ip, c.laddr.port) for c in proc.net_connections(kind="inet")
                      if c.status == psutil.CONN_LISTEN]
    return found


def wait_for_launch_done(server_log, timeout: float = 30.0) -> str:
    """The log once launch() has said whether it shares (Gradio prints one of these after the local URL)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = server_log()
        if "open http://" in text or "public URL" in text or "share link" in text:
            return text
        time.sleep(0.2)
    pytest.fail(f"the studio's launch() never reported on sharing:\n{server_log()[-3000:]}")


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def is_inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def refuses_cors(headers: dict[str, str], origin: str) -> bool:
    allowed = headers.get("access-control-allow-origin")
    return allowed is None or allowed.strip() not in (origin, "*")


# ---------------------------------------------------------------------------------------------- the shared server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("security")
    with launched(base, "--max-upload-mb", str(MAX_UPLOAD_MB), env=HOSTILE_ENV) as running:
        yield running


