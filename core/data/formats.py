"""The shapes data comes in, and how each becomes a normalized row.

Normalized rows:
- {"messages": [{"role", "content"}, ...]} for conversations (alpaca, sharegpt, messages, and prompt_completion
  whose prompt and completion are lists of messages); roles are system, user, assistant and tool;
- {"prompt", "completion"} for plain prompt_completion;
- {"text"} for text;
- {"messages": [... ending with the user], "chosen", "rejected"} for preference data;
- a messages or prompt/completion row with "label": true (a desirable answer) or false (an undesirable one) for
  unpaired preference data (what KTO trains on; LLaMA-Factory's kto demo and trl's unpaired shape).

A file whose columns have other names is read through a column map ({"completion": "answer"}), and role tags
other than the usual ones through a role map ({"customer": "user"}); both live in the run's config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.catalogue.message import Message
from core.data.errors import DataError, RowError, joined, kind_of
from core.data.questions import question_text

FORMATS = ("alpaca", "sharegpt", "messages", "prompt_completion", "text", "preference", "unpaired_preference")

# What each format needs, short (in row problems) and long (when no format fits at all).
NEEDS = {"alpaca": Message("data.formats.needs.alpaca"), "sharegpt": Message("data.formats.needs.sharegpt"),
         "messages": Message("data.formats.needs.messages"),
         "prompt_completion": Message("data.formats.needs.prompt_completion"),
         "text": Message("data.formats.needs.text"), "preference": Message("data.formats.needs.preference"),
         "unpaired_preference": Message("data.formats.needs.unpaired_preference")}
NEEDS_IN_FULL = {
    "alpaca": Message("data.formats.needs_in_full.alpaca"),
    "sharegpt": Message("data.formats.needs_in_full.sharegpt"),
    "messages": Message("data.formats.needs_in_full.messages"),
    "prompt_completion": Message("data.formats.needs_in_full.prompt_completion"),
    "text": Message("data.formats.needs_in_full.text"),
    "preference": Message("data.formats.needs_in_full.preference"),
    "unpaired_preference": Message("data.formats.needs_in_full.unpaired_preference"),
}
ROLES = {"system": "system", "user": "user", "human": "user",
         "assistant": "assistant", "gpt": "assistant", "model": "assistant", "bot": "assistant",
         # Tool use, as LLaMA-Factory's sharegpt writes it: the call is the assistant's, the result the tool's.
         "function_call": "assistant", "tool": "tool", "observation": "tool", "function": "tool"}
CANONICAL_ROLES = ("user", "assistant", "system", "tool")

# Fields a column map can point elsewhere: the key is ours, the value the file's column name.
MAPPABLE = ("instruction", "input", "output", "system", "history", "prompt", "completion", "messages",
            "conversations", "text", "chosen", "rejected", "label", "role", "content")
# Pairs of column names that mean a prompt and its completion, in the order they are tried, whatever their case.
# prompt/completion is trl's plain prompt-completion: the completion continues the prompt's text, no chat template.
# Every other pair is a question and its answer: a user turn and the assistant's answer, written with the chat
# template, since chat always asks through it (trained as plain text, the model never learns the turns it is asked in).
PLAIN_PAIR = ("prompt", "completion")
PAIRS = (PLAIN_PAIR, ("question", "answer"), ("query", "response"), ("prompt", "response"), ("question", "response"),
         ("query", "answer"), ("q", "a"), ("问题", "答案"), ("问题", "回答"), ("问", "答"), ("input", "output"))
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass
class Mapping:
    """How this file's names translate into ours (data.columns and data.roles in the config)."""

    columns: dict = field(default_factory=dict)  # ours -> the file's column name
    roles: dict = field(default_factory=dict)  # the file's role tag -> user | assistant | system | tool

    def __post_init__(self):
        for ours in self.columns:
            if ours not in MAPPABLE:
                raise DataError("data.formats.not_mappable", field=ours, fields=", ".join(MAPPABLE))
        for tag, role in self.roles.items():
            if role not in CANONICAL_ROLES:
                raise DataError("data.formats.bad_role_map", tag=tag, role=role, roles=", ".join(CANONICAL_ROLES))

    def apply(self, record: dict) -> dict:
        """The record with mapped columns renamed to ours; a RowError when a mapped column is missing."""
        plain = {ours: theirs for ours, theirs in self.columns.items() if ours not in ("role", "content")}
        if not plain:
            return record
        missing = [theirs for theirs in plain.values() if theirs not in record]
        if missing:
            raise RowError("data.formats.mapped_column_missing", column=missing[0],
                           field=next(o for o, t in plain.items() if t == missing[0]), fields=field_list(record))
        renamed = {key: value for key, value in record.items() if key not in plain.values() and key not in plain}
        renamed.update({ours: record[theirs] for ours, theirs in plain.items()})
        return renamed


