"""Which weights a run trains (train.tuning) and what it saves.

lora: a small adapter beside the frozen model, saved in adapter/. full: every weight. freeze: only the last
train.freeze_trainable_layers decoder layers. Full and freeze runs save the whole model in model/ (weights,
config, tokenizer with its chat template), which chat, evaluation, export and the demo load as it is.

Full and freeze keep their trainable weights in float32 when the model computes in bfloat16 or float16 (on a GPU):
the optimizer's small updates would otherwise round away, the same reason mixed precision keeps float32 master
weights. The frozen rest stays in the model's precision.
"""

from __future__ import annotations

import re

from core.training.errors import TrainingError

LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")


def lora_config(config, model=None):
    """The adapter's peft config; with `model`, kept to its language model (see outside_language_model)."""
    from peft import LoraConfig

    left_out = outside_language_model(model) if model is not None else {}
    exclude = "|".join(rf"{re.escape(branch)}\..*" for branch in left_out) or None
    return LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
                      target_modules=config.lora.target_modules, use_rslora=config.lora.use_rslora,
                      use_dora=config.lora.use_dora, task_type="CAUSAL_LM", exclude_modules=exclude)


def outside_language_model(model) -> dict[str, int]:
    """{branch: linear layers in it} for the parts beside the language model: a vision-language checkpoint
    (Gemma 3 4B/12B/27B, loaded as ...ForConditionalGeneration) has a vision tower the loss of a text run never
    reaches. Adapters there would stay untrained, and under ddp (ddp_find_unused_parameters off) the weights
    without a gradient stop the run at step 2 ('Expected to have finished reduction in the prior iteration')."""
    import torch

    decoder = model.get_decoder() if hasattr(model, "get_decoder") else None
    path = next((name for name, module in model.named_modules() if module is decoder and name), None)
    if path is None:
        return {}
    branches: dict[str, int] = {}
    for name, module in model.named_modules():
        linear = isinstance(module, torch.nn.Linear) or "Linear" in type(module).__name__
        if not linear or "lora" in name or name.rsplit(".", 1)[-1] == "lm_head" or name.startswith(path + "."):
            continue
        parts, shared = name.split("."), path.split(".")
        depth = next((i for i, part in enumerate(parts) if i >= len(shared) or part != shared[i]), len(parts) - 1)
        branch = ".".join(parts[:depth + 1])
        branches[branch] = branches.get(branch, 0) + 1
    return branches


def left_out_line(model) -> str | None:
    """What LoRA leaves out of a vision-language model, and why, for the log."""
    left_out = outside_language_model(model)
    if not left_out:
        return None
    parts = ", ".join(f"{branch} ({count} linear layers)" for branch, count in left_out.items())
    return (f"LoRA is kept to the language model; left out: {parts}. A text run's loss never reaches them, so their "
            "adapters would stay untrained (and ddp stops on weights without a gradient).")


def prepare(model, config, gradient_checkpointing: bool, say, wrap: bool = True, zero3: bool = False):
    """(the model to hand the trainer, the peft config to hand it or None).

    `wrap=False` leaves LoRA to the trainer (DPO and KTO): a trainer that adds the adapter itself uses the base
    with the adapter switched off as its reference model, so no second copy of the model is held in memory.
    `zero3` (DeepSpeed ZeRO-3) keeps the adapter in the base model's precision, as trl does where it wraps the
    model: ZeRO-3 gathers parameters into buffers of one dtype, and float32 adapters beside a bfloat16 base fail
    the first step ('output tensor must have the same type', DeepSpeed #8072). A 4-bit base keeps trl's recipe.
    """
    tuning = config.train.tuning
    if _is_peft(model):  # model.start continue: the parent run's adapter, loaded trainable (core.models.load)
        return _continuing(model, config, gradient_checkpointing, say), None
    if tuning == "lora":
        model = _ready_for_lora(model, config, gradient_checkpointing)
        if note := left_out_line(model):
            say(note)
        if not wrap:
            return model, lora_config(config, model)
        from peft import get_peft_model

        same_dtype = zero3 and config.model.quantization == "none"
        model = get_peft_model(model, lora_config(config, model),
                               **({"autocast_adapter_dtype": False} if same_dtype else {}))
        say(lora_line(model, config))
        return model, None
    if tuning == "full":
        for param in model.parameters():
            param.requires_grad = True
        chosen = "every weight"
    else:
        chosen = _freeze_all_but_last(model, config.train.freeze_trainable_layers)
    upcast = _trainable_to_float32(model)
    if gradient_checkpointing:
        model.enable_input_require_grads()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    say(f"Tuning {tuning}: {chosen}, {trainable / 1e6:.1f}M trainable parameters ({100 * trainable / total:.1f}% of "
        f"{total / 1e6:.1f}M)" + (f"; trainable weights kept in float32 ({upcast} tensors)." if upcast else ".")
        + " The run saves the whole model (model/).")
    return model, None


