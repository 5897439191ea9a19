"""A finished run as the source of a new one (model.source `run:NAME`): finding it, refusing what cannot be started
from, and what its weights are.

A run's own config.yaml records its parent as `model.source: run:<the parent's folder>` (resolved when the run
starts, so the chain holds wherever the runs folder is read from) and `model.start` as the way it started.
Loading the chain (the parent's base, its adapter on it, merged or kept trainable) is core.models.load's.
"""

from __future__ import annotations

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


def whole_model(run: Run) -> bool:
    """Whether the run saved a whole model (full or freeze tuning), which is then started from as it is."""
    return run.has_model() and not run.has_adapter()
