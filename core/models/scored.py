"""Answers whose prompts are read in the same forward pass that scores each row's reference answer.

Evaluation needs two things of a row: the loss of its reference answer (prompt and answer read once, the answer's
tokens scored) and the model's own answer to its prompt (the prompt read again, then one token at a time). On the
built-in model a row's answer is a few tokens after a prompt of 35-131, so the loss pass was nearly a second prefill:
37 s of a ~75 s batched evaluation of 64 rows on a quiet 2-core CPU. Here one pass reads prompt and reference
answer, scores the answer, and generation starts from its key/value cache of the prompts.
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass

from core.data.templates import IGNORE
from core.models.generate import answer_batch, answer_text, batch_rows, free_bytes, in_length_order, run_precision, \
    stop_ids

# Of the free memory, what one batch's scoring logits (rows x scored columns x vocabulary, float32) may take.
LOGITS_SHARE = 0.25


@dataclass(frozen=True)
class ScoredAnswer:
    text: str  # the greedy answer
    done: bool  # a stop id ended it, rather than max_new_tokens
    loss: float  # summed cross-entropy of the row's trained tokens (nats)
    tokens: int  # how many trained tokens


def score_and_answer(model, tokenizer, prompts: list[str], records: list[dict], max_new_tokens: int = 64,
                     use_adapter: bool = True) -> list[ScoredAnswer]:
    """Greedy answers to `prompts` and the loss of each row in `records` (its input_ids and labels, as
    core.data.templates.tokenize_row makes them for training), the same as answer_batch and a lone forward pass.

    When every row's ids begin with its prompt's ids, the prompts are left-padded so that every reference answer
    starts at the same column, one pass reads both, and the cache it leaves of the prompts is where generation
    starts. Otherwise (a prompt that tokenizes differently inside its row, a row cut at max_length) the rows are
    scored in a pass of their own."""
    import torch

    if not prompts:
        return []
    prompt_ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    # (an empty prompt leaves generate no token to start from a cache with)
    shared = all(p and list(r["input_ids"][:len(p)]) == list(p) for p, r in zip(prompt_ids, records))
    width = max(len(p) for p in prompt_ids)
    starts = [width - len(p) for p in prompt_ids] if shared else [0] * len(records)
    adapter_off = model.disable_adapter() if (not use_adapter and hasattr(model, "disable_adapter")) \
        else contextlib.nullcontext()
    with torch.no_grad(), adapter_off, run_precision(model):
        losses, cache, ids, mask = _score(model, tokenizer, records, starts, keep_cache=shared)
        if cache is None:
            answers = answer_batch(model, tokenizer, prompts, max_new_tokens, use_adapter=True)  # adapter set above
        else:  # the shared layout's first `width` columns are the left-padded prompts
            answers = _answer_from(model, tokenizer, ids[:, :width], mask[:, :width], cache, max_new_tokens)
    return [ScoredAnswer(text, done, loss, count) for (text, done), (loss, count) in zip(answers, losses)]


def score_and_answer_all(model, tokenizer, prompts: list[str], records: list[dict], max_new_tokens: int = 64,
                         use_adapter: bool = True, batch_size: int | None = None,
                         progress=None) -> list[ScoredAnswer]:
    """score_and_answer over any number of rows, `batch_size` at a time (when None: as many as the free memory
    holds of key/value cache and scoring logits), rows of similar length together, in the rows' order.
    `progress(done, total)` after each batch."""
    if not prompts:
        return []
    lengths = [len(r["input_ids"]) for r in records]
    size = batch_size or min(batch_rows(model, max(lengths) + max_new_tokens), _rows_whose_logits_fit(model, records))
    out: list = [None] * len(prompts)
    done = 0
    for chunk in in_length_order(lengths, size):
        for i, answer in zip(chunk, score_and_answer(model, tokenizer, [prompts[i] for i in chunk],
                                                     [records[i] for i in chunk], max_new_tokens, use_adapter)):
            out[i] = answer
        done += len(chunk)
        if progress:
            progress(done, len(prompts))
    return out


def _score(model, tokenizer, records: list[dict], starts: list[int], keep_cache: bool):
    """([(summed cross-entropy, trained tokens)] of each row placed at its start column, the pass's key/value cache
    when `keep_cache` and it can be cut back to the prompts (None otherwise), and the placed ids and mask)."""
    import torch

    length = max(start + len(r["input_ids"]) for start, r in zip(starts, records))
    ids = torch.full((len(records), length), _pad_id(tokenizer), dtype=torch.long)
    mask = torch.zeros((len(records), length), dtype=torch.long)
    labels = torch.full((len(records), length), IGNORE, dtype=torch.long)
    for row, (start, record) in enumerate(zip(starts, records)):
        end = start + len(record["input_ids"])
        ids[row, start:end] = torch.tensor(record["input_ids"])
        mask[row, start:end] = 1
        labels[row, start:end] = torch.tensor(record["labels"])
    # Positions count real tokens only, as generate counts them for left-padded prompts; the cache must agree.
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    # Token t is predicted from the tokens before it: the logits at column t-1 score label t. Only the columns that
    # score some row's label are turned into logits (a vocabulary-wide row per column is most of the memory).
    targets = labels[:, 1:]
    columns = (targets != IGNORE).any(0).nonzero().squeeze(1).to(model.device)
    takes_columns = _takes_columns(model)
    out = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                position_ids=positions.to(model.device), use_cache=keep_cache,
                **({"logits_to_keep": columns} if takes_columns else {}))
    cache = out.past_key_values if keep_cache else None
    cache = cache if cache is not None and plain_cache(cache) else None
    if not len(columns):
        return [(0.0, 0)] * len(records), cache, ids, mask
    logits = out.logits if takes_columns else out.logits[:, columns]
    picked = targets.to(model.device)[:, columns]
    lost = torch.nn.functional.cross_entropy(logits.float().transpose(1, 2), picked, ignore_index=IGNORE,
                                             reduction="none").sum(1).tolist()
    return list(zip(lost, (picked != IGNORE).sum(1).tolist())), cache, ids, mask


def _answer_from(model, tokenizer, ids, mask, cache, max_new_tokens: int):
    """Greedy answers to the left-padded prompts `ids`, generation starting from `cache` of the scoring pass cut
    back to all but the prompts' last column (generate reads that one again, to have a token to start from)."""
    width = ids.shape[1]
    cache.crop(-(cache.get_seq_length() - (width - 1)))
    stops = stop_ids(model, tokenizer)
    output = model.generate(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                            past_key_values=cache, max_new_tokens=max_new_tokens,
                            pad_token_id=tokenizer.pad_token_id, eos_token_id=stops, do_sample=False,
                            temperature=None, top_p=None, top_k=None)
    return [answer_text(tokenizer, row[width:], stops) for row in output]


def _pad_id(tokenizer) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


def plain_cache(cache) -> bool:
    """Whether each layer of the cache is a plain growing key/value layer, which can be cut back, padded and merged
    (a sliding window's or a linear attention's state cannot)."""
    from transformers.cache_utils import DynamicLayer

    layers = getattr(cache, "layers", None)
    return bool(layers) and all(type(layer) is DynamicLayer for layer in layers)


def _takes_columns(model) -> bool:
    """Whether the model's forward turns only chosen columns into logits (`logits_to_keep`, most causal LMs in
    transformers 5)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def _rows_whose_logits_fit(model, records: list[dict]) -> int:
    """Rows whose scoring logits fit in LOGITS_SHARE of the free memory: each scores up to its widest span of
    trained tokens, a float32 row of the vocabulary per column (and the model's own copy before the cast)."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    span = max((_trained_span(r["labels"]) for r in records), default=1)
    per_row = max(span, 1) * config.vocab_size * 8
    return max(1, int(free_bytes(model) * LOGITS_SHARE // per_row))


def _trained_span(labels: list[int]) -> int:
    trained = [i for i, label in enumerate(labels) if label != IGNORE]
    return trained[-1] - trained[0] + 1 if trained else 0