# ---------------------------------------------------------------------------------------------- detection

def formats_matching(record: dict) -> list[str]:
    """Formats whose fields the record has, most specific first."""
    keys = {key for key, value in record.items() if value is not None}  # Parquet and CSV give every column
    found = []
    if {"chosen", "rejected"} <= keys:
        found.append("preference")
    answered = keys & {"messages", "conversations", "conversation", "instruction", "completion", "answer", "response"}
    if "label" in keys and answered and label_value(record["label"]) is not None:
        found.append("unpaired_preference")
    if "messages" in keys:
        found.append("messages")
    if keys & {"conversations", "conversation"}:
        found.append("sharegpt")
    if "instruction" in keys:
        found.append("alpaca")
    pairs = PAIRS if "instruction" not in keys else PAIRS[:-1]  # alpaca's input/output is not a prompt pair
    if keys & {"prompt", "completion"} or pair_columns(dict.fromkeys(keys, ""), pairs):
        found.append("prompt_completion")
    if "text" in keys or ("content" in keys and not keys & {"role", "from"}):
        found.append("text")
    return found


def pair_columns(record: dict, pairs: tuple = PAIRS) -> tuple[str, str] | None:
    """The record's own names for the first pair of `pairs` it has ("Question", "Answer"), or None."""
    names: dict = {}
    for key in record:
        names.setdefault(str(key).strip().lower(), key)
    return next(((names[prompt], names[answer]) for prompt, answer in pairs if prompt in names and answer in names),
                None)


def as_turns(pair: tuple[str, str]) -> bool:
    """Whether a pair of columns is a question and its answer (chat turns) rather than trl's plain prompt-completion."""
    return tuple(str(name).strip().lower() for name in pair) != PLAIN_PAIR


def reading_note(record: dict, format: str) -> Message | None:
    """Which columns become which turn (or that a pair is trained as plain text), said once for the file."""
    present = {key: value for key, value in record.items() if value is not None}
    if format == "alpaca":
        prompt = [name for name in ("instruction", "input", "context") if name in present]
        answer = _first_key(present, ("output", "response"))
        return Message("data.formats.read_as_turns", {"prompt": " + ".join(prompt), "completion": answer})
    pair = pair_columns(present, PAIRS if "instruction" not in present else PAIRS[:-1])
    if format != "prompt_completion" or pair is None or not isinstance(present[pair[0]], str):
        return None  # other shapes name their roles themselves; lists of messages are turns already
    key = "data.formats.read_as_turns" if as_turns(pair) else "data.formats.read_as_text"
    problem = [name for name in present if str(name).lower() == "problem"] if as_turns(pair) else []
    options = [name for name in present if str(name).lower() in ("options", "choices")] if as_turns(pair) else []
    return Message(key, {"prompt": " + ".join(problem + [pair[0]] + options), "completion": pair[1]})


def field_list(record: dict) -> str | Message:
    names = ", ".join(str(key) for key, value in record.items() if value is not None)
    return names or Message("data.formats.no_fields")


def detect_format(record: dict) -> str:
    found = formats_matching(record) if isinstance(record, dict) else []
    if not found:
        fields = (field_list(record) if isinstance(record, dict)
                  else Message("data.formats.not_fields", {"kind": kind_of(record)}))
        needs = joined([Message("data.formats.format_needs", {"format": name, "needs": NEEDS_IN_FULL[name]})
                        for name in FORMATS])
        raise DataError("data.formats.undetected", fields=fields, needs=needs,
                        columns=list(record) if isinstance(record, dict) else None)
    return found[0]


# ---------------------------------------------------------------------------------------------- normalizing

def normalize(record: dict, format: str, mapping: Mapping | None = None) -> dict:
    if not isinstance(record, dict):
        raise RowError("data.formats.not_a_record", kind=kind_of(record))
    mapping = mapping or Mapping()
    normalizers = {"alpaca": _alpaca, "sharegpt": _sharegpt, "messages": _messages,
                   "prompt_completion": _prompt_completion, "text": _text_row, "preference": _preference,
                   "unpaired_preference": _unpaired}
    if format not in normalizers:
        raise DataError("data.formats.unknown", format=format, formats=", ".join(FORMATS))
    return normalizers[format](mapping.apply(record), mapping)


