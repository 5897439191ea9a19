"""Every option of a run, defined once: its default and its allowed values.

The UI builds its widgets from this metadata, the YAML file and the command line read the same dataclasses,
so an option is added in exactly one place. Its words live in the catalogue, core/catalogue/options.py: its label
under '<section>.<option>.label' and its help line under '<section>.<option>.help', in every language.
`Config.from_yaml` refuses unknown keys and bad values with a message that names the file, the line and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.catalogue.message import Message, StudioError


class ConfigError(StudioError, ValueError):
    """A config value the user must fix: a key 'config.<name>' of the catalogue (core/catalogue/runs.py); str() is
    the English, which names the key (and file and line when known)."""


def option(default, *, choices=None, minimum=None, maximum=None, **extra):
    """A dataclass field with the metadata the UI, the CLI and validation read."""
    meta = {"choices": choices, "min": minimum, "max": maximum, **extra}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


# Names other tools use for our options, so a pasted config gets a pointed suggestion.
ALIASES = {"rank": "r", "lora_r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout",
           "lr": "learning_rate", "num_train_epochs": "epochs", "per_device_train_batch_size": "batch_size",
           "gradient_accumulation_steps": "grad_accum", "max_seq_length": "max_length", "cutoff_len": "max_length",
           "lr_scheduler_type": "scheduler", "model_name_or_path": "source", "dataset": "path"}

QUANTIZATIONS = ("none", "8bit", "4bit")
START_MODES = ("continue", "build_on")  # how a run whose model.source is run:NAME starts from it (core.models.parent)
HUBS = ("huggingface", "modelscope")  # kept in step with core.hub.settings.HUBS
DEVICE_MAPS = ("auto", "balanced", "balanced_low_0", "sequential", "cpu")  # plus "cuda:N"
DATA_FORMATS = ("auto", "alpaca", "sharegpt", "messages", "prompt_completion", "text", "preference",
                "unpaired_preference")
# Kept in step with core.data.formats (MAPPABLE, CANONICAL_ROLES); a test checks they agree.
MAPPABLE_COLUMNS = ("instruction", "input", "output", "system", "history", "prompt", "completion", "messages",
                    "conversations", "text", "chosen", "rejected", "label", "role", "content")
CHAT_ROLES = ("user", "assistant", "system", "tool")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")
STRATEGIES = ("auto", "single", "model_parallel", "ddp", "fsdp", "deepspeed_zero2", "deepspeed_zero3")
METHODS = ("sft", "dpo", "orpo", "kto", "cpt", "grpo")
PREFERENCE_METHODS = ("dpo", "orpo", "kto")
REWARDS = ("answer", "format", "length")  # grpo's rewards (core.training.rewards), chosen on the form
FORMAT_PRESETS = ("answer_is", "think_then_answer")  # train.format_pattern's named patterns, or a regex of one's own
ANSWER_PATTERN = r"(?:answer is|答案是)[:：]?\s*(.+)"  # how a final answer is found (core.data.answers)
TUNINGS = ("lora", "full", "freeze")
DPO_LOSSES = ("sigmoid", "ipo", "hinge", "robust", "sigmoid_norm", "apo_zero")
TRACKERS = ("none", "tensorboard", "wandb", "swanlab", "trackio")
GGUF_TYPES = ("auto", "f16", "bf16", "q8_0", "f32")  # what the converter writes itself; k-quants need llama.cpp
# max_memory keys accelerate understands: a GPU number (cuda:N is accepted and read as N), cpu, or disk.
MEMORY_KEY = re.compile(r"^(\d+|cuda:\d+|cpu|disk)$")
MEMORY_SIZE = re.compile(r"^\d+(\.\d+)?\s*(GiB|GB|MiB|MB|KiB|KB)$")


@dataclass
class ModelConfig:
    """Which base model to fine-tune and how to place it on the hardware."""

    source: str = option("default")
    start: str = option("build_on", choices=START_MODES)
    system_prompt: str = option("none")
    quantization: str = option("none", choices=QUANTIZATIONS)
    device_map: str = option("auto", pattern=r"^(auto|balanced|balanced_low_0|sequential|cpu|cuda:\d+)$",
                             choices=DEVICE_MAPS)
    max_memory: dict = option({}, memory=True)
    dtype: str = option("auto", choices=("auto", "float32", "bfloat16", "float16"))
    trust_remote_code: bool = option(False)
    hub: str = option("huggingface", choices=HUBS)
    hub_endpoint: str = option("")  # an address; checked where it is used (core.hub.settings.HubSettings)


@dataclass
class DataConfig:
    """The training data."""

    path: str = option("assets/datasets/identity.jsonl")
    format: str = option("auto", choices=DATA_FORMATS)
    eval_fraction: float = option(0.1, minimum=0.0, maximum=0.5)
    replay: int = option(20, minimum=0, maximum=200)
    columns: dict = option({}, keys=MAPPABLE_COLUMNS)
    roles: dict = option({}, values=CHAT_ROLES)
    placeholders: dict = option({})
    eval_path: str = option("")
    skip_bad_rows: bool = option(False)


@dataclass
class LoraConfig:
    """The LoRA adapter: small trainable matrices added beside the frozen weights."""

    r: int = option(16, minimum=1, maximum=1024)
    alpha: int = option(32, minimum=1, maximum=4096)
    dropout: float = option(0.05, minimum=0.0, maximum=0.9)
    target_modules: typing.Union[str, list] = option("all-linear", names=True)
    use_rslora: bool = option(False)
    use_dora: bool = option(False)


@dataclass
class TrainConfig:
    """How long and how hard to train."""

    method: str = option("sft", choices=METHODS)
    tuning: str = option("lora", choices=TUNINGS)
    freeze_trainable_layers: int = option(2, minimum=1, maximum=1000, tunings=("freeze",))
    beta: float = option(0.1, minimum=0.0, maximum=10.0, methods=PREFERENCE_METHODS + ("grpo",))
    dpo_loss: str = option("sigmoid", choices=DPO_LOSSES, methods=("dpo",))
    sft_weight: float = option(0.0, minimum=0.0, maximum=10.0, methods=("dpo",))
    desirable_weight: float = option(1.0, minimum=0.0, maximum=100.0, methods=("kto",))
    undesirable_weight: float = option(1.0, minimum=0.0, maximum=100.0, methods=("kto",))
    # ---- grpo: completions sampled per prompt, scored by rewards that check them (core.training.rewards) ---------
    rewards: list = option(["answer", "format"], texts=True, choices=REWARDS, methods=("grpo",))
    answer_weight: float = option(1.0, minimum=0.0, maximum=100.0, methods=("grpo",))
    format_weight: float = option(0.5, minimum=0.0, maximum=100.0, methods=("grpo",))
    length_weight: float = option(0.5, minimum=0.0, maximum=100.0, methods=("grpo",))
    num_generations: int = option(4, minimum=2, maximum=64, methods=("grpo",))
    completion_length: int = option(96, minimum=8, maximum=32768, methods=("grpo",))
    temperature: float = option(1.0, minimum=0.1, maximum=2.0, methods=("grpo",))
    answer_pattern: str = option(ANSWER_PATTERN, methods=("grpo",))
    format_pattern: str = option("answer_is", choices=FORMAT_PRESETS, pattern=r"(?s).+", methods=("grpo",))
    length_limit: int = option(64, minimum=1, maximum=32768, methods=("grpo",))
    reward_file: str = option("", methods=("grpo",))
    run_reward_code: bool = option(False, methods=("grpo",))
    epochs: float = option(3.0, minimum=0.01, maximum=1000)
    # 0 is refused: it reads like "no limit" but the Trainer would count epochs and still stop after one step.
    max_steps: int = option(-1, minimum=-1, zero_refused=True)
    learning_rate: typing.Union[float, str] = option("auto", minimum=1e-7, maximum=1.0, auto_or_number=True)
    batch_size: int = option(8, minimum=1, maximum=4096)
    grad_accum: int = option(1, minimum=1, maximum=1024)
    max_length: int = option(1024, minimum=16, maximum=131072)
    seed: int = option(42)
    scheduler: str = option("cosine", choices=SCHEDULERS)
    warmup_fraction: float = option(0.05, minimum=0.0, maximum=0.5)
    gradient_checkpointing: str = option("auto", choices=("auto", "on", "off"))
    weight_decay: float = option(0.0, minimum=0.0, maximum=1.0)
    max_grad_norm: float = option(1.0, minimum=0.0)
    eval_every: int = option(0, minimum=0)
    save_every: int = option(0, minimum=0)
    logging_every: int = option(1, minimum=1)
    retry_on_oom: bool = option(True)
    probes: list = option([], texts=True)
    # ---- speed: 'auto' values are chosen by core.training.speed from measurements, and the run log says why ----------
    padding_free: str = option("auto", choices=("auto", "on", "off"), methods=("sft",))
    packing: bool = option(False, methods=("sft",))
    attention: str = option("auto", choices=("auto", "sdpa", "eager", "flash_attention_2"))
    liger_kernel: str = option("auto", choices=("auto", "on", "off"))
    group_by_length: bool = option(False, methods=("sft", "dpo", "orpo", "cpt"))
    torch_compile: bool = option(False)
    report_to: str = option("none", choices=TRACKERS)


@dataclass
class ComputeConfig:
    """Which GPUs a run trains on and how they share the work (core.models.compute turns 'auto' into a plan)."""

    gpus: str = option("auto", pattern=r"^(auto|all|none|\d+(\s*,\s*\d+)*)$", choices=("auto", "all", "none"),
                       gpu_list=True)
    strategy: str = option("auto", choices=STRATEGIES)
    processes: typing.Union[str, int] = option("auto", minimum=1, maximum=64, auto_or_count=True)


@dataclass
class Config:
    """A whole run: what `config.yaml` in a run folder holds and `launch.py train` replays."""

    name: str = option("my-run", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
    # Written by a sweep (core.training.sweep) into each of its runs, so Compare runs can find them together.
    sweep_of: str = option("")
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    compute: ComputeConfig = field(default_factory=ComputeConfig)

    # ---- YAML round trip -------------------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Config":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError("config.no_file", path=str(path)) from None
        except UnicodeDecodeError:
            raise ConfigError("config.not_utf8", path=str(path)) from None
        return cls.from_yaml_text(text, source=str(path))

    @classmethod
    def from_yaml_text(cls, text: str, source: str = "config") -> "Config":
        try:
            values = yaml.safe_load(text) or {}
            lines = key_lines(yaml.compose(text))
        except yaml.YAMLError as err:
            mark, problem = getattr(err, "problem_mark", None), str(getattr(err, "problem", err))
            if mark:
                raise ConfigError("config.yaml_invalid_at", source=source, line=mark.line + 1,
                                  column=mark.column + 1, problem=problem) from None
            raise ConfigError("config.yaml_invalid", source=source, problem=problem) from None
        if not isinstance(values, dict):
            raise ConfigError("config.not_a_mapping", source=source, found=type(values).__name__)
        return cls.from_dict(values, source=source, lines=lines)

    @classmethod
    def from_dict(cls, values: dict, source: str = "config", lines: dict | None = None) -> "Config":
        config = _build(cls, values, prefix="", source=source, lines=lines or {})
        _check_together(config, source, lines or {})
        return config

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def save(self, path: str | Path) -> None:
        from core.runs import write_text_atomic  # local import: runs imports nothing from here at module level

        write_text_atomic(Path(path), self.to_yaml())


def options(section) -> list[tuple[str, dataclasses.Field]]:
    """The fields of a config section with their metadata, in order (for the UI and docs)."""
    return [(f.name, f) for f in dataclasses.fields(section)]


# ---- validation ------------------------------------------------------------------------------------------------
# Every error names where the value was read ("run.yaml line 3: "), the option's dotted key and the value found:
# its values are `where` (a Message), `key` and `found` (the value as YAML-ish repr), plus what the check adds.

def _build(cls, values: dict, prefix: str, source: str, lines: dict):
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        where = _where(source, lines, dotted)
        if key not in known:
            raise _unknown_key(key, prefix, known, where)
        f = known[key]
        if dataclasses.is_dataclass(f.default_factory if f.default_factory is not dataclasses.MISSING else None):
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ConfigError("config.not_a_section", where=where, key=dotted,
                                  names=", ".join(_names(f.default_factory)), found=repr(value))
            kwargs[key] = _build(f.default_factory, value, f"{dotted}.", source, lines)
        else:
            kwargs[key] = _check_value(f, value, dotted, where)
    return cls(**kwargs)


def _unknown_key(key, prefix: str, known: dict, where: Message) -> ConfigError:
    hint = [ALIASES[key]] if ALIASES.get(key) in known else difflib.get_close_matches(str(key), known, n=1)
    if hint:
        return ConfigError("config.unknown_key_hint", where=where, key=f"{prefix}{key}", hint=f"{prefix}{hint[0]}",
                           known=", ".join(known))
    return ConfigError("config.unknown_key", where=where, key=f"{prefix}{key}", known=", ".join(known))


def _check_value(f: dataclasses.Field, value, dotted: str, where: Message):
    meta = f.metadata
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    said = {"where": where, "key": dotted}
    if meta.get("gpu_list") and isinstance(value, (int, list)) and not isinstance(value, bool):
        # YAML reads `gpus: 1` as a number and `gpus: [0, 1]` as a list; both mean GPU numbers.
        value = ",".join(str(v) for v in (value if isinstance(value, list) else [value]))
    if value == "auto" and (meta.get("auto_or_number") or meta.get("auto_or_count")):
        return value
    if meta.get("texts") or meta.get("names") or isinstance(default, (bool, dict)):
        return _check_shaped(meta, default, value, said)
    return _check_allowed(meta, _check_type(meta, default, value, said), said)


def _check_shaped(meta, default, value, said: dict):
    """A list of texts, layer names, a switch or a mapping: checked whole, no choices or range apply."""
    found = repr(value)
    if meta.get("texts"):
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError("config.not_texts", **said, found=found)
        texts = [v.strip() for v in value if v.strip()]
        for text in texts:
            if meta.get("choices") and text not in meta["choices"]:
                raise ConfigError("config.bad_list_choice", **said, found=repr(text),
                                  choices=", ".join(meta["choices"]))
        return list(dict.fromkeys(texts)) if meta.get("choices") else texts
    if meta.get("names"):
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
            return [v.strip() for v in value]
        raise ConfigError("config.not_layer_names", **said, found=found)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError("config.not_bool", **said, found=found)
        return value
    return _check_mapping(meta, value, said)


def _check_mapping(meta, value, said: dict) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("config.not_mapping", **said, found=repr(value))
    for key, item in value.items():
        if meta.get("memory"):
            _check_memory_cap(key, item, said)
        if meta.get("keys") and key not in meta["keys"]:
            raise ConfigError("config.bad_map_key", **said, name=repr(key), allowed=", ".join(meta["keys"]))
        if meta.get("values") and str(item) not in meta["values"]:
            raise ConfigError("config.bad_map_value", **said, name=repr(key), value=repr(item),
                              allowed=", ".join(meta["values"]))
    return {k: str(v) for k, v in value.items()}


def _check_type(meta, default, value, said: dict):
    """A number or a text of the option's type (numbers written as text, such as "2e-4", are read)."""
    found = repr(value)
    if meta.get("auto_or_number"):
        return _number(value, float, ConfigError("config.auto_or_number", **said, found=found))
    if meta.get("auto_or_count"):
        return _number(value, int, ConfigError("config.auto_or_count", **said, found=found))
    if isinstance(default, int):
        return _number(value, int, ConfigError("config.not_whole", **said, found=found))
    if isinstance(default, float):
        return _number(value, float, ConfigError("config.not_number", **said, found=found))
    if isinstance(value, bool) and {"on", "off"} <= set(meta.get("choices") or ()):
        # YAML reads a bare on/off (or yes/no, true/false) as a boolean: the value the option's help names.
        return "on" if value else "off"
    if isinstance(default, str) and not isinstance(value, str):
        raise ConfigError("config.not_text", **said, found=found)
    return value


