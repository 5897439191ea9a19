"""What an attacker sees when poking at a running studio: where it listens, what it refuses, what it serves.

Every check talks to a real ``launch.py`` server on 127.0.0.1 over raw HTTP (``http.client``, so request paths
and multipart file names go out byte for byte, never normalised or proxied). One server is shared by the module:
it runs with ``--max-upload-mb 1``, its own ``GRADIO_TEMP_DIR``, and the environment variables that would make a
careless Gradio app public (``GRADIO_SERVER_NAME=0.0.0.0``, ``GRADIO_SHARE=True``). Any proxy variables point at a
dead local port, so even a regression that tried to open a share tunnel could not reach the internet.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from tests.webui.browser import ROOT, StudioServerError, free_port, studio_server

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


# ---------------------------------------------------------------------------------------------- where it listens


@pytest.mark.slow
def test_plain_studio_listens_on_loopback_only(tmp_path):
    port = free_port()
    with studio_server(tmp_path / "runs", port) as url:
        mine = [p for p in psutil.Process().children(recursive=True)
                if "launch.py" in " ".join(p.cmdline()) and str(port) in p.cmdline()]
        assert len(mine) == 1, f"expected one studio process for port {port}, found {mine}"
        addresses = listening_addresses(mine[0].pid)
        assert (("127.0.0.1", port) in addresses), f"{url} is not among the listening sockets {addresses}"
        assert {ip for ip, _ in addresses} <= LOOPBACK, f"the studio listens beyond this machine: {addresses}"


@pytest.mark.slow
def test_gradio_environment_variables_cannot_make_it_public(server):
    """GRADIO_SERVER_NAME=0.0.0.0 and GRADIO_SHARE=True are set for this server: only the command line counts."""
    log = wait_for_launch_done(server.log)
    addresses = listening_addresses(server.proc.pid)
    assert ("127.0.0.1", server.port) in addresses, addresses
    assert {ip for ip, _ in addresses} <= LOOPBACK, f"GRADIO_SERVER_NAME widened the binding: {addresses}"
    assert "gradio.live" not in log and "public URL" not in log and "share link" not in log, log
    assert "open http://127.0.0.1" in log  # the studio's own start line: no share hint from Gradio
    assert "To create a public link" not in log


def _refusal(*args: str, tmp_path: Path) -> subprocess.Popen:
    command = [sys.executable, str(ROOT / "launch.py"), *args, "--port", str(free_port()),
               "--runs-dir", str(tmp_path / "runs"), "--no-browser"]
    return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, **LOCAL_ONLY_ENV), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.slow
def test_non_local_host_needs_a_well_formed_auth(tmp_path):
    cases = {
        "no --auth": ("--host", "0.0.0.0"),
        "--auth without a password": ("--host", "0.0.0.0", "--auth", "nopassword"),
    }
    started = {case: _refusal(*args, tmp_path=tmp_path / str(i)) for i, (case, args) in enumerate(cases.items())}
    try:
        for case, proc in started.items():
            try:
                out, err = proc.communicate(timeout=REFUSAL_TIMEOUT)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{case}: launch.py did not refuse; it kept running for {REFUSAL_TIMEOUT:.0f} s")
            assert proc.returncode != 0, f"{case}: exit code 0\n{out}\n{err}"
            assert "--auth" in err, f"{case}: the refusal does not name --auth: {err!r}"
            assert "Running on" not in out + err, f"{case}: it served anyway\n{out}\n{err}"
    finally:
        for proc in started.values():
            _stop(proc)
    assert not any((tmp_path / str(i) / "runs").exists() for i in range(len(cases))), "refused, yet it set up runs"


@pytest.mark.parametrize("auth", ["user:", ":secret", ":", "user"])
def test_half_empty_auth_is_refused(tmp_path, monkeypatch, capsys, auth):
    """The same check in-process (gradio is imported once): an empty user or password is no login."""
    import gradio as gr

    from webui.app import serve

    def must_not_launch(*args, **kwargs):
        raise AssertionError(f"serve() launched with --auth {auth!r}")

    monkeypatch.setattr(gr.Blocks, "launch", must_not_launch)
    assert serve(host="0.0.0.0", port=free_port(), auth=auth, runs_dir=tmp_path / "runs", open_browser=False) != 0
    assert "--auth" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_the_demo_needs_auth_beyond_this_machine(nova_run, tmp_path):
    """`launch.py demo` follows the studio's rules: another host without --auth is refused before anything loads."""
    command = [sys.executable, str(ROOT / "launch.py"), "demo", str(nova_run.path), "--host", "0.0.0.0",
               "--port", str(free_port()), "--no-browser"]
    result = subprocess.run(command, cwd=ROOT, env=dict(os.environ, **LOCAL_ONLY_ENV), capture_output=True,
                            text=True, timeout=REFUSAL_TIMEOUT, stdin=subprocess.DEVNULL)
    assert result.returncode != 0 and "--auth" in result.stderr, result.stderr
    assert "Running on" not in result.stdout + result.stderr and "Loading" not in result.stdout


