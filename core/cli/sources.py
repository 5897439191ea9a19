"""The headless verbs of launch.py that check and bring data and models in: data (a dataset as the model will see it,
token by token), download (a hub's model or dataset, watched and resumable) and make-data (training rows written by a
teacher). Each returns the exit code; `add_<verb>_arguments` defines its arguments beside it, as in the other verbs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from core.cli.common import fail, key_values, listen_for_ctrl_c, to_stderr
from core.config import DATA_FORMATS, Config, ConfigError, ModelConfig, TrainConfig


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
        return fail(str(err))
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
        return fail(str(err))
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
    listen_for_ctrl_c()
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
        return fail(str(Message("making.cli.failed", {"error": ended["error"].message})))
    return 0 if job.progress.finished else 1


def _run_job(job, ended: dict) -> None:
    from core.catalogue.message import StudioError

    try:
        job.run()
    except StudioError as err:  # said by key; anything else is a bug and keeps its traceback
        ended["error"] = err


def add_data_arguments(verbs) -> None:
    """`launch.py data`: its arguments, read by data(); the formats and defaults are core.config's."""
    parser = verbs.add_parser("data", help="check a dataset file (or folder, or a run config's data)")
    parser.add_argument("file", help="a data file or folder, or a config .yaml whose data section to check")
    parser.add_argument("--format", default=None, choices=DATA_FORMATS)
    parser.add_argument("--model", default=None,
                        help=f"whose chat template to render with (default: {ModelConfig().source})")
    parser.add_argument("--max-length", type=int, default=None,
                        help=f"max length in tokens (default {TrainConfig().max_length})")
    parser.add_argument("--map", action="append", default=[], metavar="OURS=THEIRS",
                        help="column mapping, e.g. --map completion=answer (repeatable)")
    parser.add_argument("--role", action="append", default=[], metavar="TAG=ROLE",
                        help="role mapping, e.g. --role customer=user (repeatable)")
    parser.add_argument("--fill", action="append", default=[], metavar="NAME=VALUE",
                        help="placeholder value, e.g. --fill name=Nova (repeatable)")
    parser.add_argument("--row", type=int, default=1, help="which example to show (default 1, the first)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON: format, rows, problems, "
                        "warnings, and the example's tokens as {id, text, trained}")
    parser.add_argument("--runs-dir", default=argparse.SUPPRESS,
                        help="past runs, whose measured speed gives the time per epoch (default runs/)")
    parser.set_defaults(run=lambda args, usage_error: data(
        args.file, args.format, args.model, max_length=args.max_length, columns=args.map, roles=args.role,
        fills=args.fill, row=args.row, runs_dir=args.runs_dir, as_json=args.json))


def data(path: str, format: str | None = None, model_source: str | None = None, *, max_length: int | None = None,
         columns: list[str] = (), roles: list[str] = (), fills: list[str] = (), row: int = 1,
         runs_dir: str = "runs", as_json: bool = False) -> int:
    """Check a dataset as training would see it: format, rows, problems, warnings, statistics, one example.

    `path` may also be a config file: its data section (column mapping, placeholders ...) is checked as the run
    would use it, and command-line options override it. `as_json` prints the report as one JSON object instead.
    """
    from core.data import check as data_check
    from core.data import templates
    from core.data.chat_layout import TemplateError
    from core.data.errors import DataError
    from core.models import load as models
    from core.runs import list_runs

    try:
        config = data_config(path, format, model_source, max_length, columns, roles, fills)
    except ConfigError as err:
        return fail(str(err))
    try:
        tokenizer, notes = models.load_tokenizer(models.tokenizer_source(config.model.source, progress=to_stderr),
                                                 config.model.trust_remote_code, config.model.system_prompt)
    except models.ModelError as err:
        return fail(str(err))
    try:
        inspection = data_check.inspect(config, tokenizer, runs=list_runs(runs_dir))
        loaded = inspection.loaded
        index = min(max(row, 1), len(loaded.rows)) - 1
        view = templates.token_view(tokenizer, loaded.rows[index], config.train.max_length)
    except DataError as err:
        message = str(err)
        if err.columns:
            message += f" (Columns found: {', '.join(map(str, err.columns))}; map them with --map OURS=THEIRS.)"
        return fail(message)
    except TemplateError as err:  # the model's template cannot be trained on, or refuses this row
        return fail(str(err))
    if as_json:
        print(json.dumps(data_report(inspection, tokenizer, index, view, notes), ensure_ascii=False, indent=1))
        return 0
    print_data_report(inspection, index, view, notes)
    return 0