def _alpaca(record: dict, mapping: Mapping) -> dict:
    return {"messages": _alpaca_prompt(record, "alpaca") + [
        {"role": "assistant", "content": _text(record, _first_key(record, ("output", "response")), "alpaca")}]}


def _alpaca_prompt(record: dict, format: str) -> list[dict]:
    """System, history and the user turn of an alpaca row (Dolly's "context" is its input)."""
    instruction = _text(record, "instruction", format, may_be_empty=True)
    extra = _text(record, _first_key(record, ("input", "context")), format, optional=True)
    user = "\n\n".join(part for part in (instruction, extra) if part.strip())
    if not user:
        raise RowError("data.formats.empty_field", field="instruction")
    messages = _system_message(record, format)
    history = record.get("history")
    if history not in (None, ""):  # CSV gives "" for an empty cell
        if not isinstance(history, list):
            raise RowError("data.formats.history_not_a_list", kind=kind_of(history))
        for number, pair in enumerate(history, 1):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(t, str) for t in pair)):
                raise RowError("data.formats.history_pair", number=number)
            if not pair[0].strip() or not pair[1].strip():
                raise RowError("data.formats.history_pair_empty", number=number)
            messages += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    return messages + [{"role": "user", "content": user}]


def _sharegpt(record: dict, mapping: Mapping) -> dict:
    return {"messages": check_conversation(_sharegpt_messages(record, mapping, "sharegpt"))}


def _sharegpt_messages(record: dict, mapping: Mapping, format: str) -> list[dict]:
    name = "conversation" if "conversation" in record and "conversations" not in record else "conversations"
    messages = _parse_messages(record.get(name), name, format, mapping, role_key="from", content_key="value")
    system = _system_message(record, format)
    if system and messages and messages[0]["role"] == "system":
        raise RowError("data.formats.two_system_messages", field=name)
    return system + messages


def _messages(record: dict, mapping: Mapping) -> dict:
    messages = _parse_messages(record.get("messages"), "messages", "messages", mapping, "role", "content")
    return {"messages": check_conversation(messages)}


def _prompt_completion(record: dict, mapping: Mapping) -> dict:
    """trl's prompt-completion (plain, or lists of messages), or a question and its answer as two chat turns."""
    prompt_key, completion_key = pair_columns(record) or PLAIN_PAIR
    prompt, completion = record.get(prompt_key), record.get(completion_key)
    if isinstance(prompt, list) or isinstance(completion, list):  # trl's conversational prompt-completion
        if not (isinstance(prompt, list) and isinstance(completion, list)):
            raise RowError("data.formats.mixed_prompt_completion", prompt=prompt_key, completion=completion_key)
        messages = (_parse_messages(prompt, prompt_key, "prompt_completion", mapping, "role", "content")
                    + _parse_messages(completion, completion_key, "prompt_completion", mapping, "role", "content"))
        return {"messages": check_conversation(messages)}
    if as_turns((prompt_key, completion_key)):
        question = _text(record, prompt_key, "prompt_completion")
        lowered = {str(key).lower(): value for key, value in record.items()}
        if lowered.keys() & {"problem", "options", "choices"}:  # the contest shape: the problem and options belong
            question = question_text(lowered) or question  # to the question as asked
        return {"messages": [{"role": "user", "content": question},
                             {"role": "assistant", "content": _text(record, completion_key, "prompt_completion")}]}
    return {"prompt": _text(record, prompt_key, "prompt_completion", may_be_empty=True),
            "completion": _text(record, completion_key, "prompt_completion")}


def _text_row(record: dict, mapping: Mapping) -> dict:
    name = "text" if "text" in record or "content" not in record else "content"
    return {"text": _text(record, name, "text")}


def _preference(record: dict, mapping: Mapping) -> dict:
    """Prompt, chosen and rejected answers, from the shapes trl, LLaMA-Factory and Anthropic's HH data use."""
    if "conversations" in record or "conversation" in record:
        prompt = _sharegpt_messages(record, mapping, "preference")
        chosen = _answer(record, "chosen", mapping, "from", "value")
        rejected = _answer(record, "rejected", mapping, "from", "value")
    elif "messages" in record:
        prompt = _parse_messages(record["messages"], "messages", "preference", mapping, "role", "content")
        chosen = _answer(record, "chosen", mapping, "role", "content")
        rejected = _answer(record, "rejected", mapping, "role", "content")
    elif "instruction" in record:
        prompt = _alpaca_prompt(record, "preference")
        chosen = _answer(record, "chosen", mapping, "role", "content")
        rejected = _answer(record, "rejected", mapping, "role", "content")
    elif "prompt" in record:
        value = record["prompt"]
        prompt = (_parse_messages(value, "prompt", "preference", mapping, "role", "content")
                  if isinstance(value, list) else [{"role": "user", "content": _text(record, "prompt", "preference")}])
        chosen = _answer(record, "chosen", mapping, "role", "content")
        rejected = _answer(record, "rejected", mapping, "role", "content")
    else:  # only chosen and rejected: whole conversations that share everything but the last answer
        prompt, chosen, rejected = _implicit_prompt(record, mapping)
    prompt = check_conversation(prompt, ends_with="user")
    if chosen == rejected:
        raise RowError("data.formats.same_answers")
    return {"messages": prompt, "chosen": chosen, "rejected": rejected}


