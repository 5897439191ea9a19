"""Every option of a run, defined once: its default, its help text, its allowed values.

The UI builds its widgets from this metadata, the YAML file and the command line read the same dataclasses,
so an option is added in exactly one place. `Config.from_yaml` refuses unknown keys and bad values with a
message that names the file, the line and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class ConfigError(ValueError):
    """A config value the user must fix; str() names the key (and file and line when known)."""


def option(default, help: str, *, choices=None, minimum=None, maximum=None, label: str | None = None, **extra):
    """A dataclass field with the metadata the UI, the CLI and validation read."""
    meta = {"help": help, "choices": choices, "min": minimum, "max": maximum, "label": label, **extra}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


# Names other tools use for our options, so a pasted config gets a pointed suggestion.
ALIASES = {"rank": "r", "lora_r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout",
           "lr": "learning_rate", "num_train_epochs": "epochs", "per_device_train_batch_size": "batch_size",
           "gradient_accumulation_steps": "grad_accum", "max_seq_length": "max_length", "cutoff_len": "max_length",
           "lr_scheduler_type": "scheduler", "model_name_or_path": "source", "dataset": "path"}

QUANTIZATIONS = ("none", "8bit", "4bit")
DEVICE_MAPS = ("auto", "balanced", "balanced_low_0", "sequential", "cpu")  # plus "cuda:N"
DATA_FORMATS = ("auto", "alpaca", "sharegpt", "messages", "prompt_completion", "text", "preference",
                "unpaired_preference")
# Kept in step with core.data.formats (MAPPABLE, CANONICAL_ROLES); a test checks they agree.
MAPPABLE_COLUMNS = ("instruction", "input", "output", "system", "history", "prompt", "completion", "messages",
                    "conversations", "text", "chosen", "rejected", "label", "role", "content")
CHAT_ROLES = ("user", "assistant", "system", "tool")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")
STRATEGIES = ("auto", "single", "model_parallel", "ddp", "fsdp", "deepspeed_zero2", "deepspeed_zero3")
METHODS = ("sft", "dpo", "orpo", "kto", "cpt")
PREFERENCE_METHODS = ("dpo", "orpo", "kto")
TUNINGS = ("lora", "full", "freeze")
DPO_LOSSES = ("sigmoid", "ipo", "hinge", "robust", "sigmoid_norm", "apo_zero")
TRACKERS = ("none", "tensorboard", "wandb", "swanlab", "trackio")
# max_memory keys accelerate understands: a GPU number (cuda:N is accepted and read as N), cpu, or disk.
MEMORY_KEY = re.compile(r"^(\d+|cuda:\d+|cpu|disk)$")
MEMORY_SIZE = re.compile(r"^\d+(\.\d+)?\s*(GiB|GB|MiB|MB|KiB|KB)$")


@dataclass
class ModelConfig:
    """Which base model to fine-tune and how to place it on the hardware."""

    source: str = option(
        "default", "The base model: 'default' (the built-in SmolLM2-135M-Instruct), 'gemma-3-270m' (the built-in "
        "pretrained Gemma 3 270M, multilingual), a local model folder, or a model id from the Hugging Face hub.",
        label="Base model")
    system_prompt: str = option(
        "none", "The system prompt of every conversation that has none of its own, in training, chat, evaluation "
        "and the export: 'none' for no system prompt (some templates, SmolLM2's and Qwen2.5's, add their own, such "
        "as \"You are ... named SmolLM\", which would contradict a new identity), 'template' for whatever the model's "
        "chat template adds, or your own text.", label="System prompt")
    quantization: str = option(
        "none", "Load the frozen base weights in 8-bit or 4-bit (QLoRA) to save memory; needs bitsandbytes. "
        "'none' keeps full precision and trains fastest.", choices=QUANTIZATIONS, label="Quantization")
    device_map: str = option(
        "auto", "Where the model's layers go: 'auto' fills GPUs then CPU, 'balanced' spreads evenly over GPUs, "
        "'balanced_low_0' keeps GPU 0 light, 'sequential' fills GPUs in order, 'cpu', or one GPU such as 'cuda:0'.",
        pattern=r"^(auto|balanced|balanced_low_0|sequential|cpu|cuda:\d+)$", choices=DEVICE_MAPS, label="Device map")
    max_memory: dict = option(
        {}, "Optional memory cap per device for the device map, e.g. {0: 20GiB, cpu: 64GiB}: keys are GPU numbers "
        "(as in compute.gpus), cpu or disk; sizes in GiB, GB, MiB or MB.", memory=True, label="Memory caps")
    dtype: str = option(
        "auto", "Number format for computing: 'auto' picks bfloat16 on GPUs that have it, float16 on older GPUs "
        "and float32 on the CPU (CPUs without bfloat16 units are several times slower in it).",
        choices=("auto", "float32", "bfloat16", "float16"), label="Precision")
    trust_remote_code: bool = option(
        False, "Run Python code shipped with the model. Only turn this on for a model whose source you trust.",
        label="Trust remote code")


@dataclass
class DataConfig:
    """The training data."""

    path: str = option("assets/datasets/identity.jsonl",
                       "A .jsonl, .json, .csv, .parquet or .txt file (or a hub dataset id).", label="Dataset file")
    format: str = option("auto", "How rows are laid out; 'auto' detects it from the fields.", choices=DATA_FORMATS,
                         label="Format")
    eval_fraction: float = option(0.1, "Share of rows held out to measure loss on data the model does not train on.",
                                  minimum=0.0, maximum=0.5, label="Held-out share")
    replay: int = option(
        20, "Keep general knowledge: before training, the base model answers this many bundled everyday "
        "questions itself and those answers are mixed into the training data. Without it a small model drilled on "
        "a narrow dataset forgets ordinary facts. 0 turns it off. (Supervised fine-tuning only.)", minimum=0,
        maximum=200, label="Knowledge replay rows")
    columns: dict = option(
        {}, "Which of the file's columns holds what, when its names differ from the usual ones, e.g. "
        "{prompt: question, completion: answer} or, inside conversations, {role: speaker, content: text}.",
        keys=MAPPABLE_COLUMNS, label="Column mapping")
    roles: dict = option(
        {}, "Role names in the file's conversations and what they mean, e.g. {customer: user, agent: assistant}. "
        "human/gpt, user/assistant, system, function_call and observation are known already.",
        values=CHAT_ROLES, label="Role mapping")
    placeholders: dict = option(
        {}, "Values for {{name}}-style placeholders in the data (identity datasets use them), e.g. "
        "{name: Nova, author: Lumen Labs}.", label="Placeholder values")
    eval_path: str = option(
        "", "A separate file of held-out rows to measure loss on; when given, the held-out share is not taken from "
        "the training file.", label="Held-out file")
    skip_bad_rows: bool = option(
        False, "Train even though some rows cannot be used: they are left out, and the count is stated and logged. "
        "Off: a file with bad rows is refused until they are fixed.", label="Skip rows that cannot be used")


@dataclass
class LoraConfig:
    """The LoRA adapter: small trainable matrices added beside the frozen weights."""

    r: int = option(16, "Rank: the adapter's width. Higher learns more and uses more memory; 8-64 is usual.",
                    minimum=1, maximum=1024, label="Rank (r)")
    alpha: int = option(32, "Scale of the adapter's effect; usually twice the rank.", minimum=1, maximum=4096,
                        label="Alpha")
    dropout: float = option(0.05, "Randomly drops adapter inputs during training to reduce overfitting.",
                            minimum=0.0, maximum=0.9, label="Dropout")
    target_modules: typing.Union[str, list] = option(
        "all-linear", "Which layers get an adapter: 'all-linear' (recommended) or a list of layer names such as "
        "[q_proj, v_proj].", names=True, label="Target layers")
    use_rslora: bool = option(False, "Rank-stabilized LoRA: scales by alpha/sqrt(r), which helps at high ranks.",
                              label="rsLoRA")
    use_dora: bool = option(False, "DoRA: learns a magnitude as well as a direction; a little better, slower.",
                            label="DoRA")


@dataclass
class TrainConfig:
    """How long and how hard to train."""

    method: str = option(
        "sft", "How the model learns from the data: sft (imitate the answers), dpo (prefer the chosen answer over the "
        "rejected one, against the base model), orpo (imitate the chosen answer and push away from the rejected one, "
        "no reference model), kto (answers marked desirable or undesirable, unpaired), cpt (continued pretraining on "
        "raw text).", choices=METHODS, label="Training method")
    tuning: str = option(
        "lora", "Which weights change: 'lora' trains a small adapter beside the frozen model (least memory, the run "
        "saves an adapter); 'full' trains every weight (about 16 bytes of memory per parameter for weights, "
        "gradients and optimizer states; the run saves a whole model); 'freeze' trains only the last layers.",
        choices=TUNINGS, label="What to train")
    freeze_trainable_layers: int = option(
        2, "With tuning 'freeze': how many of the model's last layers are trained; the others stay as they are.",
        minimum=1, maximum=1000, tunings=("freeze",), label="Trainable last layers")
    beta: float = option(
        0.1, "Preference strength. dpo and kto: how far the model may move from the base model (higher stays "
        "closer); orpo: the weight of the preference term beside the supervised loss.", minimum=0.0, maximum=10.0,
        methods=PREFERENCE_METHODS, label="Beta")
    dpo_loss: str = option(
        "sigmoid", "The DPO loss: sigmoid (the original DPO), ipo, hinge, robust (noisy preference labels), "
        "sigmoid_norm (length-normalized), apo_zero.", choices=DPO_LOSSES, methods=("dpo",), label="DPO loss")
    sft_weight: float = option(
        0.0, "Add the supervised loss on the chosen answers with this weight (RPO; trl's loss type 'sft' beside the "
        "DPO loss); it helps keep the answers' content. 0 turns it off.", minimum=0.0, maximum=10.0,
        methods=("dpo",), label="Supervised loss weight")
    desirable_weight: float = option(
        1.0, "KTO: weight of the desirable answers' loss; raise it when they are fewer than the undesirable ones.",
        minimum=0.0, maximum=100.0, methods=("kto",), label="Desirable weight")
    undesirable_weight: float = option(
        1.0, "KTO: weight of the undesirable answers' loss; raise it when they are fewer than the desirable ones.",
        minimum=0.0, maximum=100.0, methods=("kto",), label="Undesirable weight")
    epochs: float = option(3.0, "Passes over the training data.", minimum=0.01, maximum=1000, label="Epochs")
    max_steps: int = option(-1, "If above 0, stop after this many optimizer steps instead of counting epochs.",
                            minimum=-1, label="Max steps")
    learning_rate: typing.Union[float, str] = option(
        "auto", "Step size. 'auto' picks a rate measured for the method and the model's size, and the log says which "
        "and why: for LoRA on models under 1B parameters 1e-3 for sft and cpt (small models need it to learn within "
        "minutes), lower for the preference methods, whose generations break at high rates; 2e-4 for larger models "
        "(sft, cpt), the usual LoRA range. Full and freeze tuning take a tenth of the LoRA rate.",
        minimum=1e-7, maximum=1.0, auto_or_number=True, label="Learning rate")
    batch_size: int = option(8, "Examples per step on each device. Lower it if memory runs out.", minimum=1,
                             maximum=4096, label="Batch size")
    grad_accum: int = option(1, "Steps whose gradients are summed before an update: effective batch = batch size "
                             "x this.", minimum=1, maximum=1024, label="Gradient accumulation")
    max_length: int = option(1024, "Longest example in tokens; longer ones are cut (and counted in the log). With cpt, "
                             "the length of the blocks the text is split into (nothing is cut off).",
                             minimum=16, maximum=131072, label="Max length")
    seed: int = option(42, "Random seed for the data split, shuffling and adapter initialisation.", label="Seed")
    scheduler: str = option("cosine", "How the learning rate changes over the run.", choices=SCHEDULERS,
                            label="Schedule")
    warmup_fraction: float = option(0.05, "Share of the steps over which the learning rate ramps up from 0.",
                                    minimum=0.0, maximum=0.5, label="Warm-up share")
    gradient_checkpointing: str = option(
        "auto", "Recompute activations in the backward pass: saves memory, costs about 30% speed. 'auto' turns it "
        "on for models of 1B parameters and more on a GPU.", choices=("auto", "on", "off"),
        label="Gradient checkpointing")
    weight_decay: float = option(0.0, "Pulls adapter weights towards zero; 0 is fine for short runs.", minimum=0.0,
                                 maximum=1.0, label="Weight decay")
    max_grad_norm: float = option(1.0, "Clips large gradients to keep training stable.", minimum=0.0,
                                  label="Gradient clipping")
    eval_every: int = option(0, "Measure held-out loss every N steps; 0 picks about 5 evaluations per run.",
                             minimum=0, label="Evaluate every")
    save_every: int = option(0, "Save a resumable checkpoint every N steps; 0 saves once per epoch.", minimum=0,
                             label="Checkpoint every")
    logging_every: int = option(1, "Record loss every N steps.", minimum=1, label="Log every")
    retry_on_oom: bool = option(True, "If the GPU runs out of memory, retry once with half the batch size and "
                                "twice the gradient accumulation (the same effective batch).",
                                label="Retry when out of memory")
    probes: list = option(
        [], "Prompts the run answers with its adapter at each evaluation (and the base model once, before training), "
        "kept in probes.jsonl so you can watch the answers change. Empty: the first 3 held-out rows' questions. "
        "One prompt per line.", texts=True, label="Probe prompts")
    # ---- speed: 'auto' values are chosen by core.training.speed from measurements, and the run log says why ----------
    padding_free: str = option(
        "auto", "Put a batch's examples end to end in one row instead of padding them to the longest, so no time "
        "is spent on padding; attention still keeps each example to itself. 'auto' turns it on with "
        "flash_attention_2, whose kernel skips the other examples; with sdpa or eager a packed row is attended as "
        "a whole and is slower for long rows.", choices=("auto", "on", "off"),
        methods=("sft",), label="Padding-free batches")
    packing: bool = option(
        False, "Fill each row up to max length with several short examples (best-fit, never splitting one). Fewer, "
        "fuller steps; the number of steps per epoch drops. (cpt always packs its text blocks.)", methods=("sft",),
        label="Packing")
    attention: str = option(
        "auto", "Attention implementation: 'auto' picks flash_attention_2 on a GPU when installed, else sdpa; "
        "'eager' is the plain reference code.", choices=("auto", "sdpa", "eager", "flash_attention_2"),
        label="Attention")
    liger_kernel: str = option(
        "auto", "Liger's fused GPU kernels (less memory for the loss and MLP). 'auto' uses them on a GPU when the "
        "liger-kernel package is installed.", choices=("auto", "on", "off"), label="Liger kernels")
    group_by_length: bool = option(
        False, "Batch examples of similar length together to waste less on padding; the order is then less random. "
        "(Not with kto, whose batches must keep their order.)", methods=("sft", "dpo", "orpo", "cpt"),
        label="Group by length")
    torch_compile: bool = option(
        False, "Compile the model with torch.compile: faster steps on a GPU after a slow first step; rarely pays "
        "off for short runs or on the CPU.", label="torch.compile")
    report_to: str = option(
        "none", "Also log the run to an experiment tracker, locally or offline (the run folder's metrics.jsonl stays "
        "what the studio draws): tensorboard (writes runs/<name>/tracking; pip install tensorboard), wandb (offline "
        "mode; pip install wandb), swanlab (local mode; pip install swanlab), trackio (local; pip install trackio). "
        "Only installed ones are offered.", choices=TRACKERS, label="Experiment tracking")


@dataclass
class ComputeConfig:
    """Which GPUs a run trains on and how they share the work (core.models.compute turns 'auto' into a plan)."""

    gpus: str = option(
        "auto", "The GPUs this run may use: 'auto' (every GPU with room), 'all', a list of GPU numbers such as "
        "'0,1', or 'none' (train on the CPU). The run's process sees only these GPUs.",
        pattern=r"^(auto|all|none|\d+(\s*,\s*\d+)*)$", choices=("auto", "all", "none"), gpu_list=True,
        label="GPUs")
    strategy: str = option(
        "auto", "How several GPUs share the work: 'single' (one GPU), 'model_parallel' (one process, the model's "
        "layers spread over the GPUs), 'ddp' (a full copy per GPU, each trains on part of every batch), 'fsdp' or "
        "'deepspeed_zero2'/'deepspeed_zero3' (copies sharded across GPUs). 'auto' decides from the model's size, "
        "quantization and the free memory of the chosen GPUs, and the log says why.", choices=STRATEGIES,
        label="Multi-GPU strategy")
    processes: typing.Union[str, int] = option(
        "auto", "Training processes: 'auto' (one per GPU for ddp, fsdp and deepspeed; one otherwise) or a number. "
        "ddp with 2 processes also runs on a machine without GPU (on the CPU, slower: for testing).",
        minimum=1, maximum=64, auto_or_count=True, label="Processes")


@dataclass
class Config:
    """A whole run: what `config.yaml` in a run folder holds and `launch.py train` replays."""

    name: str = option("my-run", "The run's name; its folder is runs/<name>.",
                       pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", label="Run name")
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
            raise ConfigError(f"No config file at {path}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8") from None
        return cls.from_yaml_text(text, source=str(path))

    @classmethod
    def from_yaml_text(cls, text: str, source: str = "config") -> "Config":
        try:
            values = yaml.safe_load(text) or {}
            lines = _key_lines(yaml.compose(text))
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ConfigError(f"{source}{where}: not valid YAML ({getattr(err, 'problem', err)})") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: expected keys such as name:, model:, train:, found {type(values).__name__}")
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

def _build(cls, values: dict, prefix: str, source: str, lines: dict):
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        where = _where(source, lines, dotted)
        if key not in known:
            hint = [ALIASES[key]] if ALIASES.get(key) in known else difflib.get_close_matches(str(key), known, n=1)
            suggestion = f" Did you mean '{prefix}{hint[0]}'?" if hint else ""
            raise ConfigError(f"{where}unknown key '{dotted}'.{suggestion} Known keys here: {', '.join(known)}")
        f = known[key]
        if dataclasses.is_dataclass(f.default_factory if f.default_factory is not dataclasses.MISSING else None):
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ConfigError(f"{where}'{dotted}' should hold keys ({', '.join(_names(f.default_factory))}), "
                                  f"found {value!r}")
            kwargs[key] = _build(f.default_factory, value, f"{dotted}.", source, lines)
        else:
            kwargs[key] = _check_value(f, value, dotted, where)
    return cls(**kwargs)


def _check_value(f: dataclasses.Field, value, dotted: str, where: str):
    meta = f.metadata
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    problem = f"{where}'{dotted}' "
    if meta.get("gpu_list") and isinstance(value, (int, list)) and not isinstance(value, bool):
        # YAML reads `gpus: 1` as a number and `gpus: [0, 1]` as a list; both mean GPU numbers.
        value = ",".join(str(v) for v in (value if isinstance(value, list) else [value]))
    if meta.get("auto_or_number"):
        if value == "auto":
            return value
        value = _number(value, float, problem + f"should be 'auto' or a number such as 2e-4, found {value!r}")
    elif meta.get("auto_or_count"):
        if value == "auto":
            return value
        value = _number(value, int, problem + f"should be 'auto' or a whole number such as 2, found {value!r}")
    elif meta.get("texts"):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
        raise ConfigError(problem + f"should be a list of texts such as [\"Who are you?\"], found {value!r}")
    elif meta.get("names"):
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
            return [v.strip() for v in value]
        raise ConfigError(problem + f"should be 'all-linear' or a list of layer names, found {value!r}")
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(problem + f"should be true or false, found {value!r}")
        return value
    elif isinstance(default, int):
        value = _number(value, int, problem + f"should be a whole number, found {value!r}")
    elif isinstance(default, float):
        value = _number(value, float, problem + f"should be a number, found {value!r}")
    elif isinstance(default, dict):
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(problem + f"should be a mapping such as {{key: value}}, found {value!r}")
        for key, item in value.items():
            if meta.get("memory"):
                _check_memory_cap(key, item, problem)
            if meta.get("keys") and key not in meta["keys"]:
                raise ConfigError(problem + f"has the key {key!r}; use some of: {', '.join(meta['keys'])}")
            if meta.get("values") and str(item) not in meta["values"]:
                raise ConfigError(problem + f"maps {key!r} to {item!r}; use one of: {', '.join(meta['values'])}")
        return {k: str(v) for k, v in value.items()}
    elif isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(problem + f"should be text, found {value!r}")
    pattern, choices = meta.get("pattern"), meta.get("choices")
    if pattern and not re.match(pattern, value):
        allowed = f"one of {', '.join(choices)} or {_PATTERN_EXTRA.get(dotted, 'cuda:N')}" if choices else \
            "letters, digits, '.', '_' or '-'"
        raise ConfigError(problem + f"is {value!r}; use {allowed}")
    if meta.get("gpu_list"):
        value = value.replace(" ", "")
    if choices and not pattern and value not in choices:
        raise ConfigError(problem + f"is {value!r}; choose one of: {', '.join(choices)}")
    low, high = meta.get("min"), meta.get("max")
    if isinstance(value, (int, float)):
        if low is not None and value < low:
            raise ConfigError(problem + f"is {value}; it must be at least {low}")
        if high is not None and value > high:
            raise ConfigError(problem + f"is {value}; it must be at most {high}")
    return value


_PATTERN_EXTRA = {"compute.gpus": "GPU numbers such as '0,1'"}


def _check_together(config: "Config", source: str, lines: dict) -> None:
    """Values that are fine alone but not together."""
    t = config.train
    if t.tuning != "lora" and config.model.quantization != "none":
        raise ConfigError(f"{_where(source, lines, 'train.tuning')}'train.tuning' is {t.tuning!r}, which trains the "
                          f"model's own weights; they cannot be trained in {config.model.quantization} "
                          "(model.quantization). Use tuning 'lora' (QLoRA), or quantization 'none'.")


def used_by(meta, method: str, tuning: str) -> bool:
    """Whether an option with this metadata matters for a run of `method` with `tuning` (the Settings tab hides the
    others)."""
    return method in (meta.get("methods") or (method,)) and tuning in (meta.get("tunings") or (tuning,))


def _check_memory_cap(key, size, problem: str) -> None:
    """accelerate refuses keys such as 'gpu0' deep inside loading; say so here, naming the key."""
    if not MEMORY_KEY.match(str(key)):
        raise ConfigError(problem + f"has the key {key!r}; use a GPU number such as 0 (or cuda:0), cpu or disk")
    if not MEMORY_SIZE.match(str(size).strip()):
        raise ConfigError(problem + f"gives {key!r} the size {size!r}; write it like 20GiB or 512MiB")


def _number(value, kind, message):
    """Accept 2e-4, "2e-4" and 8, but never true/false or 8.5 where a whole number is needed."""
    if isinstance(value, bool):
        raise ConfigError(message)
    try:
        return float(value) if kind is float else int(str(value))
    except (TypeError, ValueError):
        raise ConfigError(message) from None


def _names(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _where(source: str, lines: dict, dotted: str) -> str:
    line = lines.get(dotted)
    return f"{source} line {line}: " if line else f"{source}: "


def _key_lines(node, prefix: str = "") -> dict[str, int]:
    """Map 'train.learning_rate' to its line in the YAML text, so errors can point at it."""
    found = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            dotted = f"{prefix}{key_node.value}"
            found[dotted] = key_node.start_mark.line + 1
            found.update(_key_lines(value_node, dotted + "."))
    return found


@dataclass
class ChatSettings:
    """How the chat answers (not part of a run's config)."""

    system_prompt: str = option("", "Instructions the model sees before the conversation. Empty uses the run's "
                                "system prompt (model.system_prompt), the one it was trained with.",
                                label="System prompt")
    temperature: float = option(0.7, "Randomness of the answer; 0 always picks the most likely word (greedy).",
                                minimum=0.0, maximum=2.0, label="Temperature")
    top_p: float = option(0.9, "Sample only from the most likely words whose probabilities add up to this.",
                          minimum=0.05, maximum=1.0, label="Top-p")
    max_new_tokens: int = option(256, "Longest answer, in tokens.", minimum=1, maximum=8192,
                                 label="Max new tokens")
    votes: int = option(1, "Sample this many answers and show the most common final answer with its vote count "
                        "(majority voting). 1 answers once. With temperature 0 the samples use 0.7.", minimum=1,
                        maximum=32, label="Votes")
    answer_pattern: str = option(
        r"(?:answer is|答案是)[:：]?\s*(.+)", "Regular expression that finds the final answer in a reply (its first "
        "group); votes and exact-match evaluation compare what it finds. Where it finds nothing, the whole reply "
        "is compared. Empty compares whole replies.", label="Answer pattern")
