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


def lora_config(config):
    from peft import LoraConfig

    return LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
                      target_modules=config.lora.target_modules, use_rslora=config.lora.use_rslora,
                      use_dora=config.lora.use_dora, task_type="CAUSAL_LM")


def prepare(model, config, gradient_checkpointing: bool, say, wrap: bool = True):
    """(the model to hand the trainer, the peft config to hand it or None).

    `wrap=False` leaves LoRA to the trainer (DPO and KTO): a trainer that adds the adapter itself uses the base
    with the adapter switched off as its reference model, so no second copy of the model is held in memory.
    """
    tuning = config.train.tuning
    if tuning == "lora":
        model = _ready_for_lora(model, config, gradient_checkpointing)
        if not wrap:
            return model, lora_config(config)
        from peft import get_peft_model

        model = get_peft_model(model, lora_config(config))
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