@pytest.mark.parametrize("where", [dict(host="0.0.0.0"), dict(share=True), dict(host="0.0.0.0", auth="user:")])
def test_the_demo_refuses_to_be_reachable_without_a_login(nova_run, monkeypatch, capsys, where):
    import gradio as gr

    from webui import demo

    def must_not_launch(*args, **kwargs):
        raise AssertionError(f"the demo launched with {where}")

    monkeypatch.setattr(gr.Blocks, "launch", must_not_launch)
    assert demo.serve(str(nova_run.path), port=free_port(), open_browser=False, **where) == 2
    assert "--auth" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- uploads


def test_upload_over_the_limit_is_refused_and_leaves_nothing(server):
    big = b'{"text": "x"}\n' * (2 * 1024 * 1024 // 14 + 1)  # 2 MB against a 1 MB limit
    status, answer = server.upload("too-big.jsonl", big)
    assert status == 413 or (400 <= status < 500 and b"size" in answer.lower()), (status, answer[:300])
    leftovers = [p for p in files_in(server.temp_dir) + files_in(server.uploads_dir) if p.stat().st_size > 64 * 1024]
    assert not leftovers, f"the refused upload (or part of it) was kept: {leftovers}"
    assert not any(p.name == "too-big.jsonl" for p in files_in(server.temp_dir) + files_in(server.uploads_dir))
    assert not files_in(server.uploads_dir), "the upload route must not write into the app's uploads folder"


def test_small_upload_lands_in_gradio_temp_dir_and_is_served_back(server):
    data = b'{"instruction": "Who are you?", "input": "", "output": "Nova."}\n'
    status, answer = server.upload("small.jsonl", data)
    assert status == 200, answer
    [stored] = json.loads(answer)
    assert is_inside(Path(stored), server.temp_dir) and Path(stored).read_bytes() == data
    # The control for the refusals below: what the app itself received is served.
    fetched, _, body = server.request("GET", f"/gradio_api/file={stored}")
    assert (fetched, body) == (200, data)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_upload_names_stay_in_gradio_temp_dir(server, name):
    outside = [server.base, *server.base.parents, ROOT, ROOT.parent, Path("/etc")]
    existed = {folder: (folder / "evil.jsonl").exists() for folder in outside}
    data = f'{{"text": "{secrets.token_hex(8)}"}}\n'.encode()  # each upload its own content, so its own folder
    status, answer = server.upload(name, data)
    assert status == 200, answer
    [stored] = json.loads(answer)
    stored = Path(stored)
    assert is_inside(stored, server.temp_dir), f"{name!r} was stored outside GRADIO_TEMP_DIR: {stored}"
    assert ".." not in stored.parts and "/" not in stored.name and "\\" not in stored.name, stored
    assert stored.read_bytes() == data
    for folder in outside:
        assert (folder / "evil.jsonl").exists() == existed[folder], f"{name!r} wrote {folder / 'evil.jsonl'}"
    stray = [p for p in server.base.rglob("*evil*") if not is_inside(p, server.temp_dir)]
    assert not stray, f"{name!r} left files outside GRADIO_TEMP_DIR: {stray}"


@pytest.mark.parametrize("name,expected", [
    ("../../evil.jsonl", "evil.jsonl"),
    ("/etc/evil.jsonl", "evil.jsonl"),
    ("..\\..\\evil.jsonl", "evil.jsonl"),
    ("....evil.jsonl", "evil.jsonl"),  # what Gradio's temp dir makes of '..\..\evil.jsonl'
    ("C:\\Users\\me\\data.csv", "data.csv"),
    ("..", "upload"),
    (".bashrc", "bashrc"),
    ("", "upload"),
    ("my data (v2).jsonl", "my_data_v2_.jsonl"),
    ("身份数据.jsonl", "身份数据.jsonl"),
    ("a\x00b\n.jsonl", "a_b_.jsonl"),
])
def test_safe_file_name(name, expected):
    from webui.studio import safe_file_name

    safe = safe_file_name(name)
    assert safe == expected
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".") and len(safe) <= 120