def _check_allowed(meta, value, said: dict):
    """The option's pattern, choices and range."""
    pattern, choices = meta.get("pattern"), meta.get("choices")
    # fullmatch, not match: '$' also matches before a trailing newline, so "my-run\n" would pass as a name.
    if pattern and not re.fullmatch(pattern, value):
        if not choices:
            raise ConfigError("config.bad_name", **said, found=repr(value))
        other = Message("config.gpu_numbers") if said["key"] == "compute.gpus" else "cuda:N"
        raise ConfigError("config.bad_pattern", **said, found=repr(value), choices=", ".join(choices), other=other)
    if meta.get("gpu_list"):
        value = value.replace(" ", "")
    if choices and not pattern and value not in choices:
        raise ConfigError("config.bad_choice", **said, found=repr(value), choices=", ".join(choices))
    if meta.get("zero_refused") and value == 0:
        raise ConfigError("config.zero_steps", **said)
    low, high = meta.get("min"), meta.get("max")
    if isinstance(value, (int, float)):
        if low is not None and value < low:
            raise ConfigError("config.below_min", **said, value=value, low=low)
        if high is not None and value > high:
            raise ConfigError("config.above_max", **said, value=value, high=high)
    return value


def _check_together(config: "Config", source: str, lines: dict) -> None:
    """Values that are fine alone but not together."""
    t = config.train
    if t.method == "grpo":
        _check_grpo(t, source, lines)
    if t.tuning != "lora" and config.model.quantization != "none":
        raise ConfigError("config.quantized_full", where=_where(source, lines, "train.tuning"), tuning=repr(t.tuning),
                          quantization=config.model.quantization)


