"""Turn normalized rows into token ids and labels, with loss only on what the model should learn.

A conversation is rendered with the model's own chat template. Every assistant turn is trained (its text and the
end-of-turn token); system and user turns, and the header that opens each assistant turn, are masked with -100.
We find the turns by rendering growing prefixes of the conversation: the text added by message i is message i
with its template markup, and the generation prompt tells us where an assistant header ends. Each segment is
tokenized on its own, which is also how the model sees the prompt at chat time (tokenized up to the assistant
header, then generating).
"""

from __future__ import annotations

from dataclasses import dataclass

IGNORE = -100

# A clear ChatML template for models that ship none (base models). Stated in the run's log when used.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass
class Segment:
    text: str
    trained: bool


def ensure_chat_template(tokenizer) -> str | None:
    """Give a tokenizer without a chat template the ChatML default; return a note saying so, else None."""
    if getattr(tokenizer, "chat_template", None):
        return None
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.studio_added_template = True  # the Data tab warns about it: a base model learns the layout from scratch
    return ("This model has no chat template; using the ChatML layout (<|im_start|>role ... <|im_end|>). "
            "The chat tab and the exported adapter use the same one.")


def ensure_pad_token(tokenizer) -> str | None:
    """Padding is masked out of the loss, so reusing the end-of-sequence token is safe and needs no new embedding."""
    if tokenizer.pad_token is not None:
        return None
    tokenizer.pad_token = tokenizer.eos_token
    return f"The tokenizer has no padding token; using its end-of-sequence token {tokenizer.eos_token!r}."


def segments(tokenizer, row: dict) -> list[Segment]:
    """Split a normalized row into masked and trained text pieces, in order."""
    if "chosen" in row:  # preference data: shown as the prompt with the chosen answer
        return _conversation_segments(tokenizer, row["messages"] + [{"role": "assistant", "content": row["chosen"]}])
    if "messages" in row:
        return _conversation_segments(tokenizer, row["messages"])
    eos = tokenizer.eos_token or ""
    if "prompt" in row:
        return [Segment(row["prompt"], False), Segment(row["completion"] + eos, True)]
    return [Segment(row["text"] + eos, True)]


def _conversation_segments(tokenizer, messages: list[dict]) -> list[Segment]:
    render = tokenizer.apply_chat_template
    pieces: list[Segment] = []
    done = ""  # text rendered so far
    for i, message in enumerate(messages):
        upto = render(messages[: i + 1], tokenize=False)
        if not upto.startswith(done):
            raise ValueError("The chat template does not render conversations as a growing prefix; "
                             "per-turn masking cannot be derived for this model.")
        if message["role"] == "assistant":
            header_end = render(messages[:i], tokenize=False, add_generation_prompt=True)
            if not (header_end.startswith(done) and upto.startswith(header_end)):
                raise ValueError("The chat template's generation prompt does not match its assistant turns.")
            pieces.append(Segment(header_end[len(done):], False))
            reply = upto[len(header_end):]
            if tokenizer.eos_token and tokenizer.eos_token not in reply:
                # Some templates end a turn without EOS; the model must learn to stop, so we add it.
                reply = _insert_eos(reply, message["content"], tokenizer.eos_token)
            pieces.append(Segment(reply, True))
        else:
            pieces.append(Segment(upto[len(done):], False))
        done = upto
    return [p for p in pieces if p.text]


def _insert_eos(reply: str, content: str, eos: str) -> str:
    at = reply.find(content)
    cut = at + len(content) if at >= 0 else len(reply)
    return reply[:cut] + eos + reply[cut:]


def tokenize_row(tokenizer, row: dict, max_length: int) -> dict:
    """input_ids and labels for one row (cut to max_length), plus how many tokens it had before cutting."""
    input_ids: list[int] = []
    labels: list[int] = []
    for piece in segments(tokenizer, row):
        ids = tokenizer(piece.text, add_special_tokens=False)["input_ids"]
        input_ids += ids
        labels += ids if piece.trained else [IGNORE] * len(ids)
    return {"input_ids": input_ids[:max_length], "labels": labels[:max_length], "full_length": len(input_ids)}


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
    kinds = ["cut" if i >= max_length else "trained" if label != IGNORE else "masked"
             for i, label in enumerate(full["labels"])]
    view: list[Token] = []
    pending: list[int] = []
    for i, token_id in enumerate(full["input_ids"]):
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
    """The text that asks the model for its next assistant turn."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
