"""What a model's chat template does, found by rendering a few probe conversations with marker contents.

Templates differ in more than their markup: Mistral folds the system prompt into the last user turn (and drops it
from a conversation that ends with an answer), Gemma 2 refuses a system message, Qwen3 writes an empty think block
before the last answer only, Phi-3 ends a whole conversation with EOS, Llama 3 ends turns with <|eot_id|> rather
than its EOS. Rather than keep a list of families, we ask the template: render conversations whose contents are
markers no template touches, and read off where the contents went and what surrounds them. Reasoning models'
templates also differ in what they do with an answer's thinking (reasoning_content, or <think> ... </think> in its
text): Qwen3's writes it before the last answers only, DeepSeek-R1's drops it from every answer.

The run's system prompt setting (model.system_prompt) travels inside the chat template as a small Jinja wrapper,
so the adapter folder, the merged export and its Modelfile carry it; `split_wrapper` reads it back.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from core.catalogue.message import Message, StudioError

# Invisible separators around a word: no template trims, splits or escapes them, and no real text contains them.
MARK = "\u2063{}\u2063"
USER, USER2, SYSTEM = MARK.format("user"), MARK.format("user2"), MARK.format("system")
THOUGHT = MARK.format("thought")
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
FOLD_JOINER = "\n\n"  # how Gemma and Mistral put a system prompt in front of a user turn
WRAPPER_START = "{#- finetune-studio system prompt: "
WRAPPER_END = " -#}"


class TemplateError(StudioError, ValueError):
    """The chat template cannot be used to train on conversations; the message names the model and what to do."""


def answer_mark(number: int) -> str:
    return MARK.format(f"answer{number}")


def thought_mark(number: int) -> str:
    return MARK.format(f"thought{number}")


@dataclass(frozen=True)
class Thinking:
    """How a reasoning model's template writes an answer's thinking: opening + thinking + closing + answer."""

    opening: str  # "<think>\n"
    closing: str  # "\n</think>\n\n"
    field: str  # where the template reads it: "reasoning_content", or "content" (<think> ... </think> in the text)


def thought_of(message: dict) -> tuple[str, str] | None:
    """(thinking, answer) of an assistant message that carries thinking, split as Qwen3's template splits it, or
    None. Empty thinking is none."""
    content = message["content"]
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str):
        return (reasoning, content) if reasoning.strip() else None
    if THINK_CLOSE not in content:
        return None
    reasoning = content.split(THINK_CLOSE)[0].rstrip("\n").split(THINK_OPEN)[-1].lstrip("\n")
    return (reasoning, content.split(THINK_CLOSE)[-1].lstrip("\n")) if reasoning.strip() else None


def with_thought(message: dict, thinking: Thinking, reasoning: str, answer: str) -> dict:
    """The message with its thinking where `thinking.field` says the template reads it."""
    rest = {key: value for key, value in message.items() if key != "reasoning_content"}
    if thinking.field == "reasoning_content":
        return rest | {"content": answer, "reasoning_content": reasoning}
    return rest | {"content": f"{THINK_OPEN}\n{reasoning}\n{THINK_CLOSE}\n\n{answer}"}


@dataclass(frozen=True)
class Layout:
    end_of_turn: str  # the text after an answer that ends its turn, through its last special token ("": none)
    # and the line break after it
    end_of_turn_ids: tuple[int, ...]  # the special tokens in it (EOS when the template has no end-of-turn token)
    opening: str  # text between the generation prompt and an answer's content (Mistral's " ", Qwen3's think block)
    asks_with_generation_prompt: bool  # False when the generation prompt adds what the turns never render
    system: str  # "native", "last_user" (folded into the last user turn when asked), "first_user" (refused)
    default_system: str  # the system prompt the template adds to a conversation that has none
    # The end of the conversation's last answer where the template ends it differently (gpt-oss: <|end|> after
    # earlier answers, <|return|> after the last); None when every answer ends with end_of_turn.
    last_end_of_turn: str | None = None
    # How the template writes thinking, where it writes or drops it (Qwen3, DeepSeek-R1); None where it treats
    # thinking as any other text or has no place for it (Llama: reasoning_content left out, <think> kept as text).
    thinking: Thinking | None = None


# ---------------------------------------------------------------------------------------------- the system prompt

def split_wrapper(template: str | None) -> tuple[str | None, str | None]:
    """(the model's own template, the run's system prompt text or None when the run keeps the template's own)."""
    if not template or not template.startswith(WRAPPER_START):
        return template, None
    header, _, rest = template.partition(WRAPPER_END)
    setting = json.loads(header[len(WRAPPER_START):])
    return rest.split("{#- end of the system prompt -#}", 1)[1], setting


def wrap_template(template: str, text: str, refuses_system: bool) -> str:
    """The model's template behind a wrapper that gives conversations without a system message `text` (also for
    runtimes outside the studio that only read chat_template.jinja). An empty text stops the template's default."""
    literal = json.dumps(text, ensure_ascii=False)  # a JSON string is a valid Jinja string literal
    if refuses_system:  # Gemma 2 raises on a system message: put it in front of the first user turn instead
        body = ("{%- if messages and messages[0]['role'] == 'system' and messages | length > 1 -%}"
                "{%- set messages = [{'role': 'user', 'content': messages[0]['content'] + '\\n\\n' + "
                "messages[1]['content']}] + messages[2:] -%}"
                f"{{%- elif messages and {literal} -%}}"
                f"{{%- set messages = [{{'role': messages[0]['role'], 'content': {literal} + '\\n\\n' + "
                "messages[0]['content']}] + messages[1:] -%}{%- endif -%}")
    else:
        body = ("{%- if messages and messages[0]['role'] != 'system' -%}"
                f"{{%- set messages = [{{'role': 'system', 'content': {literal}}}] + messages -%}}{{%- endif -%}}")
    return f"{WRAPPER_START}{literal}{WRAPPER_END}{body}{{#- end of the system prompt -#}}{template}"


def place_system(messages: list[dict], layout: Layout, setting: str | None, asking: bool) -> list[dict]:
    """The messages as the model's own template must get them: the run's system prompt added where the row has
    none, then put where this template puts a system prompt. `asking`: the conversation ends with a question."""
    has_system = bool(messages) and messages[0]["role"] == "system"
    if setting is not None and not has_system and (setting or layout.default_system):
        messages = [{"role": "system", "content": setting}] + messages  # "" stops the template's own default
        has_system = True
    if not has_system or layout.system == "native":
        return messages
    system, rest = messages[0]["content"], messages[1:]
    users = [i for i, m in enumerate(rest) if m["role"] == "user"]
    if not users:
        return rest
    if layout.system == "last_user" and asking:
        return messages  # the template folds it into the last user turn itself when asked
    at = users[0] if layout.system == "first_user" else users[-1]
    folded = dict(rest[at], content=(system + FOLD_JOINER + rest[at]["content"]) if system else rest[at]["content"])
    return rest[:at] + [folded] + rest[at + 1:]


# ---------------------------------------------------------------------------------------------- probing the template

def layout_of(tokenizer) -> Layout:
    """The tokenizer's template layout, worked out once per template and kept on the tokenizer."""
    template, _ = split_wrapper(tokenizer.chat_template)
    cached = getattr(tokenizer, "_studio_layout", None)
    if cached and cached[0] == template:
        return cached[1]
    layout = _probe(tokenizer, template)
    tokenizer._studio_layout = (template, layout)
    return layout


def render_raw(tokenizer, template: str, messages: list[dict], asking: bool) -> str:
    return tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False,
                                         add_generation_prompt=asking)


