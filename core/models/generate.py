"""Whole answers without streaming, for evaluation, voting, probes and the export check.

Chat streams token by token (core.results.chat); everything that compares answers needs them whole, several at
once, and repeatable: greedy when temperature is 0, seeded sampling otherwise. It sits with the models rather than
the results because training uses it too (probe answers, knowledge replay), and a stage imports only earlier ones.
"""

from __future__ import annotations

import contextlib
import re

from core.data import templates

# Qwen3 answers after an empty think block when it was fine-tuned on plain answers; it is not part of the answer.
EMPTY_THINK = re.compile(r"^\s*<think>\s*</think>\s*")


def prompt_of(tokenizer, row: dict) -> tuple[str, str] | None:
    """(the text that asks for the row's answer, the reference answer), or None for rows with no answer.

    A conversation is asked up to its last assistant turn, with the chat template, exactly as the chat tab asks;
    a prompt/completion row is asked with its raw prompt (after the tokenizer's BOS), exactly as it was trained.
    """
    if "messages" in row:
        messages = row["messages"]
        last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
        if last is None:
            return None
        return templates.prompt_for_chat(tokenizer, messages[:last]), messages[last]["content"]
    if "prompt" in row and "completion" in row:
        return templates.layout_bos(tokenizer) + row["prompt"], row["completion"]
    return None


def chat_prompt(tokenizer, user_text: str) -> str:
    return templates.prompt_for_chat(tokenizer, [{"role": "user", "content": user_text}])


def stop_ids(model, tokenizer) -> list[int]:
    """Every id that ends an answer: all of generation_config.eos_token_id (Llama 3 lists several), the tokenizer's
    EOS and the chat template's end-of-turn token (Gemma's <end_of_turn>, which a base model's config lacks)."""
    config = getattr(model, "generation_config", None)
    listed = getattr(config, "eos_token_id", None)
    ids = list(listed) if isinstance(listed, (list, tuple)) else [listed]
    ids += sorted(templates.turn_end_ids(tokenizer))
    return list(dict.fromkeys(i for i in ids if i is not None))


def answer_text(tokenizer, ids, stops) -> tuple[str, bool]:
    """(the answer in `ids` up to its first stop id, whether a stop id ended it)."""
    ids = list(ids)
    end = next((i for i, token_id in enumerate(ids) if token_id in stops), None)
    text = tokenizer.decode(ids[:end], skip_special_tokens=True)
    if end is None:  # cut at max_new_tokens, maybe inside a character's bytes: never show half a character ("�")
        text = text.rstrip("\ufffd")
    return EMPTY_THINK.sub("", text).strip(), end is not None


def without_empty_think(pieces):
    """A streamed answer without the empty think block a Qwen3-style model writes first (real thinking stays)."""
    pieces = iter(pieces)
    head, ended = "", True
    for piece in pieces:
        head += piece
        if not _may_be_empty_think(head):
            ended = False
            break
    match = EMPTY_THINK.match(head)
    if match:
        head = head[match.end():]
    if head:
        yield head
    if not ended:  # a TextIteratorStreamer read again after its end waits forever (an empty answer hung the chat)
        yield from pieces


def _may_be_empty_think(text: str) -> bool:
    """Whether `text` is (the start of) an empty think block, with nothing after it yet."""
    rest = text.lstrip()
    for tag in ("<think>", "</think>"):
        if len(rest) < len(tag):
            return tag.startswith(rest)
        if not rest.startswith(tag):
            return False
        rest = rest[len(tag):].lstrip()
    return rest == ""


def run_precision(model):
    """torch.autocast in the precision the model was loaded in, on a GPU: what the run's mixed precision (bf16 or
    fp16) does for its training steps. Full and freeze tuning keep their trained weights in float32 beside
    bfloat16 ones, and flash attention refuses float32 ('FlashAttention only support fp16 and bf16'), so probes
    and replay answered without it fail. Elsewhere (the CPU, a float32 model) nothing changes."""
    import torch

    dtype = getattr(getattr(model, "config", None), "dtype", None)
    dtype = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
    if dtype not in (torch.bfloat16, torch.float16) or _device_type(model) != "cuda":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=dtype)


