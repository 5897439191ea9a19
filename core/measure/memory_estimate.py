"""How much memory a run will need, from the model's config alone, and where accelerate would put its layers.

Nothing here loads weights: the model is built on the meta device (accelerate's init_empty_weights), which
takes a second even for 8B parameters, so the estimate can be shown before the user waits for a load. The
pre-flight check (core.measure.preflight) then measures the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GB = 1024 ** 3
DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
# Bytes per frozen linear weight when quantized: int8, or NF4 (half a byte) plus double-quantized block scales.
QUANTIZED_BYTES = {"8bit": 1.0, "4bit": 0.52}
FRAMEWORK_OVERHEAD_GB = 0.5  # the CUDA context or, on the CPU, torch's own libraries and buffers


@dataclass
class Estimate:
    parameters: int
    lora_parameters: int
    parts_gb: dict[str, float]          # weights, LoRA + gradients + optimizer, activations, logits, overhead
    assumptions: list[str] = field(default_factory=list)

    @property
    def total_gb(self) -> float:
        return sum(self.parts_gb.values())

    def lines(self) -> list[str]:
        parts = ", ".join(f"{name} {value:.2f}" for name, value in self.parts_gb.items())
        return [f"Estimated peak: {self.total_gb:.2f} GiB ({parts}).",
                f"{self.parameters / 1e6:.1f}M parameters, {self.lora_parameters / 1e6:.2f}M of them LoRA's."
                ] + self.assumptions


def skeleton(hf_config, trust_remote_code: bool = False):
    """The model with every tensor on the meta device: shapes without memory."""
    from accelerate import init_empty_weights
    from transformers import AutoModelForCausalLM

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(hf_config, trust_remote_code=trust_remote_code)
    model.tie_weights()  # from_config leaves tied embeddings apart; from_pretrained ties them, so count them once
    return model


def lora_targets(model, target_modules) -> list[tuple[int, int]]:
    """(in_features, out_features) of every linear layer LoRA would wrap."""
    import torch

    found = []
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear):
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
             uses_gpu: bool = True, model=None) -> Estimate:
    """Peak memory of a LoRA run at `batch_size` x `max_length` tokens (the worst case: every row full)."""
    import torch

    model = model or skeleton(hf_config)
    text = hf_config.get_text_config() if hasattr(hf_config, "get_text_config") else hf_config
    hidden, layers = text.hidden_size, text.num_hidden_layers
    intermediate = getattr(text, "intermediate_size", 4 * hidden)
    vocab, heads = text.vocab_size, text.num_attention_heads
    width = DTYPE_BYTES[dtype]

    parameters = sum(p.numel() for p in model.parameters())
    targets = lora_targets(model, target_modules)
    lora_parameters = sum(rank * (fan_in + fan_out) for fan_in, fan_out in targets)

    if quantization in QUANTIZED_BYTES:
        linear = sum(m.weight.numel() for n, m in model.named_modules()
                     if isinstance(m, torch.nn.Linear) and not n.endswith("lm_head"))
        weights = linear * QUANTIZED_BYTES[quantization] + (parameters - linear) * width
    else:
        weights = parameters * width
    # peft keeps adapters in float32: the weight, its gradient and AdamW's two moments, 4 bytes each.
    adapter = lora_parameters * 16

    tokens = batch_size * max_length
    if gradient_checkpointing:
        # Only each layer's input is kept; one layer's activations exist at a time while it is recomputed.
        per_token = layers * hidden + (16 * hidden + 6 * intermediate)
    else:
        # Per layer: norms, q/k/v/o inputs and outputs, residuals (~10h), the MLP's gate/up/act/product (~5I),
        # and LoRA's dropout copies of each wrapped layer's input (~6h + I).
        per_token = layers * (16 * hidden + 6 * intermediate)
    activations = tokens * per_token * width
    # Eager attention keeps its probabilities (heads x length per token) for the backward pass, and so does
    # sdpa on the CPU, whose masked path is plain math: 13.9 GB peak RSS measured for SmolLM2-135M at batch 2
    # with rows of up to 1,600 tokens. GPU kernels (flash, memory-efficient) keep only a few numbers per row.
    if attention == "eager" or (attention == "sdpa" and not uses_gpu):
        activations += tokens * max_length * heads * width * (1 if gradient_checkpointing else layers)
    # The loss upcasts the logits to float32 and keeps their gradient: model dtype + 4 + 4 bytes per entry.
    logits = tokens * vocab * (width + 8)

    parts = {"weights": weights / GB, "LoRA + optimizer": adapter / GB, "activations": activations / GB,
             "logits": logits / GB, "overhead": FRAMEWORK_OVERHEAD_GB}
    assumptions = [f"Assumes every row is {max_length} tokens long at batch {batch_size} ({dtype}, quantization "
                   f"{quantization}, gradient checkpointing {'on' if gradient_checkpointing else 'off'}); "
                   "shorter rows need less. The pre-flight check measures the real figure."]
    return Estimate(parameters, lora_parameters, parts, assumptions)


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


def available_memory() -> dict:
    """What this machine offers a device map: free memory of each GPU and available RAM, as accelerate wants it."""
    from core.models import devices

    inv = devices.inventory()
    memory = {gpu.index: f"{gpu.free_gb:.1f}GiB" for gpu in inv.gpus}
    memory["cpu"] = f"{inv.ram_available_gb:.1f}GiB"
    return memory


def for_config(config, gradient_checkpointing: bool | None = None, progress=print) -> tuple[Estimate, dict]:
    """The estimate and placement preview for a run's Config, read from the model folder's config.json."""
    from transformers import AutoConfig

    from core.models import load as models
    from core.training import speed

    source = models.resolve_source(config.model.source, progress)
    hf_config = AutoConfig.from_pretrained(source, trust_remote_code=config.model.trust_remote_code)
    uses_gpu = models.will_use_gpu(config.model)
    dtype = str(models.pick_dtype(config.model, uses_gpu)).replace("torch.", "")
    attention = speed.resolve(config.train, uses_gpu)["attention"]
    model = skeleton(hf_config, config.model.trust_remote_code)
    if gradient_checkpointing is None:  # the rule core.training.train.resolve_auto applies
        from core.training.train import SMALL_MODEL

        setting = config.train.gradient_checkpointing
        large = sum(p.numel() for p in model.parameters()) >= SMALL_MODEL
        gradient_checkpointing = setting == "on" or (setting == "auto" and uses_gpu and large)
    result = estimate(hf_config, rank=config.lora.r, target_modules=config.lora.target_modules,
                      batch_size=config.train.batch_size, max_length=config.train.max_length, dtype=dtype,
                      quantization=config.model.quantization, gradient_checkpointing=gradient_checkpointing,
                      attention=attention, uses_gpu=uses_gpu, model=model)
    if uses_gpu:
        max_memory = models.max_memory_argument(config.model) or available_memory()
        placement = placement_preview(hf_config, max_memory, dtype, config.model.quantization, model=model)
    else:
        placement = {"": "cpu"}
    return result, placement
