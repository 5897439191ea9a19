"""What an attacker sees when poking at a running studio: where it listens, what it refuses, what it serves.

Every check talks to a real ``launch.py`` server on 127.0.0.1 over raw HTTP (``http.client``, so request paths
and multipart file names go out byte for byte, never normalised or proxied). One server is shared by the module:
it runs with ``--max-upload-mb 1``, its own ``GRADIO_TEMP_DIR``, and the environment variables that would make a
careless Gradio app public (``GRADIO_SERVER_NAME=0.0.0.0``, ``GRADIO_SHARE=True``). Any proxy variables point at a
dead local port, so even a regression that tried to open a share tunnel could not reach the internet.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.webui.browser import ROOT, free_port, studio_server
from tests.webui.served import server  # noqa: F401
from tests.webui.served import (
    _stop, listening_addresses, wait_for_launch_done, files_in, is_inside, REFUSAL_TIMEOUT, HOSTILE_NAMES,
    LOCAL_ONLY_ENV, LOOPBACK)


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


# ---------------------------------------------------------------------------------------------- the pin


def test_gradio_version_is_the_pinned_one():
    import gradio

    pins = re.findall(r"^gradio==(\S+)", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.MULTILINE)
    assert pins == ["6.31.0"], f"requirements.txt pins {pins}; these tests were written against gradio 6.31.0"
    assert gradio.__version__ == pins[0], f"installed gradio {gradio.__version__}, pinned {pins[0]}"
