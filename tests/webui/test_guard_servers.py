"""The served pages answer only under their own host names and to their own pages, and slow down wrong passwords
(webui/guard.py), on a real studio and a real demo server over raw HTTP."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from typing import Iterator

import pytest

from tests.webui.browser import ROOT, StudioServerError, free_port
from tests.webui.served import server  # noqa: F401
from tests.webui.served import Server, _stop, launched, refuses_cors, START_TIMEOUT, EVIL_ORIGINS, LOCAL_ONLY_ENV


# ---------------------------------------------------------------------------------------------- Host names


def foreign_hosts(port: int) -> tuple[str, ...]:
    """What a DNS-rebinding page sends: its own name, with the studio's port (or none)."""
    return (f"evil.example:{port}", "evil.example", f"localhost.evil.example:{port}", f"127.0.0.1.nip.io:{port}")


def own_hosts(port: int) -> tuple[str, ...]:
    return (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}")


INSPECT = json.dumps({"data": ["/etc/passwd", "text", "none", "", "", "", 0.1, "", False, "default", 3.0, -1, 8, 1,
                               1024, 42]}).encode()


def test_another_host_name_is_refused(server):
    """Issue 21.3: with a foreign Host, the data path (/gradio_api/call/inspect) read a local file for the caller."""
    for host in foreign_hosts(server.port):
        for method, path, body in (("GET", "/", None), ("GET", "/config", None),
                                   ("POST", "/gradio_api/call/inspect", INSPECT)):
            status, headers, answer = server.request(method, path, body, {"Host": host,
                                                                          "Content-Type": "application/json"})
            assert status == 421, f"{method} {path} with Host {host}: {status} {answer[:200]!r}"
            assert b"event_id" not in answer and b"root:" not in answer
            assert "access-control-allow-origin" not in headers


def test_the_studio_own_host_names_are_answered(server):
    """The control for the refusal: the same requests naming the studio by its own names are served."""
    for host in own_hosts(server.port):
        status, _, page = server.request("GET", "/", headers={"Host": host})
        assert status == 200 and b"<html" in page.lower(), f"GET / with Host {host}: {status}"
    status, _, answer = server.request("POST", "/gradio_api/call/inspect", INSPECT,
                                       {"Host": f"127.0.0.1:{server.port}", "Content-Type": "application/json"})
    assert status == 200 and b"event_id" in answer, (status, answer[:200])


# ---------------------------------------------------------------------------------------------- CORS


def foreign_origins(port: int) -> tuple[str, ...]:
    """Other pages: another site, a sandboxed page, and another local app on another port (same site)."""
    return (*EVIL_ORIGINS, f"http://localhost:{port + 1}", f"http://127.0.0.1:{port + 1}")


def test_other_origins_may_not_call_and_get_no_cors_grant(server):
    for origin in foreign_origins(server.port):
        status, headers, _ = server.request("GET", "/", headers={"Origin": origin})
        assert status == 200, f"GET / from {origin}: {status}"  # the page works; the browser just must not share it
        assert refuses_cors(headers, origin) and "access-control-allow-credentials" not in headers, headers
        for method, path, body in (("GET", "/config", None), ("GET", "/gradio_api/info", None),
                                   ("POST", "/gradio_api/call/inspect", INSPECT),
                                   ("POST", "/gradio_api/queue/join", b"{}")):
            status, headers, answer = server.request(method, path, body, {"Origin": origin,
                                                                          "Content-Type": "text/plain"})
            assert status == 403, f"{method} {path} from {origin}: {status} {answer[:200]!r}"
            assert refuses_cors(headers, origin), f"{method} {path} from {origin}: {headers}"
        preflight = {"Origin": origin, "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type"}
        status, headers, _ = server.request("OPTIONS", "/gradio_api/queue/join", headers=preflight)
        assert status == 403 and refuses_cors(headers, origin), f"preflight from {origin}: {status} {headers}"


def test_the_studio_own_origin_is_granted(server):
    """The control for the refusals: the page's own origin does get the header, so its absence above means no."""
    origin = f"http://127.0.0.1:{server.port}"
    status, headers, _ = server.request("GET", "/config", headers={"Origin": origin})
    assert status == 200 and headers.get("access-control-allow-origin") == origin
    status, _, answer = server.request("POST", "/gradio_api/call/inspect", INSPECT,
                                       {"Origin": origin, "Content-Type": "application/json"})
    assert status == 200 and b"event_id" in answer


# ---------------------------------------------------------------------------------------------- wrong passwords


