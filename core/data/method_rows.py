"""Which rows each training method learns from, and a plain message naming the file and row when they do not fit.

sft learns from conversations, prompt/completion rows and text; dpo and orpo from pairs (a prompt with a chosen
and a rejected answer); kto from single answers marked desirable or undesirable, and splits each pair into one of
each (as trl's unpair_preference_dataset does); cpt from raw text, and reads the other shapes as text: the
messages one after the other, the prompt then the completion, a pair's prompt then its chosen answer.
"""

from __future__ import annotations

import dataclasses

from core.data.errors import DataError

# The normalized shapes (core.data.formats) each method takes as they are.
TAKES = {"sft": ("alpaca", "sharegpt", "messages", "prompt_completion", "text"),
         "dpo": ("preference",), "orpo": ("preference",),
         "kto": ("unpaired_preference", "preference"),
         "cpt": ("text", "alpaca", "sharegpt", "messages", "prompt_completion", "preference", "unpaired_preference")}


def for_method(method: str, data):
    """`data` (a core.data.load.LoadedData) with the rows `method` trains on; DataError when the file does not fit."""
    if data.format not in TAKES[method]:
        raise DataError(mismatch(method, data))
    if method == "kto" and data.format == "preference":
        rows, wheres = [], []
        for row, where in zip(data.rows, data.wheres):
            prompt = row["messages"]
            rows += [{"messages": prompt + [{"role": "assistant", "content": row["chosen"]}], "label": True},
                     {"messages": prompt + [{"role": "assistant", "content": row["rejected"]}], "label": False}]
            wheres += [f"{where} (chosen)", f"{where} (rejected)"]
        return dataclasses.replace(data, rows=rows, wheres=wheres,
                                   notes=data.notes + [f"Each of the {len(data.rows)} pairs became a desirable "
                                                       "(chosen) and an undesirable (rejected) answer for kto."])
    if method == "cpt" and data.format != "text":
        texts = [(as_text(row), where) for row, where in zip(data.rows, data.wheres)]
        texts = [(text, where) for text, where in texts if text.strip()]
        if not texts:
            raise DataError(f"{data.path} has no text to train on: every row is empty once read as text.")
        return dataclasses.replace(data, rows=[{"text": text} for text, _ in texts], wheres=[w for _, w in texts],
                                   notes=data.notes + [f'The {data.format} rows are read as plain text for cpt.'])
    return data


def mismatch(method: str, data) -> str:
    """Why `data` cannot train with `method`, and what to do, naming the first row."""
    first = f"{data.path}, {data.wheres[0]}" if data.wheres else data.path
    if method == "sft" and data.format == "preference":
        return (f"{first}: this file holds preference data (a prompt with a chosen and a rejected answer). Choose "
                "train.method dpo, orpo or kto to learn the preference; or, to imitate the chosen answers, map them "
                "as the completion (data.columns: {completion: chosen}, format prompt_completion).")
    if method == "sft" and data.format == "unpaired_preference":
        return (f"{first}: this file holds answers labelled desirable or undesirable (a \"label\" field). Choose "
                "train.method kto to learn from them; supervised fine-tuning would imitate the undesirable ones too.")
    if method in ("dpo", "orpo"):
        return (f"{first}: {method} learns from pairs, and this file holds {_shape(data.format)}. Each row needs a "
                'prompt (or a conversation) with a "chosen" and a "rejected" answer. Use train.method sft for these '
                "rows, or kto for answers labelled true/false.")
    if method == "kto":
        return (f"{first}: kto needs every answer marked desirable or undesirable, and this file holds "
                f'{_shape(data.format)} without a "label". Add "label": true (desirable) or false (undesirable) to '
                'each row, as in {"messages": [...], "label": true}, or give pairs with "chosen" and "rejected".')
    return f"{first}: train.method {method} cannot use {_shape(data.format)}."


def _shape(format: str) -> str:
    return {"text": "plain text", "messages": "conversations", "sharegpt": "conversations",
            "alpaca": "instruction/output rows", "prompt_completion": "prompt/completion rows",
            "preference": "preference pairs", "unpaired_preference": "labelled answers"}.get(format, format)


def as_text(row: dict) -> str:
    """A normalized row as plain text for continued pretraining (an undesirable answer reads as nothing)."""
    if "text" in row:
        return row["text"]
    if row.get("label") is False:
        return ""
    if "prompt" in row:
        return row["prompt"] + row["completion"]
    parts = [m["content"] for m in row["messages"] if m["role"] != "system"]
    if "chosen" in row:
        parts.append(row["chosen"])
    return "\n\n".join(part.strip() for part in parts if part.strip())
