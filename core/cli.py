"""The headless verbs of launch.py that make and use runs: train (one run, or a config's stages in order), chat, eval,
predict and export (data, download and make-data, which check and bring data and models in, are in
core/cli_sources.py; bench and doctor, which measure, in core/cli_measure.py). Each returns the exit code.

Beside each verb, `add_<verb>_arguments(verbs)` defines its command-line arguments (choice lists and defaults come
from core.config) and sets `run(args, usage_error)`, which calls the verb; launch.py only wires them together.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from core.config import (GGUF_TYPES, ChatSettings, Config, ConfigError)


def add_train_arguments(verbs) -> None:
    """`launch.py train`: its arguments, read by train()."""
    parser = verbs.add_parser("train", help="train headless from a YAML config")
    parser.add_argument("config", nargs="?", help="a config file, e.g. runs/<name>/config.yaml of an earlier run")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped, failed or interrupted run from its "
                        "last complete checkpoint")
    parser.add_argument("--runs-dir", default=argparse.SUPPRESS, help="where run folders go (default runs/)")
    parser.add_argument("--dry-run", action="store_true", help="check the fit instead of training: memory estimate, "
                        "two real steps on the longest rows, peak memory and projected time")
    parser.set_defaults(run=_train_from_arguments)


def _train_from_arguments(args, usage_error) -> int:
    if bool(args.config) == bool(args.resume):
        usage_error("train needs a CONFIG file or --resume RUN_DIR (one of them)")
    return train(args.config, args.runs_dir, resume=args.resume, dry_run=args.dry_run)


def train(config_path: str | None, runs_dir: str = "runs", resume: str | None = None, dry_run: bool = False) -> int:
    from pathlib import Path

    from core.runs import Run, mark_interrupted
    from core.training import chain

    previous = None
    if resume:
        previous = Run(Path(resume))
        mark_interrupted(previous.path.parent)  # a run whose process died is resumable, not 'training'
        config_path = str(previous.config_file)
    try:
        stages = None if resume else chain.read(config_path)
        config = stages[0].config() if stages else Config.from_yaml(config_path)
    except ConfigError as err:
        return _fail(str(err))
    if stages:
        return train_chain(stages, runs_dir, dry_run)
    if dry_run:
        return preflight(config)
    return train_one(config, runs_dir, previous)[0]


def train_chain(stages, runs_dir: str, dry_run: bool = False) -> int:
    """The stages of a chain file in order, each from the run before; the first that does not finish stops it."""
    from core.catalogue.message import message
    from core.jobs import check_stages
    from core.training.chain import done_run

    if dry_run:
        print(message("chain.dry_run_first", stage=stages[0].label))
        return preflight(stages[0].config())
    try:
        check_stages(stages, runs_dir)  # every stage's data, before the first stage trains for an hour
    except ConfigError as err:
        return _fail(str(err))
    previous, finished, count = None, [], len(stages)
    for stage in stages:
        config = stage.config(previous.path.resolve() if previous else None)
        done = done_run(config, runs_dir)
        if done is not None:  # run again after a stage failed: the finished stages are not trained twice
            print(message("chain.stage_done", stage=stage.label, number=stage.number, count=count, run=done.name),
                  flush=True)
            previous = done
            finished.append(done.name)
            continue
        after = message("chain.after", run=previous.name) if previous else ""
        print(message("chain.stage_starting", stage=stage.label, number=stage.number, count=count,
                      method=config.train.method, after=after), flush=True)
        code, run = train_one(config, runs_dir)
        if code != 0:
            later = [s.label for s in stages[stage.number:]]
            left = message("chain.not_started", stages=", ".join(later)) if later else ""
            _to_stderr(str(message("chain.stage_failed", stage=stage.label, number=stage.number, count=count,
                                   left=left, run=run.path if run else config.name)))
            return code
        previous = run
        finished.append(run.name)
    print(message("chain.done", count=count, runs=", ".join(finished)))
    return 0


def train_one(config: Config, runs_dir: str, previous=None) -> tuple[int, object]:
    """Train one run to its end with the progress bar: (exit code, the Run or None when it never started)."""
    from core.catalogue.message import StudioError
    from core.jobs import BusyError, JobRunner, check_inputs
    from core.runs import FINAL_STATES

    try:
        check_inputs(config, runs_dir)  # a missing model or data (or parent run) is said here, before a run folder
    except StudioError as err:
        return _fail(str(err)), None
    runner = JobRunner(previous.path.parent if previous else runs_dir)
    try:
        run = runner.start(config, resume=previous)
    except BusyError as err:
        return _fail(str(err)), None
    print(f"Run folder: {run.path}  (log: {run.log_file})")
    _listen_for_ctrl_c()
    bar = _ProgressBar()
    log_offset = 0
    try:
        while not runner.wait(timeout=1.0):
            log_offset = _echo_new_log(run, log_offset, bar)
            bar.show(run.status(), run.read_metrics()[0])
    except KeyboardInterrupt:
        print("\nStopping at the end of this step (Ctrl-C again to abort without saving) ...", flush=True)
        runner.stop()
        try:
            runner.wait()
        except KeyboardInterrupt:
            runner.abort()
            runner.wait()
    _echo_new_log(run, log_offset, bar)
    status = run.status()
    bar.show(status, run.read_metrics()[0], final=True)
    if status.get("state") == "completed":
        print(f"Done: {status.get('message')}\nTry it:  python launch.py chat {run.path} --prompt \"Who are you?\"")
        return 0, run
    if status.get("state") not in FINAL_STATES:
        return _fail(f"run ended in state {status.get('state')}"), run
    return _fail(f"{status.get('state')}: {status.get('message')}"), run


def _listen_for_ctrl_c() -> None:
    """Ctrl-C (SIGINT) stops the run at the end of a step, also where the shell started this command with SIGINT
    ignored (a non-interactive shell's background job, `nohup`): Python then never installs its own handler, and
    `kill -INT` would do nothing."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def preflight(config: Config) -> int:
    """Estimate, then two real steps on the longest rows: print the fit, peak memory and projected time.
    Exit 0 when the settings fit as they are; 1 otherwise, with the proposal printed."""
    from core.data.errors import DataError
    from core.measure import preflight as checks
    from core.models.load import ModelError

    try:
        report = checks.check(config, progress=_to_stderr)
    except (DataError, ModelError, ValueError) as err:
        return _fail(str(err))
    print("\n".join(map(str, report.lines())))
    print(report.verdict)
    if report.fits_as_configured or (report.skipped and not report.estimate_over_available):
        return 0  # a sharded plan is not measured: its per-GPU estimate decides
    return _fail("these settings do not fit" + ("; the proposal above does" if report.proposal else ""))


def add_chat_arguments(verbs) -> None:
    """`launch.py chat`: its arguments, read by chat(); the defaults are ChatSettings'."""
    defaults = ChatSettings()
    parser = verbs.add_parser("chat", help="chat with a run's adapter, or its base model with --base")
    parser.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    parser.add_argument("--base", action="store_true", help="answer with the base model, adapter off")
    parser.add_argument("--prompt", help="answer this one prompt and print only the reply")
    parser.add_argument("--system", default="", help="system prompt")
    parser.add_argument("--temperature", type=float, default=defaults.temperature,
                        help=f"0 = greedy (default {defaults.temperature})")
    parser.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens,
                        help=f"longest answer in tokens (default {defaults.max_new_tokens})")
    parser.add_argument("--votes", type=count, default=defaults.votes, help="with --prompt: sample N answers and "
                        f"print the majority, vote counts on stderr (default {defaults.votes})")
    parser.add_argument("--pattern", help="regular expression whose first group is the final answer, for --votes")
    parser.set_defaults(run=lambda args, usage_error: chat(
        args.run_dir, base=args.base, prompt=args.prompt, temperature=args.temperature,
        max_new_tokens=args.max_new_tokens, system_prompt=args.system, votes=args.votes, pattern=args.pattern))


