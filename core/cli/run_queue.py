"""`launch.py queue`: list, add, remove, move, skip and run the runs queued in a runs folder (the studio's queue,
core/training/queue.py), through the same hand-over from run to run as the studio (core.jobs)."""

from __future__ import annotations

import argparse
import time

from core.cli.common import (ProgressBar, count, echo_new_log, fail, listen_for_ctrl_c, stop_after_ctrl_c,
                             to_stderr)
from core.config import Config


def add_queue_arguments(verbs) -> None:
    """`launch.py queue`: list, add, remove, move, skip and run the runs queued in the runs folder (the studio's
    queue: core/training/queue.py)."""
    parser = verbs.add_parser("queue", help="list the queued runs, or add, remove, move, skip and run them")
    parser.add_argument("--runs-dir", default=argparse.SUPPRESS, help="the runs folder whose queue (default runs/)")
    parser.set_defaults(run=lambda args, usage_error: queue_list(args.runs_dir))
    actions = parser.add_subparsers(dest="queue_action", metavar="ACTION")
    for name, help_text in (("add", "queue a run of a config file, at the end"),
                            ("remove", "take a run out of the queue"),
                            ("move", "put a queued run at POSITION (1 starts next)"),
                            ("skip", "leave the interrupted run the queue waits for, and let the queue go on"),
                            ("run", "run the queue headless, one run after another, until it is empty")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--runs-dir", default=argparse.SUPPRESS, help="the runs folder whose queue")
        if name == "add":
            action.add_argument("config", help="a config file, as `launch.py train` takes")
            action.add_argument("--name", help="the run's name (default: the config's name)")
        if name in ("remove", "move"):
            action.add_argument("entry", metavar="ID|NAME", help="the entry's id or its run name, as listed")
        if name == "move":
            action.add_argument("position", type=count, help="1 = next to start")
    actions.choices["add"].set_defaults(run=lambda args, usage_error: queue_add(args.config, args.runs_dir,
                                                                                args.name))
    actions.choices["remove"].set_defaults(run=lambda args, usage_error: queue_change(args.runs_dir, "remove",
                                                                                      args.entry))
    actions.choices["move"].set_defaults(run=lambda args, usage_error: queue_change(args.runs_dir, "move",
                                                                                    args.entry, args.position))
    actions.choices["skip"].set_defaults(run=lambda args, usage_error: queue_change(args.runs_dir, "skip"))
    actions.choices["run"].set_defaults(run=lambda args, usage_error: queue_run(args.runs_dir))


def queue_list(runs_dir: str = "runs") -> int:
    from core.catalogue.message import StudioError, message
    from core.training.queue import RunQueue

    queue = RunQueue(runs_dir)
    try:
        entries, held = queue.entries(), queue.held_by()
    except StudioError as err:
        return fail(str(err))
    if held:
        print(message("queue.cli_held", run=held, folder=str(queue.runs_dir / held)))
    _print_notes(queue.notes()[-3:])
    if not entries:
        print(message("queue.cli_empty"))
        return 0
    rows = [("#", "id", "name", "method", "data", "added", "chain")]
    rows += [(str(n), e.id, e.name, e.method, e.data, time.strftime("%Y-%m-%d %H:%M", time.localtime(e.added_at)),
              e.stage_text) for n, e in enumerate(entries, 1)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def queue_add(config_path: str, runs_dir: str = "runs", name: str | None = None) -> int:
    """Queue a run, or a chain file's stages (one entry each, run in order); the config is checked as `launch.py
    train` checks it (file, line, key), and its data too."""
    from core.catalogue.message import StudioError, message
    from core.training import chain, sweep
    from core.training.queue import RunQueue

    try:
        sweep.read(config_path)  # a sweep together with stages is refused here, saying so
        stages = chain.read(config_path)
        if stages:
            return _queue_chain(stages, runs_dir, name)
        config = Config.from_yaml(config_path)
        if name:
            config.name = name  # checked with the rest by add()
        _resolve_paths(vars(config.data), vars(config.model))
        queue = RunQueue(runs_dir)
        entry = queue.add(config)
    except StudioError as err:
        return fail(str(err))
    print(message("queue.cli_added", name=entry.name, id=entry.id, position=len(queue.entries())))
    return 0


def _queue_chain(stages, runs_dir: str, name: str | None) -> int:
    from core.catalogue.message import message
    from core.training.queue import RunQueue

    for stage in stages:
        if name:
            stage.rename(name)  # the chain's name; each stage's run is <name>-<stage>
        _resolve_paths(stage.values.setdefault("data", {}), stage.values.setdefault("model", {}))
    queue = RunQueue(runs_dir)
    entries = queue.add_chain(stages)
    ids = [entry.id for entry in queue.entries()]
    print(message("queue.chain_added", chain=stages[0].chain, id=entries[0].chain["id"], count=len(entries),
                  runs=", ".join(entry.name for entry in entries), first=ids.index(entries[0].id) + 1,
                  last=ids.index(entries[-1].id) + 1))
    return 0


def _resolve_paths(data: dict, model: dict) -> None:
    """The run may start in the studio, whose working folder is not this one: files named from here stay found."""
    from pathlib import Path

    for values, key in ((data, "path"), (data, "eval_path"), (model, "source")):
        value = values.get(key)
        if value and Path(value).exists():
            values[key] = str(Path(value).resolve())


def queue_change(runs_dir: str, action: str, entry: str = "", position: int = 1) -> int:
    from core.catalogue.message import StudioError, message
    from core.training.queue import RunQueue

    queue = RunQueue(runs_dir)
    try:
        if action == "remove":
            print(message("queue.removed", name=queue.remove(entry).name))
        elif action == "move":
            found = queue.find(entry)
            queue.move(found.id, position - 1)
            print(message("queue.moved", name=found.name, position=position))
        else:
            held = queue.held_by()
            queue.release()
            print(message("queue.skipped", run=held) if held else message("queue.not_held"))
    except StudioError as err:
        return fail(str(err))
    return 0


def queue_run(runs_dir: str = "runs") -> int:
    """Run the queue in order with the progress bar, through the studio's own hand-over (core.jobs); Ctrl-C stops
    the run in progress and leaves the rest queued. While another process (the studio, another `queue run`,
    `launch.py train`) trains in the runs folder, wait for it: one trainer per folder. Exit 0 when every run
    completed."""
    from core.catalogue.message import StudioError, message
    from core.jobs import JobRunner
    from core.training.queue import RunQueue

    runner = JobRunner(runs_dir, queue=RunQueue(runs_dir))
    began = time.time()
    try:
        runner.after_restart()  # a run a dead studio left 'training' is interrupted, and the queue waits for it
        held = runner.queue.held_by()
        if not held and not runner.busy and not _start_when_free(runner):
            _print_notes([note for note in runner.queue.notes() if note["at"] >= began])
            print(message("queue.cli_empty"))
            return 0
    except StudioError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        return 1  # Ctrl-C while waiting for another process: nothing of ours trains, the queue is as it was
    if held:
        return fail(str(message("queue.cli_held", run=held, folder=str(runner.queue.runs_dir / held))))
    listen_for_ctrl_c()
    ended = []
    try:
        while runner.busy:
            ended.append(_watch(runner))
    except KeyboardInterrupt:
        runner.hand_over = False  # the rest stays queued, for the studio or the next `queue run`
        stop_after_ctrl_c(runner)
        ended.append((runner.run.name, runner.run.status().get("state")))
    _print_notes([note for note in runner.queue.notes() if note["at"] >= began])
    print(message("queue.cli_done", runs=", ".join(f"{name} ({state})" for name, state in ended)))
    return 0 if all(state == "completed" for _, state in ended) else 1


def _start_when_free(runner, poll_seconds: float = 1.0) -> bool:
    """Start the first queued run once no other process trains in the runs folder, saying whom it waits for; False
    when the queue is (or became, run by the other process) empty."""
    from core.catalogue.message import message
    from core.training.trainer_lock import other_trainer

    said = None
    while True:
        other = other_trainer(runner.runs_dir)
        if other is None:
            if runner.start_next() is not None:
                return True
            if not runner.queue.entries() or runner.queue.held_by():
                return False
            time.sleep(poll_seconds)  # taken by another process between the two looks: wait for it
            continue
        if (other.pid, other.run) != said:
            print(message("queue.cli_waiting", run=other.run, pid=other.pid), flush=True)
            said = (other.pid, other.run)
        time.sleep(poll_seconds)


def _print_notes(notes: list[dict]) -> None:
    from core.catalogue.message import message

    for note in notes:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(note["at"]))
        print(message("queue.note", when=when, note=note["message"]), flush=True)


def _watch(runner) -> tuple[str, str]:
    """Show the runner's run until it ends (the next queued run may have started by then): (name, state)."""
    run = runner.run
    print(f"Run folder: {run.path}  (log: {run.log_file})", flush=True)
    bar, offset = ProgressBar(), 0
    while runner.run is run and not runner.wait(timeout=1.0):
        offset = echo_new_log(run, offset, bar)
        bar.show(run.status(), run.read_metrics()[0])
    echo_new_log(run, offset, bar)
    status = run.status()
    bar.show(status, run.read_metrics()[0], final=True)
    if status.get("state") != "completed":
        to_stderr(f"{run.name}: {status.get('state')}: {status.get('message')}")
    return run.name, status.get("state")
