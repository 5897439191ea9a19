"""A finished run as the source of a new one (model.source `run:NAME`): finding it, refusing what cannot be started
from, and what its weights are.

A run's own config.yaml records its parent as `model.source: run:<the parent's folder>` (resolved when the run
starts, so the chain holds wherever the runs folder is read from) and `model.start` as the way it started.
Loading the chain (the parent's base, its adapter on it, merged or kept trainable) is core.models.load's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.catalogue.message import StudioError
from core.config import Config
from core.runs import Run, list_runs

PREFIX = "run:"
FINISHED = ("completed", "stopped")  # states in which a run has saved its adapter or model


class ParentError(StudioError, RuntimeError):
    """The run named as the source cannot be started from; the message says why and what there is instead."""


def names_run(source: str) -> bool:
    return str(source).startswith(PREFIX)


def folder_of(source: str, runs_dir: str | Path = "runs") -> Path:
    """The run folder `run:NAME` (a run in `runs_dir`) or `run:/path/to/run` (a folder) names."""
    text = source[len(PREFIX):].strip()
    path = Path(text).expanduser()
    if path.is_absolute() or "/" in text or "\\" in text:
        return path
    return Path(runs_dir) / text


def find(source: str, runs_dir: str | Path = "runs") -> tuple[Run, Config]:
    """(the parent run, its config), checked: it exists, it finished, and it saved weights."""
    run = Run(folder_of(source, runs_dir))
    if not run.config_file.exists() or not run.status_file.exists():
        raise ParentError("models.parent.no_such_run", name=source[len(PREFIX):].strip(), folder=str(run.path),
                          finished=finished_names(run.path.parent) or "-")
    state = run.status().get("state", "")
    if state not in FINISHED:
        raise ParentError("models.parent.not_finished", name=run.name, state=state)
    if not run.has_weights():
        raise ParentError("models.parent.no_weights", name=run.name, folder=str(run.path))
    return run, Config.from_yaml(run.config_file)


def finished_runs(runs_dir: str | Path) -> list[Run]:
    """The runs in `runs_dir` a new run can start from, newest first: finished, with weights saved."""
    return [run for run in list_runs(runs_dir) if run.status().get("state") in FINISHED and run.has_weights()]


def finished_names(runs_dir: Path) -> str:
    """The runs in `runs_dir` a new run can start from, for the message that names none of them."""
    return ", ".join(run.name for run in finished_runs(runs_dir))


def recorded(source: str, runs_dir: str | Path) -> str:
    """The source as the new run's config.yaml records it: `run:` and the parent's absolute folder (checked)."""
    run, _ = find(source, runs_dir)
    return PREFIX + str(run.path.resolve())


def in_runs_dir(source: str, runs_dir: str | Path) -> str:
    """A `run:NAME` source as the parent's own folder, found in `runs_dir`, so what loads it later (the fit check,
    a run process started elsewhere) need not know the runs folder; any other source as it is."""
    return recorded(source, runs_dir) if names_run(source) else source


def whole_model(run: Run) -> bool:
    """Whether the run saved a whole model (full or freeze tuning), which is then started from as it is."""
    return run.has_model() and not run.has_adapter()


@dataclass
class Lineage:
    """What a finished run is, as a base for a new one: its config, last held-out loss, and the chain below it."""

    run: Run
    config: Config
    eval_loss: float | None  # the last one measured; None when the run held none out
    base: str  # model.source at the bottom of the chain (a model, or the run: source of a parent gone since)
    below: list[str]  # the names of the runs between this one and that base, nearest first


def lineage(source: str, runs_dir: str | Path = "runs") -> Lineage:
    """The run `source` names, checked as `find` does (raises ParentError), with the chain it stands on. Each run
    records its parent by folder, so the chain is followed wherever the runs folder is."""
    run, config = find(source, runs_dir)
    losses = [row["eval_loss"] for row in run.read_metrics()[0] if row.get("eval_loss") is not None]
    base, below, seen = config.model.source, [], {run.path.resolve()}
    while names_run(base):
        try:
            parent_run, parent_config = find(base, run.path.parent)
        except (StudioError, OSError):
            break  # a parent deleted or broken since: the chain is told as far as it goes
        if parent_run.path.resolve() in seen:
            break
        seen.add(parent_run.path.resolve())
        below.append(parent_run.name)
        base = parent_config.model.source
    return Lineage(run, config, losses[-1] if losses else None, base, below)
