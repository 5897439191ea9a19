"""Only the studio's own pages may drive it: the ASGI middleware in front of every server of this app (the studio and
`launch.py demo`, both started by webui.serving.launch_safely), outside Gradio's own CORS middleware.

- Host: a request must name the server by one of its own names (the bound address; localhost, 127.0.0.1 and [::1]
  when bound to loopback; the machine's names and addresses when bound to every interface; the share link's host
  while sharing). Any port is accepted: a DNS-rebinding page reaches the server on its real port anyway, and a port
  forward (ssh -L 8080:127.0.0.1:7860) must keep working. Another name gets 421.
- Origin: a browser names the page that sent a request. Only the page's own origin (the same host and port as the
  request's Host) may call; a request from any other page (another localhost port, "null", another site) gets 403
  for anything but reading a page or a static file, and never an Access-Control-Allow-Origin: its Origin header is
  taken away before Gradio's CORS middleware (which grants every localhost origin) sees it.
- Wrong passwords: Gradio's POST /login and the OpenAI-compatible API under /v1 (401) are counted per client
  address; after FREE_FAILURES failures, that address waits 1 s, then 2, 4 ... up to LONGEST_WAIT s before its next
  try, answered 429 with Retry-After meanwhile. A success clears the count; a client that never failed is never
  held up.
"""

from __future__ import annotations

import ipaddress
import json
import math
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.catalogue.message import say

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
SAFE_METHODS = frozenset({"GET", "HEAD"})
# What a page of another origin may not even read: Gradio's API, its config (the components' values), the login
# routes, the chat API. Pages and static files stay readable (the browser shows them to nobody else without CORS).
API_PREFIXES = ("/gradio_api", "/v1", "/config", "/login", "/logout", "/monitoring", "/file=")
LOGIN_PATHS = frozenset({"/login", "/login/"})
FREE_FAILURES = 5
LONGEST_WAIT = 300.0  # seconds: the most one address waits between guesses once it has failed many times
FORGET_AFTER = 900.0  # seconds without a failure after which an address starts afresh
MAX_ADDRESSES = 10_000  # records kept before the stale ones are dropped


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def server_names(host: str) -> frozenset[str]:
    """The names a request may give in its Host header for a server bound to `host` (ports aside)."""
    host = host.strip("[]").lower()
    if is_loopback(host):
        return frozenset({host}) | LOOPBACK_NAMES
    if host in WILDCARDS:  # every interface: whatever this machine is called or numbered, and loopback
        return frozenset({"0.0.0.0", *_machine_names()}) | LOOPBACK_NAMES
    return frozenset({host, *_addresses_of(host)})


def _machine_names() -> set[str]:
    import psutil

    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    for addresses in psutil.net_if_addrs().values():
        names |= {a.address.split("%")[0].lower() for a in addresses if a.family in (socket.AF_INET, socket.AF_INET6)}
    return names


def _addresses_of(name: str) -> set[str]:
    try:
        return {info[4][0].split("%")[0].lower() for info in socket.getaddrinfo(name, None)}
    except OSError:
        return set()


def split_host(value: str) -> tuple[str, str]:
    """(name, port) of a Host header or an origin's host part: '[::1]:7860' -> ('::1', '7860'); port '' if none."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest.removeprefix(":")
    if value.count(":") == 1:
        name, _, port = value.partition(":")
        return name, port
    return value, ""


def origin_host(origin: str) -> str | None:
    """'http://127.0.0.1:7860' -> '127.0.0.1:7860', to compare with a Host header (a browser leaves a default port
    out of both); None for 'null' or another scheme."""
    scheme, sep, rest = origin.strip().lower().partition("://")
    if not sep or scheme not in ("http", "https") or not rest or "/" in rest:
        return None
    return rest


def own_origin(origin: str, host: str, shared: set[str]) -> bool:
    """Whether the page that sent a request is the server's own: the same name and port as the request's Host (a
    default port may be left out on either side), or the share link's page, whatever Host the tunnel forwards."""
    place = origin_host(origin)
    if place is None:
        return False
    name, port = split_host(place)
    host_name, host_port = split_host(host)
    return name in shared or (name == host_name and (port == host_port or {port, host_port} <= {"", "80", "443"}))


@dataclass
class _Record:
    failures: int = 0
    pending: int = 0  # tries not answered yet, counted as failures until they are (a burst in parallel is no gap)
    since: float = 0.0  # when the last failure, or counted try, happened


