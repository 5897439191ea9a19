"""A config that lists `sweep:`: one run per combination of a few values of numeric options (learning rate 1e-4,
3e-4, 1e-3; LoRA rank 8 and 32), run one after another and compared by their final held-out loss.

`sweep:` maps option keys, dotted as in the config file (`train.learning_rate`, `lora.r`), to lists of values; the
other keys of the file are shared by every run. A run is named `<name>-<short key><value>` for each swept key in
the file's order: `demo-lr3e-4`, `demo-r8`, `demo-lr3e-4-r8`. The short key is SHORT_KEYS' word where it has one,
else the option's own name (`train.epochs` -> `epochs2`); a value is written short: 3e-4 below 0.01 (not 0.0003),
else plainly (0.03; 8, not 8.0). Each run's config.yaml records `sweep_of: <name>` so the runs can be found
together again. A sweep and `stages:` in one file are refused: a chain per value is a different thing.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import itertools
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.catalogue.message import Message
from core.config import ALIASES, Config, ConfigError, key_lines

MAX_SWEEP = 12  # more runs than this are started only when confirmed (`launch.py train --yes`, the panel's tick)
SHORT_KEYS = {"train.learning_rate": "lr", "lora.r": "r", "lora.alpha": "alpha", "lora.dropout": "dropout",
              "train.batch_size": "bs", "train.grad_accum": "accum", "train.max_steps": "steps",
              "train.warmup_fraction": "warmup", "train.weight_decay": "wd", "data.replay": "replay"}
SECTIONS = ("model", "data", "lora", "train", "compute")


@dataclass
class Sweep:
    name: str  # the shared name: runs are <name>-<short key><value>..., each with sweep_of: <name>
    values: dict  # the shared config values (without sweep:)
    swept: dict  # dotted key -> its values, in the file's order
    source: str  # the file (or the panel), for errors
    lines: dict  # dotted key -> line in the file

    @property
    def count(self) -> int:
        size = 1
        for listed in self.swept.values():
            size *= len(listed)
        return size

    def combinations(self) -> list[dict]:
        """{dotted key: value} of each run, in the order they run."""
        keys = list(self.swept)
        return [dict(zip(keys, chosen)) for chosen in itertools.product(*self.swept.values())]

    def configs(self, name: str | None = None) -> list[Config]:
        """One checked Config per combination; `name` replaces the shared name (fresh_name's, when runs of an
        earlier pass of this sweep are in the runs folder)."""
        return [self._config(chosen, name or self.name) for chosen in self.combinations()]

    def fresh_name(self, runs_dir: str | Path, taken=()) -> str:
        """The shared name, or <name>-2, -3 ... when a run of this sweep's names is already there (or `taken`, by a
        queued run): a run folder that is taken would be renamed alone (runs.unique_name turns demo-lr3e-4 into
        demo-lr3e-2, which reads as another learning rate), so the whole sweep takes a new name instead."""
        runs_dir, number, name, taken = Path(runs_dir), 1, self.name, set(taken)
        while any((runs_dir / run_name(name, chosen)).exists() or run_name(name, chosen) in taken
                  for chosen in self.combinations()):
            number += 1
            name = f"{self.name}-{number}"
        return name

    def _config(self, chosen: dict, name: str) -> Config:
        values = copy.deepcopy(self.values)
        for dotted, value in chosen.items():
            section, option_name = dotted.split(".")
            if values.get(section) is None:  # absent, or an empty `train:` in the file
                values[section] = {}
            if isinstance(values[section], dict):  # else Config says the section is not a mapping
                values[section][option_name] = value
        values["name"], values["sweep_of"] = run_name(name, chosen), name
        # Errors point at the sweep's line for the swept key, and name the value tried.
        lines = {**self.lines, **{key: self.lines.get(f"sweep.{key}", self.lines.get("sweep")) for key in chosen}}
        said = ", ".join(f"{key}: {value}" for key, value in chosen.items())
        return Config.from_dict(values, source=f"{self.source} (sweep, {said})", lines=lines)


def read(path: str | Path) -> Sweep | None:
    """The sweep of the config file at `path`, every run's config checked; None when it has no `sweep:`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        values, root = yaml.safe_load(text), yaml.compose(text)
    except (FileNotFoundError, UnicodeDecodeError, yaml.YAMLError):
        return None  # Config.from_yaml says what is wrong with the file
    if not isinstance(values, dict) or "sweep" not in values:
        return None
    return sweep_of(values, str(path), key_lines(root))


