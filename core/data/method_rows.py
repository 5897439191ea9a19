"""Which rows each training method learns from, and a plain message naming the file and row when they do not fit.

sft learns from conversations, prompt/completion rows and text; dpo and orpo from pairs (a prompt with a chosen
and a rejected answer); kto from single answers marked desirable or undesirable, and splits each pair into one of
each (as trl's unpair_preference_dataset does); grpo from questions with a reference answer (the last assistant
turn or the completion), against which the answers it samples are checked; cpt from raw text, and reads the other
shapes as text: the messages one after the other, the prompt then the completion, a pair's prompt then its chosen
answer.
"""

from __future__ import annotations

import dataclasses

from core.catalogue.message import Message
from core.data.errors import DataError

# The normalized shapes (core.data.formats) each method takes as they are.
TAKES = {"sft": ("alpaca", "sharegpt", "messages", "prompt_completion", "text"),
         "dpo": ("preference",), "orpo": ("preference",),
         "kto": ("unpaired_preference", "preference"),
         "cpt": ("text", "alpaca", "sharegpt", "messages", "prompt_completion", "preference", "unpaired_preference"),
         "grpo": ("alpaca", "sharegpt", "messages", "prompt_completion")}


def for_method(method: str, data):
    """`data` (a core.data.load.LoadedData) with the rows `method` trains on; DataError when the file does not fit."""
    if data.format not in TAKES[method]:
        raise mismatch(method, data)
    if method == "kto" and data.format == "preference":
        rows, wheres = [], []
        for row, where in zip(data.rows, data.wheres):
            prompt = row["messages"]
            rows += [{"messages": prompt + [{"role": "assistant", "content": row["chosen"]}], "label": True},
                     {"messages": prompt + [{"role": "assistant", "content": row["rejected"]}], "label": False}]
            wheres += [Message("data.where.chosen", {"where": where}), Message("data.where.rejected", {"where": where})]
        note = Message("data.method_rows.pairs_split", {"pairs": len(data.rows)})
        return dataclasses.replace(data, rows=rows, wheres=wheres, notes=data.notes + [note])
    if method == "cpt" and data.format != "text":
        texts = [(as_text(row), where) for row, where in zip(data.rows, data.wheres)]
        texts = [(text, where) for text, where in texts if text.strip()]
        if not texts:
            raise DataError("data.method_rows.no_text", path=data.path)
        note = Message("data.method_rows.read_as_text", {"format": data.format})
        return dataclasses.replace(data, rows=[{"text": text} for text, _ in texts], wheres=[w for _, w in texts],
                                   notes=data.notes + [note])
    return data


def mismatch(method: str, data) -> DataError:
    """Why `data` cannot train with `method`, and what to do, naming the first row."""
    first = (Message("data.method_rows.first_row", {"path": data.path, "where": data.wheres[0]}) if data.wheres
             else data.path)
    if method == "sft" and data.format == "preference":
        return DataError("data.method_rows.sft_on_pairs", first=first)
    if method == "sft" and data.format == "unpaired_preference":
        return DataError("data.method_rows.sft_on_labelled", first=first)
    if method in ("dpo", "orpo"):
        return DataError("data.method_rows.needs_pairs", first=first, method=method, shape=_shape(data.format))
    if method == "kto":
        return DataError("data.method_rows.needs_labels", first=first, shape=_shape(data.format))
    if method == "grpo":
        return DataError("data.method_rows.needs_references", first=first, shape=_shape(data.format))
    return DataError("data.method_rows.cannot_use", first=first, method=method, shape=_shape(data.format))


# How each normalized shape is called in a sentence ("this file holds conversations").
SHAPES = {"text": Message("data.method_rows.shape.text"), "messages": Message("data.method_rows.shape.messages"),
          "sharegpt": Message("data.method_rows.shape.messages"), "alpaca": Message("data.method_rows.shape.alpaca"),
          "prompt_completion": Message("data.method_rows.shape.prompt_completion"),
          "preference": Message("data.method_rows.shape.preference"),
          "unpaired_preference": Message("data.method_rows.shape.unpaired_preference")}


def _shape(format: str) -> Message | str:
    return SHAPES.get(format, format)


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
