"""Download a model or dataset from its hub into the studio's cache, as a step of its own: watched (bytes, speed,
time left), resumable after an interruption or a restart, cancellable, refused up front when the disk lacks room.

A download lives in `<cache>/downloads/<hub>/<models|datasets>/<org>/<name>/`. Each file is fetched into
`.partial/<file>.part` (appended to on a resume, with an HTTP Range request) and moved into place when whole; the
folder is marked complete (COMPLETE, a JSON note of what it holds) only after every file is in, so a half-downloaded
folder is never taken for a good one. The hubs' own clients do the talking: huggingface_hub (its endpoint setting
reaches a mirror) and modelscope (core/hub/modelscope.py).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.hub.settings import HubError, HubSettings, load_settings, studio_cache, token_for

COMPLETE = ".finetune-studio-complete"
PARTIAL = ".partial"
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+\Z")
REPORT_EVERY_S = 0.25


@dataclass
class Progress:
    done_bytes: int
    total_bytes: int
    bytes_per_s: float
    seconds_left: float | None  # None until the speed is known
    file: str


@dataclass
class LocalDownload:
    id: str
    folder: Path
    size_bytes: int
    hub: str
    kind: str  # "model" or "dataset"


def downloads_dir(cache_dir: str | Path | None = None) -> Path:
    return Path(cache_dir) if cache_dir else studio_cache() / "downloads"


def folder_for(repo_id: str, kind: str = "model", hub: str = "huggingface", cache_dir=None) -> Path:
    return downloads_dir(cache_dir) / hub / f"{kind}s" / repo_id


def find_local(repo_id: str, kind: str = "model", cache_dir=None, hub: str | None = None) -> Path | None:
    """The finished download of `repo_id` (from `hub` first, then any hub), None when there is none."""
    from core.hub.settings import HUBS

    if not REPO_ID.match(repo_id):
        return None
    for name in ([hub] if hub else []) + [h for h in HUBS if h != hub]:
        folder = folder_for(repo_id, kind, name, cache_dir)
        if (folder / COMPLETE).is_file():
            return folder
    return None


def in_hf_cache(repo_id: str) -> Path | None:
    """The model's folder in huggingface_hub's own cache (what transformers or `hf download` fetched before), so a
    model already there is neither fetched again nor refused offline; None when it is not there."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    if not REPO_ID.match(repo_id):
        return None
    try:
        folder = Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return folder if (folder / "config.json").is_file() else None


def local_models(cache_dir=None) -> list[LocalDownload]:
    """The finished model downloads, by id."""
    return _finished("model", cache_dir)


def local_datasets(cache_dir=None) -> list[LocalDownload]:
    return _finished("dataset", cache_dir)


def _finished(kind: str, cache_dir) -> list[LocalDownload]:
    found = []
    for marker in sorted(downloads_dir(cache_dir).glob(f"*/{kind}s/*/*/{COMPLETE}")):
        try:
            note = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found.append(LocalDownload(note["id"], marker.parent, int(note.get("bytes", 0)), note.get("hub", ""), kind))
    return found


def download_model(model_id: str, *, settings: HubSettings | None = None, cache_dir=None,
                   progress: Callable[[Progress], None] | None = None, stop: threading.Event | None = None,
                   wait: bool = False) -> Path:
    """The local folder of hub model `model_id`, downloaded first unless a finished download is there. With
    `wait`, a download of it already going on elsewhere is waited for (a run's processes load one model)."""
    return download(model_id, "model", settings=settings, cache_dir=cache_dir, progress=progress, stop=stop,
                    wait=wait)


def download_dataset(dataset_id: str, *, settings: HubSettings | None = None, cache_dir=None,
                     progress: Callable[[Progress], None] | None = None, stop: threading.Event | None = None) -> Path:
    """The local folder of hub dataset `dataset_id` (every file of the repository), downloaded first if needed."""
    return download(dataset_id, "dataset", settings=settings, cache_dir=cache_dir, progress=progress, stop=stop)


def download(repo_id: str, kind: str, *, settings=None, cache_dir=None, progress=None, stop=None,
             wait: bool = False) -> Path:
    settings = settings or load_settings()
    if not REPO_ID.match(repo_id):
        raise HubError("hub.download.bad_id", id=repo_id)
    folder = folder_for(repo_id, kind, settings.hub, cache_dir)
    if (folder / COMPLETE).is_file():
        return folder
    client = _client(settings)
    files, commit = client.files(repo_id, kind)  # before any folder exists: a refused id leaves nothing behind
    check_room(folder, files, repo_id)
    folder.mkdir(parents=True, exist_ok=True)
    with _only_one(folder, repo_id, wait):
        if (folder / COMPLETE).is_file():  # finished by the download that held the lock
            return folder
        meter = Meter(sum(size for _, size in files), progress, stop)
        for name, size in files:
            _fetch(client, repo_id, kind, commit, name, size, folder, meter)
        meter.finish()
        note = {"id": repo_id, "hub": settings.hub, "kind": kind, "commit": commit, "address": settings.address(),
                "bytes": sum(size for _, size in files), "files": len(files)}
        shutil.rmtree(folder / PARTIAL, ignore_errors=True)
        marker = folder / f"{COMPLETE}.tmp"
        marker.write_text(json.dumps(note, indent=2), encoding="utf-8")
        marker.replace(folder / COMPLETE)  # all at once: a crash here never leaves a half marker
    return folder


