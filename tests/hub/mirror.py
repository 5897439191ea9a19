"""A hub on 127.0.0.1 for the tests: serves folders the tests build in the Hugging Face hub's URL layout (the
way public mirrors serve it), so the real huggingface_hub client talks to it through its endpoint setting.

    /api/models/<org>/<name>[/revision/<rev>]       model info JSON (sha, siblings with sizes)
    /api/models/<org>/<name>/tree/<rev>             the file list, as huggingface_hub's snapshot_download reads it
    /api/datasets/<org>/<name>[/revision/<rev>]     the same for a dataset
    /<org>/<name>/resolve/<rev>/<file>              the file (HEAD and GET, Range, ETag, X-Repo-Commit)
    /datasets/<org>/<name>/resolve/<rev>/<file>
    /api/v1/models/<org>/<name>/repo/files          ModelScope's file list (for its own client)
    /api/v1/models/<org>/<name>/repo?FilePath=...   a file, ModelScope's way

Modes a test switches: `html` (every answer is a web page, as a wrong mirror address gives), `gated` (ids whose
files need a granted token: 401 without one, 401 'Invalid credentials' for an unknown token, 403 for a known one
that has not accepted the license), `bytes_per_s` (a slow link, to interrupt a download half-way), and a log of
each request with its Range header.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Mirror:
    def __init__(self):
        self.repos: dict[tuple[str, str], Path] = {}  # (kind, id) -> folder
        self.html = False
        self.gated: set[str] = set()
        self.tokens: set[str] = set()   # tokens the hub knows
        self.granted: set[str] = set()  # of those, the ones that accepted the gated licenses
        self.bytes_per_s: float | None = None
        self.log: list[tuple[str, str, str | None]] = []  # (method, path, Range)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, repo_id: str, folder: Path, kind: str = "model") -> None:
        self.repos[(kind, repo_id)] = Path(folder)

    def start(self) -> "Mirror":
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def files(self, kind: str, repo_id: str) -> list[Path]:
        folder = self.repos[(kind, repo_id)]
        return sorted(p for p in folder.rglob("*") if p.is_file())

    def ranges(self, name: str) -> list[str | None]:
        return [r for method, path, r in self.log if method == "GET" and path.endswith("/" + name)]


API = re.compile(r"^/api/(models|datasets)/([^/]+/[^/]+?)(?:/revision/([^/]+))?$")
TREE = re.compile(r"^/api/(models|datasets)/([^/]+/[^/]+?)/tree/[^/]+/?$")
MODELSCOPE = re.compile(r"^/api/v1/models/([^/]+/[^/]+)/(repo/files|repo|revisions)$")
RESOLVE = re.compile(r"^/(datasets/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")


def _handler(mirror: Mirror):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet test output
            pass

        def do_HEAD(self):
            self.answer(body=False)

        def do_GET(self):
            self.answer(body=True)

        def answer(self, body: bool):
            path = self.path.split("?")[0]
            mirror.log.append((self.command, path, self.headers.get("Range")))
            if mirror.html:
                return self.send(200, b"<!doctype html><html><body>Welcome to our mirror</body></html>",
                                 "text/html; charset=utf-8", body)
            if match := MODELSCOPE.match(path):
                return self.modelscope(match.group(1), match.group(2), body)
            if match := TREE.match(path):
                return self.tree("model" if match.group(1) == "models" else "dataset", match.group(2), body)
            if match := API.match(path):
                kind = "model" if match.group(1) == "models" else "dataset"
                return self.info(kind, match.group(2), body)
            if match := RESOLVE.match(path):
                kind = "dataset" if match.group(1) else "model"
                return self.file(kind, match.group(2), match.group(4), body)
            self.error(404, "RepoNotFound", "Repository not found", body)

        def modelscope(self, repo_id, what, body):
            """ModelScope's layout: its file list (sizes, sha256) and each file by ?FilePath=, for its own client."""
            from urllib.parse import parse_qs, urlparse

            if ("model", repo_id) not in mirror.repos:
                return self.error(404, None, "Repository not found", body)
            query = parse_qs(urlparse(self.path).query)
            if what == "repo":
                return self.file("model", repo_id, query["FilePath"][0], body)
            folder = mirror.repos[("model", repo_id)]
            files = [{"Name": p.name, "Path": p.relative_to(folder).as_posix(), "Size": p.stat().st_size,
                      "Type": "blob", "Revision": COMMIT, "Sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                     for p in mirror.files("model", repo_id)]
            data = {"Files": files} if what == "repo/files" else {"RevisionMap": {"Tags": [], "Branches": [
                {"Revision": "master", "CommitId": COMMIT}]}}
            self.send(200, json.dumps({"Code": 200, "Data": data, "Success": True}).encode(), "application/json", body)

        def tree(self, kind, repo_id, body):
            """The repository's file list as snapshot_download reads it (one page, no Link header)."""
            if (kind, repo_id) not in mirror.repos:
                return self.error(404, "RepoNotFound", "Repository not found", body)
            folder = mirror.repos[(kind, repo_id)]
            entries = [{"type": "file", "path": p.relative_to(folder).as_posix(), "size": p.stat().st_size,
                        "oid": hashlib.sha1(p.read_bytes()).hexdigest()} for p in mirror.files(kind, repo_id)]
            self.send(200, json.dumps(entries).encode(), "application/json", body)

        def info(self, kind, repo_id, body):
            if (kind, repo_id) not in mirror.repos:
                return self.error(401, "RepoNotFound", "Repository not found", body)
            folder = mirror.repos[(kind, repo_id)]
            siblings = [{"rfilename": p.relative_to(folder).as_posix(), "size": p.stat().st_size}
                        for p in mirror.files(kind, repo_id)]
            data = {"id": repo_id, "sha": COMMIT, "siblings": siblings, "private": False,
                    "gated": "manual" if repo_id in mirror.gated else False, "downloads": 0, "likes": 0,
                    "tags": []}
            self.send(200, json.dumps(data).encode(), "application/json", body)

        def file(self, kind, repo_id, name, body):
            if (kind, repo_id) not in mirror.repos:
                return self.error(404, "RepoNotFound", "Repository not found", body)
            if repo_id in mirror.gated and not self.allowed(body):
                return
            target = mirror.repos[(kind, repo_id)] / name
            if not target.is_file():
                return self.error(404, "EntryNotFound", "Entry not found", body)
            data = target.read_bytes()
            start = 0
            if match := re.match(r"bytes=(\d+)-", self.headers.get("Range") or ""):
                start = int(match.group(1))
            self.send_response(206 if start else 200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
            self.send_header("X-Repo-Commit", COMMIT)
            self.end_headers()
            if body:
                self.stream(data[start:])

        def stream(self, data: bytes):
            piece = 64 * 1024
            try:
                for offset in range(0, len(data), piece):
                    self.wfile.write(data[offset:offset + piece])
                    if mirror.bytes_per_s:
                        time.sleep(piece / mirror.bytes_per_s)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away mid-file: what a cancelled download looks like from here

        def allowed(self, body) -> bool:
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            if not token:
                self.error(401, "GatedRepo", "Access to this model is restricted. You must be authenticated.", body)
            elif token not in mirror.tokens:
                self.error(401, None, "Invalid credentials in Authorization header", body)
            elif token not in mirror.granted:
                self.error(403, "GatedRepo", "Access to this model is restricted: accept its license first.", body)
            else:
                return True
            return False

        def error(self, status, code, text, body):
            self.send_response(status)
            if code:
                self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", text)
            payload = json.dumps({"error": text}).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def send(self, status, payload: bytes, content_type: str, body: bool):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if body:
                self.wfile.write(payload)

    return Handler
