"""The Data tab's example viewer: one row at a time, token by token exactly as the trainer gets it.

The tokens come from core.data.templates.token_view (built on the trainer's own tokenize_row), so what is green here
is what carries loss. Navigation is plain arithmetic over row indices: all rows, or only the rows a warning names.
"""

from __future__ import annotations

import html
import random

from core.catalogue.message import say, text_of
from core.data import blocks
from core.data import method_rows
from core.data import pairs
from core.data import templates

ALL = "all"  # the filter value that shows every row


def token_counts(tokens: list[templates.Token], max_length: int) -> str:
    """'312 tokens, 57 trained' (+ how many the cut at max length removes)."""
    total = sum(len(t.ids) for t in tokens)
    trained = sum(len(t.ids) for t in tokens if t.kind == "trained")
    cut = sum(len(t.ids) for t in tokens if t.kind == "cut")
    text = say("viewer.counts", total=total, trained=trained)
    if cut:
        text += say("viewer.cut", cut=cut, max_length=max_length)
    return text


def example_html(tokens: list[templates.Token], row: dict, max_length: int, thinking_kept: int = 0,
                 note_key: str | None = None) -> str:
    """The row as the model sees it: trained tokens green, masked grey, cut struck out; user text escaped.
    `thinking_kept`: answers whose thinking the chat template leaves out and the studio trains (said above);
    `note_key`: a catalogue line said above the tokens (what the method does with the row)."""
    notes = ([say("viewer.thinking_kept", count=thinking_kept)] if thinking_kept else []) + \
        ([say(note_key)] if note_key else [])
    note = "".join(f'<div class="token-note">{html.escape(text)}</div>' for text in notes)
    return f'<div class="token-view">{_counted(tokens, max_length)}{note}{legend()}{_tokens_pre(tokens)}</div>'


def pair_html(chosen: list[templates.Token], rejected: list[templates.Token], max_length: int) -> str:
    """A preference pair as dpo, orpo and kto train it: the chosen and the rejected sequence side by side."""
    columns = "".join(f'<div class="token-side"><div class="token-side-title">{title}</div>'
                      f"{_counted(tokens, max_length)}{_tokens_pre(tokens)}</div>"
                      for title, tokens in ((say("viewer.chosen_side"), chosen),
                                            (say("viewer.rejected_side"), rejected)))
    return (f'<div class="token-view">{legend()}'
            f'<div class="token-pair" style="display:flex;gap:1em">{columns}</div></div>')


def blocks_html(parts: list[tuple[int, list[templates.Token]]], blocks_in_all: int) -> str:
    """A document as continued pretraining reads it: the blocks of max length it lands in, every token trained."""
    shown = "".join(f'<div class="token-side-title">{say("viewer.block", number=number, total=blocks_in_all)}'
                    f'</div>{_tokens_pre(tokens)}' for number, tokens in parts)
    return f'<div class="token-view">{legend()}{shown}</div>'


def legend() -> str:
    return (f'<div class="token-legend"><span class="tok tok-trained">{say("viewer.trained")}</span> '
            f'<span class="tok tok-masked">{say("viewer.masked")}</span> '
            f'<span class="tok tok-cut">{say("viewer.cut_legend")}</span></div>')


def _counted(tokens: list[templates.Token], max_length: int) -> str:
    return f'<div class="token-counts">{html.escape(token_counts(tokens, max_length))}</div>'


# Each kind of token in the tooltip, in the page's language: the legend's words.
KIND_KEYS = {"trained": "viewer.trained", "masked": "viewer.masked", "cut": "viewer.cut_legend"}