def data_config(path: str, format: str | None, model_source: str | None, max_length: int | None,
                columns: list[str], roles: list[str], fills: list[str]) -> Config:
    """The config `data` checks with: a config file's (or the defaults with `path` as the data), with the command
    line's options over it, validated as a run would be."""
    is_config = path.lower().endswith((".yaml", ".yml"))
    config = Config.from_yaml(path) if is_config else Config()
    if not is_config:
        config.data.path = path
    overrides = {"columns": key_values(columns, "--map"), "roles": key_values(roles, "--role"),
                 "placeholders": key_values(fills, "--fill")}
    values = config.to_dict()
    for key, pairs in overrides.items():
        values["data"][key].update(pairs)
    if format:
        values["data"]["format"] = format
    if model_source:
        values["model"]["source"] = model_source
    if max_length:
        values["train"]["max_length"] = max_length
    return Config.from_dict(values, source="the command line")


def print_data_report(inspection, index: int, view, notes: list) -> None:
    """`data`'s report for a terminal: the file, notes, statistics, warnings and one example token by token."""
    from core.data import check as data_check
    from core.data import load as datasets_io

    loaded = inspection.loaded
    print(datasets_io.describe(loaded))
    for note in notes:
        print(note)
    print()
    print("\n".join(map(str, data_check.summary_lines(inspection))))
    if inspection.report.warnings:
        print("Warnings:")
        for warning in inspection.report.warnings:
            rows = (", ".join(str(loaded.wheres[i]) for i in warning.rows[:8])
                    + (" ..." if len(warning.rows) > 8 else ""))
            print(f"  - {warning.message}" + (f" Rows: {rows}." if rows else ""))
    trained = sum(len(t.ids) for t in view if t.kind == "trained")
    total = sum(len(t.ids) for t in view)
    print(f"\nExample {index + 1} ({loaded.wheres[index]}) as the model sees it ({total} tokens, {trained} trained):")
    print("-" * 60)
    print(_colored(view) if sys.stdout.isatty() else "".join(t.text for t in view))
    print("-" * 60)
    print("Trained (the loss is computed on these tokens only):")
    for text in _trained_spans(view):
        print(f"  {text!r}")
    if "rejected" in loaded.rows[index]:
        print(f"Rejected answer (for preference training): {loaded.rows[index]['rejected']!r}")


def data_report(inspection, tokenizer, index: int, view, notes: list[str]) -> dict:
    """The `data --json` report: what the Data tab shows, one token per entry (its text decoded on its own, with
    the space a SentencePiece token carries mid-text)."""
    loaded = inspection.loaded
    from core.data.templates import token_text

    tokens = [{"id": token_id, "text": token_text(tokenizer, [token_id]), "trained": token.kind == "trained",
               "cut": token.kind == "cut"} for token in view for token_id in token.ids]
    return {"format": loaded.format, "rows": len(loaded.rows), "total": loaded.total,
            "problems": [{"where": str(p.where), "message": str(p.message)} for p in loaded.problems],
            "warnings": [{"kind": w.kind, "message": str(w.message), "rows": [str(loaded.wheres[i]) for i in w.rows]}
                         for w in inspection.report.warnings],
            "notes": [str(note) for note in [*loaded.notes, *notes]],
            "example": {"row": index + 1, "where": str(loaded.wheres[index]), "tokens": tokens}}


def _trained_spans(view) -> list[str]:
    spans, current = [], ""
    for token in view:
        if token.kind == "trained":
            current += token.text
        elif current:
            spans.append(current)
            current = ""
    return spans + ([current] if current else [])


def _colored(view) -> str:
    """Trained tokens in bold green, masked ones dim, cut ones struck through: what a terminal can show."""
    styles = {"trained": "\033[1;32m", "masked": "\033[2m", "cut": "\033[9;31m"}
    return "".join(f"{styles[t.kind]}{t.text}\033[0m" for t in view)
