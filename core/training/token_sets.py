"""Each method's rows as token datasets, tokenized by the studio (core.data) rather than by trl, so every method
masks the prompt as the model's chat template writes it, exactly as supervised fine-tuning does.

Rows cut by max_length are counted in the log, and rows left with nothing to learn are dropped and counted too.
"""

from __future__ import annotations

from core.data import blocks
from core.data import pairs
from core.data import templates
from core.training.errors import TrainingError


def sft_set(tokenizer, rows: list[dict], max_length: int, label: str, say):
    """input_ids and labels per row (loss only on the answers)."""
    from datasets import Dataset

    records, cut, empty, refused = [], 0, 0, []
    for row in rows:
        try:
            record = templates.tokenize_row(tokenizer, row, max_length)
        except templates.RowTemplateError as err:  # e.g. roles that do not alternate, for a template that checks
            refused.append(str(err))
            continue
        if record.pop("full_length") > max_length:
            cut += 1
        if all(label_id == templates.IGNORE for label_id in record["labels"]):
            empty += 1  # everything it would teach lies beyond max_length
            continue
        records.append(record)
    _report(say, label, max_length, refused, cut, empty)
    return _dataset(Dataset, records, label, max_length)


def pack(train_set, max_length: int, say):
    """Best-fit-decreasing packing: whole examples fill rows of up to max_length tokens, none is split."""
    from trl.data_utils import pack_dataset

    packed = pack_dataset(train_set, max_length, strategy="bfd")
    say(f"Packing: {len(train_set)} examples into {len(packed)} rows of up to {max_length} tokens.")
    return packed


def pair_set(tokenizer, rows: list[dict], max_length: int, label: str, say):
    """prompt_ids, chosen_ids and rejected_ids per preference row (trl's DPO shape); trl's collator cuts each
    sequence at max_length, so a row whose prompt alone fills it teaches nothing and is left out."""
    return _answer_set(tokenizer, rows, max_length, label, say, pairs.tokenize_pair, ("chosen_ids", "rejected_ids"))


def unpaired_set(tokenizer, rows: list[dict], max_length: int, label: str, say):
    """prompt_ids, completion_ids and label per labelled answer (trl's KTO shape)."""
    return _answer_set(tokenizer, rows, max_length, label, say, pairs.tokenize_unpaired, ("completion_ids",))


def block_set(tokenizer, rows: list[dict], max_length: int, label: str, say):
    """The text in blocks of max_length tokens, every one trained (continued pretraining)."""
    from datasets import Dataset

    records = blocks.blocks(tokenizer, rows, max_length)
    tokens = sum(len(r["input_ids"]) for r in records)
    say(f"Text ({label}): {len(rows)} documents, {tokens:,} tokens in {len(records)} blocks of up to {max_length} "
        "tokens; long documents continue in the next block, nothing is cut off.")
    return _dataset(Dataset, records, label, max_length)


def row_tokens(tokenizer, row: dict) -> int:
    """How many tokens a row puts through the model at once, uncut: a pair's prompt with its longer answer, a
    labelled answer with its prompt, any other row as supervised fine-tuning tokenizes it (cpt's text included)."""
    if "rejected" in row:
        pair = pairs.tokenize_pair(tokenizer, row)
        return len(pair["prompt_ids"]) + max(len(pair["chosen_ids"]), len(pair["rejected_ids"]))
    if "label" in row:
        answer = pairs.tokenize_unpaired(tokenizer, row)
        return len(answer["prompt_ids"]) + len(answer["completion_ids"])
    return templates.tokenize_row(tokenizer, row, 10 ** 9)["full_length"]


def _answer_set(tokenizer, rows, max_length, label, say, tokenize, answers: tuple[str, ...]):
    from datasets import Dataset

    records, cut, empty, refused = [], 0, 0, []
    for row in rows:
        try:
            record = tokenize(tokenizer, row)
        except templates.RowTemplateError as err:
            refused.append(str(err))
            continue
        prompt = len(record["prompt_ids"])
        if prompt >= max_length:
            empty += 1
            continue
        if any(prompt + len(record[name]) > max_length for name in answers):
            cut += 1
        records.append(record)
    _report(say, label, max_length, refused, cut, empty)
    return _dataset(Dataset, records, label, max_length)


def _report(say, label: str, max_length: int, refused: list[str], cut: int, empty: int) -> None:
    if refused:
        say(f"{len(refused)} {label} rows were left out: {refused[0]}" + (" (and the same for the others)."
                                                                          if len(refused) > 1 else "."))
    if cut:
        say(f"{cut} {label} rows are longer than max_length {max_length} tokens and were cut"
            + (f"; {empty} rows lost every trained token and were left out." if empty else "."))
    elif empty:
        say(f"{empty} {label} rows have a prompt of max_length {max_length} tokens or more, so nothing of their answer "
            "is left to learn from; they were left out.")


def _dataset(dataset_class, records: list[dict], label: str, max_length: int):
    if not records and label == "held-out":
        raise TrainingError("training.token_sets.no_held_out_rows", max_length=max_length)
    if not records:
        raise TrainingError("training.token_sets.no_training_rows", max_length=max_length)
    return dataset_class.from_list(records)