@pytest.mark.parametrize("name", [*HOSTILE_NAMES, "....evil.jsonl"])
def test_keep_upload_copies_into_uploads_under_a_safe_name(tmp_path, name):
    from webui.studio import Studio

    studio = Studio(tmp_path / "app" / "runs")
    gradio_tmp = tmp_path / "gradio-tmp" / "0123abcd"
    gradio_tmp.mkdir(parents=True)
    (gradio_tmp / "a" / "b").mkdir(parents=True)
    # A POSIX file name cannot hold '/': such names reach keep_upload as a path string with those parts, pointing
    # at a real file. Backslashes and leading dots are legal in a name: a real file is named exactly so.
    source = f"{gradio_tmp}/a/b/{name.lstrip('/')}" if "/" in name else str(gradio_tmp / name)
    real = Path(os.path.normpath(source))
    real.parent.mkdir(parents=True, exist_ok=True)
    real.write_text('{"text": "hi"}\n', encoding="utf-8")
    kept = studio.keep_upload(source)
    assert kept.parent == studio.uploads_dir == (tmp_path / "app" / "uploads").resolve()
    assert kept.name == "evil.jsonl"
    assert kept.read_text(encoding="utf-8") == '{"text": "hi"}\n'
    stray = [p for p in tmp_path.rglob("*evil*") if p.is_file() and p not in (kept, real)]
    assert not stray, stray


def test_keep_upload_never_overwrites_a_different_file(tmp_path):
    from webui.studio import Studio

    studio = Studio(tmp_path / "runs")
    first, second = tmp_path / "a" / "data.jsonl", tmp_path / "b" / "data.jsonl"
    for path, text in ((first, '{"text": "one"}\n'), (second, '{"text": "two"}\n')):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    kept_first, kept_second = studio.keep_upload(str(first)), studio.keep_upload(str(second))
    assert kept_first != kept_second and kept_second.parent == studio.uploads_dir
    assert kept_first.read_text(encoding="utf-8") == '{"text": "one"}\n'  # a run's config may point at it
    assert kept_second.read_text(encoding="utf-8") == '{"text": "two"}\n'
    assert studio.keep_upload(str(first)) == kept_first  # the same file again is not copied twice


# ---------------------------------------------------------------------------------------------- the file route


def test_file_route_serves_nothing_outside_the_app(server):
    outside = server.base / "secret.txt"
    outside.write_text("tmp secret " + secrets.token_hex(8), encoding="utf-8")
    in_runs = server.runs_dir / "secret.txt"
    in_runs.write_text("runs secret " + secrets.token_hex(8), encoding="utf-8")
    passwd = Path("/etc/passwd").read_bytes()
    readme = (ROOT / "README.md").read_bytes()
    probes = {
        "/gradio_api/file=/etc/passwd": passwd,
        "/gradio_api/file=../../../../etc/passwd": passwd,
        "/gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd": passwd,
        "/gradio_api/file=" + "../" * 12 + "etc/passwd": passwd,
        f"/gradio_api/file={ROOT / 'README.md'}": readme,
        "/gradio_api/file=README.md": readme,
        f"/gradio_api/file={outside}": outside.read_bytes(),
        f"/gradio_api/file={in_runs}": in_runs.read_bytes(),
        f"/gradio_api/file={server.temp_dir}/../secret.txt": outside.read_bytes(),
        "/file=/etc/passwd": passwd,
    }
    for path, content in probes.items():
        for method in ("GET", "HEAD"):
            status, _, body = server.request(method, path)
            assert status in (403, 404), f"{method} {path} answered {status}: {body[:200]!r}"
            assert content[:64] not in body, f"{method} {path} leaked the file"


def test_exports_are_downloadable_and_nothing_beside_them(server):
    """The exports folder is served as it is (downloads of many GB are never copied); its neighbours are not."""
    exports = server.base / "exports"  # Studio.exports_dir: beside the runs folder
    exports.mkdir(exist_ok=True)
    kept = exports / "nova.gguf"
    kept.write_bytes(b"GGUF" + secrets.token_bytes(64))
    beside = server.base / "exports-secret.txt"
    beside.write_text("beside " + secrets.token_hex(8), encoding="utf-8")
    in_runs = server.runs_dir / "run-secret.txt"
    in_runs.write_text("runs secret " + secrets.token_hex(8), encoding="utf-8")
    status, _, body = server.request("GET", f"/gradio_api/file={kept}")
    assert (status, body) == (200, kept.read_bytes())
    for path, content in {f"/gradio_api/file={beside}": beside.read_bytes(),
                          f"/gradio_api/file={exports}/../exports-secret.txt": beside.read_bytes(),
                          f"/gradio_api/file={exports}/../runs/run-secret.txt": in_runs.read_bytes()}.items():
        status, _, body = server.request("GET", path)
        assert status in (403, 404) and content[:16] not in body, f"{path} answered {status}"


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


# ---------------------------------------------------------------------------------------------- the pin


def test_gradio_version_is_the_pinned_one():
    import gradio

    pins = re.findall(r"^gradio==(\S+)", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.MULTILINE)
    assert pins == ["6.31.0"], f"requirements.txt pins {pins}; these tests were written against gradio 6.31.0"
    assert gradio.__version__ == pins[0], f"installed gradio {gradio.__version__}, pinned {pins[0]}"