def _tokens_pre(tokens: list[templates.Token]) -> str:
    spans = []
    kinds = {kind: say(key) for kind, key in KIND_KEYS.items()}
    for number, token in enumerate(tokens):
        alternate = " tok-alt" if number % 2 else ""
        title = say("viewer.tooltip", kind=kinds.get(token.kind, token.kind), ids=" ".join(map(str, token.ids)))
        spans.append(f'<span class="tok tok-{token.kind}{alternate}" title="{html.escape(title)}">'
                     f"{html.escape(token.text)}</span>")
    return f'<pre class="token-text">{"".join(spans)}</pre>'


def message_html(text: str) -> str:
    return f'<div class="token-view token-message">{html.escape(text)}</div>'


def pool(state: dict, choice: str | None) -> list[int]:
    """The row indices the viewer steps through: every row, or those of the chosen warning."""
    if choice and choice != ALL:
        for warning in state.get("warnings", []):
            if warning["key"] == choice:
                return warning["rows"]
    return list(range(len(state.get("rows", []))))


def step(indices: list[int], current: int, direction: str) -> int:
    """The next row to show: 'next', 'previous' (both wrap around), 'random', 'first' or 'here'."""
    if not indices:
        return current
    if direction == "next":
        return next((i for i in indices if i > current), indices[0])
    if direction == "previous":
        return next((i for i in reversed(indices) if i < current), indices[-1])
    if direction == "random":
        others = [i for i in indices if i != current]
        return random.choice(others or indices)
    if direction == "first":
        return indices[0]
    return current


def go(state: dict, choice: str | None, number, direction: str, tokenizer_for) -> tuple[int, str, str]:
    """(row number, position, example) after a click: `number` is the 1-based row shown now."""
    last = max(len(state.get("rows", [])) - 1, 0)
    index = step(pool(state, choice), int(number or 1) - 1, direction)
    index = min(max(index, 0), last)
    return (index + 1, *show(state, index, choice, tokenizer_for))


def position_text(state: dict, index: int, choice: str | None) -> str:
    rows, wheres = state.get("rows", []), state.get("wheres", [])
    if not rows:
        return ""
    where = text_of(wheres[index]) if index < len(wheres) else ""
    text = say("viewer.position", row=index + 1, rows=len(rows), where=where)
    indices = pool(state, choice)
    if choice and choice != ALL and index in indices:
        text += say("viewer.in_warning", k=indices.index(index) + 1, n=len(indices))
    return text


def show(state: dict, index: int, choice: str | None, tokenizer_for) -> tuple[str, str]:
    """(position markdown, example html) for row `index`; tokenizer_for(source, system prompt) gives the model's
    tokenizer with the run's system prompt applied."""
    rows = state.get("rows", [])
    if not rows:
        return "", ""
    index = min(max(index, 0), len(rows) - 1)
    try:
        tokenizer = tokenizer_for(state["source"], state.get("system_prompt"))
        example = example_for(tokenizer, rows, index, state["max_length"], state.get("method", "sft"))
    except Exception as err:  # noqa: BLE001 - a template or model problem is shown, never a traceback
        return position_text(state, index, choice), message_html(
            say("viewer.cannot_show", source=state["source"], error=err))
    return position_text(state, index, choice), example


def example_for(tokenizer, rows: list[dict], index: int, max_length: int, method: str) -> str:
    """Row `index` as train.method trains it: cpt in its blocks, a preference pair side by side, else one row."""
    if method == "cpt":
        texts = [{"text": method_rows.as_text(row)} for row in rows]
        parts = blocks.block_view(tokenizer, texts, index, max_length)
        return blocks_html(parts, len(blocks.blocks(tokenizer, texts, max_length))) if parts else message_html(
            say("viewer.no_text"))
    if "rejected" in rows[index]:
        return pair_html(*pairs.pair_views(tokenizer, rows[index], max_length), max_length)
    # grpo: the answer shown is the reference the sampled answers are checked against, not what is trained.
    return example_html(templates.token_view(tokenizer, rows[index], max_length), rows[index], max_length,
                        templates.thinking_kept(tokenizer, rows[index]),
                        note_key="viewer.grpo_reference" if method == "grpo" else None)
