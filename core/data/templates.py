"""Turn normalized rows into token ids and labels, with loss only on what the model should learn.

A conversation is rendered with the model's own chat template, once with its real contents and once with a marker
in place of each assistant message; where the markers land tells us where each answer is, whatever else the
template does (fold the system prompt somewhere, trim contents, add think blocks). Trained: each answer as the
template writes it, then the template's own end-of-turn token(s) (EOS only when the template has none). Masked:
system and user turns, the assistant headers, and the separators after an end-of-turn. The whole text is tokenized
once, as apply_chat_template and the chat tab tokenize it, and each token is trained or masked by the character
offsets of the piece it falls in. prompt/completion and text rows get the tokenizer's BOS first, as plain
tokenization would.

An answer's thinking (reasoning_content, or <think> ... </think> in its text) is trained wherever the data has it,
in the form the model's template writes it (Qwen3, DeepSeek-R1: "<think>\n" + thinking + "\n</think>\n\n" before
the answer). Where the template leaves it out (Qwen3 before the last user turn, DeepSeek-R1 everywhere), the studio
writes it in, as trl's training templates do; `thinking_kept` counts those answers for the data check and the token
view.
"""

from __future__ import annotations

import bisect
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


def turn_end_note(tokenizer) -> str | None:
    """A note for train.log when the chat template ends no answer with a special token (GLM-4.6's): the studio
    trains EOS after each answer instead, which the template itself never writes. None otherwise."""
    if not getattr(tokenizer, "chat_template", None):
        return None
    try:
        layout = layout_of(tokenizer)
    except TemplateError:  # said where the rows are read
        return None
    if layout.end_of_turn or not tokenizer.eos_token:
        return None
    return (f"The chat template ends no answer with a special token; each trained answer ends with the "
            f"end-of-sequence token {tokenizer.eos_token!r} so the model learns to stop (the template itself does "
            "not write it).")


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
    messages, kept = _keep_thinking(tokenizer, messages)

    def render(conversation: list[dict]) -> str:
        text = _render(tokenizer, conversation, asking=False)
        for mark, thinking in kept.items():
            text = text.replace(mark, thinking)
        return text

    marks = {i: chat_layout.answer_mark(n) for n, i in enumerate(answers)}
    marked = render([_marked(m, marks[i]) if i in marks else m for i, m in enumerate(messages)])
    pieces: list[Segment] = []
    done = 0  # how far into `marked` the pieces reach
    for i in answers:
        mark = marks[i]
        if marked.count(mark) != 1:
            raise chat_layout.cannot_mask(tokenizer, Message("data.templates.answer_not_once"))
        start, end = marked.index(mark), marked.index(mark) + len(mark)
        # This answer with its real content, every other answer still a marker: the part that differs from
        # `marked` is the answer as the template writes it (trimmed, say, or with its think block).
        alone = render([_marked(m, marks[j]) if j in marks and j != i else m for j, m in enumerate(messages)])
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
        end_of_turn = layout.end_of_turn
        if layout.last_end_of_turn is not None and i == answers[-1]:
            end_of_turn = layout.last_end_of_turn  # gpt-oss ends the last answer with <|return|>, others <|end|>
        if not end_of_turn:
            answer += tokenizer.eos_token or ""  # the template has no end-of-turn token: EOS teaches stopping
        elif marked.startswith(end_of_turn, done):
            answer += end_of_turn
            done += len(end_of_turn)
        pieces.append(Segment(answer, True))
    pieces.append(Segment(marked[done:], False))
    added_eos = tokenizer.eos_token if not layout.end_of_turn and tokenizer.eos_token else ""
    written = "".join(p.text[:-len(added_eos)] if p.trained and added_eos else p.text for p in pieces)
    if written != render(messages):  # the answers were not written independently
        raise chat_layout.cannot_mask(tokenizer, Message("data.templates.answers_depend"))
    return [p for p in pieces if p.text]


def _keep_thinking(tokenizer, messages: list[dict]) -> tuple[list[dict], dict[str, str]]:
    """The messages with a marker in front of each answer whose thinking the template would leave out, and what
    each marker stands for: that thinking as the template writes it where it keeps it."""
    thinking = layout_of(tokenizer).thinking
    thoughts = {i: chat_layout.thought_of(m) for i, m in enumerate(messages) if m["role"] == "assistant"}
    thoughts = {i: thought for i, thought in thoughts.items() if thought}
    if thinking is None or not thoughts:
        return messages, {}
    probes = {i: chat_layout.thought_mark(n) for n, i in enumerate(thoughts)}
    probed = _render(tokenizer, [chat_layout.with_thought(m, thinking, probes[i], thoughts[i][1]) if i in probes
                                 else m for i, m in enumerate(messages)], asking=False)
    messages, kept = list(messages), {}
    for i in [i for i in thoughts if probes[i] not in probed]:
        reasoning, answer = thoughts[i]
        mark = chat_layout.MARK.format(f"kept{i}")
        kept[mark] = thinking.opening + reasoning.strip("\n") + thinking.closing
        answer = answer.split(chat_layout.THINK_CLOSE)[-1]  # a second think block: the template would cut the mark
        messages[i] = {key: value for key, value in messages[i].items() if key != "reasoning_content"} | {
            "content": mark + answer.lstrip("\n")}
    return messages, kept


