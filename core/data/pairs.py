"""Preference rows as token ids: the prompt, then each answer, split where supervised fine-tuning splits them.

The prompt is everything the chat template writes before the last answer (system prompt, user turns, earlier
answers, the assistant header); an answer is what training puts loss on for it: its text as the template writes it,
with the end-of-turn token(s). Both come from core.data.templates.segments, the split SFT trains with, so a pair's
chosen answer carries loss on exactly the tokens an SFT run on that conversation would train, and the prompt is
the text the chat tab sends before the model answers.
"""

from __future__ import annotations

from core.catalogue.message import Message
from core.data import templates
from core.data.chat_layout import cannot_mask


def prompt_and_answer(tokenizer, row: dict) -> tuple[list[int], list[int]]:
    """(prompt ids, answer ids) of a conversation ending with the answer, or of a prompt/completion row."""
    pieces = templates.segments(tokenizer, row)
    last = max(i for i, piece in enumerate(pieces) if piece.trained)
    # Tokenized as one text, as SFT tokenizes it (a piece tokenized alone gets a SentencePiece prefix "▁").
    ids, owners = templates.encode(tokenizer, pieces[:last + 1])
    prompt = [token for token, owner in zip(ids, owners) if owner < last]
    return prompt, [token for token, owner in zip(ids, owners) if owner == last]


def answered(row: dict, answer: str) -> dict:
    """A preference row's prompt with `answer` as the assistant's reply."""
    return {"messages": row["messages"] + [{"role": "assistant", "content": answer}]}


def tokenize_pair(tokenizer, row: dict) -> dict:
    """{"prompt_ids", "chosen_ids", "rejected_ids"} for a preference row (trl's DPO shape, uncut)."""
    prompt, chosen = prompt_and_answer(tokenizer, answered(row, row["chosen"]))
    prompt_again, rejected = prompt_and_answer(tokenizer, answered(row, row["rejected"]))
    if prompt != prompt_again:
        raise cannot_mask(tokenizer, Message("data.pairs.prompts_differ"))
    return {"prompt_ids": prompt, "chosen_ids": chosen, "rejected_ids": rejected}


def tokenize_unpaired(tokenizer, row: dict) -> dict:
    """{"prompt_ids", "completion_ids", "label"} for a labelled answer (trl's KTO shape, uncut)."""
    prompt, completion = prompt_and_answer(tokenizer, {k: v for k, v in row.items() if k != "label"})
    return {"prompt_ids": prompt, "completion_ids": completion, "label": bool(row["label"])}


def pair_views(tokenizer, row: dict, max_length: int) -> tuple[list[templates.Token], list[templates.Token]]:
    """The chosen and the rejected sequence token by token as DPO and ORPO train them: the prompt seen, the answer
    trained, whatever lies beyond max_length cut."""
    pair = tokenize_pair(tokenizer, row)
    views = []
    for answer in (pair["chosen_ids"], pair["rejected_ids"]):
        ids = pair["prompt_ids"] + answer
        labels = [templates.IGNORE] * len(pair["prompt_ids"]) + answer
        views.append(templates.view_of(tokenizer, ids, labels, max_length))
    return views[0], views[1]
