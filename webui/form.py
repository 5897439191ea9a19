"""Form widgets built from core/config.py's option metadata, and the one Config they add up to.

Every option's label and help line come from the config (translated in webui/i18n.py), so an option added there
appears here without touching the UI. Handlers receive the form as {component: value} and turn it back into a
Config with Config.from_dict, which validates exactly as the YAML file does.
"""

from __future__ import annotations

import dataclasses

import gradio as gr
import yaml

from core.config import (ChatSettings, ComputeConfig, Config, ConfigError, DataConfig, LoraConfig, ModelConfig,
                         TrainConfig)

SECTIONS = {"model": ModelConfig, "data": DataConfig, "lora": LoraConfig, "train": TrainConfig,
            "compute": ComputeConfig, "chat": ChatSettings}
LEARNING_RATES = ["auto", "1e-3", "5e-4", "2e-4", "1e-4", "5e-5"]
PROCESS_COUNTS = ["auto", "1", "2", "4", "8"]
GPU_WORDS = ("auto", "all", "none")
MAPPING_EXAMPLES = {"model.max_memory": "{0: 20GiB, cpu: 64GiB}",
                    "data.columns": "{prompt: question, completion: answer}",
                    "data.roles": "{customer: user, agent: assistant}", "data.placeholders": "{name: Nova}"}


def field_of(key: str, config_class=Config) -> dataclasses.Field:
    """The dataclass field of a dotted option key; `config_class` is Config or another config built with option()
    (core.making.config.MakeDataConfig), whose top-level fields are its sections or plain options."""
    if config_class is not Config:
        head, _, name = key.partition(".")
        top = next(f for f in dataclasses.fields(config_class) if f.name == head)
        return next(f for f in dataclasses.fields(top.default_factory) if f.name == name) if name else top
    if key == "name":
        return next(f for f in dataclasses.fields(Config) if f.name == "name")
    section, name = key.split(".")
    return next(f for f in dataclasses.fields(SECTIONS[section]) if f.name == name)


def default_of(key: str, config_class=Config):
    f = field_of(key, config_class)
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()


class Form:
    """The option widgets of every tab, keyed by their dotted config name ('train.learning_rate')."""

    def __init__(self, i18n, config_class=Config, label_prefix: str = ""):
        """`label_prefix` goes before each key in the catalogue ('making.' for MakeDataConfig's options)."""
        self.i18n = i18n
        self.config_class, self.label_prefix = config_class, label_prefix
        self.fields: dict[str, gr.components.Component] = {}

    def add(self, key: str, **overrides) -> gr.components.Component:
        """Create the widget for one option (inside the current Blocks layout) and remember it."""
        f = field_of(key, self.config_class)
        meta = f.metadata
        default = overrides.pop("value", default_of(key, self.config_class))
        words = self.label_prefix + key
        common = dict(label=self.i18n(f"{words}.label"), info=self.i18n(f"{words}.help"),
                      elem_id=_elem_id(self.label_prefix + key))
        common.update(overrides)
        suggestions = common.pop("choices", None)
        if key == "train.learning_rate":
            widget = gr.Dropdown(LEARNING_RATES, value=str(default), allow_custom_value=True, **common)
        elif key == "compute.gpus":  # several GPUs can be picked; the words auto/all/none stand alone
            # Custom values stay allowed: settings remembered by the browser may name a GPU this machine lacks,
            # which the plan line then explains instead of the widget failing.
            widget = gr.Dropdown(suggestions or list(GPU_WORDS), value=_to_widget(key, default), multiselect=True,
                                 allow_custom_value=True, **common)
        elif key == "compute.processes":
            widget = gr.Dropdown(PROCESS_COUNTS, value=str(default), allow_custom_value=True, **common)
        elif suggestions is not None:  # a free-text option with suggestions, e.g. model folders found here
            widget = gr.Dropdown(suggestions, value=default, allow_custom_value=True, **common)
        elif isinstance(default, list) and meta.get("choices"):  # several of a few names, e.g. grpo's rewards
            widget = gr.CheckboxGroup(list(meta["choices"]), value=default, **common)
        elif meta.get("choices"):
            widget = gr.Dropdown(list(meta["choices"]), value=default, allow_custom_value=bool(meta.get("pattern")),
                                 **common)
        elif isinstance(default, bool):
            widget = gr.Checkbox(value=default, **common)
        elif isinstance(default, (int, float)):
            widget = gr.Number(value=default, minimum=meta.get("min"), maximum=meta.get("max"),
                               precision=0 if isinstance(default, int) else None, **common)
        elif isinstance(default, dict):
            widget = gr.Textbox(value=mapping_text(default), placeholder=MAPPING_EXAMPLES.get(key, "{key: value}"),
                                **common)
        elif isinstance(default, list):  # a list of texts, one per line
            widget = gr.Textbox(value="\n".join(default), lines=3, **common)
        else:
            widget = gr.Textbox(value=default, **common)
        self.fields[key] = widget
        return widget

    def inputs(self) -> set:
        return set(self.fields.values())

    def config_from(self, values: dict):
        """Build and validate the form's config (its config_class: Config, or MakeDataConfig) from {component:
        value}; raises ConfigError naming the option."""
        nested: dict = {}
        for key, widget in self.fields.items():
            if widget not in values or (key.startswith("chat.") and self.config_class is Config):
                continue
            value = _from_widget(key, values[widget], self.config_class)
            if "." in key:
                section, name = key.split(".")
                nested.setdefault(section, {})[name] = value
            else:
                nested[key] = value
        return self.config_class.from_dict(nested, source="the form")

    def updates_from(self, config: Config) -> dict:
        """Widget updates that show `config` in the form (after loading a YAML file or a preset)."""
        flat = _flatten(config.to_dict())
        out = {}
        for key, widget in self.fields.items():
            if key in flat:
                out[widget] = gr.update(value=_to_widget(key, flat[key]))
        return out


