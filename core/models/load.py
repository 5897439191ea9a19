"""Find the base model, load its tokenizer and weights with the chosen precision, quantization and placement."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.catalogue.message import Message, StudioError, message
from core.config import ModelConfig
from core.data import templates
from core.data import turn_formats
from core.data.files import HUB_ID
from core.hub import download
from core.hub.settings import settings_for
from core.models import builtin
from core.models import devices
from core.models import parent

SHARDED = ("fsdp", "deepspeed_zero2", "deepspeed_zero3")  # strategies that place the model themselves


class ModelError(StudioError, RuntimeError):
    """The model cannot be found or loaded; the message says what to do."""


class PlacementError(ModelError):
    """The model only fits with layers on the CPU or disk, where training cannot run them; says what to change."""


@dataclass
class LoadedModel:
    model: object
    tokenizer: object
    source: str                      # the folder or hub id actually loaded
    dtype: str
    placement: dict[str, str]        # layer name -> device, as accelerate placed it
    notes: list[str | Message] = field(default_factory=list)

    @property
    def parameters(self) -> int:
        return count_parameters(self.model)


def resolve_source(source: str, progress=print, hub=None) -> str:
    """A built-in's name ('default', 'gemma-3-270m') -> its converted folder; a folder -> itself; a hub id -> its
    finished download (core/hub), else itself, or, with `hub` (a core.hub.settings.HubSettings), downloaded first
    as a step of its own, its progress said through `progress`. A finished run (run:NAME, core.models.parent) ->
    the folder its weights start from: the whole model it saved, or its base's."""
    if parent.names_run(source):
        run, config = parent.find(source)
        return str(run.model_dir) if parent.whole_model(run) else resolve_source(config.model.source, progress, hub)
    if source in builtin.BUILTINS:
        return str(builtin.ensure(progress, source))
    path = Path(source).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelError("models.load.no_config", path=str(path))
        return str(path)
    if path.exists():
        raise ModelError("models.load.is_file", path=str(path))
    if HUB_ID.match(source):
        return _from_hub(source, progress, hub)
    raise ModelError("models.load.not_found", source=source, builtins=", ".join(builtin.BUILTINS))


def _from_hub(model_id: str, progress, hub) -> str:
    """A hub id's finished download; without one, the id itself (transformers then asks the hub), or with `hub`
    the folder downloaded now."""
    local = download.find_local(model_id, hub=hub.hub if hub else None)
    if local is not None:
        return str(local)
    if hub is None:
        return model_id
    cached = download.in_hf_cache(model_id) if hub.hub == "huggingface" else None
    if cached is not None:
        return str(cached)
    progress(message("hub.download.fetching", id=model_id, address=hub.address(),
                     folder=str(download.folder_for(model_id, hub=hub.hub))))
    folder = download.download_model(model_id, settings=hub, progress=download.every(5.0, progress), wait=True)
    progress(message("hub.download.done", id=model_id, folder=str(folder)))
    return str(folder)


def tokenizer_source(source: str, progress=print) -> str:
    """Where the tokenizer of `source` is: checking data needs no weights, so a built-in model that is not
    converted yet only has its tokenizer read (seconds instead of minutes)."""
    if source in builtin.BUILTINS:
        return str(builtin.ensure_tokenizer(progress, source))
    return resolve_source(source, progress)


# Families whose residual stream outgrows float16 (largest 65504), so every float16 forward pass ends in inf and
# a NaN loss. Measured with the built-ins' real weights on the CPU: Gemma 3 270M reaches 1.04e5 in float32 and
# its float16 logits are NaN; SmolLM2-135M (the Llama architecture) peaks at 2.3e4 and is fine. Gemma 2 is known
# to do the same (its own code clamps float16 activations and it still diverges). model_type as config.json says.
FLOAT16_OVERFLOW = ("gemma2", "gemma3", "gemma3_text")


def pick_dtype(config: ModelConfig, uses_gpu: bool, model_type: str | None = None):
    """bfloat16 on GPUs that have bfloat16 units (Ampere and newer), float16 on older GPUs, float32 on the CPU;
    float32 instead of float16 for a family that overflows float16 (`model_type`, FLOAT16_OVERFLOW), and a
    model.dtype of float16 for such a family is refused: that run could only produce NaN.

    torch.cuda.is_bf16_supported() is not asked: it says yes on T4, V100 and RTX 20xx too, where bf16 is emulated
    and several times slower than float16. Measured on a 2-core AVX2 CPU: a forward+backward of SmolLM2-135M takes
    about 5 s in float32 and 120 s in bfloat16, because CPUs without bfloat16 units emulate it.
    """
    import torch

    if config.dtype == "float16" and model_type in FLOAT16_OVERFLOW:
        raise ModelError("models.load.float16_overflows", family=model_type)
    if config.dtype != "auto":
        return getattr(torch, config.dtype)
    if uses_gpu and devices.has_real_bf16(devices.capabilities()):
        return torch.bfloat16
    if uses_gpu and model_type not in FLOAT16_OVERFLOW:
        return torch.float16
    return torch.float32