def model_name(tokenizer) -> str | Message:
    name = getattr(tokenizer, "name_or_path", "")
    if not name:
        return Message("data.chat_layout.this_model")
    return os.path.basename(name.rstrip("/")) if os.path.isabs(name) else name


def cannot_mask(tokenizer, reason: Message) -> TemplateError:
    return TemplateError("data.chat_layout.cannot_mask", model=model_name(tokenizer), reason=reason)


def _probe(tokenizer, template: str) -> Layout:
    def render(messages, asking=False):
        try:
            return render_raw(tokenizer, template, messages, asking)
        except Exception as err:  # templates raise their own errors (jinja2's TemplateError and others)
            needs = _needs_context(tokenizer, template, messages)
            if needs:  # a raw Jinja error ("'NoneType' object is not iterable") would name nothing the user has
                raise TemplateError("data.chat_layout.needs_context", model=model_name(tokenizer),
                                    needs=needs) from None
            raise cannot_mask(tokenizer, Message("data.chat_layout.fails", {"error": str(err)})) from None

    a0, a1 = answer_mark(0), answer_mark(1)
    two = render([{"role": "user", "content": USER}, {"role": "assistant", "content": a0},
                  {"role": "user", "content": USER2}, {"role": "assistant", "content": a1}])
    if two.count(a0) != 1 or two.count(a1) != 1:
        raise cannot_mask(tokenizer, Message("data.chat_layout.answers_not_text"))
    after_first = two[two.index(a0) + len(a0):]
    after_last = two[two.index(a1) + len(a1):]
    end_of_turn, ids = _end_of_turn(tokenizer, os.path.commonprefix([after_first, after_last]))
    last_end = None
    if not end_of_turn:  # no common end: each answer may still end with its own token (gpt-oss)
        first_end, first_ids = _end_of_turn(tokenizer, after_first, first_only=True)
        last_end, last_ids = _end_of_turn(tokenizer, after_last, first_only=True)
        if first_end and last_end:
            end_of_turn, ids = first_end, tuple(dict.fromkeys(first_ids + last_ids))
        else:
            last_end = None

    asked = render([{"role": "user", "content": USER}], asking=True)
    one = render([{"role": "user", "content": USER}, {"role": "assistant", "content": a0}])
    header = one[:one.index(a0)]
    follows = header.startswith(asked)
    opening = header[len(asked):] if follows else ""

    system = _system_placement(tokenizer, template)
    default_system = _default_system(tokenizer, template) if system == "native" else ""
    return Layout(end_of_turn, ids, opening, follows, system, default_system, last_end,
                  _thinking(tokenizer, template))


