"""The headless verbs of launch.py that bring models and data in: download (a hub's model or dataset, watched and
resumable) and make-data (training rows written by a teacher). Each returns the exit code; `add_<verb>_arguments`
defines its arguments beside it, as in core/cli.py.
"""

from __future__ import annotations

import argparse
import sys
import time

from core.cli import _fail, _listen_for_ctrl_c
from core.config import ConfigError


def add_download_arguments(verbs) -> None:
    """`launch.py download`: its arguments, read by download()."""
    parser = verbs.add_parser("download", help="download a model (or --dataset) from Hugging Face, a mirror or "
                              "ModelScope into the studio's cache, with progress; run again to resume")
    parser.add_argument("repo_id", metavar="MODEL_ID", help="a hub id such as Qwen/Qwen2.5-0.5B-Instruct")
    parser.add_argument("--hub", choices=("huggingface", "modelscope"), default=None,
                        help="where from (default: the studio's setting, else huggingface)")
    parser.add_argument("--endpoint", metavar="URL", default=None,
                        help="a mirror's address, such as https://mirror.example.org (default: the studio's setting, "
                        "else HF_ENDPOINT)")
    parser.add_argument("--dataset", action="store_true", help="the id names a dataset, not a model")
    parser.set_defaults(run=lambda args, usage_error: download(args.repo_id, args.hub, args.endpoint, args.dataset))


def download(repo_id: str, hub: str | None = None, endpoint: str | None = None, dataset: bool = False) -> int:
    """Download with a progress bar (bytes, speed, time left); Ctrl-C keeps what came, to resume; the local folder
    is printed last, alone on its line, for scripts."""
    from core.catalogue.message import StudioError, message
    from core.hub import download as hub_download
    from core.hub.settings import HubSettings, load_settings

    bar = _DownloadBar()
    try:
        kept = load_settings()
        chosen = hub or kept.hub
        settings = HubSettings(chosen, endpoint if endpoint is not None else
                               (kept.endpoint if chosen == kept.hub else None))
        print(f"Downloading {repo_id} from {settings.address()} ...", flush=True)
        folder = hub_download.download(repo_id, "dataset" if dataset else "model", settings=settings,
                                       progress=bar.show)
    except KeyboardInterrupt:
        bar.end()
        print(message("hub.download.cancelled"), file=sys.stderr)
        return 130
    except StudioError as err:
        bar.end()
        return _fail(str(err))
    bar.end()
    print(folder, flush=True)
    return 0


class _DownloadBar:
    """On a terminal one line redrawn in place; piped to a file, a line every few seconds."""

    def __init__(self):
        self.drawn, self.last = False, 0.0

    def show(self, progress) -> None:
        from core.hub.download import progress_line

        width = 30
        filled = int(width * progress.done_bytes / progress.total_bytes) if progress.total_bytes else width
        line = f"[{'#' * filled}{'.' * (width - filled)}] {progress_line(progress)}"
        if sys.stdout.isatty():
            sys.stdout.write("\r" + line[:160].ljust(100))
            self.drawn = True
        elif time.monotonic() - self.last >= 2 or progress.done_bytes >= progress.total_bytes:
            self.last = time.monotonic()
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def end(self) -> None:
        if self.drawn:
            sys.stdout.write("\n")
            self.drawn = False


def add_make_data_arguments(verbs) -> None:
    """`launch.py make-data`: its arguments, read by make_data(); the recipe and teacher are in the config file."""
    parser = verbs.add_parser("make-data", help="make training data with a stronger model (a teacher), headless")
    parser.add_argument("config", help="a make-data config .yaml (teacher, recipe, output); see "
                        "examples/make-data-answer.yaml. The API key is read from the variable teacher.api_key_env")
    parser.add_argument("--runs-dir", default=argparse.SUPPRESS, help="where run:NAME teachers are (default runs/)")
    parser.set_defaults(run=lambda args, usage_error: make_data(args.config, getattr(args, "runs_dir", "runs")))


def make_data(config_path: str, runs_dir: str = "runs") -> int:
    """Run (or resume) a batch: progress lines, then the counts kept and dropped as the last line."""
    import threading

    from core.catalogue.message import Message, StudioError
    from core.making.batch import MakeDataJob, earlier
    from core.making.config import MakeDataConfig

    try:
        config = MakeDataConfig.from_yaml(config_path)
    except ConfigError as err:
        return _fail(str(err))
    shown = {"at": 0.0}

    def show(progress) -> None:  # at most a line a second, and always the last one
        if progress.finished or time.monotonic() - shown["at"] >= 1.0:
            shown["at"] = time.monotonic()
            print(progress.line(), flush=True)

    job = MakeDataJob(config, progress=show, runs_dir=runs_dir)
    print(Message("making.cli.start", {"kind": config.recipe.kind, "teacher": job.teacher_name(),
                                       "output": config.output}), flush=True)
    done = earlier(config.output).progress
    if done.done:
        print(Message("making.cli.resuming", {"done": done.done, "kept": done.kept}), flush=True)
    ended: dict = {}
    worker = threading.Thread(target=_run_job, args=(job, ended), name="make-data", daemon=True)
    _listen_for_ctrl_c()
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.5)
    except KeyboardInterrupt:
        print(Message("making.cli.stopping"), flush=True)
        job.stop.set()
        worker.join()
    print(job.progress.summary(), flush=True)
    if isinstance(ended.get("error"), StudioError):
        return _fail(str(Message("making.cli.failed", {"error": ended["error"].message})))
    return 0 if job.progress.finished else 1


def _run_job(job, ended: dict) -> None:
    from core.catalogue.message import StudioError

    try:
        job.run()
    except StudioError as err:  # said by key; anything else is a bug and keeps its traceback
        ended["error"] = err
