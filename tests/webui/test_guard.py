"""webui.guard's rules one by one, in process: which Host names a server answers, which pages may call it, and how
wrong passwords are slowed down. The guard stands in front of a small app that answers like Gradio's routes do
(a page, an API route, /login with Gradio's 400 for a wrong password, /v1 with 401); tests/webui/test_security.py
checks the same rules on real studio and demo servers."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from webui.guard import FREE_FAILURES, LONGEST_WAIT, LOOPBACK_NAMES, Guard, LoginThrottle, server_names

PASSWORD = "right"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _page(request):
    return PlainTextResponse("the page")


async def _info(request):
    return JSONResponse({"secret": "config"})


async def _login(request):
    form = (await request.body()).decode()
    return JSONResponse({"success": True}) if form.endswith(f"password={PASSWORD}") else JSONResponse({}, 400)


async def _models(request):
    ok = request.headers.get("authorization") == f"Bearer user:{PASSWORD}"
    return JSONResponse({"data": []}) if ok else JSONResponse({"error": {}}, 401)


def guarded(names=LOOPBACK_NAMES, more=lambda: (), throttle=None):
    """The guard in front of an app whose CORS middleware, like Gradio's for localhost, grants every origin."""
    inner = Starlette(routes=[Route("/", _page), Route("/gradio_api/info", _info),
                              Route("/login", _login, methods=["POST"]), Route("/v1/models", _models)])
    inner.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"],
                         allow_headers=["*"])
    return Guard(inner, names, more, throttle)


def call(app, method: str, url: str, headers: dict | None = None, client=("127.0.0.1", 5000), **kwargs):
    async def go():
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport) as http:
            return await http.request(method, url, headers=headers or {}, **kwargs)
    return asyncio.run(go())


# ---------------------------------------------------------------------------------------------- Host