def chat_settings_from(form: Form, values: dict) -> ChatSettings:
    kwargs = {}
    for key, widget in form.fields.items():
        if key.startswith("chat.") and widget in values:
            kwargs[key.split(".")[1]] = _from_widget(key, values[widget])
    return ChatSettings(**kwargs)


def _from_widget(key: str, value, config_class=Config):
    default = default_of(key, config_class)
    if isinstance(default, dict):
        if isinstance(value, dict):
            return value
        text = (value or "").strip()
        if not text:
            return {}
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            parsed = None
        if not isinstance(parsed, dict):
            example = MAPPING_EXAMPLES.get(key, "{key: value}")
            raise ConfigError("config.form_not_a_mapping", key=key, example=example, text=repr(text))
        return parsed
    if key == "train.probes":
        return [line.strip() for line in (value or "").splitlines() if line.strip()]
    if key == "lora.target_modules":
        if isinstance(value, list):
            return "all-linear" if (not value or "all-linear" in value) else value
    if key == "compute.gpus":
        return gpus_value(value)
    if isinstance(default, list) and isinstance(value, str):  # a list of texts, one per line
        return [line.strip() for line in value.splitlines() if line.strip()]
    if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, float):
        return int(value) if value.is_integer() else value  # gr.Number hands back 8.0 for 8
    return value


def _to_widget(key: str, value):
    if isinstance(default_of(key), dict):
        return mapping_text(value)
    if key == "train.learning_rate":
        return str(value)
    if key == "train.probes":
        return "\n".join(value)
    if key == "lora.target_modules":
        return [value] if isinstance(value, str) else value
    if key == "compute.gpus":
        return [value] if value in GPU_WORDS else value.split(",")
    if key == "compute.processes":
        return str(value)
    return value


def gpus_value(picked) -> str:
    """The GPU picker's selection as compute.gpus: the latest pick decides between a word (auto, all, none) and
    GPU numbers, so picking GPU 1 after 'auto' means GPU 1, and 'none' after GPUs means the CPU."""
    if isinstance(picked, str):
        return picked
    picked = [str(p) for p in picked or []]
    if not picked:
        return "auto"
    if picked[-1] in GPU_WORDS:
        return picked[-1]
    numbers = [p for p in picked if p not in GPU_WORDS]
    return ",".join(sorted(set(numbers), key=int)) if all(p.isdigit() for p in numbers) else ",".join(numbers)


def mapping_text(mapping: dict) -> str:
    """A mapping as one line of YAML, in the order it was given: '{prompt: frage, completion: antwort}'."""
    if not mapping:
        return ""
    return yaml.safe_dump(mapping, default_flow_style=True, allow_unicode=True, sort_keys=False).strip()


def _flatten(nested: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in nested.items():
        if isinstance(value, dict) and key in SECTIONS:
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _elem_id(key: str) -> str:
    return "opt-" + key.replace(".", "-").replace("_", "-")