def _is_peft(model) -> bool:
    from peft import PeftModel

    return isinstance(model, PeftModel)


def _continuing(model, config, gradient_checkpointing: bool, say):
    """The parent's adapter as it is: its own LoRA settings hold (a different rank could not load its weights);
    the log says when the form's differ."""
    from core.catalogue.message import message

    if config.train.tuning != "lora":
        raise TrainingError("training.start_from.continue_needs_lora", tuning=config.train.tuning)
    if gradient_checkpointing:
        model.enable_input_require_grads()
    own = model.peft_config["default"]
    if (own.r, own.lora_alpha) != (config.lora.r, config.lora.alpha):
        say(message("training.start_from.continue_lora", r=own.r, alpha=own.lora_alpha, form_r=config.lora.r,
                    form_alpha=config.lora.alpha))
    trainable, total = model.get_nb_trainable_parameters()
    say(f"LoRA (continued): r={own.r}, alpha={own.lora_alpha}, {trainable / 1e6:.2f}M trainable parameters "
        f"({100 * trainable / total:.2f}% of {total / 1e6:.1f}M).")
    return model


def lora_line(model, config) -> str:
    """What the adapter is, for the log."""
    trainable, total = model.get_nb_trainable_parameters()
    return (f"LoRA: r={config.lora.r}, alpha={config.lora.alpha}, {trainable / 1e6:.2f}M trainable parameters "
            f"({100 * trainable / total:.2f}% of {total / 1e6:.1f}M).")


def _ready_for_lora(model, config, gradient_checkpointing: bool):
    import torch
    from peft import prepare_model_for_kbit_training

    if config.model.quantization != "none" and model.dtype == torch.float16:
        # peft's recipe upcasts every weight that is not quantized (embeddings, output head, norms) to float32:
        # float16 needs it to stay stable, at ~2 GiB more for an 8B model. In bfloat16, as trl's QLoRA recipe
        # does, they stay as loaded.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    if gradient_checkpointing:
        model.enable_input_require_grads()  # checkpointed layers need an input that requires grad
    return model


def decoder_layers(model) -> list[int]:
    """The numbers of the model's decoder layers, from its parameter names (model.layers.N. ...)."""
    return sorted({int(m.group(1)) for name, _ in model.named_parameters() if (m := LAYER.search(name))})


def _freeze_all_but_last(model, count: int) -> str:
    layers = decoder_layers(model)
    if not layers:
        raise TrainingError("training.tuning.freeze_needs_layers")
    if count > len(layers):
        raise TrainingError("training.tuning.freeze_too_many_layers", count=count, layers=len(layers))
    trained = set(layers[-count:])
    for name, param in model.named_parameters():
        match = LAYER.search(name)
        param.requires_grad = bool(match) and int(match.group(1)) in trained
    first, last = min(trained), max(trained)
    return f"the last {count} of {len(layers)} layers (" + (f"{first}-{last})" if first != last else f"{first})")


def _trainable_to_float32(model) -> int:
    import torch

    cast = 0
    for param in model.parameters():
        if param.requires_grad and param.dtype in (torch.bfloat16, torch.float16):
            param.data = param.data.float()
            cast += 1
    return cast


def save(trainer, run, tuning: str, say) -> None:
    """The adapter (lora) or the whole model (full, freeze), with the tokenizer and its chat template: every process
    joins, rank 0 writes."""
    where = run.adapter_dir if tuning == "lora" else run.model_dir
    if trainer.is_fsdp_enabled:  # gather the shards into one file, as peft's FSDP guide does
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(where))
    say(f"{'Adapter' if tuning == 'lora' else 'Model'} saved to {where} after step {trainer.state.global_step}.")