def _device_type(model) -> str:
    return next(model.parameters()).device.type


def generate(model, tokenizer, prompt: str, max_new_tokens: int = 64, n: int = 1, temperature: float = 0.0,
             top_p: float = 1.0, seed: int | None = None, use_adapter: bool = True) -> list[str]:
    """`n` answers to one prompt: greedy (n must be 1) at temperature 0, sampled with `seed` otherwise."""
    import torch

    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
    stops = stop_ids(model, tokenizer)
    kwargs = dict(**inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                  eos_token_id=stops, num_return_sequences=n)
    if temperature > 0:
        kwargs.update(do_sample=True, temperature=temperature, top_p=top_p)
    else:
        if n != 1:
            raise ValueError("Greedy answers are all the same; sampling several needs a temperature above 0.")
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    if seed is not None:
        torch.manual_seed(seed)
    adapter_off = model.disable_adapter() if (not use_adapter and hasattr(model, "disable_adapter")) \
        else contextlib.nullcontext()
    with torch.no_grad(), adapter_off, run_precision(model):
        output = model.generate(**kwargs)
    start = inputs["input_ids"].shape[1]
    return [answer_text(tokenizer, ids[start:], stops)[0] for ids in output]


def generate_batch(model, tokenizer, prompts: list[str], max_new_tokens: int = 64,
                   use_adapter: bool = True, should_stop=None) -> list[str]:
    """Greedy answers to several prompts in one generate call (left-padded), for the probes during training:
    one pass per token for all prompts instead of one per prompt keeps evaluations cheap."""
    return [text for text, _ in answer_batch(model, tokenizer, prompts, max_new_tokens, use_adapter, should_stop)]


def answer_batch(model, tokenizer, prompts: list[str], max_new_tokens: int = 64,
                 use_adapter: bool = True, should_stop=None, *, temperature: float = 0.0, top_p: float = 1.0,
                 seed: int | None = None) -> list[tuple[str, bool]]:
    """generate_batch's answers, each with whether a stop id ended it (rather than max_new_tokens): greedy at
    temperature 0, sampled otherwise (the same prompts, batch and `seed` give the same answers).

    `should_stop()` is asked after every token: when it says yes (the run's Stop), generation ends there, and the
    answers not ended by a stop id come back unfinished (done False), as if cut at max_new_tokens. On a CPU one
    batch of replay answers took minutes, and Stop waited for all of it."""
    import torch

    if not prompts:
        return []
    stops = stop_ids(model, tokenizer)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # new tokens follow every prompt directly
    try:
        inputs = tokenizer(prompts, return_tensors="pt", add_special_tokens=False, padding=True).to(model.device)
    finally:
        tokenizer.padding_side = side
    adapter_off = model.disable_adapter() if (not use_adapter and hasattr(model, "disable_adapter")) \
        else contextlib.nullcontext()
    sampling = dict(do_sample=True, temperature=temperature, top_p=top_p) if temperature > 0 \
        else dict(do_sample=False, temperature=None, top_p=None, top_k=None)
    if seed is not None:
        torch.manual_seed(seed)
    with torch.no_grad(), adapter_off, run_precision(model):
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                eos_token_id=stops, **sampling,
                                **({"stopping_criteria": [stop_when_asked(should_stop)]} if should_stop else {}))
    start = inputs["input_ids"].shape[1]
    return [answer_text(tokenizer, ids[start:], stops) for ids in output]


