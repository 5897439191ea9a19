"""Raw text as training blocks for continued pretraining (train.method cpt).

Every document is tokenized as plain text is for supervised training (the tokenizer's BOS where it adds one, the
text, EOS), the documents are put end to end, and the stream is cut into blocks of max_length tokens. A document
longer than a block continues in the next one and the last, shorter block is kept, so no text is ever cut off;
short documents share a block (packing), as the classic causal-LM recipe (transformers' run_clm) groups text.
"""

from __future__ import annotations

from core.data import templates


def document_ids(tokenizer, text: str) -> tuple[list[int], list[int]]:
    """(input ids, labels) of one document: every token trained but the BOS."""
    record = templates.tokenize_row(tokenizer, {"text": text}, max_length=10 ** 9)
    return record["input_ids"], record["labels"]


def blocks(tokenizer, rows: list[dict], max_length: int) -> list[dict]:
    """[{"input_ids", "labels"}] blocks of max_length tokens (the last may be shorter) from the rows' text."""
    stream_ids: list[int] = []
    stream_labels: list[int] = []
    for row in rows:
        ids, labels = document_ids(tokenizer, row["text"])
        stream_ids += ids
        stream_labels += labels
    return [{"input_ids": stream_ids[start:start + max_length], "labels": stream_labels[start:start + max_length]}
            for start in range(0, len(stream_ids), max_length)
            if any(label != templates.IGNORE for label in stream_labels[start:start + max_length])]


def block_view(tokenizer, rows: list[dict], index: int, max_length: int) -> list[tuple[int, list[templates.Token]]]:
    """Row `index`'s document as it lands in the blocks: [(block number from 1, its tokens in that block)]."""
    start = sum(len(document_ids(tokenizer, row["text"])[0]) for row in rows[:index])
    ids, labels = document_ids(tokenizer, rows[index]["text"])
    parts = []
    position = 0
    while position < len(ids):
        block = (start + position) // max_length
        room = (block + 1) * max_length - (start + position)
        piece = slice(position, position + room)
        parts.append((block + 1, templates.view_of(tokenizer, ids[piece], labels[piece], None)))
        position += room
    return parts