def chat(run_dir: str, base: bool = False, prompt: str | None = None, temperature: float = 0.7,
         max_new_tokens: int = 256, system_prompt: str = "", votes: int = 1, pattern: str | None = None) -> int:
    from core.models.load import ModelError
    from core.results.chat import ChatError, ChatModel

    settings = ChatSettings(system_prompt=system_prompt, temperature=temperature, max_new_tokens=max_new_tokens,
                            votes=votes)
    if pattern is not None:
        settings.answer_pattern = pattern
    quiet = _to_stderr if prompt is not None else print  # one-shot mode prints only the reply on stdout
    try:
        model = ChatModel.from_run(run_dir, progress=quiet)
    except (ChatError, ModelError, ConfigError) as err:
        return _fail(str(err))
    use_adapter = not base
    if prompt is not None and votes > 1:
        from core.data.answers import PatternError

        try:
            result = model.vote([{"role": "user", "content": prompt}], settings, use_adapter)
        except PatternError as err:
            return _fail(str(err))
        print(result.text)
        _to_stderr(f"Majority of {votes}: {result.answer!r} ({result.summary()})")
        return 0
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


def add_export_arguments(verbs) -> None:
    """`launch.py export`: its arguments, read by export()."""
    parser = verbs.add_parser("export", help="merge a run's adapter into its base model and save the result")
    parser.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    parser.add_argument("--merged", metavar="OUT_DIR", help="a new folder for the merged model (with a model card, "
                        "chat_template.jinja and an Ollama Modelfile)")
    parser.add_argument("--adapter-zip", metavar="OUT_ZIP", help="also (or only) pack the adapter as a zip")
    parser.add_argument("--gguf", metavar="OUT.gguf", help="also (or only) write one GGUF file for llama.cpp, "
                        "LM Studio and Ollama (with OUT.Modelfile and OUT.README.md beside it)")
    parser.add_argument("--gguf-type", default="auto", choices=GGUF_TYPES,
                        help="number format of the GGUF (default auto: bf16 for a model that trained in bf16, "
                        "f16 otherwise; q8_0 is half the size)")
    parser.add_argument("--no-check", action="store_true", help="skip comparing the exports' greedy answers "
                        "with the adapter's")
    parser.set_defaults(run=_export_from_arguments)


