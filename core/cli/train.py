"""`launch.py train`: one run, a config's stages in order (core/training/chain.py), or its sweep
(core/training/sweep.py), each with the progress bar; `--dry-run` checks the fit instead."""

from __future__ import annotations

import argparse

from core.cli.common import ProgressBar, echo_new_log, fail, listen_for_ctrl_c, stop_after_ctrl_c, to_stderr
from core.cli.results import print_ranking
from core.config import Config, ConfigError


def add_train_arguments(verbs) -> None:
    """`launch.py train`: its arguments, read by train()."""
    parser = verbs.add_parser("train", help="train headless from a YAML config")
    parser.add_argument("config", nargs="?", help="a config file, e.g. runs/<name>/config.yaml of an earlier run")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped, failed or interrupted run from its "
                        "last complete checkpoint")
    parser.add_argument("--runs-dir", default=argparse.SUPPRESS, help="where run folders go (default runs/)")
    parser.add_argument("--dry-run", action="store_true", help="check the fit instead of training: memory estimate, "
                        "two real steps on the longest rows, peak memory and projected time")
    parser.add_argument("--yes", action="store_true", help="start a sweep of more than 12 runs without asking")
    parser.set_defaults(run=_train_from_arguments)


def _train_from_arguments(args, usage_error) -> int:
    if bool(args.config) == bool(args.resume):
        usage_error("train needs a CONFIG file or --resume RUN_DIR (one of them)")
    return train(args.config, args.runs_dir, resume=args.resume, dry_run=args.dry_run, yes=args.yes)


def train(config_path: str | None, runs_dir: str = "runs", resume: str | None = None, dry_run: bool = False,
          yes: bool = False) -> int:
    from pathlib import Path

    from core.runs import Run, mark_interrupted
    from core.training import chain, sweep

    previous = None
    if resume:
        previous = Run(Path(resume))
        mark_interrupted(previous.path.parent)  # a run whose process died is resumable, not 'training'
        config_path = str(previous.config_file)
    try:
        swept = None if resume else sweep.read(config_path)  # before the stages: a file with both is refused
        stages = None if resume or swept else chain.read(config_path)
        config = None if swept else stages[0].config() if stages else Config.from_yaml(config_path)
    except ConfigError as err:
        return fail(str(err))
    if swept:
        return train_sweep(swept, runs_dir, dry_run, yes)
    if stages:
        return train_chain(stages, runs_dir, dry_run)
    if dry_run:
        return preflight(config, runs_dir)
    return train_one(config, runs_dir, previous)[0]


def train_chain(stages, runs_dir: str, dry_run: bool = False) -> int:
    """The stages of a chain file in order, each from the run before; the first that does not finish stops it."""
    from core.catalogue.message import message
    from core.jobs import check_stages
    from core.training.chain import done_run

    if dry_run:
        print(message("chain.dry_run_first", stage=stages[0].label))
        return preflight(stages[0].config(), runs_dir)
    try:
        check_stages(stages, runs_dir)  # every stage's data, before the first stage trains for an hour
    except ConfigError as err:
        return fail(str(err))
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
            to_stderr(str(message("chain.stage_failed", stage=stage.label, number=stage.number, count=count,
                                   left=left, run=run.path if run else config.name)))
            return code
        previous = run
        finished.append(run.name)
    print(message("chain.done", count=count, runs=", ".join(finished)))
    return 0