def check_available(repo_id: str, kind: str = "model", settings: HubSettings | None = None, cache_dir=None) -> None:
    """Refuse now what the download would refuse later: an id the hub does not answer for, a gated one without
    access, no network, a page instead of the API, no room on the disk. One API call, no file fetched."""
    settings = settings or load_settings()
    if not REPO_ID.match(repo_id):
        raise HubError("hub.download.bad_id", id=repo_id)
    files, _ = _client(settings).files(repo_id, kind)
    check_room(folder_for(repo_id, kind, settings.hub, cache_dir), files, repo_id)


def _client(settings: HubSettings):
    if settings.hub == "modelscope":
        from core.hub.modelscope import ModelScopeClient

        return ModelScopeClient(settings.address(), token_for("modelscope"))
    from core.hub.huggingface import HuggingFaceClient

    return HuggingFaceClient(settings.address(), token_for("huggingface"))


class _only_one:
    """One download of a folder at a time (the studio and the command line may both start one)."""

    def __init__(self, folder: Path, repo_id: str, wait: bool):
        from filelock import FileLock

        self.lock, self.repo_id, self.wait = FileLock(str(folder / ".download.lock")), repo_id, wait

    def __enter__(self):
        from filelock import Timeout

        try:
            self.lock.acquire(timeout=-1 if self.wait else 0)
        except Timeout:
            raise HubError("hub.download.busy", id=self.repo_id) from None
        return self

    def __exit__(self, *exc):
        self.lock.release()
        return False


def _fetch(client, repo_id, kind, commit, name, size, folder: Path, meter: "Meter") -> None:
    """One file into place: skipped when whole, else appended to its .part from where it stopped."""
    final = folder / name
    if final.is_file() and final.stat().st_size == size:
        meter.already(name, size)
        return
    part = folder / PARTIAL / f"{name}.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    resumed = part.stat().st_size if part.exists() else 0
    if resumed > size:  # the file changed on the hub since: start over
        part.unlink()
        resumed = 0
    meter.start_file(name, resumed)
    with part.open("ab") as handle:
        client.fetch(repo_id, kind, commit, name, handle, resumed, size, meter.bar_class())
    if part.stat().st_size != size:
        raise HubError("hub.download.size_mismatch", file=name, got=part.stat().st_size, expected=size)
    final.parent.mkdir(parents=True, exist_ok=True)
    part.replace(final)


def on_disk(folder: Path, files: list[tuple[str, int]]) -> int:
    """Bytes of `files` already in `folder`, whole or in their .part."""
    have = 0
    for name, size in files:
        final, part = folder / name, folder / PARTIAL / f"{name}.part"
        if final.is_file() and final.stat().st_size == size:
            have += size
        elif part.is_file():
            have += min(part.stat().st_size, size)
    return have


def free_bytes(folder: Path) -> int:
    """Free space where `folder` is (or would be)."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free


def check_room(folder: Path, files: list[tuple[str, int]], repo_id: str) -> None:
    """Refuse before the first byte when what is still missing does not fit."""
    needed = sum(size for _, size in files) - on_disk(folder, files)
    free = free_bytes(folder)
    if needed > free:
        raise HubError("hub.download.no_room", id=repo_id, needed=human_size(needed), free=human_size(free),
                       folder=str(folder))


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


class Meter:
    """Counts the bytes of a download, reports a Progress at most every REPORT_EVERY_S, and raises the cancel
    error from inside the client's transfer loop when `stop` is set (what is written so far stays, to resume)."""

    def __init__(self, total: int, progress, stop: threading.Event | None):
        self.total, self.progress, self.stop = total, progress, stop
        self.done = 0
        self.fetched = 0  # bytes moved in this session: the speed counts only these
        self.started = time.monotonic()
        self.reported = 0.0
        self.file = ""

    def already(self, name: str, size: int) -> None:
        self.file = name
        self.done += size
        self.report()

    def start_file(self, name: str, resumed: int) -> None:
        self.check_stop()
        self.file = name
        self.done += resumed
        self.report(force=True)

    def add(self, count: int) -> None:
        self.check_stop()
        self.done += count
        self.fetched += count
        self.report()

    def check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise HubError("hub.download.cancelled")

    def snapshot(self) -> Progress:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        speed = self.fetched / elapsed
        left = (self.total - self.done) / speed if speed > 0 else None
        return Progress(self.done, self.total, speed, left, self.file)

    def report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress and (force or now - self.reported >= REPORT_EVERY_S):
            self.reported = now
            self.progress(self.snapshot())

    def finish(self) -> None:
        self.report(force=True)

    def bar_class(self):
        """A class the clients take as their tqdm_class / progress callback: every update lands here."""
        meter = self

        class Bar:
            def __init__(self, *args, **kwargs):
                pass

            def update(self, count=1):
                meter.add(count)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def close(self):
                pass

        return Bar


def progress_line(progress: Progress):
    """The Message of one progress report: bytes, share, speed, time left, the file being fetched."""
    from core.catalogue.message import message

    share = 100 * progress.done_bytes / progress.total_bytes if progress.total_bytes else 100
    left = "?" if progress.seconds_left is None else human_time(progress.seconds_left)
    return message("hub.download.progress", done=human_size(progress.done_bytes),
                   total=human_size(progress.total_bytes), percent=f"{share:.0f}",
                   speed=human_size(progress.bytes_per_s), left=left, file=progress.file)


def every(seconds: float, say: Callable):
    """A progress callback for a log: says a progress line at most every `seconds`, and the last one."""
    last = [0.0]

    def report(progress: Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= seconds or progress.done_bytes >= progress.total_bytes:
            last[0] = now
            say(progress_line(progress))

    return report


def human_time(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