def _export_from_arguments(args, usage_error) -> int:
    if not (args.merged or args.adapter_zip or args.gguf):
        usage_error("export needs --merged OUT_DIR, --adapter-zip OUT_ZIP or --gguf OUT.gguf (or several)")
    return export(args.run_dir, args.merged, args.adapter_zip, check=not args.no_check, gguf=args.gguf,
                  gguf_type=args.gguf_type)


def export(run_dir: str, merged_dir: str | None, adapter_zip: str | None = None, check: bool = True,
           gguf: str | None = None, gguf_type: str = "auto") -> int:
    from core.models.load import ModelError
    from core.results.chat import ChatError
    from core.results.export import export_adapter_zip, export_merged, read_check
    from core.results.gguf import GGUFError, export_gguf, read_gguf_check

    try:
        if adapter_zip:
            export_adapter_zip(run_dir, adapter_zip, progress=print)
        if merged_dir:
            export_merged(run_dir, merged_dir, progress=print, check=check)
        if gguf:
            export_gguf(run_dir, gguf, gguf_type, progress=print, check=check)
    except (ChatError, ModelError, ConfigError, GGUFError) as err:
        return _fail(str(err))
    # The files are saved either way, but a script must not take an export that answers differently for a faithful
    # copy: a difference found by the check is a failure.
    results = [(merged_dir, read_check(merged_dir) if merged_dir and check else None, "README.md"),
               (gguf, read_gguf_check(gguf) if gguf and check else None, "its .README.md")]
    for where, result, card in results:
        if result and result.get("agree") is False:
            return _fail(f"export check: {where} answers differently from the adapter (see {card})")
    return 0


def add_eval_arguments(verbs) -> None:
    """`launch.py eval`: its arguments, read by evaluate()."""
    parser = verbs.add_parser("eval", help="score the base and the tuned model on a labelled test file")
    parser.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    parser.add_argument("--data", required=True, metavar="FILE", help="a test file in any format `data` reads")
    parser.add_argument("--pattern", help="regular expression whose first group is the final answer "
                        "(default: 'answer is: X' / '答案是：X'); '' compares whole answers")
    parser.add_argument("--votes", type=count, default=1,
                        help="sample this many answers per row and take the majority (default 1: greedy)")
    parser.add_argument("--max-new-tokens", type=count, default=64, help="longest answer (default 64)")
    parser.add_argument("--max-rows", type=int, default=0, help="score only the first N rows (default: all)")
    parser.add_argument("--json", metavar="OUT", help="also save the full report, every row, as JSON")
    parser.add_argument("--original-base", action="store_true",
                        help="for a run started from runs: compare with the base model at the start of the chain, "
                             "not with the run it started from (two models in memory)")
    parser.set_defaults(run=lambda args, usage_error: evaluate(
        args.run_dir, args.data, pattern=args.pattern, votes=args.votes, max_new_tokens=args.max_new_tokens,
        max_rows=args.max_rows, json_out=args.json, original_base=args.original_base))


