"""How much memory a run will need, from the model's config alone, and where accelerate would put its layers.

Nothing here loads weights: the model is built on the meta device (accelerate's init_empty_weights), which
takes a second even for 8B parameters, so the estimate can be shown before the user waits for a load. The
pre-flight check (core.measure.preflight) then measures the real thing. `plan_for` gives the figure to
core.models.compute, which decides where a run trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.catalogue.message import Message, message
from core.models.skeleton import skeleton

GB = 1024 ** 3
DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
# Bytes per frozen linear weight when quantized: int8, or NF4 (half a byte) plus double-quantized block scales.
QUANTIZED_BYTES = {"8bit": 1.0, "4bit": 0.52}
FRAMEWORK_OVERHEAD_GB = 0.5  # the CUDA context or, on the CPU, torch's own libraries and buffers (0.47 GiB RSS)
# trl 1.16 never builds the whole (tokens x vocabulary) logits: its fused LM head scores tiles of at most this many
# tokens by this many vocabulary entries (trl.kernels.chunked_logprob), one in the forward pass, one recomputed
# in the backward pass.
LOSS_TILE_TOKENS, LOSS_TILE_VOCAB = 4096, 32768
# On the CPU the peak is the process's RSS, and glibc keeps much of what one step freed when the next allocates:
# measured with SmolLM2-135M (2 steps, 256 to 2,048 tokens a step), peak RSS above the start of training was 1.5 to
# 1.7 times the live activations counted below (1.6x used). On a GPU the figure is CUDA's max allocated: live
# tensors only.
CPU_ACTIVATION_FACTOR = 1.6


@dataclass
class Estimate:
    parameters: int
    lora_parameters: int
    parts_gb: dict[str, float]          # weights, LoRA + gradients + optimizer, activations, loss tiles, overhead
    assumptions: list[Message] = field(default_factory=list)
    dtype: str = ""
    tuning: str = "lora"  # train.tuning
    trained_parameters: int = 0  # full and freeze tuning: the weights the optimizer moves

    @property
    def total_gb(self) -> float:
        return sum(self.parts_gb.values())

    def lines(self) -> list[Message]:
        weights, trainer, activations, loss_tiles, overhead = self.parts_gb.values()  # in the order estimate() sets
        peak = message("measure.estimate.peak_lora" if self.tuning == "lora" else "measure.estimate.peak_trained",
                       total=self.total_gb, weights=weights, trainer=trainer, activations=activations,
                       loss_tiles=loss_tiles, overhead=overhead)
        if self.tuning == "lora":
            counted = message("measure.estimate.parameters_lora", parameters=self.parameters / 1e6,
                              lora=self.lora_parameters / 1e6)
        else:
            counted = message("measure.estimate.parameters_trained", parameters=self.parameters / 1e6,
                              trained=self.trained_parameters / 1e6, tuning=self.tuning)
        return [peak, counted] + self.assumptions


def lora_targets(model, target_modules) -> list[tuple[int, int]]:
    """(in_features, out_features) of every linear layer LoRA would wrap (in the language model alone, as
    core.training.tuning keeps it)."""
    import torch

    from core.training.tuning import outside_language_model

    left_out = tuple(f"{branch}." for branch in outside_language_model(model))
    found = []
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear) or (left_out and name.startswith(left_out)):
            continue
        leaf = name.rsplit(".", 1)[-1]
        if target_modules == "all-linear":
            if leaf == "lm_head":  # peft's all-linear leaves the output head out
                continue
        elif leaf not in target_modules:
            continue
        found.append((module.in_features, module.out_features))
    return found


def estimate(hf_config, *, rank: int, target_modules, batch_size: int, max_length: int, dtype: str = "float32",
             quantization: str = "none", gradient_checkpointing: bool = False, attention: str = "sdpa",
             uses_gpu: bool = True, model=None, row_tokens: int | None = None, tuning: str = "lora",
             trainable_layers: int = 2, method: str = "sft") -> Estimate:
    """Peak memory of a run at `batch_size` rows of `row_tokens` (the longest row the data has, when known; else the
    worst case: every row `max_length` tokens). `tuning` is train.tuning: LoRA, or full or freeze tuning, whose
    trained weights carry a float32 copy, a gradient and the optimizer's two moments (16 bytes each).
    `method` is train.method: the preference methods run two sequences per row (chosen and rejected)."""
    import torch

    model = model or skeleton(hf_config)
    text = hf_config.get_text_config() if hasattr(hf_config, "get_text_config") else hf_config
    vocab, width = text.vocab_size, DTYPE_BYTES[dtype]

    parameters = sum(p.numel() for p in model.parameters())
    targets = lora_targets(model, target_modules)
    lora_parameters = sum(rank * (fan_in + fan_out) for fan_in, fan_out in targets)

    if quantization in QUANTIZED_BYTES:
        linear = sum(m.weight.numel() for n, m in model.named_modules()
                     if isinstance(m, torch.nn.Linear) and not n.endswith("lm_head"))
        # The rest (embeddings, output head, norms) stays in the model's dtype; with float16, peft's recipe
        # upcasts it to float32 (core.training.tuning), at 4 bytes each.
        weights = linear * QUANTIZED_BYTES[quantization] + (parameters - linear) * (4 if dtype == "float16" else width)
    else:
        weights = parameters * width
    # peft keeps adapters in float32: the weight, its gradient and AdamW's two moments, 4 bytes each. For a 4/8-bit
    # model trl casts them to bfloat16 (2 bytes each), except with float16, where the studio keeps them float32.
    adapter = lora_parameters * (8 if quantization in QUANTIZED_BYTES and dtype != "float16" else 16)
    trained = 0
    if tuning != "lora":  # no adapter: the model's own weights train (core.training.tuning keeps them in float32)
        trained = parameters if tuning == "full" else last_layers_parameters(model, trainable_layers)
        weights += trained * (4 - width)
        adapter, lora_parameters = trained * 12, 0  # gradient and AdamW's two moments, float32

    length = min(row_tokens or max_length, max_length)
    pairs = 2 if method in ("dpo", "orpo", "kto") else 1  # chosen and rejected (kto: the answer and its KL partner)
    tokens = batch_size * length * pairs
    activations = _activation_bytes(text, tokens, length, width, quantization, dtype, tuning,
                                    gradient_checkpointing, attention, uses_gpu)
    logits = 2 * min(tokens, LOSS_TILE_TOKENS) * min(vocab, LOSS_TILE_VOCAB) * width

    trainer_part = "LoRA + optimizer" if tuning == "lora" else "gradients + optimizer"
    parts = {"weights": weights / GB, trainer_part: adapter / GB, "activations": activations / GB,
             "loss tiles": logits / GB, "overhead": FRAMEWORK_OVERHEAD_GB}
    assumptions = [message("measure.estimate.assumes_longest" if row_tokens else "measure.estimate.assumes_worst",
                           length=length, batch=batch_size, dtype=dtype, quantization=quantization,
                           pairs=message("measure.estimate.two_sequences") if pairs == 2 else "",
                           checkpointing=message("measure.estimate.on" if gradient_checkpointing
                                                 else "measure.estimate.off"))]
    return Estimate(parameters, lora_parameters, parts, assumptions, tuning=tuning, trained_parameters=trained)


def _activation_bytes(text, tokens: int, length: int, width: int, quantization: str, dtype: str, tuning: str,
                      gradient_checkpointing: bool, attention: str, uses_gpu: bool) -> float:
    """What the forward pass keeps for the backward pass, for `tokens` tokens in rows of `length`."""
    hidden, layers = text.hidden_size, text.num_hidden_layers
    intermediate = getattr(text, "intermediate_size", 4 * hidden)
    heads = text.num_attention_heads
    # Per layer: norms, q/k/v/o inputs and outputs, residuals (~10h), the MLP's gate/up/act/product (~5I), and
    # LoRA's dropout copies of each wrapped layer's input (~6h + I), which trl's cast of a quantized model's
    # adapters to bfloat16 keeps at 2 bytes.
    lora_width = 2 if quantization in QUANTIZED_BYTES and dtype != "float16" else width
    layer_bytes = (10 * hidden + 5 * intermediate) * width + (6 * hidden + intermediate) * lora_width * (
        tuning == "lora")
    if gradient_checkpointing:
        # Only each layer's input is kept; one layer's activations exist at a time while it is recomputed.
        per_token = layers * hidden * width + layer_bytes
    else:
        per_token = layers * layer_bytes
    activations = tokens * per_token * (1 if uses_gpu else CPU_ACTIVATION_FACTOR)
    # Eager attention keeps its probabilities (heads x length per token) for the backward pass, and so does
    # sdpa on the CPU, whose masked path is plain math: 13.9 GB peak RSS measured for SmolLM2-135M at batch 2
    # with rows of up to 1,600 tokens. GPU kernels (flash, memory-efficient) keep only a few numbers per row.
    if attention == "eager" or (attention == "sdpa" and not uses_gpu):
        activations += tokens * length * heads * width * (1 if gradient_checkpointing else layers)
    return activations


def last_layers_parameters(model, count: int) -> int:
    """Parameters of the model's last `count` decoder layers (what freeze tuning trains)."""
    from core.training.tuning import LAYER, decoder_layers

    last = set(decoder_layers(model)[-count:])
    return sum(p.numel() for name, p in model.named_parameters()
               if (match := LAYER.search(name)) and int(match.group(1)) in last)