def sweep_of(values: dict, source: str, lines: dict | None = None) -> Sweep:
    """The sweep of config values holding `sweep:` (a file's, or the Sweep panel's), checked."""
    lines = lines or {}
    where = _where(source, lines.get("sweep"))
    if "stages" in values:
        raise ConfigError("config.sweep.with_stages", where=where)
    listed = values["sweep"]
    if not isinstance(listed, dict) or not listed:
        raise ConfigError("config.sweep.not_a_mapping", where=where, found=repr(listed)[:80])
    swept = {}
    for key, items in listed.items():
        at = {"where": _where(source, lines.get(f"sweep.{key}", lines.get("sweep"))), "key": key}
        _check_key(str(key), at)
        if not isinstance(items, list) or not items:
            raise ConfigError("config.sweep.no_values", **at, found=repr(items)[:80])
        words = [value_word(item) for item in items]
        twice = next((item for item, word in zip(items, words) if words.count(word) > 1), None)
        if twice is not None:
            raise ConfigError("config.sweep.same_value", **at, value=value_word(twice))
        swept[str(key)] = list(items)
    shared = {key: value for key, value in values.items() if key != "sweep"}
    sweep = Sweep(str(shared.get("name", Config.name)), shared, swept, source, lines)
    for chosen in sweep.combinations():  # a value out of range is said now, naming the key and the value
        sweep._config(chosen, sweep.name)
    return sweep


def numeric_keys() -> list[str]:
    """The dotted keys a sweep may vary: the options that hold a number (or 'auto' or a number)."""
    found = []
    for section in dataclasses.fields(Config):
        if section.name not in SECTIONS:
            continue
        for f in dataclasses.fields(section.default_factory):
            if _numeric(f):
                found.append(f"{section.name}.{f.name}")
    return found


def run_name(name: str, chosen: dict) -> str:
    return "-".join([name, *(f"{short_key(key)}{value_word(value)}" for key, value in chosen.items())])


def short_key(dotted: str) -> str:
    return SHORT_KEYS.get(dotted, dotted.split(".")[-1])


def value_word(value) -> str:
    """3e-4 for 0.0003 and for the text "3e-4" (YAML reads 3e-4 without a dot as text), 8 for 8.0, 0.05 as is."""
    try:
        number = float(value) if not isinstance(value, bool) else None  # true is no number: the check says so
    except (TypeError, ValueError):
        number = None
    if number is None:
        return str(value).strip()
    if number == int(number) and abs(number) < 1e6:
        return str(int(number))
    if abs(number) < 1e-2:
        mantissa, exponent = f"{number:e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return f"{number:g}"


def _check_key(key: str, at: dict) -> None:
    section, _, option_name = key.partition(".")
    fields = {f.name: f for s in dataclasses.fields(Config) if s.name == section and s.name in SECTIONS
              for f in dataclasses.fields(s.default_factory)}
    if option_name in fields and _numeric(fields[option_name]):
        return
    numeric = numeric_keys()
    if option_name in fields:
        raise ConfigError("config.sweep.not_numeric", **at, numeric=", ".join(numeric))
    alias = f"{section}.{ALIASES.get(option_name)}"
    hint = [alias] if alias in numeric else difflib.get_close_matches(key, numeric, n=1)
    if hint:
        raise ConfigError("config.sweep.unknown_key_hint", **at, hint=hint[0], numeric=", ".join(numeric))
    raise ConfigError("config.sweep.unknown_key", **at, numeric=", ".join(numeric))


def _where(source: str, line: int | None) -> Message:
    """'sweep.yaml line 3: ', or 'the Sweep panel: ' where there are no lines (core.config says it the same way)."""
    return Message("config.where_line", {"source": source, "line": line}) if line else \
        Message("config.where", {"source": source})


def _numeric(f: dataclasses.Field) -> bool:
    if f.metadata.get("auto_or_number") or f.metadata.get("auto_or_count"):
        return True
    return isinstance(f.default, (int, float)) and not isinstance(f.default, bool)