def _check_grpo(t: TrainConfig, source: str, lines: dict) -> None:
    """grpo scores each prompt's completions against each other, so a step must hold whole groups of them; and it
    needs at least one reward."""
    if not t.rewards and not t.reward_file:
        raise ConfigError("config.grpo_no_rewards", where=_where(source, lines, "train.rewards"),
                          choices=", ".join(REWARDS))
    per_step = t.batch_size * t.grad_accum
    if per_step % t.num_generations:
        works = [b for b in range(1, 4 * max(t.batch_size, t.num_generations) + 1)
                 if b * t.grad_accum % t.num_generations == 0]
        batches = [b for b in works if b < t.batch_size][-1:] + [b for b in works if b > t.batch_size][:1]
        generations = [n for n in range(2, min(per_step, 64) + 1) if per_step % n == 0]
        raise ConfigError("config.grpo_batch", where=_where(source, lines, "train.num_generations"),
                          batch=t.batch_size, accum=t.grad_accum, per_step=per_step, generations=t.num_generations,
                          batches=" / ".join(map(str, batches)), divisors=", ".join(map(str, generations)) or "-")


def used_by(meta, method: str, tuning: str) -> bool:
    """Whether an option with this metadata matters for a run of `method` with `tuning` (the Settings tab hides the
    others)."""
    return method in (meta.get("methods") or (method,)) and tuning in (meta.get("tunings") or (tuning,))