def login(server: Server, password: str, forwarded_for: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return server.request("POST", "/login", f"username=user&password={password}".encode(), headers)


@pytest.mark.slow
def test_wrong_passwords_are_slowed_down_and_the_right_one_is_not(tmp_path):
    """Issue 21.10: Gradio's /login took about 100 guesses a second. Each guess names another X-Forwarded-For, as a
    guesser through the share tunnel could (uvicorn trusts that header from 127.0.0.1 unless told otherwise)."""
    with launched(tmp_path, "--auth", "user:right-password") as studio:
        first = login(studio, "right-password")
        assert first[0] == 200 and b"success" in first[2], first
        started = time.monotonic()
        answers = [login(studio, f"guess-{i}", forwarded_for=f"10.0.0.{i}") for i in range(20)]
        took = time.monotonic() - started
        statuses = [status for status, _, _ in answers]
        assert statuses[:5] == [400] * 5, statuses  # Gradio's own answer to a wrong password
        checked = statuses.count(400)
        assert checked <= 7 and statuses.count(429) == 20 - checked, (statuses, took)
        refused = next(a for a in answers if a[0] == 429)
        assert int(refused[1]["retry-after"]) >= 1 and b"Too many wrong passwords" in refused[2]
        print(f"20 wrong passwords in {took:.2f} s: {checked} checked, {20 - checked} answered 429")
        time.sleep(int(answers[-1][1].get("retry-after", "0")) + 0.1)
        assert login(studio, "right-password")[0] == 200, "after the wait, the right password lets in at once"


# ---------------------------------------------------------------------------------------------- the demo server


@pytest.fixture(scope="module")
def demo(tiny_model, tmp_path_factory) -> Iterator[Server]:
    """`launch.py demo` on the tiny model (an exported folder), with --auth, on 127.0.0.1."""
    base = tmp_path_factory.mktemp("demo-security")
    port = free_port()
    log_path = base / f"demo-{port}.log"
    command = [sys.executable, str(ROOT / "launch.py"), "demo", str(tiny_model), "--host", "127.0.0.1", "--port",
               str(port), "--no-browser", "--auth", "user:right-password"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, **LOCAL_ONLY_ENV), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(port, proc, base, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _responds(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise StudioServerError(f"demo did not start (exit code {proc.poll()})\n{server.log()[-4000:]}")
            time.sleep(0.25)
        yield server
    finally:
        _stop(proc)


def _responds(port: int) -> bool:
    """The demo asks for a login: its page answers 401/302 until then, which still means it is up."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/v1/models")
        return conn.getresponse().status in (200, 401)
    except OSError:
        return False
    finally:
        conn.close()


API_KEY = {"Authorization": "Bearer user:right-password"}
CHAT = json.dumps({"model": "x", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}).encode()


@pytest.mark.slow
def test_the_demo_answers_only_its_own_host_names(demo):
    for host in own_hosts(demo.port):
        status, _, answer = demo.request("GET", "/v1/models", headers={"Host": host, **API_KEY})
        assert status == 200 and b'"data"' in answer, (host, status)
    for host in foreign_hosts(demo.port):
        for method, path in (("GET", "/v1/models"), ("GET", "/"), ("POST", "/v1/chat/completions")):
            status, headers, answer = demo.request(method, path, CHAT if method == "POST" else None,
                                                   {"Host": host, **API_KEY})
            assert status == 421 and b'"data"' not in answer, (method, path, host, status)
            assert "access-control-allow-origin" not in headers


@pytest.mark.slow
def test_the_demo_api_refuses_other_pages(demo):
    """Issue 21.4: a text/plain POST (a 'simple' request, no preflight) from another site ran the model."""
    for origin in foreign_origins(demo.port):
        for method, path, body in (("POST", "/v1/chat/completions", CHAT), ("GET", "/v1/models", None)):
            status, headers, answer = demo.request(method, path, body, {"Origin": origin,
                                                                        "Content-Type": "text/plain", **API_KEY})
            assert status == 403 and refuses_cors(headers, origin), (origin, path, status, headers)
            assert json.loads(answer)["error"]["message"].startswith("Refused")
    own = f"http://127.0.0.1:{demo.port}"
    status, headers, _ = demo.request("GET", "/v1/models", headers={"Origin": own, **API_KEY})
    assert status == 200 and headers.get("access-control-allow-origin") == own


@pytest.mark.slow
def test_wrong_api_keys_are_slowed_down(demo):
    assert demo.request("GET", "/v1/models", headers=API_KEY)[0] == 200
    answers = [demo.request("GET", "/v1/models", headers={"Authorization": f"Bearer user:guess-{i}"})
               for i in range(20)]
    statuses = [status for status, _, _ in answers]
    assert statuses[:5] == [401] * 5 and statuses.count(429) >= 13, statuses
    refused = next(a for a in answers if a[0] == 429)
    assert int(refused[1]["retry-after"]) >= 1 and json.loads(refused[2])["error"]["type"] == "rate_limit_error"


