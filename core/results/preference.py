"""Preference accuracy: does the model like the chosen answer better than the rejected one?

For each pair, the answer's log-likelihood given the prompt, divided by its number of tokens (so a longer answer is
not penalized for being longer), with the tokens exactly as preference training sees them (core.data.pairs: the
prompt as the chat template writes it, the answer with its end of turn). The accuracy is the share of pairs whose
chosen answer scores higher; a tie counts as a miss. Computed for the base model (adapter off) and the tuned one.
"""

from __future__ import annotations

import contextlib

from core.data import pairs


def answer_score(model, prompt_ids: list[int], answer_ids: list[int], max_length: int, use_adapter: bool) -> float:
    """Mean log-probability per answer token of `answer_ids` after `prompt_ids`, cut at max_length as training
    cuts (the answer, never the prompt)."""
    import torch

    answer_ids = answer_ids[:max(1, max_length - len(prompt_ids))]
    ids = torch.tensor([prompt_ids + answer_ids], device=model.device)
    adapter_off = model.disable_adapter() if not use_adapter else contextlib.nullcontext()
    with torch.no_grad(), adapter_off:
        logits = model(input_ids=ids).logits.float()
    # Token t is predicted from the tokens before it: logits at t-1 score token t.
    start = len(prompt_ids)
    logprobs = torch.log_softmax(logits[0, start - 1:-1], dim=-1)
    picked = logprobs.gather(1, ids[0, start:].unsqueeze(1))
    return float(picked.mean())


def prefers_chosen(model, tokenizer, row: dict, max_length: int, use_adapter: bool) -> bool:
    """Whether the model gives the pair's chosen answer a higher length-normalized log-likelihood."""
    pair = pairs.tokenize_pair(tokenizer, row)
    chosen = answer_score(model, pair["prompt_ids"], pair["chosen_ids"], max_length, use_adapter)
    rejected = answer_score(model, pair["prompt_ids"], pair["rejected_ids"], max_length, use_adapter)
    return chosen > rejected