def _check_memory_cap(key, size, said: dict) -> None:
    """accelerate refuses keys such as 'gpu0' deep inside loading; say so here, naming the key."""
    if not MEMORY_KEY.fullmatch(str(key)):
        raise ConfigError("config.memory_key", **said, name=repr(key))
    if not MEMORY_SIZE.fullmatch(str(size).strip()):
        raise ConfigError("config.memory_size", **said, name=repr(key), size=repr(size))


def _number(value, kind, error: ConfigError):
    """Accept 2e-4, "2e-4" and 8, but never true/false or 8.5 where a whole number is needed."""
    if isinstance(value, bool):
        raise error
    try:
        return float(value) if kind is float else int(str(value))
    except (TypeError, ValueError):
        raise error from None


def _names(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _where(source: str, lines: dict, dotted: str) -> Message:
    """Where a key was read, as the start of an error: 'run.yaml line 3: ', or 'the command line: '."""
    line = lines.get(dotted)
    return Message("config.where_line", {"source": source, "line": line}) if line else \
        Message("config.where", {"source": source})


def key_lines(node, prefix: str = "") -> dict[str, int]:
    """Map 'train.learning_rate' to its line in the YAML text, so errors can point at it."""
    found = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            dotted = f"{prefix}{key_node.value}"
            found[dotted] = key_node.start_mark.line + 1
            found.update(key_lines(value_node, dotted + "."))
    return found


@dataclass
class ChatSettings:
    """How the chat answers (not part of a run's config)."""

    system_prompt: str = option("")
    temperature: float = option(0.7, minimum=0.0, maximum=2.0)
    top_p: float = option(0.9, minimum=0.05, maximum=1.0)
    max_new_tokens: int = option(256, minimum=1, maximum=8192)
    votes: int = option(1, minimum=1, maximum=32)
    answer_pattern: str = option(ANSWER_PATTERN)