def evaluate(run_dir: str, data_path: str, pattern: str | None = None, votes: int = 1, max_new_tokens: int = 64,
             max_rows: int = 0, json_out: str | None = None, original_base: bool = False) -> int:
    """Score base and tuned on a labelled file; print loss, perplexity, exact match and the rows that changed."""
    from pathlib import Path

    from core.models.load import ModelError
    from core.results.chat import ChatError
    from core.results.evaluate import EvalError
    from core.results.evaluate import evaluate as run_evaluation
    from core.data.answers import DEFAULT_ANSWER_PATTERN, PatternError

    try:
        report = run_evaluation(run_dir, data_path, pattern=DEFAULT_ANSWER_PATTERN if pattern is None else pattern,
                                votes=votes, max_new_tokens=max_new_tokens, max_rows=max_rows, progress=_to_stderr,
                                original_base=original_base)
    except (ChatError, ModelError, ConfigError, EvalError, PatternError) as err:
        return _fail(str(err))
    print(report.text())
    if json_out:
        from core.runs import write_text_atomic

        write_text_atomic(Path(json_out), json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
        print(f"Report saved to {json_out}")
    return 0


def add_predict_arguments(verbs) -> None:
    """`launch.py predict`: its arguments, read by predict()."""
    defaults = ChatSettings()
    parser = verbs.add_parser("predict", help="answer every row of a test file (no reference needed) with a run's "
                              "model, by a majority of sampled answers, into a JSON-lines file; run again to resume")
    parser.add_argument("run_name", metavar="RUN", help="a run folder (runs/NAME) or a run's name in the runs folder")
    parser.add_argument("--data", required=True, metavar="FILE", help="the test file: messages, prompts, "
                        "instructions or questions (contest shape: problem, question, options)")
    parser.add_argument("--out", required=True, metavar="OUT.jsonl", help="one JSON row per input row: row, id, "
                        "answer (null when the pattern found none), votes, texts")
    parser.add_argument("--votes", type=int, default=1,
                        help="sample this many answers per row and take the majority (default 1: greedy)")
    parser.add_argument("--pattern", default=None, help="regular expression whose first group is the answer "
                        "(default: 'answer is: X' / '答案是：X'); '' takes the whole answer")
    parser.add_argument("--base", action="store_true", help="answer with the base model, adapter off")
    parser.add_argument("--csv", metavar="OUT.csv", help="also write id,answer for a contest submission")
    parser.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens,
                        help=f"longest answer in tokens (default {defaults.max_new_tokens})")
    parser.add_argument("--temperature", type=float, default=defaults.temperature,
                        help=f"sampling temperature for --votes above 1 (default {defaults.temperature})")
    parser.add_argument("--seed", type=int, default=42, help="sampling seed; row N uses seed + N (default 42)")
    parser.set_defaults(run=lambda args, usage_error: predict(
        args.run_name, args.data, args.out, votes=args.votes, pattern=args.pattern, base=args.base, csv_path=args.csv,
        max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed, runs_dir=args.runs_dir))


def predict(run: str, data_path: str, out_path: str, *, votes: int = 1, pattern: str | None = None,
            base: bool = False, csv_path: str | None = None, max_new_tokens: int = 256, temperature: float = 0.7,
            seed: int = 42, runs_dir: str = "runs") -> int:
    """Answer the file; progress on stderr, the summary (and the rows with no answer) on stdout."""
    from core.models.load import ModelError
    from core.results.chat import ChatError
    from core.results.predict import PredictError, resolve_run
    from core.results.predict import predict as answer_file
    from core.data.answers import DEFAULT_ANSWER_PATTERN, PatternError

    try:
        report = answer_file(resolve_run(run, runs_dir), data_path, out_path, votes=votes,
                             pattern=DEFAULT_ANSWER_PATTERN if pattern is None else pattern, base=base,
                             csv_path=csv_path, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                             progress=_to_stderr)
    except (ChatError, ModelError, ConfigError, PredictError, PatternError) as err:
        return _fail(str(err))
    for note in report.notes():
        print(note)
    return 0


def count(text: str) -> int:
    """An argument that counts something: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _pairs(items, flag: str) -> dict:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError("cli.pair", flag=flag, item=repr(item))
        pairs[key.strip()] = value.strip()
    return pairs


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
        # Timestamped lines are messages; the rest, and the header that starts it, is traceback detail for the log.
        if line[:4].isdigit() and not line[20:].startswith("Traceback (most recent call last)"):
            sys.stdout.write("\r" + " " * 100 + "\r" + line[20:] + "\n")
    sys.stdout.flush()
    return offset + end


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def quiet_libraries() -> None:
    """Library chatter (progress bars, deprecation notes) stays out of the user's terminal, as in a run's process."""
    from core.training.worker import quiet_libraries as quiet

    quiet()

