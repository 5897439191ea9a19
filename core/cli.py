"""The headless verbs of launch.py: train, chat and data. Each returns the process exit code."""

from __future__ import annotations

import os
import sys
import time

from core.config import ChatSettings, Config, ConfigError


def train(config_path: str | None, runs_dir: str = "runs", resume: str | None = None) -> int:
    from pathlib import Path

    from core.jobs import BusyError, JobRunner
    from core.runs import FINAL_STATES, Run, mark_interrupted

    previous = None
    if resume:
        previous = Run(Path(resume))
        mark_interrupted(previous.path.parent)  # a run whose process died is resumable, not 'training'
        config_path = str(previous.config_file)
    try:
        config = Config.from_yaml(config_path)
    except ConfigError as err:
        return _fail(str(err))
    runner = JobRunner(previous.path.parent if previous else runs_dir)
    try:
        run = runner.start(config, resume=previous)
    except BusyError as err:
        return _fail(str(err))
    print(f"Run folder: {run.path}  (log: {run.log_file})")
    bar = _ProgressBar()
    log_offset = 0
    try:
        while not runner.wait(timeout=1.0):
            log_offset = _echo_new_log(run, log_offset, bar)
            bar.show(run.status(), run.read_metrics()[0])
    except KeyboardInterrupt:
        print("\nStopping at the end of this step (Ctrl-C again to abort without saving) ...", flush=True)
        runner.stop()
        runner.wait()
    _echo_new_log(run, log_offset, bar)
    status = run.status()
    bar.show(status, run.read_metrics()[0], final=True)
    if status.get("state") == "completed":
        print(f"Done: {status.get('message')}\nTry it:  python launch.py chat {run.path} --prompt \"Who are you?\"")
        return 0
    if status.get("state") not in FINAL_STATES:
        return _fail(f"run ended in state {status.get('state')}")
    return _fail(f"{status.get('state')}: {status.get('message')}")


def chat(run_dir: str, base: bool = False, prompt: str | None = None, temperature: float = 0.7,
         max_new_tokens: int = 256, system_prompt: str = "") -> int:
    from core.chat import ChatError, ChatModel
    from core.models import ModelError

    settings = ChatSettings(system_prompt=system_prompt, temperature=temperature, max_new_tokens=max_new_tokens)
    quiet = _to_stderr if prompt is not None else print  # one-shot mode prints only the reply on stdout
    try:
        model = ChatModel.from_run(run_dir, progress=quiet)
    except (ChatError, ModelError, ConfigError) as err:
        return _fail(str(err))
    use_adapter = not base
    if prompt is not None:
        for piece in model.stream([{"role": "user", "content": prompt}], settings, use_adapter):
            print(piece, end="", flush=True)
        print()
        return 0
    print(f"Chatting with {'the base model' if base else model.label}. Empty line or Ctrl-D to quit.")
    history: list[dict] = []
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            return 0
        history.append({"role": "user", "content": text})
        print("model> ", end="", flush=True)
        answer = ""
        for piece in model.stream(history, settings, use_adapter):
            answer += piece
            print(piece, end="", flush=True)
        print()
        history.append({"role": "assistant", "content": answer.strip()})


def export(run_dir: str, merged_dir: str) -> int:
    from core.chat import ChatError
    from core.export import export_merged
    from core.models import ModelError

    try:
        export_merged(run_dir, merged_dir, progress=print)
    except (ChatError, ModelError, ConfigError) as err:
        return _fail(str(err))
    return 0


def data(path: str, format: str = "auto", model_source: str = "default") -> int:
    from core import data as datasets_io
    from core import models, templates

    try:
        loaded = datasets_io.load(path, format)
    except datasets_io.DataError as err:
        return _fail(str(err))
    print(datasets_io.describe(loaded))
    if loaded.rows:
        try:
            tokenizer, notes = models.load_tokenizer(models.resolve_source(model_source, progress=_to_stderr))
        except models.ModelError as err:
            return _fail(str(err))
        for note in notes:
            print(note)
        row = loaded.rows[0]
        record = templates.tokenize_row(tokenizer, row, max_length=10 ** 9)
        trained = sum(1 for t in record["labels"] if t != templates.IGNORE)
        print(f"\nFirst example as the model sees it ({len(record['input_ids'])} tokens, {trained} trained):")
        print("-" * 60)
        print(templates.render(tokenizer, row))
        print("-" * 60)
    return 0


class _ProgressBar:
    """A one-line progress bar: state, step/total, loss and ETA."""

    def __init__(self):
        self.first_step = None
        self.last_text = ""

    def show(self, status: dict, metrics: list[dict], final: bool = False) -> None:
        step, total = status.get("step") or 0, status.get("total_steps") or 0
        losses = [m["loss"] for m in metrics if "loss" in m]
        evals = [m["eval_loss"] for m in metrics if "eval_loss" in m]
        if step and self.first_step is None:
            self.first_step = (time.time(), step)
        width = 30
        filled = int(width * step / total) if total else 0
        text = f"\r{status.get('state', '?'):<9} [{'#' * filled}{'.' * (width - filled)}] {step}/{total or '?'}"
        if losses:
            text += f"  loss {losses[-1]:.3f}"
        if evals:
            text += f"  eval {evals[-1]:.3f}"
        key = text
        eta = self._eta(step, total)
        if eta is not None and not final:
            text += f"  ETA {int(eta // 60)}:{int(eta % 60):02d}"
        if status.get("state") in ("queued", "loading") and status.get("message"):
            text += f"  {status['message']}"
        # On a terminal the ETA ticks every second; piped to a file, a line is written only when something moved.
        if sys.stdout.isatty() or key != self.last_text or final:
            sys.stdout.write(text[:160].ljust(100) + ("\n" if final else ""))
            sys.stdout.flush()
            self.last_text = key

    def _eta(self, step, total):
        if not self.first_step or not total or step <= self.first_step[1]:
            return None
        per_step = (time.time() - self.first_step[0]) / (step - self.first_step[1])
        return per_step * (total - step)


def _echo_new_log(run, offset: int, bar: _ProgressBar) -> int:
    """Print log lines written since `offset` above the progress bar (skipping tracebacks)."""
    if not run.log_file.exists():
        return offset
    with open(run.log_file, "rb") as f:
        f.seek(offset)
        chunk = f.read()
    end = chunk.rfind(b"\n") + 1
    for line in chunk[:end].decode("utf-8", errors="replace").splitlines():
        if line[:4].isdigit():  # timestamped lines are messages; the rest is traceback detail kept in the log
            sys.stdout.write("\r" + " " * 100 + "\r" + line[20:] + "\n")
    sys.stdout.flush()
    return offset + end


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def quiet_libraries() -> None:
    """Library chatter (progress bars, deprecation notes) goes to train.log, not the user's terminal."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)