def _answer(record: dict, name: str, mapping: Mapping, role_key: str, content_key: str) -> str:
    """One preference answer: text, one message, or a list of messages ending with the assistant's."""
    value = record.get(name)
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list):
        messages = _parse_messages(value, name, "preference", mapping, role_key, content_key)
        if not messages or messages[-1]["role"] != "assistant":
            raise RowError("data.formats.answer_not_last", field=name)
        value = messages[-1]["content"]
        if not value.strip():
            raise RowError("data.formats.empty_field", field=name)
        return value
    return _text(record, name, "preference")


def _unpaired(record: dict, mapping: Mapping) -> dict:
    """One answer with a verdict: a conversation (or prompt and completion) and label true/false."""
    if "messages" in record:
        row = _messages(record, mapping)
    elif "conversations" in record or "conversation" in record:
        row = _sharegpt(record, mapping)
    elif "instruction" in record:
        row = _alpaca(record, mapping)
    else:
        row = _prompt_completion(record, mapping)
    if record.get("label") is None:
        raise RowError("data.formats.no_label")
    label = label_value(record["label"])
    if label is None:
        raise RowError("data.formats.bad_label", value=repr(record["label"]))
    return {**row, "label": label}


def label_value(value) -> bool | None:
    """A desirable/undesirable label: true/false (JSON) or the words true/false (CSV); None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


_HH_TURN = re.compile(r"\n\n(Human|Assistant): ")


def _implicit_prompt(record: dict, mapping: Mapping) -> tuple[list[dict], str, str]:
    chosen, rejected = record.get("chosen"), record.get("rejected")
    if isinstance(chosen, str) and isinstance(rejected, str):  # "\n\nHuman: ...\n\nAssistant: ..." (HH-RLHF)
        chosen, rejected = _hh_messages(chosen, "chosen"), _hh_messages(rejected, "rejected")
    elif isinstance(chosen, list) and isinstance(rejected, list):
        chosen = _parse_messages(chosen, "chosen", "preference", mapping, "role", "content")
        rejected = _parse_messages(rejected, "rejected", "preference", mapping, "role", "content")
    else:
        raise RowError("data.formats.no_prompt")
    if chosen[:-1] != rejected[:-1] or chosen[-1]["role"] != "assistant" or rejected[-1]["role"] != "assistant":
        raise RowError("data.formats.different_prompts")
    return chosen[:-1], chosen[-1]["content"], rejected[-1]["content"]


def _hh_messages(text: str, name: str) -> list[dict]:
    parts = _HH_TURN.split("\n\n" + text.lstrip("\n") if not text.startswith("\n\n") else text)
    if len(parts) < 3:
        raise RowError("data.formats.no_turns", field=name)
    return [{"role": "user" if speaker == "Human" else "assistant", "content": content.strip()}
            for speaker, content in zip(parts[1::2], parts[2::2])]


# ---------------------------------------------------------------------------------------------- pieces

def _first_key(record: dict, names: tuple[str, ...]) -> str:
    return next((name for name in names if record.get(name) is not None), names[0])


def _text(record: dict, name: str, format: str, *, optional: bool = False, may_be_empty: bool = False) -> str:
    """The string in record[name], or a RowError that names the field and what is wrong with it."""
    value = record.get(name)
    if value is None:
        if optional:
            return ""
        if name in record:  # null in JSON, an empty Parquet cell
            raise RowError("data.formats.empty_field", field=name)
        raise RowError("data.formats.missing_field", field=name, format=format, needs=NEEDS[format])
    if not isinstance(value, str):
        raise RowError("data.formats.not_text", field=name, kind=kind_of(value))
    if not (optional or may_be_empty) and not value.strip():
        raise RowError("data.formats.empty_field", field=name)
    return value


def _system_message(record: dict, format: str) -> list[dict]:
    system = _text(record, "system", format, optional=True)
    return [{"role": "system", "content": system}] if system.strip() else []


def _parse_messages(value, name: str, format: str, mapping: Mapping, role_key: str, content_key: str) -> list[dict]:
    """Role/content dicts from a list of messages; accepts both {from, value} and {role, content} spellings."""
    role_key = mapping.columns.get("role", role_key)
    content_key = mapping.columns.get("content", content_key)
    if value is None:
        raise RowError("data.formats.missing_field", field=name, format=format, needs=NEEDS[format])
    if not isinstance(value, list):
        raise RowError("data.formats.not_a_message_list", field=name, kind=kind_of(value))
    messages = []
    for number, message in enumerate(value, 1):
        if not isinstance(message, dict):
            raise RowError("data.formats.message_not_an_object", number=number, field=name, role_key=role_key,
                           content_key=content_key, kind=kind_of(message))
        role = message.get(role_key, message.get("role", message.get("from")))
        if role is None:
            raise RowError("data.formats.message_without_role", number=number, field=name, role_key=role_key)
        messages.append({"role": _role(role, number, name, mapping),
                         "content": _content_text(message.get(content_key, message.get("content",
                                                                                       message.get("value"))),
                                                  number, name)})
        reasoning = message.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning.strip() and messages[-1]["role"] == "assistant":
            # The thinking before an answer (Qwen3's, DeepSeek-R1's datasets): the chat template writes it where
            # the model writes it (Qwen3: <think> ... </think> in the last turn), and it is trained there.
            messages[-1]["reasoning_content"] = reasoning
    return messages


def _role(role, number: int, name: str, mapping: Mapping) -> str:
    if isinstance(role, str):
        if role in mapping.roles:
            return mapping.roles[role]
        if role.strip().lower() in ROLES:
            return ROLES[role.strip().lower()]
    raise RowError("data.formats.unknown_role", number=number, field=name, role=role, roles=", ".join(ROLES))


def _content_text(content, number: int, name: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...], as multimodal chat formats write it
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type", "text") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                kind = part.get("type") if isinstance(part, dict) else kind_of(part)
                raise RowError("data.formats.not_a_text_part", number=number, field=name, kind=kind)
        return "".join(texts)
    raise RowError("data.formats.content_not_text", number=number, field=name, kind=kind_of(content))


# Which role may follow which: tool results answer an assistant's call, and the assistant reads them.
_NEXT = {"user": ("assistant",), "assistant": ("user", "tool"), "tool": ("assistant", "tool")}


def check_conversation(messages: list[dict], ends_with: str = "assistant") -> list[dict]:
    """Optional system message first, then user and assistant taking turns (tool results after an assistant's
    call), ending with the assistant (or, for a preference prompt, with the user)."""
    if not messages:
        raise RowError("data.formats.no_messages")
    has_system = messages[0]["role"] == "system"
    turns = messages[1:] if has_system else messages
    if ends_with == "assistant" and not any(m["role"] == "assistant" for m in turns):
        raise RowError("data.formats.no_reply")
    first = 2 if has_system else 1
    previous = None
    for number, message in enumerate(turns, first):
        role = message["role"]
        if role == "system":
            raise RowError("data.formats.late_system_message", number=number)
        if previous is None and role != "user":
            raise RowError("data.formats.first_not_user", number=number, role=role)
        if previous is not None and role not in _NEXT[previous]:
            if role == previous:
                raise RowError("data.formats.same_role_twice", earlier=number - 1, number=number, role=role)
            raise RowError("data.formats.wrong_order", number=number, role=role, previous=previous)
        if not message["content"].strip():
            raise RowError("data.formats.empty_message", number=number, role=role)
        previous = role
    if turns and turns[-1]["role"] != ends_with:
        if ends_with == "assistant":
            raise RowError("data.formats.last_not_assistant", role=turns[-1]["role"], number=len(messages))
        raise RowError("data.formats.prompt_not_user_last", role=turns[-1]["role"])
    if has_system and not messages[0]["content"].strip():
        return turns  # an empty system prompt says nothing; drop it rather than the row
    return messages


# ---------------------------------------------------------------------------------------------- placeholders

def placeholders_in(row: dict) -> set[str]:
    """The {{name}} placeholders a normalized row uses."""
    return {match for text in _strings(row) for match in PLACEHOLDER.findall(text)}


def fill_placeholders(row: dict, values: dict) -> dict:
    """The row with {{name}} replaced by values[name] wherever a value is given (others are left as they are)."""
    if not values:
        return row

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)

    def walk(value):
        if isinstance(value, str):
            return fill(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(row)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
