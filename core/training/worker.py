"""A run's own process: `python -m core.training.worker RUN_DIR [--strategy S] [--resume CHECKPOINT]`.

The engine's job thread (core.jobs) starts it, directly for one process or through `accelerate launch` for
several (each of them runs this same entry point), and watches it. It reads the run's config.yaml, trains with
core.training.train, and reports through the run folder as before: rank 0 writes status.json, metrics.jsonl and
train.log; the process's own output (library warnings, a traceback, a crash report) goes to train.log too. It
stops at the end of a step when the run folder gets a stop file (every process sees it) or on SIGTERM / SIGINT.

Exit codes: 0 the run ended (completed or stopped; rank 0 wrote which); 1 it failed; 3 it ran out of memory. A
failing process also leaves .failure-<rank>.json with the reason (its English, and its catalogue key and values
for the page), which the job thread reads (for a crash that leaves nothing, the job thread explains the exit
itself).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from core.catalogue.message import Message, message
from core.config import Config
from core.runs import Run, status_message, write_json_atomic
from core.training import failures
from core.training import ranks
from core.training import replay
from core.training.stopping import StopRequested

EXIT_ENDED, EXIT_FAILED, EXIT_OUT_OF_MEMORY = 0, 1, 3
STRATEGIES = ("single", "model_parallel", "ddp", "fsdp", "deepspeed_zero2", "deepspeed_zero3")
PARENT_ENV = "FINETUNE_STUDIO_PARENT"  # the pid this process must not outlive
STOP_POLL_SECONDS = 0.25
# How long a process waits for the others at a collective before the run fails: rank 0 alone loads a 70B model's
# replay answers or gathers its checkpoint while the others wait (minutes on a GPU, longer on a CPU).
PROCESS_GROUP_TIMEOUT = timedelta(hours=2)


@dataclass
class Outcome:
    state: str                   # completed | stopped | failed
    message: Message | str       # a library's own words (a failure) or an older status.json's are plain text
    out_of_memory: bool = False

    @property
    def exit_code(self) -> int:
        if self.state != "failed":
            return EXIT_ENDED
        return EXIT_OUT_OF_MEMORY if self.out_of_memory else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.training.worker", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="the run folder (with config.yaml), created by the studio or launch.py")
    parser.add_argument("--strategy", default="single", choices=STRATEGIES)
    parser.add_argument("--resume", default=None, metavar="CHECKPOINT", help="a checkpoint folder to continue from")
    args = parser.parse_args(argv)
    die_with_parent()
    faulthandler.enable()  # a segfault's Python stack goes to stderr, which is train.log
    quiet_libraries()
    stop = threading.Event()
    stop_on_signals(stop)
    return execute(Run(Path(args.run_dir)), stop, args.strategy, args.resume).exit_code


def execute(run: Run, stop: threading.Event, strategy: str = "single", resume_from: str | None = None,
            callbacks: list | None = None) -> Outcome:
    """Train the run in this process and write how it ended. Called by main() in a run's process, or directly
    by the job thread for a run kept in the studio's process (tests that inject faults, the benchmark)."""
    import torch

    from core.training import train as training

    watching = threading.Event()
    threading.Thread(target=_watch_stop_file, args=(run, stop, watching), daemon=True, name="stop-file").start()
    try:
        config = Config.from_yaml(run.config_file)
        join_processes(cpu=not torch.cuda.is_available())
        if ranks.is_main():
            run.update_status(pid=os.getpid())  # alive while the run trains, however it was started
            processes = f", {ranks.world_size()} processes" if ranks.world_size() > 1 else ""
            run.log(f"Training process {os.getpid()} ({strategy}{processes}, "
                    f"{_devices_text(torch)}) " + (f"resumes from {Path(resume_from).name}." if resume_from
                                                   else "starts."))
        state = training.train(config, run, stop, resume_from=resume_from, callbacks=callbacks, strategy=strategy)
    except StopRequested:  # heard while loading or before the first step: nothing new was trained
        state = "stopped"
    except BaseException as err:  # anything at all must end as a failure the job thread can explain
        outcome = Outcome("failed", failures.explain_failure(err), failures.is_out_of_memory(err))
        _record_failure(run, outcome, traceback.format_exc())
        return outcome  # leaving the except clause drops the traceback, and with it the failed attempt's frames
    finally:
        watching.set()
    ending = how_it_ended(run, state, config.train.tuning)
    if ranks.is_main():
        run.update_status(state=state, message=ending, ended_at=time.time())
        run.log(str(ending))
    return Outcome(state, ending)


