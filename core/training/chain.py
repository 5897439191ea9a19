"""A config that lists `stages:`: several runs in order, each starting from the one before (pretraining, then SFT,
then DPO, as the Phi2-mini-Chinese write-up trains).

The keys outside `stages:` are shared by every stage; each stage is a partial config laid over them (nested keys
merge, so a stage that sets `train.method` keeps the shared `train.max_length`). A stage's run is named
`<name>-<the stage's name>` (or `<name>-<its number>` when it has none). Every stage after the first starts from the
run of the stage before (`model.source: run:<that run's folder>`, `model.start: build_on`: its adapter merged, a
new adapter on top; for DPO the reference model is then the stage before, not the original base) unless it names a
`model.source` itself. Run again, the chain skips the stages whose runs finished with the same settings and data.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.config import Config, ConfigError, key_lines
from core.models import parent
from core.runs import Run

START = "build_on"


@dataclass
class Stage:
    label: str  # the stage's name, or its number from 1
    number: int
    values: dict  # the merged config values; model.source is filled in once the stage before has its run
    lines: dict  # dotted key -> line in the file, for errors
    source: str  # the file, for errors
    follows: bool  # True when it starts from the stage before's run
    chain: str = ""  # the chain's name (the file's name:), which each stage's run name starts with

    def rename(self, chain: str) -> None:
        """Name the chain `chain` (`launch.py queue add --name`): this stage's run becomes <chain>-<label>."""
        self.chain = chain
        self.values["name"] = f"{chain}-{self.label}"
        self.config()  # a name that is not a folder name is said now

    def config(self, previous_run: Path | None = None) -> Config:
        """This stage's config; `previous_run` is the folder of the stage before's finished run."""
        values = copy.deepcopy(self.values)
        if self.follows:
            model = values.setdefault("model", {})
            # Before the stage before has run, a stand-in the checks accept: only the data and options are checked.
            model["source"] = parent.PREFIX + str(previous_run) if previous_run else "default"
            model.setdefault("start", START)
        return Config.from_dict(values, source=f"{self.source} (stage {self.label})", lines=self.lines)


def read(path: str | Path) -> list[Stage] | None:
    """The stages of the config file at `path`, checked as configs; None when it has no `stages:`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, UnicodeDecodeError):
        return None  # Config.from_yaml says what is wrong with the file
    try:
        values, root = yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError:
        return None
    if not isinstance(values, dict) or "stages" not in values:
        return None
    return stages_of(values, root, str(path))


def stages_of(values: dict, root, source: str) -> list[Stage]:
    shared = {key: value for key, value in values.items() if key != "stages"}
    lines = key_lines(root)
    where = {"source": source, "line": lines.get("stages", 0)}
    listed = values["stages"]
    if not isinstance(listed, list) or not listed or not all(isinstance(s, dict) for s in listed):
        raise ConfigError("config.stages.not_a_list", **where, found=repr(listed)[:80])
    nodes = _stage_nodes(root)
    name = str(shared.get("name", Config.name))
    stages, labels = [], set()
    for number, partial in enumerate(listed, start=1):
        partial = dict(partial)
        label = str(partial.pop("name", number))
        if label in labels:
            raise ConfigError("config.stages.same_name", **where, stage=label)
        labels.add(label)
        merged = _merged(shared, partial)
        merged["name"] = f"{name}-{label}"
        stage_lines = {**lines, **(key_lines(nodes[number - 1]) if number <= len(nodes) else {})}
        follows = number > 1 and "source" not in (partial.get("model") or {})
        stage = Stage(label, number, merged, stage_lines, source, follows, name)
        stage.config()  # a bad key or value is said now, naming the stage and its line
        stages.append(stage)
    return stages


def done_run(config: Config, runs_dir: str | Path) -> Run | None:
    """This stage's run from an earlier pass of the chain, when it finished with the same settings and its data
    files have not changed since it started: a chain run again after a failed stage picks up where it stopped
    instead of training the finished stages again."""
    run = Run(Path(runs_dir) / config.name)
    status = run.status()
    if status.get("state") != "completed" or not run.config_file.exists():
        return None
    try:
        recorded = Config.from_yaml(run.config_file)
    except ConfigError:
        return None
    if _settings(recorded) != _settings(config):
        return None
    started = status.get("started_at") or 0
    for path in filter(None, (config.data.path, config.data.eval_path)):
        if Path(path).exists() and Path(path).stat().st_mtime > started:
            return None
    return run


def _settings(config: Config) -> dict:
    return {key: value for key, value in config.to_dict().items() if key != "name"}


class StageError(ConfigError):
    """A stage that cannot start; the message names it and why."""


def _merged(shared: dict, partial: dict) -> dict:
    merged = copy.deepcopy(shared)
    for key, value in partial.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _stage_nodes(root) -> list:
    if isinstance(root, yaml.MappingNode):
        for key_node, value_node in root.value:
            if key_node.value == "stages" and isinstance(value_node, yaml.SequenceNode):
                return list(value_node.value)
    return []