# Rows answered together on a CPU, at most. With threads that sleep while they wait (OMP_WAIT_POLICY=PASSIVE), a
# bigger batch keeps paying off on a quiet 2-core CPU: the built-in model answering 64 evaluation rows, 32 new tokens,
# took 124.6 s row by row, 46.9 s in batches of 8, 31.2 s of 16 and 25.9 s of 32 (docs/measurements.md). Beyond 32
# the longest prompt of a batch pads the rest.
CPU_BATCH_LIMIT = 32
GPU_BATCH_LIMIT = 64
CACHE_SHARE = 0.5  # of the free memory, for the answers' key/value cache (activations and the rest need room)


def batch_rows(model, tokens: int) -> int:
    """How many rows to answer in one generate call, each up to `tokens` long (prompt plus answer): as many as
    CACHE_SHARE of the free memory (the GPU's, or the machine's on a CPU) holds of key/value cache, at most
    GPU_BATCH_LIMIT or CPU_BATCH_LIMIT."""
    weight = next(model.parameters())
    width = weight.element_size() if weight.is_floating_point() else 2  # quantized weights compute in 16 bits
    limit = GPU_BATCH_LIMIT if _device_type(model) == "cuda" else CPU_BATCH_LIMIT
    return rows_that_fit(model.config, width, tokens, free_bytes(model), limit)


def free_bytes(model) -> int:
    """The free memory where the model computes: its GPU's, or the machine's on a CPU."""
    import psutil
    import torch

    weight = next(model.parameters())
    if weight.device.type != "cuda":
        return psutil.virtual_memory().available
    free, _total = torch.cuda.mem_get_info(weight.device)
    return free


def rows_that_fit(config, width: int, tokens: int, free_bytes: int, limit: int = GPU_BATCH_LIMIT) -> int:
    """Rows whose key/value cache (2 x layers x kv heads x head size x `width` bytes per token, `tokens` each) fits
    in CACHE_SHARE of `free_bytes`; between 1 and `limit`."""
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    heads = getattr(config, "num_attention_heads", 1) or 1
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_size = getattr(config, "head_dim", None) or config.hidden_size // heads
    per_row = 2 * config.num_hidden_layers * kv_heads * head_size * width * max(tokens, 1)
    return max(1, min(limit, int(free_bytes * CACHE_SHARE // per_row)))


def answer_all(model, tokenizer, prompts: list[str], max_new_tokens: int = 64, use_adapter: bool = True,
               batch_size: int | None = None, progress=None) -> list[tuple[str, bool]]:
    """answer_batch over any number of prompts, `batch_size` at a time (batch_rows when None), in the prompts'
    order. Prompts of similar length go together, so little of each batch is padding; greedy answers are the same
    as one at a time. `progress(done, total)` after each batch."""
    if not prompts:
        return []
    lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    size = batch_size or batch_rows(model, max(lengths) + max_new_tokens)
    answers: list = [None] * len(prompts)
    done = 0
    for chunk in in_length_order(lengths, size):
        for i, answer in zip(chunk, answer_batch(model, tokenizer, [prompts[i] for i in chunk], max_new_tokens,
                                                 use_adapter)):
            answers[i] = answer
        done += len(chunk)
        if progress:
            progress(done, len(prompts))
    return answers


def in_length_order(lengths: list[int], size: int) -> list[list[int]]:
    """The indexes of `lengths` in batches of `size`, shortest first: rows of similar length go together, so
    little of a batch is padding."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    return [order[start:start + size] for start in range(0, len(order), size)]


def stop_when_asked(should_stop):
    """A stopping criterion that ends generation for every sequence as soon as `should_stop()` is true (read once
    per new token). Under DeepSpeed ZeRO-3 generate keeps the ranks' forward passes in step (synced_gpus) until all
    have ended, so a rank that sees Stop a token before another does not leave it waiting."""
    import torch
    from transformers import StoppingCriteria

    class WhenAsked(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), bool(should_stop()), dtype=torch.bool, device=input_ids.device)

    return WhenAsked()