def test_server_names_of_a_loopback_and_a_wildcard_binding():
    assert server_names("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert server_names("[::1]") == {"127.0.0.1", "localhost", "::1"}
    assert server_names("192.168.7.9") == {"192.168.7.9"}
    everywhere = server_names("0.0.0.0")
    assert LOOPBACK_NAMES <= everywhere and "127.0.0.1" in everywhere and "evil.example" not in everywhere


@pytest.mark.parametrize("host", ["127.0.0.1:7860", "localhost:7860", "[::1]:7860", "LOCALHOST:7860",
                                  "localhost:8080"])
def test_own_names_are_answered_on_any_port(host):
    """localhost:8080 stands for `ssh -L 8080:127.0.0.1:7860`: the port a request names is the forward's."""
    response = call(guarded(), "GET", "http://127.0.0.1:7860/", {"Host": host})
    assert (response.status_code, response.text) == (200, "the page")


@pytest.mark.parametrize("host", ["evil.example:7860", "evil.example", "localhost.evil.example:7860",
                                  "127.0.0.1.nip.io:7860", ""])
def test_another_host_name_is_refused(host):
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: the Host header still says that name."""
    for method, path in (("GET", "/"), ("POST", "/login"), ("GET", "/gradio_api/info")):
        response = call(guarded(), method, f"http://127.0.0.1:7860{path}", {"Host": host})
        assert response.status_code == 421, (method, path, response.status_code)
        assert "config" not in response.text and "own address" in response.text
        assert "access-control-allow-origin" not in response.headers


def test_the_share_link_host_is_answered_once_known():
    share = []
    app = guarded(more=lambda: share)
    headers = {"Host": "abc123.gradio.live", "Origin": "https://abc123.gradio.live"}
    assert call(app, "GET", "http://127.0.0.1:7860/gradio_api/info", headers).status_code == 421
    share.append("abc123.gradio.live")
    response = call(app, "GET", "http://127.0.0.1:7860/gradio_api/info", headers)
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == headers["Origin"]


# ---------------------------------------------------------------------------------------------- Origin


FOREIGN = ("http://localhost:9999", "http://127.0.0.1:9999", "https://evil.example", "null", "file://")


@pytest.mark.parametrize("origin", FOREIGN)
def test_another_page_may_not_call_and_gets_no_cors_grant(origin):
    app = guarded()
    for method, path in (("GET", "/gradio_api/info"), ("POST", "/login"), ("GET", "/v1/models"),
                         ("POST", "/"), ("OPTIONS", "/gradio_api/info")):
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        response = call(app, method, f"http://127.0.0.1:7860{path}", headers)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "access-control-allow-origin" not in response.headers and "config" not in response.text


@pytest.mark.parametrize("origin", FOREIGN)
def test_another_page_reads_a_page_only_as_a_stranger(origin):
    """The page itself is served (a link to it works) but with no CORS grant, so that page cannot read it."""
    response = call(guarded(), "GET", "http://127.0.0.1:7860/", {"Origin": origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("host", ["127.0.0.1:7860", "localhost:7860", "[::1]:7860", "localhost:8080"])
def test_the_page_own_origin_may_call(host):
    origin = f"http://{host}"
    response = call(guarded(), "GET", "http://127.0.0.1:7860/gradio_api/info", {"Host": host, "Origin": origin})
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == origin


def test_a_default_port_may_be_left_out_and_the_share_page_may_call_whatever_host_the_tunnel_forwards():
    assert call(guarded(), "POST", "http://127.0.0.1:80/", {"Host": "localhost:80", "Origin": "http://localhost"}
                ).status_code == 405  # past the guard: the page route takes GET only
    app = guarded(more=lambda: ["abc123.gradio.live"])
    response = call(app, "GET", "http://127.0.0.1:7860/gradio_api/info",
                    {"Host": "127.0.0.1:7860", "Origin": "https://abc123.gradio.live"})
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------- wrong passwords


def login(app, password: str, client=("203.0.113.5", 5000)) -> httpx.Response:
    return call(app, "POST", "http://127.0.0.1:7860/login", client=client,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                content=f"username=user&password={password}")


def test_wrong_passwords_wait_longer_and_longer():
    clock = Clock()
    app = guarded(throttle=LoginThrottle(clock))
    assert [login(app, "wrong").status_code for _ in range(FREE_FAILURES)] == [400] * FREE_FAILURES
    refused = login(app, "wrong")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "Too many wrong passwords" in refused.text
    assert login(app, PASSWORD).status_code == 429, "a locked address is locked, whatever it sends"
    waits = []
    for _ in range(12):
        clock.now += int(login(app, "x").headers.get("retry-after", "0"))
        response = login(app, "wrong")
        assert response.status_code == 400, "after the wait, the next guess is checked"
        waits.append(int(login(app, "wrong").headers["retry-after"]))
    assert waits[:5] == [2, 4, 8, 16, 32] and waits[-1] == LONGEST_WAIT


def test_a_right_password_clears_the_count_and_other_addresses_are_not_held():
    clock = Clock()
    app = guarded(throttle=LoginThrottle(clock))
    for _ in range(FREE_FAILURES):
        login(app, "wrong")
    assert login(app, "wrong").status_code == 429
    assert login(app, PASSWORD, client=("198.51.100.7", 1)).status_code == 200, "another address is not held"
    clock.now += 1
    assert login(app, PASSWORD).status_code == 200
    assert [login(app, "wrong").status_code for _ in range(FREE_FAILURES)] == [400] * FREE_FAILURES


def test_the_api_counts_401s_but_never_holds_up_a_client_with_the_right_key():
    app = guarded(throttle=LoginThrottle(Clock()))

    def models(key):
        return call(app, "GET", "http://127.0.0.1:7860/v1/models", {"Authorization": f"Bearer {key}"})

    assert all(models(f"user:{PASSWORD}").status_code == 200 for _ in range(3 * FREE_FAILURES))
    statuses = [models("user:guess").status_code for _ in range(20)]
    assert statuses[:FREE_FAILURES] == [401] * FREE_FAILURES and set(statuses[FREE_FAILURES:]) == {429}
    limited = models("user:guess")
    assert limited.json()["error"]["type"] == "rate_limit_error" and int(limited.headers["retry-after"]) >= 1


def test_guesses_sent_together_are_counted_before_their_answers():
    """A burst of parallel guesses: each is counted as it starts, so only the free ones reach the password."""
    throttle = LoginThrottle(Clock())
    started = [throttle.begin("203.0.113.5", always=True) for _ in range(FREE_FAILURES)]
    assert all(started) and throttle.wait("203.0.113.5") > 0
    for counted in started:
        throttle.end("203.0.113.5", counted, failed=True)
    assert throttle.wait("203.0.113.5") > 0