class LoginThrottle:
    """Wrong passwords counted per client address; the wait an address has before its next try."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.records: dict[str, _Record] = {}

    def wait(self, address: str) -> float:
        """Seconds `address` must wait before trying again (0: it may try now)."""
        record = self.records.get(address)
        if record is None:
            return 0.0
        if not record.pending and self.clock() - record.since > FORGET_AFTER:
            del self.records[address]
            return 0.0
        tries = record.failures + record.pending
        if tries < FREE_FAILURES:
            return 0.0
        return max(0.0, record.since + min(2.0 ** (tries - FREE_FAILURES), LONGEST_WAIT) - self.clock())

    def begin(self, address: str, always: bool) -> bool:
        """A try starts; counted at once (True) for a login, or where this address failed before."""
        record = self.records.get(address)
        if record is None and not always:
            return False
        if record is None:
            self._forget_stale()
            record = self.records.setdefault(address, _Record())
        record.pending += 1
        record.since = self.clock()
        return True

    def end(self, address: str, counted: bool, failed: bool | None) -> None:
        """The try's answer: failed (a wrong password), not (let in: the count starts again) or None (neither)."""
        record = self.records.get(address)
        if record is None and failed:
            self._forget_stale()
            record = self.records.setdefault(address, _Record())
        if record is None:
            return
        if counted:
            record.pending -= 1
        if failed:
            record.failures += 1
            record.since = self.clock()
        elif failed is False:
            record.failures = 0
        if not record.failures and not record.pending:
            del self.records[address]

    def _forget_stale(self) -> None:
        if len(self.records) < MAX_ADDRESSES:
            return
        now = self.clock()
        for address in [a for a, r in self.records.items() if not r.pending and now - r.since > FORGET_AFTER]:
            del self.records[address]


class Guard:
    """ASGI middleware: the Host, Origin and wrong-password rules above. `names` are the server's own names;
    `more_names()` adds names known only once it runs (the share link's host)."""

    def __init__(self, app, names: Iterable[str], more_names: Callable[[], Iterable[str]] = lambda: (),
                 throttle: LoginThrottle | None = None):
        self.app, self.names, self.more_names = app, frozenset(names), more_names
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        shared = {n.lower() for n in self.more_names() if n}
        if split_host(host)[0] not in self.names | shared:
            first = sorted(self.names & LOOPBACK_NAMES) or sorted(self.names)
            await _refuse(scope, send, 421, say("guard.wrong_host", lang="en", host=host, address=first[0]))
            return
        origin = headers.get("origin")
        if origin is not None and not own_origin(origin, host, shared):
            if scope["type"] == "websocket" or not _readable(scope):
                await _refuse(scope, send, 403, say("guard.foreign_origin", lang="en", origin=origin))
                return
            # A page or a static file, read by another page: served as to no page at all, so no CORS grant.
            scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"origin"])
        if scope["type"] == "http" and _is_login(scope):
            await self._login(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _login(self, scope, receive, send) -> None:
        """A try with a password: refused while its address must wait, counted by its answer otherwise."""
        address = (scope.get("client") or ("",))[0] or ""
        wait = self.throttle.wait(address)
        if wait > 0:
            seconds = math.ceil(wait)
            await _refuse(scope, send, 429, say("guard.too_many", lang="en", seconds=seconds),
                          [(b"retry-after", str(seconds).encode())])
            return
        login = scope["path"] in LOGIN_PATHS
        counted = self.throttle.begin(address, always=login)
        status: list[int] = []

        async def watched(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            code = status[0] if status else 0
            # Gradio answers a wrong login 400, the API 401; only a 2xx lets in (a 404 or a redirect under /v1 checks
            # no password, so it must not clear the count).
            failed = code == 401 or (login and code == 400)
            self.throttle.end(address, counted, True if failed else (False if 200 <= code < 300 else None))


def _readable(scope) -> bool:
    return scope["method"] in SAFE_METHODS and not scope["path"].startswith(API_PREFIXES)


def _is_login(scope) -> bool:
    path = scope["path"]
    return (path in LOGIN_PATHS and scope["method"] == "POST") or path == "/v1" or path.startswith("/v1/")


async def _refuse(scope, send, status: int, text: str, extra: list | None = None) -> None:
    """A short answer and nothing else: plain text, or the OpenAI error shape under /v1 (its clients read that)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})  # before accepting: the server answers 403
        return
    if scope["path"].startswith("/v1"):
        kind = "rate_limit_error" if status == 429 else "invalid_request_error"
        body = json.dumps({"error": {"message": text, "type": kind, "param": None, "code": None}}).encode()
        content_type = b"application/json"
    else:
        body, content_type = text.encode("utf-8"), b"text/plain; charset=utf-8"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