def join_processes(cpu: bool) -> None:
    """Join the run's process group (gloo on the CPU, nccl on GPUs), with PROCESS_GROUP_TIMEOUT: the group exists
    before the Trainer's arguments are read, so their ddp_timeout never applies, and the 10-minute default killed
    runs whose other ranks wait while rank 0 alone writes the knowledge replay or a large model's checkpoint."""
    if ranks.world_size() > 1:
        from accelerate import PartialState

        PartialState(cpu=cpu, timeout=PROCESS_GROUP_TIMEOUT)


def how_it_ended(run: Run, state: str, tuning: str) -> Message:
    """The run's last status line: how many steps, and whether its adapter (or model) was saved."""
    status = run.status()
    step = status.get("step", 0)
    saved = message("training.worker.adapter") if tuning == "lora" else message("training.worker.model")
    if state == "completed":
        return message("training.worker.completed", steps=step, saved=saved)
    if run.has_weights() and step > 0:
        return message("training.worker.stopped", step=step, saved=saved)
    if (run.path / replay.PARTIAL_FILE).exists() and status.get("replay_done") and status.get("replay_asked"):
        return message("training.worker.stopped_during_replay", done=status["replay_done"],
                       asked=status["replay_asked"])
    return message("training.worker.stopped_before_first_step")


def read_failure(run: Run) -> Outcome | None:
    """What the run's processes reported when they failed: rank 0's reason first, out of memory if any says so."""
    found = []
    for path in sorted(run.path.glob(".failure-*.json")):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    if not found:
        return None
    first = min(found, key=lambda record: record.get("rank", 0))
    return Outcome("failed", status_message(first), any(record.get("out_of_memory") for record in found))


def clear_failures(run: Run) -> None:
    for path in run.path.glob(".failure-*.json"):
        path.unlink(missing_ok=True)


def _record_failure(run: Run, outcome: Outcome, details: str) -> None:
    if ranks.is_main():
        run.log(f"Failed: {outcome.message}")
        run.log(details)
    else:  # the other ranks' tracebacks reach train.log through their stderr
        print(f"[rank {ranks.rank()}] {details}", file=sys.stderr, flush=True)
    said = outcome.message  # the English for people, the key and values for the page (as status.json keeps them)
    write_json_atomic(run.path / f".failure-{ranks.rank()}.json",
                      {"rank": ranks.rank(), "message": str(said),
                       "message_key": said.to_json() if isinstance(said, Message) else None,
                       "out_of_memory": outcome.out_of_memory})


def _watch_stop_file(run: Run, stop: threading.Event, done: threading.Event) -> None:
    while not done.wait(STOP_POLL_SECONDS):
        if run.stop_requested():
            stop.set()
            return


def _devices_text(torch) -> str:
    if not torch.cuda.is_available():
        return "CPU"
    from core.models import devices

    names = [f"GPU {devices.gpu_number(i)} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
    return ", ".join(names)


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM or SIGINT stops at the end of the step (the adapter is saved); a second one ends the process."""
    def handle(signum, frame):
        if stop.is_set():
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


def die_with_parent() -> None:
    """Linux: the kernel kills this process when the one that started it dies (even by kill -9), so a run never
    trains on, unwatched, after the studio is gone; the job thread marks it interrupted at the next start."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os._exit(EXIT_FAILED)  # the parent died before the line above took effect


def quiet_libraries() -> None:
    """Library chatter (progress bars, deprecation notes) stays out of train.log and the user's terminal."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)


if __name__ == "__main__":
    sys.exit(main())