def placement_preview(hf_config, max_memory: dict | None = None, dtype: str = "float32",
                      quantization: str = "none", model=None) -> dict[str, str]:
    """accelerate's device map for this model under `max_memory` (e.g. {0: '10GiB', 'cpu': '64GiB'})."""
    import torch
    from accelerate import infer_auto_device_map
    from accelerate.utils import CustomDtype

    model = model or skeleton(hf_config)
    size_dtype = {"8bit": torch.int8, "4bit": CustomDtype.INT4}.get(quantization, getattr(torch, dtype))
    device_map = infer_auto_device_map(model, max_memory=max_memory, dtype=size_dtype,
                                       no_split_module_classes=getattr(model, "_no_split_modules", None) or [])
    return {name: (f"cuda:{device}" if isinstance(device, int) else str(device)) for name, device in device_map.items()}


def for_config(config, gradient_checkpointing: bool | None = None, progress=print, inventory=None,
               row_tokens: int | None = None) -> tuple[Estimate, dict]:
    """The estimate and placement preview for a run's Config, read from the model folder's config.json, for the
    GPUs its compute settings choose (from the inventory: nothing here starts CUDA in this process)."""
    from transformers import AutoConfig

    from core.models import compute, devices
    from core.models import load as models
    from core.training import speed

    inv = inventory or devices.inventory()
    gpus = [g for g in inv.gpus if g.index in compute.chosen_gpus(config.compute, config.model, inv)]
    source = models.resolve_source(config.model.source, progress)
    hf_config = AutoConfig.from_pretrained(source, trust_remote_code=config.model.trust_remote_code)
    uses_gpu = bool(gpus)
    dtype = run_dtype(config.model.dtype, gpus, hf_config.model_type)
    capabilities = [g.capability for g in gpus if g.capability]
    attention = speed.resolve(config.train, uses_gpu, capabilities=capabilities, model_dtype=dtype).attention
    model = skeleton(hf_config, config.model.trust_remote_code)
    if gradient_checkpointing is None:  # the rule core.training.steps.resolve_auto applies
        from core.training.steps import SMALL_MODEL

        setting = config.train.gradient_checkpointing
        large = sum(p.numel() for p in model.parameters()) >= SMALL_MODEL
        gradient_checkpointing = setting == "on" or (setting == "auto" and uses_gpu and large)
    result = estimate(hf_config, rank=config.lora.r, target_modules=config.lora.target_modules,
                      batch_size=config.train.batch_size, max_length=config.train.max_length, dtype=dtype,
                      quantization=config.model.quantization, gradient_checkpointing=gradient_checkpointing,
                      attention=attention, uses_gpu=uses_gpu, model=model, row_tokens=row_tokens,
                      tuning=config.train.tuning, trainable_layers=config.train.freeze_trainable_layers,
                      method=config.train.method)
    result.dtype = dtype
    if uses_gpu:
        free = {g.index: g.free_gb for g in gpus}
        max_memory = models.max_memory_argument(config.model, free) or {i: f"{gb:.1f}GiB" for i, gb in free.items()}
        max_memory.setdefault("cpu", f"{inv.ram_available_gb:.1f}GiB")
        placement = placement_preview(hf_config, max_memory, dtype, config.model.quantization, model=model)
    else:
        placement = {"": "cpu"}
    return result, placement


