"""Turn normalized rows into token ids and labels, with loss only on what the model should learn.

A conversation is rendered with the model's own chat template, once with its real contents and once with a marker
in place of each assistant message; where the markers land tells us where each answer is, whatever else the
template does (fold the system prompt somewhere, trim contents, add think blocks). Trained: each answer as the
template writes it, then the template's own end-of-turn token(s) (EOS only when the template has none). Masked:
system and user turns, the assistant headers, and the separators after an end-of-turn. Each piece is tokenized on
its own, which is also how the model sees a prompt at chat time (tokenized up to the assistant header, then
generating). prompt/completion and text rows get the tokenizer's BOS first, as plain tokenization would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.catalogue.message import Message
from core.data import chat_layout
from core.data.chat_layout import TemplateError, layout_of

IGNORE = -100
TEMPLATE = "template"  # model.system_prompt: keep the template's own behaviour
NO_SYSTEM = "none"  # model.system_prompt: no system prompt (an empty one where the template would add its own)


@dataclass
class Segment:
    text: str
    trained: bool


class RowTemplateError(TemplateError):
    """The template refuses one row (e.g. roles that do not alternate); other rows may be fine."""


def ensure_pad_token(tokenizer) -> str | None:
    """Padding is masked out of the loss, so reusing the end-of-sequence token is safe and needs no new embedding.
    Returns a note for train.log (English), or None."""
    if tokenizer.pad_token is not None:
        return None
    tokenizer.pad_token = tokenizer.eos_token
    return f"The tokenizer has no padding token; using its end-of-sequence token {tokenizer.eos_token!r}."


# ---------------------------------------------------------------------------------------------- the system prompt

def apply_system_prompt(tokenizer, setting: str) -> str | None:
    """Make `setting` (model.system_prompt: "template", "none" or a text) the system prompt of conversations that
    have none, everywhere this tokenizer goes: training rows, chat, evaluation, the saved adapter and the export.
    Returns a note for the log, or None when nothing changes."""
    template, _ = chat_layout.split_wrapper(tokenizer.chat_template)
    tokenizer.chat_template = template
    if setting == TEMPLATE or not template:
        return None
    try:
        layout = layout_of(tokenizer)
    except TemplateError:  # conversations cannot be trained with this template; said where the rows are read
        return None
    text = "" if setting == NO_SYSTEM else setting
    if not text and not layout.default_system:
        return None  # no system prompt is what the template does already
    tokenizer.chat_template = chat_layout.wrap_template(template, text, layout.system == "first_user")
    if not text:
        return f"System prompt: none (the template's own, {layout.default_system!r}, is left out)."
    return f"System prompt: {text!r} for every conversation that has none of its own."


def system_prompt_in_use(tokenizer) -> str:
    """The system prompt a conversation without one gets: the run's setting, else the template's own default."""
    template, setting = chat_layout.split_wrapper(tokenizer.chat_template)
    if setting is not None:
        return setting
    return layout_of(tokenizer).default_system if template else ""


def _render(tokenizer, messages: list[dict], asking: bool) -> str:
    template, setting = chat_layout.split_wrapper(tokenizer.chat_template)
    messages = chat_layout.place_system(messages, layout_of(tokenizer), setting, asking)
    try:
        return chat_layout.render_raw(tokenizer, template, messages, asking)
    except Exception as err:  # the template's own checks (alternating roles, unknown role ...)
        raise RowTemplateError("data.templates.refused", model=chat_layout.model_name(tokenizer),
                               error=str(err)) from None


# ---------------------------------------------------------------------------------------------- rows into pieces

def segments(tokenizer, row: dict) -> list[Segment]:
    """Split a normalized row into masked and trained text pieces, in order."""
    if "chosen" in row:  # preference data: shown as the prompt with the chosen answer
        return _conversation_segments(tokenizer, row["messages"] + [{"role": "assistant", "content": row["chosen"]}])
    if "messages" in row:
        return _conversation_segments(tokenizer, row["messages"])
    bos, eos = layout_bos(tokenizer), tokenizer.eos_token or ""
    if "prompt" in row:
        return [p for p in (Segment(bos + row["prompt"], False), Segment(row["completion"] + eos, True)) if p.text]
    return [p for p in (Segment(bos, False), Segment(row["text"] + eos, True)) if p.text]


def layout_bos(tokenizer) -> str:
    """The BOS text plain tokenization puts first (Llama, Mistral, Gemma), or "" (Qwen, ChatML models)."""
    cached = getattr(tokenizer, "_studio_bos", None)
    if cached is None:
        cached = tokenizer._studio_bos = chat_layout.bos_before_text(tokenizer)
    return cached


def _conversation_segments(tokenizer, messages: list[dict]) -> list[Segment]:
    answers = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if not answers:
        return [Segment(_render(tokenizer, messages, asking=False), False)]
    messages = messages[:answers[-1] + 1]  # turns after the last answer teach nothing
    layout = layout_of(tokenizer)
    marks = {i: chat_layout.answer_mark(n) for n, i in enumerate(answers)}
    marked = _render(tokenizer, [dict(m, content=marks[i]) if i in marks else m for i, m in enumerate(messages)],
                     asking=False)
    pieces: list[Segment] = []
    done = 0  # how far into `marked` the pieces reach
    for i in answers:
        mark = marks[i]
        if marked.count(mark) != 1:
            raise chat_layout.cannot_mask(tokenizer, Message("data.templates.answer_not_once"))
        start, end = marked.index(mark), marked.index(mark) + len(mark)
        # This answer with its real content, every other answer still a marker: the part that differs from
        # `marked` is the answer as the template writes it (trimmed, say, or with its think block).
        alone = _render(tokenizer, [dict(m, content=marks[j]) if j in marks and j != i else m
                                    for j, m in enumerate(messages)], asking=False)
        same_before = min(len(os.path.commonprefix([alone, marked])), start)
        same_after = min(len(os.path.commonprefix([alone[::-1], marked[::-1]])), len(marked) - end,
                         len(alone) - same_before)
        begin = same_before
        if layout.opening and marked[:start].endswith(layout.opening):
            # What the template writes between its generation prompt and the answer (Mistral's " ", Qwen3's
            # think block) is the model's to write at chat time: trained with the answer.
            begin = min(begin, start - len(layout.opening))
        if begin < done:
            raise chat_layout.cannot_mask(tokenizer, Message("data.templates.answers_overlap"))
        pieces.append(Segment(marked[done:begin], False))
        answer = alone[begin:len(alone) - same_after]
        done = len(marked) - same_after
        if not layout.end_of_turn:
            answer += tokenizer.eos_token or ""  # the template has no end-of-turn token: EOS teaches stopping
        elif marked.startswith(layout.end_of_turn, done):
            answer += layout.end_of_turn
            done += len(layout.end_of_turn)
        pieces.append(Segment(answer, True))
    pieces.append(Segment(marked[done:], False))
    added_eos = tokenizer.eos_token if not layout.end_of_turn and tokenizer.eos_token else ""
    written = "".join(p.text[:-len(added_eos)] if p.trained and added_eos else p.text for p in pieces)
    if written != _render(tokenizer, messages, asking=False):  # the answers were not written independently
        raise chat_layout.cannot_mask(tokenizer, Message("data.templates.answers_depend"))
    return [p for p in pieces if p.text]


def tokenize_row(tokenizer, row: dict, max_length: int) -> dict:
    """input_ids and labels for one row (cut to max_length), plus how many tokens it had before cutting."""
    input_ids: list[int] = []
    labels: list[int] = []
    for piece in segments(tokenizer, row):
        ids = tokenizer(piece.text, add_special_tokens=False)["input_ids"]
        input_ids += ids
        labels += ids if piece.trained else [IGNORE] * len(ids)
    return {"input_ids": input_ids[:max_length], "labels": labels[:max_length], "full_length": len(input_ids)}


def turn_end_ids(tokenizer) -> set[int]:
    """Ids that end a trained answer: the template's end-of-turn tokens and EOS (which ends completions and text)."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    try:
        return ids | set(layout_of(tokenizer).end_of_turn_ids) if tokenizer.chat_template else ids
    except TemplateError:  # a template we cannot train conversations with: prompt/completion rows end with EOS
        return ids


