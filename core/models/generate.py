"""Whole answers without streaming, for evaluation, voting, probes and the export check.

Chat streams token by token (core.results.chat); everything that compares answers needs them whole, several at
once, and repeatable: greedy when temperature is 0, seeded sampling otherwise. It sits with the models rather than
the results because training uses it too (probe answers, knowledge replay), and a stage imports only earlier ones.
"""

from __future__ import annotations

import contextlib

from core.data import templates


def prompt_of(tokenizer, row: dict) -> tuple[str, str] | None:
    """(the text that asks for the row's answer, the reference answer), or None for rows with no answer.

    A conversation is asked up to its last assistant turn, with the chat template, exactly as the chat tab asks;
    a prompt/completion row is asked with its raw prompt, exactly as it was trained.
    """
    if "messages" in row:
        messages = row["messages"]
        last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
        if last is None:
            return None
        return templates.prompt_for_chat(tokenizer, messages[:last]), messages[last]["content"]
    if "prompt" in row and "completion" in row:
        return row["prompt"], row["completion"]
    return None


def chat_prompt(tokenizer, user_text: str) -> str:
    return templates.prompt_for_chat(tokenizer, [{"role": "user", "content": user_text}])


def generate(model, tokenizer, prompt: str, max_new_tokens: int = 64, n: int = 1, temperature: float = 0.0,
             top_p: float = 1.0, seed: int | None = None, use_adapter: bool = True) -> list[str]:
    """`n` answers to one prompt: greedy (n must be 1) at temperature 0, sampled with `seed` otherwise."""
    import torch

    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
    kwargs = dict(**inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                  num_return_sequences=n)
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
    with torch.no_grad(), adapter_off:
        output = model.generate(**kwargs)
    start = inputs["input_ids"].shape[1]
    return [tokenizer.decode(ids[start:], skip_special_tokens=True).strip() for ids in output]


def generate_batch(model, tokenizer, prompts: list[str], max_new_tokens: int = 64, use_adapter: bool = True) -> list[str]:
    """Greedy answers to several prompts in one generate call (left-padded), for the probes during training:
    one pass per token for all prompts instead of one per prompt keeps evaluations cheap."""
    import torch

    if not prompts:
        return []
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # new tokens follow every prompt directly
    try:
        inputs = tokenizer(prompts, return_tensors="pt", add_special_tokens=False, padding=True).to(model.device)
    finally:
        tokenizer.padding_side = side
    adapter_off = model.disable_adapter() if (not use_adapter and hasattr(model, "disable_adapter")) \
        else contextlib.nullcontext()
    with torch.no_grad(), adapter_off:
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                do_sample=False, temperature=None, top_p=None, top_k=None)
    start = inputs["input_ids"].shape[1]
    return [tokenizer.decode(ids[start:], skip_special_tokens=True).strip() for ids in output]
