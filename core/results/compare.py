"""Runs side by side, ranked by their final held-out loss: what `launch.py train` of a sweep prints at its end,
`launch.py compare` prints, and Compare runs on the Train tab shows.

The held-out loss ranks, not the train loss: a learning rate too high drives the train loss down fastest while the
held-out loss climbs. A run without one (no held-out rows, or stopped before its first evaluation) is listed but
not ranked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.catalogue.message import Message, message
from core.config import Config, ConfigError
from core.runs import Run, duration_text, elapsed_seconds
from core.training import probes

KEPT_WHOLE = ("columns", "roles", "placeholders")  # mappings that are one option each, not sections


@dataclass
class Compared:
    run: Run
    held_out_loss: float | None  # the last evaluation's
    seconds: float  # how long it took, earlier attempts (before a resume) included
    state: str
    settings: dict = field(default_factory=dict)  # dotted option key -> value, from its config.yaml
    prompts: list[str] = field(default_factory=list)  # the probe prompts of its last probe round
    answers: list[str] = field(default_factory=list)  # and the answers given there

    @property
    def name(self) -> str:
        return self.run.name


def compared(run: Run) -> Compared:
    points = run.read_metrics()[0]
    losses = [p["eval_loss"] for p in points if p.get("eval_loss") is not None]
    status = run.status()
    rounds = probes.read_probes(run)
    last = rounds[-1] if rounds else {}
    return Compared(run, losses[-1] if losses else None, elapsed_seconds(status), str(status.get("state", "")),
                    flatten(_config(run)), list(last.get("prompts", [])), list(last.get("answers", [])))


def ranked(runs: list[Run]) -> list[Compared]:
    """The runs, lowest final held-out loss first; those without one after them, in the order given."""
    rows = [compared(run) for run in runs]
    return sorted(rows, key=lambda row: (row.held_out_loss is None, row.held_out_loss or 0.0))


def best(rows: list[Compared]) -> Compared | None:
    scored = [row for row in rows if row.held_out_loss is not None]
    return min(scored, key=lambda row: row.held_out_loss) if scored else None


def verdict(rows: list[Compared]) -> Message:
    """'Best by held-out loss: NAME (1.234)', or why there is none."""
    top = best(rows)
    if top is None:
        return message("compare.no_best")
    return message("compare.best", run=top.name, loss=loss_text(top))


def table_lines(rows: list[Compared]) -> list[str]:
    """The runs as a plain-text table (the command line's): held-out loss, time, state, the settings that differ."""
    varied = differing(rows)
    header = [str(message(key)) for key in ("compare.run", "compare.held_out_loss", "compare.time",
                                            "compare.state")] + varied
    table = [header] + [[row.name, loss_text(row), duration_text(row.seconds), row.state,
                         *(str(row.settings.get(key, "")) for key in varied)] for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]


def loss_text(row: Compared) -> str:
    return "-" if row.held_out_loss is None else f"{row.held_out_loss:.4f}"


def differing(rows: list[Compared]) -> list[str]:
    """The settings whose values differ between the runs (the name and the sweep aside): what was varied."""
    keys = sorted({key for row in rows for key in row.settings} - {"name", "sweep_of"})
    return [key for key in keys if len({repr(row.settings.get(key)) for row in rows}) > 1]


def of_sweep(runs: list[Run], sweep: str) -> list[Run]:
    """The runs whose config.yaml records `sweep_of: <sweep>`, in the order given."""
    return [run for run in runs if _config(run).get("sweep_of") == sweep]


def sweeps(runs: list[Run]) -> list[str]:
    """The sweeps the runs are of, in the order their runs come (newest first from runs.list_runs)."""
    return list(dict.fromkeys(name for name in (_config(run).get("sweep_of") for run in runs) if name))


def flatten(values: dict, prefix: str = "") -> dict:
    """{'train': {'epochs': 3}} -> {'train.epochs': 3}: the option names the Settings tab and config files use."""
    out = {}
    for key, value in values.items():
        if isinstance(value, dict) and key not in KEPT_WHOLE:
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _config(run: Run) -> dict:
    try:
        return Config.from_yaml(run.config_file).to_dict()
    except ConfigError:  # a damaged config: the run is still listed with its losses
        return {}
