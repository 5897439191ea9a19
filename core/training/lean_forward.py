"""The training forward pass on the CPU without memory it does not need: the padding mask, and wide loss tiles.

Two things a padded batch costs on the CPU that change nothing in the loss (measured: docs/measurements.md, the
benchmark):

The padding mask. The collator pads on the right, so a real token never attends to padding: the causal mask alone
gives every real token the same attention. With a padding mask, sdpa on the CPU takes its masked path, which keeps
each layer's (batch x heads x length x length) attention probabilities for the backward pass; without one it takes
the fused causal kernel, which keeps one number per query. Padding positions then attend to the tokens before them
instead of to nothing, but they carry no loss and no real token reads them.

The loss tiles.
trl's SFTTrainer already scores tokens through a fused LM head (trl.trainer.utils.add_fused_lm_head): it projects
the last hidden states through the output layer in tiles and folds each tile into log-probabilities, so the
(tokens x vocabulary) logits never exist at once. With Triton (CUDA, XPU) it scores only the tokens that carry
loss. Elsewhere, the CPU included, it scores every position, prompt and padding too, in tiles of 4,096 tokens x
32,768 vocabulary entries, and its torch fallback makes about five float32 temporaries of a tile's size in the
backward pass: for the built-in model at batch 8 x 256 tokens that is ~0.8 GB at the start of the backward pass,
when every activation is still held, so it adds to the run's peak.

`lean_forward` keeps trl's kernel (the same arithmetic, so the same loss within float rounding) and changes only
what it is given: the tokens that carry loss, in tiles of TOKENS_PER_TILE x VOCAB_PER_TILE (32 MB in float32).
Models whose logits are scaled or soft-capped, mixture-of-experts models, vision-language models and pre-shifted
labels keep trl's path as it is, and so does a GPU with Triton, where trl already scores only those tokens.
"""

from __future__ import annotations

import functools
import types

LOG_LINE = ("Loss scored on the answer tokens only, in CPU-sized tiles, and padding left to the causal mask: the same "
            "loss with less memory (core.training.lean_forward).")
TOKENS_PER_TILE = 1024
VOCAB_PER_TILE = 8192
# Config fields that change the logits before the softmax (trl reads the same ones); a model with any keeps trl's path.
SCALED_LOGITS = ("final_logit_softcapping", "logit_scale", "output_multiplier", "lm_head_multiplier",
                 "logits_scaling")


def supported(model) -> bool:
    """Whether `model` (the causal LM, below any peft wrapper) computes plain logits = hidden @ output weights."""
    text_config = model.config.get_text_config()
    if text_config is not model.config:  # vision-language wrappers: trl handles their backbone's layout
        return False
    if any(getattr(text_config, name, None) is not None for name in SCALED_LOGITS):
        return False
    if getattr(text_config, "output_router_logits", False):
        return False
    head = model.get_output_embeddings()
    return head is not None and getattr(head, "bias", None) is None


def lean_forward(trainer, outputs: tuple[str, ...] = ("log_probs", "entropy", "is_top1")) -> bool:
    """Make the training forward of the trainer's model (already given trl's fused LM head) drop a right-padding
    mask and score only the loss-carrying tokens, in CPU-sized tiles. `outputs` are the per-token fields the trainer
    reads (SFTTrainer: log-probabilities, and entropy and top-1 hits for its metrics). Returns whether it did: on a
    device with Triton, sharded, or with a model `supported` refuses, trl's forward stays as it is."""
    from trl.kernels.chunked_logprob import _use_triton

    model = trainer.model
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    sharded = trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled  # trl gathers the head's shards itself
    if sharded or _use_triton(trainer.args.device) or not supported(base):
        return False
    trl_forward = base.forward  # trl's fused forward: the original model forward when fused_lm_head is False

    @functools.wraps(type(base).forward)  # generate checks its keyword arguments against this signature
    def forward(self, *args, fused_lm_head=False, labels=None, shift_labels=None, num_items_in_batch=None, **kwargs):
        if not fused_lm_head or shift_labels is not None or labels is None:
            return trl_forward(*args, fused_lm_head=fused_lm_head, labels=labels, shift_labels=shift_labels,
                               num_items_in_batch=num_items_in_batch, **kwargs)
        kwargs["use_cache"] = False
        if right_padded(kwargs.get("attention_mask")):
            kwargs["attention_mask"] = None
        hidden = self.base_model(*args, **kwargs).last_hidden_state
        return scored(hidden, labels, self.get_output_embeddings().weight, num_items_in_batch, outputs)

    base.forward = types.MethodType(forward, base)
    return True


def right_padded(mask) -> bool:
    """Whether a (batch x length) padding mask only pads at the end of each row (ones, then zeros)."""
    return mask is not None and mask.dim() == 2 and bool((mask[:, 1:] <= mask[:, :-1]).all())


def scored(hidden, labels, weight, num_items_in_batch, outputs):
    """trl's FusedCausalLMOutput for next-token labels, scoring only the tokens whose label is not -100."""
    import torch
    from trl.kernels import ChunkedLogProbFunction
    from trl.trainer.utils import FusedCausalLMOutput

    hidden, labels = hidden[:, :-1], labels[:, 1:].to(hidden.device)
    mask = labels != -100
    chosen, targets = hidden[mask], labels[mask]
    fields = [[] for _ in range(5)]  # log_probs, entropy, log_sum_sq_probs, mean_logits, is_top1
    # One call per tile of tokens: trl's kernel saves only its inputs for the backward pass and recomputes the tile.
    for start in range(0, max(len(targets), 1), TOKENS_PER_TILE):
        end = start + TOKENS_PER_TILE
        parts = ChunkedLogProbFunction.apply(chosen[start:end], weight, None, targets[start:end], 1.0, VOCAB_PER_TILE,
                                             None, 1.0, outputs)
        for found, part in zip(fields, parts):
            if part is not None:
                found.append(part)
    # masked_scatter keeps a batch without any loss-carrying token connected to the model (a zero gradient, no error).
    log_probs, entropy, log_sum_sq_probs, mean_logits, is_top1 = (
        mask.new_zeros(mask.shape, dtype=found[0].dtype).masked_scatter(mask, torch.cat(found)) if found else None
        for found in fields)
    count = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    return FusedCausalLMOutput(loss=-log_probs.sum() / count, log_probs=log_probs, entropy=entropy,
                               log_sum_sq_probs=log_sum_sq_probs, mean_logits=mean_logits, is_top1=is_top1,
                               label_mask=mask)