def model_type(source: str, trust_remote_code: bool = False) -> str | None:
    """config.json's model_type of a resolved source (a folder or a hub id), None when it cannot be read."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code).model_type
    except (OSError, ValueError):
        return None


def placement_argument(config: ModelConfig, has_gpu: bool, strategy: str = "single"):
    """The device_map argument for from_pretrained.

    In a run's process the GPUs are renumbered (it sees only its own, from 0), so 'cuda:N' and max_memory keys,
    written with the studio's GPU numbers, are translated. ddp puts one whole copy on this process's GPU; fsdp and
    DeepSpeed place (and shard) the model themselves, so it loads without a device map.
    """
    if config.device_map == "cpu" or not has_gpu:
        return {"": "cpu"}
    if strategy == "ddp":
        return {"": devices.local_rank()}
    if strategy in SHARDED:
        return None
    match = re.fullmatch(r"cuda:(\d+)", config.device_map)
    if match:
        return {"": devices.local_gpu(int(match.group(1)))}
    return config.device_map


def max_memory_argument(config: ModelConfig, free_gb: dict[int, float] | None = None) -> dict | None:
    """model.max_memory as accelerate wants it: GPU keys as this process numbers them ('cuda:1' and 1 alike);
    GPUs the run does not use are left out.

    `free_gb` (this process's GPU number -> free GiB) fills in the run's GPUs the caps do not name: accelerate
    places layers only on the devices max_memory lists, so a cap for GPU 0 alone would leave GPU 1 empty and
    spill to the CPU although the plan counted it."""
    if not config.max_memory:
        return None
    caps = _named_caps(config)
    for gpu, free in (free_gb or {}).items():
        caps.setdefault(gpu, f"{free:.1f}GiB")
    return caps or None


def _named_caps(config: ModelConfig) -> dict:
    caps = {}
    for key, size in config.max_memory.items():
        text = str(key).removeprefix("cuda:")
        if text.isdigit():
            local = devices.local_gpu(int(text), missing=None)
            if local is not None:
                caps[local] = str(size).replace(" ", "")
        else:
            caps[text] = str(size).replace(" ", "")
    return caps


def free_gpu_memory() -> dict[int, float]:
    """Free GiB of each GPU this process sees (in a run's process: exactly the run's GPUs)."""
    import torch

    return {i: torch.cuda.mem_get_info(i)[0] / devices.GIB for i in range(torch.cuda.device_count())}


def load_tokenizer(source: str, trust_remote_code: bool = False, system_prompt: str | None = None):
    """(tokenizer, notes for the log): padding and a chat template set where missing, and `system_prompt`
    (model.system_prompt) applied; None keeps the template as saved (a run's adapter folder carries its own)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except OSError as err:
        raise _not_found(source, err) from None
    notes = [templates.ensure_pad_token(tokenizer), turn_formats.ensure_chat_template(tokenizer)]
    if system_prompt is not None:
        notes.append(templates.apply_system_prompt(tokenizer, system_prompt))
    notes.append(templates.turn_end_note(tokenizer))
    return tokenizer, [note for note in notes if note]


def will_use_gpu(config: ModelConfig, gpus: str = "auto") -> bool:
    """Whether load() will put layers on a GPU, known before loading (the attention choice depends on it).
    `gpus` is compute.gpus: 'none' keeps the run on the CPU."""
    import torch

    return torch.cuda.is_available() and config.device_map != "cpu" and gpus != "none"


def load(config: ModelConfig, progress=print, attention: str | None = None, strategy: str = "single",
         for_training: bool = False, before_weights=None) -> LoadedModel:
    """Load as configured; `attention` names the attention implementation (sdpa, eager, ...), None for the default.

    `strategy` (compute.strategy, resolved) decides the device map; `for_training` refuses a placement with layers
    on the CPU or disk next to GPU layers, which generation survives but training does not. `before_weights(dtype)`
    runs once the precision is known, just before the weights load (DeepSpeed ZeRO-3 sets itself up there).
    """
    import torch
    from transformers import AutoModelForCausalLM

    if parent.names_run(config.source):
        return _from_run(config, dict(progress=progress, attention=attention, strategy=strategy,
                                      for_training=for_training, before_weights=before_weights), for_training)
    source = resolve_source(config.source, progress, hub=settings_for(config.hub, config.hub_endpoint))
    tokenizer, notes = load_tokenizer(source, config.trust_remote_code, config.system_prompt)
    has_gpu = torch.cuda.is_available()
    device_map = placement_argument(config, has_gpu, strategy)
    uses_gpu = has_gpu and device_map != {"": "cpu"}
    family = model_type(source, config.trust_remote_code)
    dtype = pick_dtype(config, uses_gpu=uses_gpu, model_type=family)
    if uses_gpu and dtype == torch.bfloat16 and not devices.has_real_bf16(devices.capabilities()):
        notes.append(message("models.load.emulated_bf16",
                             capabilities="/".join("%d.%d" % c for c in devices.capabilities())))
    if uses_gpu and dtype == torch.float32 and config.dtype == "auto":
        notes.append(message("models.load.float16_overflow_float32", family=family))
    kwargs = dict(dtype=dtype, device_map=device_map, trust_remote_code=config.trust_remote_code,
                  use_safetensors=True)  # never unpickle weights from a user-supplied path
    if config.max_memory and isinstance(device_map, str):
        kwargs["max_memory"] = max_memory_argument(config, free_gpu_memory() if has_gpu else None)
    if attention:
        kwargs["attn_implementation"] = attention
    if config.quantization != "none":
        kwargs["quantization_config"] = quantization_config(config.quantization, dtype,
                                                            storage_dtype(strategy, dtype))
    name = builtin.BUILTINS[config.source].name if config.source in builtin.BUILTINS else config.source
    progress(message("models.load.loading", model=name, dtype=str(dtype).replace("torch.", ""),
                     quantization=config.quantization))
    if before_weights:
        before_weights(dtype)
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except OSError as err:
        raise _not_found(source, err) from None
    except ValueError as err:
        if "trust_remote_code" in str(err):
            raise ModelError("models.load.remote_code", source=source) from None
        if "dispatched on the CPU or the disk" in str(err):
            # bitsandbytes refuses a 4/8-bit model that accelerate spilled to the CPU, before the placement check
            # below, and suggests llm_int8_enable_fp32_cpu_offload, with which training cannot run either.
            raise PlacementError("models.load.quantized_spilled", quantization=config.quantization,
                                 advice=fit_advice(config)) from None
        raise
    placement = dict(getattr(model, "hf_device_map", None) or {"": str(next(model.parameters()).device)})
    if for_training:
        check_trainable_placement(placement, config)
    return LoadedModel(model, tokenizer, source, str(dtype).replace("torch.", ""), placement, notes)


def _from_run(config: ModelConfig, arguments: dict, keep_adapter: bool) -> LoadedModel:
    """The model a run started from a finished run (config.source run:NAME) begins with, following the chain down.

    build_on: the parent's adapter merged into the parent's own base (which is itself loaded this way when the
    parent started from a run). continue: the parent's base with the parent's adapter, trainable, when
    `keep_adapter` (training); without it (chat, evaluation: the run's own adapter goes on next) the parent's base
    alone, since the run's adapter is the parent's trained further. The tokenizer is the one the parent saved."""
    from peft import PeftModel

    run, before = parent.find(config.source)
    if parent.whole_model(run):
        loaded = load(dataclasses.replace(config, source=str(run.model_dir)), **arguments)
        loaded.notes.append(message("models.parent.whole_model", run=run.name, folder=str(run.model_dir)))
        return loaded
    below = dataclasses.replace(config, source=before.model.source, start=before.model.start)
    loaded = _from_run(below, arguments, False) if parent.names_run(below.source) else load(below, **arguments)
    if config.start == "continue" and not keep_adapter:
        return loaded
    model = PeftModel.from_pretrained(loaded.model, str(run.adapter_dir), is_trainable=keep_adapter)
    if config.start == "build_on":
        model = model.merge_and_unload()
    loaded.model = model
    loaded.tokenizer, _ = load_tokenizer(str(run.adapter_dir), config.trust_remote_code, config.system_prompt)
    said = "models.parent.continue" if config.start == "continue" else "models.parent.build_on"
    loaded.notes.append(message(said, run=run.name, base=loaded.source))
    return loaded


def check_trainable_placement(placement: dict, config: ModelConfig) -> None:
    """Layers that accelerate spilled to the CPU or disk beside GPU layers make the first training step fail
    ('invalid gradient ... expected device meta'). Refuse that at once, saying what would fit."""
    offloaded = [name for name, device in placement.items() if str(device) in ("cpu", "disk")]
    if not offloaded or len(offloaded) == len(placement):
        return
    advice = fit_advice(config)
    if any(str(placement[n]) == "disk" for n in offloaded):
        raise PlacementError("models.load.spilled_to_disk", count=len(offloaded), parts=_compress(offloaded),
                             advice=advice)
    raise PlacementError("models.load.spilled_to_cpu", count=len(offloaded), parts=_compress(offloaded), advice=advice)


def fit_advice(config: ModelConfig) -> Message:
    """What would make a model that spills off the GPUs fit: 4-bit (unless it is already), more GPUs, and bigger
    caps or a smaller model."""
    last = message("models.load.raise_max_memory") if config.max_memory else message("models.load.smaller_model")
    return message("models.load.fit_advice_4bit", last=last) if config.quantization == "4bit" else \
        message("models.load.fit_advice", last=last)


def storage_dtype(strategy: str, dtype):
    """The dtype 4-bit weights are stored in, or None for bitsandbytes' own (uint8).

    fsdp and DeepSpeed ZeRO-3 flatten every tensor of a wrapped block into one, which needs a single dtype: the
    4-bit weights are stored in the dtype of the rest. In float16 that is float32, because peft's k-bit recipe
    (core.training.tuning) upcasts norms and embeddings to float32 there; float16 storage beside them fails at
    wrapping ('Must flatten tensors with uniform dtype'). The packed bytes are the same size in any storage dtype.
    """
    import torch

    if strategy not in ("fsdp", "deepspeed_zero3"):
        return None
    return torch.float32 if dtype == torch.float16 else dtype


def quantization_config(kind: str, compute_dtype, storage_dtype=None):
    from transformers import BitsAndBytesConfig

    if kind == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    # NF4 with double quantization: the QLoRA recipe; compute happens in the model's dtype.
    extra = {"bnb_4bit_quant_storage": storage_dtype} if storage_dtype is not None else {}
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=compute_dtype, **extra)


def linear_layer_names(model) -> list[str]:
    """Names of the linear layers LoRA can target (q_proj, v_proj, ...), without the output head."""
    import torch

    names = set()
    for full_name, module in model.named_modules():
        is_linear = isinstance(module, torch.nn.Linear) or "Linear" in type(module).__name__
        leaf = full_name.rsplit(".", 1)[-1]
        if is_linear and leaf not in ("lm_head", "") and "lora" not in full_name:
            names.add(leaf)
    return sorted(names)


def target_layer_choices(source: str, trust_remote_code: bool = False, progress=print) -> list[str]:
    """The linear layers of a model, found from its config alone (no weights are loaded)."""
    from transformers import AutoConfig

    from core.models.skeleton import skeleton

    folder = resolve_source(source, progress)
    try:
        config = AutoConfig.from_pretrained(folder, trust_remote_code=trust_remote_code)
    except OSError as err:
        raise _not_found(folder, err) from None
    return linear_layer_names(skeleton(config, trust_remote_code))


def count_parameters(model) -> int:
    """Parameter count; 4-bit weights are stored two per byte, so their tensors show half the real count."""
    total = 0
    for p in model.parameters():
        total += p.numel() * (2 if type(p).__name__ == "Params4bit" else 1)
    return total


def describe_placement(placement: dict[str, str]) -> Message | str:
    """'cpu: the whole model' (a Message) or 'cuda:0: model.embed_tokens, model.layers.0-15; cuda:1:
    model.layers.16-31, lm_head' (layer names, the same in every language)."""
    if set(placement) == {""}:
        return message("models.load.whole_model", device=_device_name(placement[""]))
    by_device: dict[str, list[str]] = {}
    for name, device in placement.items():
        by_device.setdefault(_device_name(device), []).append(name)
    return "; ".join(f"{device}: {_compress(names)}" for device, names in by_device.items())


def _device_name(device) -> str:
    return f"cuda:{device}" if isinstance(device, int) else str(device)


def _compress(names: list[str]) -> str:
    """Collapse model.layers.0 ... model.layers.15 into model.layers.0-15."""
    out, run = [], []
    for name in names + [None]:
        m = re.fullmatch(r"(.*\.)(\d+)", name) if name else None
        if m and run and run[-1][0] == m.group(1) and int(m.group(2)) == run[-1][1] + 1:
            run.append((m.group(1), int(m.group(2))))
            continue
        if run:
            prefix, first, last = run[0][0], run[0][1], run[-1][1]
            out.append(f"{prefix}{first}" + (f"-{last}" if last != first else ""))
            run = []
        if m:
            run = [(m.group(1), int(m.group(2)))]
        elif name:
            out.append(name)
    return ", ".join(out)


def _not_found(source: str, err: Exception) -> ModelError:
    """The error to raise when transformers could not open `source` (`err`: what it said)."""
    if HUB_ID.match(source) and not Path(source).exists():
        return ModelError("models.load.hub_unreachable", source=source, reason=str(err).splitlines()[0][:200])
    return ModelError("models.load.failed", source=source, reason=str(err).splitlines()[0][:300])