def _thinking(tokenizer, template: str) -> Thinking | None:
    """Qwen3: reasoning_content written inside <think> ... </think> before the last answer (the form is read off
    the template). DeepSeek-R1: <think> ... </think> cut from every answer's text; its model writes
    "<think>\n" + thinking + "\n</think>\n\n" + answer (its generation prompt opens the block)."""
    user, answer = {"role": "user", "content": USER}, answer_mark(0)
    given = {"role": "assistant", "content": answer, "reasoning_content": THOUGHT}
    inline = {"role": "assistant", "content": f"{THINK_OPEN}\n{THOUGHT}\n{THINK_CLOSE}\n\n{answer}"}
    try:
        written = render_raw(tokenizer, template, [user, given], False)
        cut = render_raw(tokenizer, template, [user, inline], False)
    except Exception:  # a template that refuses these conversations: said where the rows are read
        return None
    if THOUGHT in written and answer in written:
        before, _, after = written.partition(THOUGHT)
        closing = after[:after.find(answer)]
        if THINK_OPEN in before and THINK_CLOSE in closing:
            return Thinking(before[before.rindex(THINK_OPEN):], closing, "reasoning_content")
    if THOUGHT not in cut and answer in cut:
        return Thinking(f"{THINK_OPEN}\n", f"\n{THINK_CLOSE}\n\n", "content")
    return None


def _needs_context(tokenizer, template: str, messages: list[dict]) -> str:
    """"tools" or "documents" when the template renders only with such a list (Command R+'s tool-use and RAG
    templates loop over them), else ""."""
    for name in ("tools", "documents"):
        try:
            tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False, **{name: []})
        except Exception:  # still fails: not what it lacks
            continue
        return name
    return ""


def _end_of_turn(tokenizer, close: str, first_only: bool = False) -> tuple[str, tuple[int, ...]]:
    """The part of `close` (what follows every answer) through its last special token, and those tokens' ids.
    `first_only`: through the first special token only, when `close` runs on into the next turn's header."""
    specials = {str(t): i for i, t in tokenizer.added_tokens_decoder.items() if len(str(t)) > 1}
    end, found = 0, []
    for text, token_id in specials.items():
        for match in re.finditer(re.escape(text), close):
            found.append((match.start(), token_id, match.end()))
            end = max(end, match.end())
    if first_only and found:
        start, token_id, end = min(found)
        found = [(start, token_id, end)]
        if start:  # text before the token: not a plain end of turn
            return "", ()
    if end:
        # The line break after the token belongs to the answer's own turn (ChatML's "<|im_end|>\n"): trained with
        # it, as trl and LLaMA-Factory train it, so the studio and a plain trl script put loss on the same tokens.
        while end < len(close) and close[end] in " \n":
            end += 1
        return close[:end], tuple(token_id for _, token_id, _ in sorted(found))
    # No end-of-turn token: we add EOS after each answer, so the model learns to stop.
    return "", ((tokenizer.eos_token_id,) if tokenizer.eos_token_id is not None else ())


def _system_placement(tokenizer, template: str) -> str:
    try:
        told = render_raw(tokenizer, template, [{"role": "system", "content": SYSTEM},
                                                {"role": "user", "content": USER},
                                                {"role": "assistant", "content": answer_mark(0)}], False)
    except Exception:  # e.g. Gemma 2: "System role not supported"
        return "first_user"
    if SYSTEM in told:
        return "native"
    try:
        asked = render_raw(tokenizer, template, [{"role": "system", "content": SYSTEM},
                                                 {"role": "user", "content": USER}], True)
    except Exception:
        return "first_user"
    # Mistral: the system prompt goes into the last user turn, and only when the conversation ends with it.
    return "last_user" if SYSTEM + FOLD_JOINER + USER in asked else "first_user"


def _default_system(tokenizer, template: str) -> str:
    """The system prompt the template writes when a conversation has none (SmolLM2's, Qwen2.5's), else ""."""
    try:
        alone = render_raw(tokenizer, template, [{"role": "user", "content": USER}], False)
        told = render_raw(tokenizer, template, [{"role": "system", "content": SYSTEM},
                                                {"role": "user", "content": USER}], False)
    except Exception:
        return ""
    before, _, after = told.partition(SYSTEM)
    if alone.startswith(before) and alone.endswith(after) and len(alone) >= len(before) + len(after):
        return alone[len(before):len(alone) - len(after)]
    return ""


def bos_before_text(tokenizer) -> str:
    """The BOS the tokenizer adds in front of plain text (Llama, Mistral, Gemma do; Qwen and ChatML models do not)."""
    bos_id = tokenizer.bos_token_id
    if bos_id is None:
        return ""
    with_specials = tokenizer("a")["input_ids"]
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    return tokenizer.bos_token if len(with_specials) > len(plain) and with_specials[0] == bos_id else ""