# ---------------------------------------------------------------------------------------------- what the user sees

@dataclass
class Token:
    """One piece of the token view: the text of one token (or of a few, where a character spans tokens)."""

    ids: list[int]
    text: str
    kind: str  # "trained" (carries loss), "masked" (seen, not learned) or "cut" (beyond max_length, never seen)


def token_view(tokenizer, row: dict, max_length: int) -> list[Token]:
    """The row token by token, as the trainer gets it: tokenize_row's own ids and labels, so the view cannot drift
    from what is trained."""
    full = tokenize_row(tokenizer, row, max_length=10 ** 9)
    return view_of(tokenizer, full["input_ids"], full["labels"], max_length)


def view_of(tokenizer, input_ids: list[int], labels: list[int], max_length: int | None) -> list[Token]:
    """Tokens with their kind (trained where the label is not IGNORE, cut from max_length on), a character split
    over several byte-level tokens shown once."""
    kinds = ["cut" if max_length is not None and i >= max_length else "trained" if label != IGNORE else "masked"
             for i, label in enumerate(labels)]
    view: list[Token] = []
    pending: list[int] = []
    for i, token_id in enumerate(input_ids):
        pending.append(token_id)
        text = tokenizer.decode(pending)
        # A character split over several byte-level tokens decodes to U+FFFD until its last byte arrives.
        next_same = i + 1 < len(kinds) and kinds[i + 1] == kinds[i]
        if text.endswith("\ufffd") and next_same and len(pending) < 4:
            continue
        view.append(Token(pending, text, kinds[i]))
        pending = []
    return view


def render(tokenizer, row: dict) -> str:
    """The exact text the model sees for a row (for previews and the `data` command)."""
    return "".join(p.text for p in segments(tokenizer, row))


def prompt_for_chat(tokenizer, messages: list[dict]) -> str:
    """The text that asks the model for its next assistant turn: exactly what precedes the trained tokens of an
    answer in training. That is the template's generation prompt, except where the generation prompt adds text
    its turns never contain (DeepSeek-R1's forced "<think>\\n"): then the turn's own opening, as trained."""
    if layout_of(tokenizer).asks_with_generation_prompt:
        return _render(tokenizer, messages, asking=True)
    mark = chat_layout.answer_mark(0)
    marked = _render(tokenizer, messages + [{"role": "assistant", "content": mark}], asking=False)
    return marked[:marked.index(mark)]