def train_sweep(swept, runs_dir: str, dry_run: bool = False, yes: bool = False) -> int:
    """A sweep's runs one after another (a failed run does not stop the others; Ctrl-C does), each run's final
    held-out loss, then the runs ranked and the best named."""
    from core.catalogue.message import StudioError, message
    from core.jobs import check_inputs
    from core.measure import sweep_time
    from core.results import compare
    from core.runs import list_runs
    from core.training.sweep import MAX_SWEEP, value_word

    configs = swept.configs(swept.fresh_name(runs_dir))
    if dry_run:
        print(message("sweep.dry_run_first", run=configs[0].name, keys=", ".join(swept.swept)))
        return preflight(configs[0], runs_dir)
    try:
        check_inputs(configs[0], runs_dir)  # the runs share model and data: one missing is said once, up front
    except StudioError as err:
        return fail(str(err))
    if len(configs) > MAX_SWEEP and not yes:
        time_said = sweep_time.said(configs, list_runs(runs_dir), progress=to_stderr)
        return fail(str(message("sweep.too_many", count=len(configs), most=MAX_SWEEP, time=time_said)))
    runs, failed = [], []
    for number, (config, chosen) in enumerate(zip(configs, swept.combinations()), start=1):
        values = ", ".join(f"{key} {value_word(value)}" for key, value in chosen.items())
        print(message("sweep.starting", number=number, count=len(configs), run=config.name, values=values),
              flush=True)
        code, run = train_one(config, runs_dir)
        if run is None:
            failed.append(config.name)
            continue
        runs.append(run)
        row = compare.compared(run)
        if row.held_out_loss is None:
            print(message("sweep.run_no_loss", run=run.name, state=row.state), flush=True)
        else:
            print(message("sweep.run_loss", run=run.name, loss=compare.loss_text(row)), flush=True)
        if code != 0:
            failed.append(run.name)
            if row.state == "stopped":  # Ctrl-C: the user stops the sweep, not only this run
                print(message("sweep.stopped", runs=", ".join(c.name for c in configs[number:]) or "-"))
                break
    print_ranking(compare.ranked(runs))
    print(message("sweep.compare_hint", sweep=configs[0].sweep_of))
    if failed:
        return fail(str(message("sweep.failed", failed=len(failed), count=len(configs), runs=", ".join(failed))))
    return 0


def train_one(config: Config, runs_dir: str, previous=None) -> tuple[int, object]:
    """Train one run to its end with the progress bar: (exit code, the Run or None when it never started)."""
    from core.catalogue.message import StudioError
    from core.jobs import BusyError, JobRunner, check_inputs
    from core.runs import FINAL_STATES

    try:
        check_inputs(config, runs_dir)  # a missing model or data (or parent run) is said here, before a run folder
    except StudioError as err:
        return fail(str(err)), None
    runner = JobRunner(previous.path.parent if previous else runs_dir)
    try:
        run = runner.start(config, resume=previous)
    except BusyError as err:
        return fail(str(err)), None
    print(f"Run folder: {run.path}  (log: {run.log_file})")
    listen_for_ctrl_c()
    bar = ProgressBar()
    log_offset = 0
    try:
        while not runner.wait(timeout=1.0):
            log_offset = echo_new_log(run, log_offset, bar)
            bar.show(run.status(), run.read_metrics()[0])
    except KeyboardInterrupt:
        stop_after_ctrl_c(runner)
    echo_new_log(run, log_offset, bar)
    status = run.status()
    bar.show(status, run.read_metrics()[0], final=True)
    if status.get("state") == "completed":
        print(f"Done: {status.get('message')}\nTry it:  python launch.py chat {run.path} --prompt \"Who are you?\"")
        return 0, run
    if status.get("state") not in FINAL_STATES:
        return fail(f"run ended in state {status.get('state')}"), run
    return fail(f"{status.get('state')}: {status.get('message')}"), run


def preflight(config: Config, runs_dir: str = "runs") -> int:
    """Estimate, then two real steps on the longest rows: print the fit, peak memory and projected time.
    Exit 0 when the settings fit as they are; 1 otherwise, with the proposal printed."""
    from core.data.errors import DataError
    from core.measure import preflight as checks
    from core.models import parent
    from core.models.load import ModelError

    try:
        config.model.source = parent.in_runs_dir(config.model.source, runs_dir)  # where a real run would look
        report = checks.check(config, progress=to_stderr)
    except (DataError, ModelError, parent.ParentError, ValueError) as err:
        return fail(str(err))
    print("\n".join(map(str, report.lines())))
    print(report.verdict)
    if report.fits_as_configured or (report.skipped and not report.estimate_over_available):
        return 0  # a sharded plan is not measured: its per-GPU estimate decides
    return fail("these settings do not fit" + ("; the proposal above does" if report.proposal else ""))