def thinking_kept(tokenizer, row: dict) -> int:
    """How many of the row's answers have thinking that the chat template leaves out and the studio trains."""
    messages = row.get("messages")
    if messages is None:
        return 0
    if "chosen" in row:
        messages = messages + [{"role": "assistant", "content": row["chosen"]}]
    answers = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    return len(_keep_thinking(tokenizer, messages[:answers[-1] + 1])[1]) if answers else 0


def _marked(message: dict, mark: str) -> dict:
    """An answer replaced by its marker, without its thinking (reasoning_content), so that the thinking the
    template writes for the real answer falls in the part that differs, and is trained with it."""
    return {key: value for key, value in message.items() if key != "reasoning_content"} | {"content": mark}


def tokenize_row(tokenizer, row: dict, max_length: int) -> dict:
    """input_ids and labels for one row (cut to max_length), plus how many tokens it had before cutting."""
    pieces = segments(tokenizer, row)
    input_ids, owners = encode(tokenizer, pieces)
    labels = [token if pieces[owner].trained else IGNORE for token, owner in zip(input_ids, owners)]
    return {"input_ids": input_ids[:max_length], "labels": labels[:max_length], "full_length": len(input_ids)}


def encode(tokenizer, pieces: list[Segment]) -> tuple[list[int], list[int]]:
    """The pieces' text tokenized as one text, as apply_chat_template and the chat tab tokenize it, and for each
    token the index of the piece it belongs to. Tokenizing each piece on its own would differ wherever a piece
    starts mid-text: a SentencePiece tokenizer (Llama 2, Mistral, Phi-3) puts its prefix "▁" in front of every
    piece, and the model would learn to open each answer with a space. A token that reaches into a trained piece
    belongs to it, so every character of an answer carries loss."""
    text = "".join(piece.text for piece in pieces)
    if not text:
        return [], []
    try:
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    except NotImplementedError:  # a slow (Python) tokenizer gives no offsets: piece by piece, as before
        return _encode_pieces(tokenizer, pieces)
    starts, position = [], 0
    for piece in pieces:
        starts.append(position)
        position += len(piece.text)
    owners = []
    for begin, end in encoded["offset_mapping"]:
        owner = max(bisect.bisect_right(starts, begin) - 1, 0)
        # A token that starts in a masked piece and ends in the next, trained one (a merge across the border).
        while owner + 1 < len(pieces) and not pieces[owner].trained and end > starts[owner + 1] \
                and pieces[owner + 1].trained:
            owner += 1
        owners.append(owner)
    return list(encoded["input_ids"]), owners


def _encode_pieces(tokenizer, pieces: list[Segment]) -> tuple[list[int], list[int]]:
    input_ids, owners = [], []
    for number, piece in enumerate(pieces):
        ids = tokenizer(piece.text, add_special_tokens=False)["input_ids"] if piece.text else []
        input_ids += ids
        owners += [number] * len(ids)
    return input_ids, owners


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
    anchor = _anchor(tokenizer)
    for i, token_id in enumerate(input_ids):
        pending.append(token_id)
        text = _decoded(tokenizer, pending, anchor)
        # A character split over several byte-level tokens decodes to U+FFFD until its last byte arrives.
        next_same = i + 1 < len(kinds) and kinds[i + 1] == kinds[i]
        if text.endswith("\ufffd") and next_same and len(pending) < 4:
            continue
        view.append(Token(pending, text, kinds[i]))
        pending = []
    return view


def token_text(tokenizer, ids: list[int]) -> str:
    """The text of `ids` as it reads mid-sequence (with the space a SentencePiece "▁am" carries)."""
    return _decoded(tokenizer, ids, _anchor(tokenizer))


def _anchor(tokenizer) -> tuple[list[int], int]:
    """A special token to decode after, and the length of its text: a SentencePiece decoder drops the space of a
    text's first "▁am", so a token decoded on its own would lose the space it carries mid-sequence."""
    token_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.bos_token_id
    return ([token_id], len(tokenizer.decode([token_id]))) if token_id is not None else ([], 0)


def _decoded(tokenizer, ids: list[int], anchor: tuple[list[int], int]) -> str:
    return tokenizer.decode(anchor[0] + ids)[anchor[1]:]


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