def run_dtype(setting: str, gpus: list, model_type: str | None = None) -> str:
    """The dtype models.load.pick_dtype will choose in the run's process, told from the inventory (float32 for a
    family that overflows float16 where bfloat16 is missing)."""
    if setting != "auto":
        return setting
    if not gpus:
        return "float32"
    from core.models import devices
    from core.models.load import FLOAT16_OVERFLOW

    known = [g.capability for g in gpus if g.capability]
    if devices.has_real_bf16(known) if known else all(g.bf16 for g in gpus):
        return "bfloat16"
    return "float32" if model_type in FLOAT16_OVERFLOW else "float16"


def run_label(result: Estimate, quantization: str) -> str:
    """'8B bf16 LoRA', '70B 4-bit QLoRA', '135M fp32 LoRA': how the log names a run."""
    count = result.parameters
    size = (f"{count / 1e9:.1f}".removesuffix(".0") + "B" if count >= 1e9 else
            f"{count / 1e6:.0f}M" if count >= 1e6 else f"{count / 1e6:.1f}M")
    if quantization != "none":
        return f"{size} {quantization.replace('bit', '-bit')} QLoRA"
    short = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(result.dtype, "")
    kind = {"lora": "LoRA", "full": "full fine-tuning", "freeze": "freeze tuning"}[result.tuning]
    return f"{size} {short} {kind}".replace("  ", " ")


def plan_for(config, inventory=None, progress=lambda _: None, fetch: bool = True):
    """Where a run trains (core.models.compute.plan), given the memory one copy of it needs on this machine.
    `fetch=False` (the Model tab's line, on every page load) never downloads the built-in model to size it."""
    from core.models import builtin, compute, devices

    inv = inventory or devices.inventory()
    need = weights = None
    label = "this run"
    unfetched = config.model.source == "default" and not fetch and not builtin.is_ready()
    if compute.chosen_gpus(config.compute, config.model, inv) and not unfetched:
        try:
            result, _ = for_config(config, progress=progress, inventory=inv)
            need, weights = result.total_gb, result.parts_gb["weights"]
            label = run_label(result, config.model.quantization)
        except (OSError, ValueError, RuntimeError) as err:  # an unreachable hub id, an unknown architecture ...
            progress(message("measure.estimate.size_unreadable", error=str(err).splitlines()[0][:200]))
    return compute.plan(config.compute, config.model, inv, need, weights, label)
