"""Load a training data file, work out its format, normalize its rows and report the bad ones.

The people using this are not programmers, so every message names the file, the line (or item or row) and the
field, and says what to fix. Nothing is dropped silently: a row that cannot be used becomes a Problem.

Normalized rows: {"messages": [{"role", "content"}, ...]} for conversations (alpaca, sharegpt, messages, and
prompt_completion whose prompt and completion are lists of messages), {"prompt", "completion"} for plain
prompt_completion, {"text"} for text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import random
import re
from dataclasses import dataclass, field

FORMATS = ("alpaca", "sharegpt", "messages", "prompt_completion", "text")
EXTENSIONS = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".txt")

# What each format needs, short (in row problems) and long (when no format fits at all).
NEEDS = {"alpaca": "instruction and output", "sharegpt": "conversations", "messages": "messages",
         "prompt_completion": "prompt and completion", "text": "text"}
NEEDS_IN_FULL = {
    "alpaca": "instruction and output (input, system and history are optional)",
    "sharegpt": 'conversations, a list of {"from": ..., "value": ...}',
    "messages": 'messages, a list of {"role": ..., "content": ...}',
    "prompt_completion": "prompt and completion (or question and answer, or input and output)",
    "text": "text (or content)",
}
ROLES = {"system": "system", "user": "user", "human": "user",
         "assistant": "assistant", "gpt": "assistant", "model": "assistant", "bot": "assistant"}
# CSV cells in these columns may hold a JSON list (a conversation does not fit in a plain cell).
CSV_JSON_COLUMNS = ("messages", "conversations", "conversation", "history")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class DataError(ValueError):
    """The whole file cannot be used; str(err) is the user-facing message."""


class RowError(ValueError):
    """One row cannot be used; str(err) names the field and says what is wrong."""


@dataclass
class Problem:
    where: str  # "line 7", "item 3" or "row 12"
    message: str

    def __str__(self):
        return f"{self.where}: {self.message}"


@dataclass
class LoadedData:
    path: str
    format: str
    rows: list[dict]
    problems: list[Problem]
    total: int
    notes: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Rows not used; can exceed len(problems) when the problem list was cut short."""
        return self.total - len(self.rows)


# ---------------------------------------------------------------------------------------------- loading

def load(path: str | os.PathLike, format: str = "auto", *, max_problems_listed: int = 50) -> LoadedData:
    shown = os.fspath(path)
    if format not in ("auto", *FORMATS):
        raise DataError(f'Unknown data format "{format}". Choose one of: auto, {", ".join(FORMATS)}.')
    notes: list[str] = []
    records, fixed_format = _read_records(shown, notes)
    if not records:
        raise DataError(f"{shown} has no rows.")
    if fixed_format:
        if format not in ("auto", fixed_format):
            raise DataError(f'{shown} is a plain text file, so it can only be used with the format "{fixed_format}" '
                            f'(you chose "{format}").')
        format = fixed_format
    elif any(isinstance(record, dict) for _, record in records):
        format = _choose_format(shown, records, format, notes)

    rows, problems = [], []
    for where, record in records:
        try:
            if isinstance(record, RowError):  # the line could not even be read as a record
                raise record
            row = normalize(record, format)
        except RowError as err:
            problems.append(Problem(where, str(err)))
        else:
            rows.append(row)
    if not rows:
        listed = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise DataError(f"no usable rows in {shown}: {listed}{more}")
    if len(problems) > max_problems_listed:
        notes.append(f"{len(problems) - max_problems_listed} more skipped rows are not listed.")
        problems = problems[:max_problems_listed]
    return LoadedData(shown, format, rows, problems, len(records), notes)


def _read_records(shown: str, notes: list[str]) -> tuple[list[tuple[str, dict | RowError]], str | None]:
    """(where, record) pairs from the file, and the format the file type forces (only .txt does)."""
    if not os.path.exists(shown):
        if HUB_ID.match(shown) and not shown.lower().endswith(EXTENSIONS):
            return _records_from_hub(shown, notes), None
        raise DataError(f"No file at {shown}. Check the path, or give the path of a "
                        f"{'/'.join(EXTENSIONS)} file.")
    if os.path.isdir(shown):
        raise DataError(f"{shown} is a folder, not a file. Give the path of a {'/'.join(EXTENSIONS)} file.")
    extension = os.path.splitext(shown)[1].lower()
    if extension not in EXTENSIONS:
        found = f'the extension "{extension}"' if extension else "no extension"
        raise DataError(f"{shown} has {found}, which is not supported. Use one of: {', '.join(EXTENSIONS)}.")
    if os.path.getsize(shown) == 0:
        raise DataError(f"{shown} is empty.")
    if extension == ".parquet":
        return _records_from_parquet(shown), None
    text = _read_text(shown)
    if extension == ".txt":
        return _records_from_txt(text, notes), "text"
    if extension in (".csv", ".tsv"):
        return _records_from_csv(shown, text, "\t" if extension == ".tsv" else ","), None
    if extension == ".json":
        return _records_from_json(shown, text, notes), None
    return _records_from_jsonl(text), None


def _read_text(shown: str) -> str:
    """The file as text: UTF-8 with or without a byte order mark, any line endings turned into \\n."""
    try:
        with open(shown, "rb") as file:
            data = file.read()
    except OSError as err:
        raise DataError(f"{shown} could not be read: {err.strerror}.") from err
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as err:
        position = bom + err.start
        line = data[:position].count(b"\n") + 1
        raise DataError(f"{shown} is not UTF-8 text (byte 0x{data[position]:02x} at position {position}); "
                        f"save it as UTF-8. The first bad byte is on line {line}.") from err
    if not text.strip():
        raise DataError(f"{shown} is empty.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _records_from_jsonl(text: str) -> list:
    records = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            records.append((f"line {number}", _as_record(json.loads(line))))
        except json.JSONDecodeError as err:
            records.append((f"line {number}", RowError(f"not valid JSON: {err.msg} at column {err.colno}")))
    return records


def _records_from_json(shown: str, text: str, notes: list[str]) -> list:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        # "Extra data" after a first complete object usually means one object per line: JSON Lines.
        hint = " If it holds one object per line, rename it to .jsonl." if err.msg == "Extra data" else ""
        raise DataError(f"{shown} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}. "
                        f"Fix that spot (often a missing comma, quote or bracket).{hint}") from err
    if isinstance(data, dict):
        data = _unwrap_object(shown, data, notes)
    if not isinstance(data, list):
        raise DataError(f"{shown} should hold a list of rows like [{{...}}, {{...}}], but it holds {_kind(data)}.")
    return [(f"item {i}", _as_record(item)) for i, item in enumerate(data, 1)]


def _unwrap_object(shown: str, data: dict, notes: list[str]) -> list:
    """A JSON object is either one row, or a wrapper such as {"data": [rows]}."""
    if _formats_matching(data):
        notes.append("The file holds a single row (one JSON object), not a list of rows.")
        return [data]
    lists = [key for key, value in data.items() if isinstance(value, list) and value and isinstance(value[0], dict)]
    if len(lists) == 1:
        notes.append(f'The file is a JSON object; used the list of rows under the key "{lists[0]}".')
        return data[lists[0]]
    keys = ", ".join(data) or "none"
    raise DataError(f"{shown} holds a JSON object, not a list of rows. Expected a list like "
                    f'[{{"instruction": ..., "output": ...}}, ...] or an object with exactly one such list '
                    f"inside; found the keys: {keys}.")


def _as_record(value) -> dict | RowError:
    if isinstance(value, dict):
        return value
    return RowError(f'should be a JSON object with fields, like {{"text": ...}}, but found {_kind(value)}')


def _records_from_csv(shown: str, text: str, delimiter: str) -> list:
    csv.field_size_limit(2**31 - 1)  # long answers are normal; the default limit is 128 KB per cell
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records = []
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise DataError(f"{shown} needs a header row on line 1 naming the columns, e.g. instruction,output.")
        end_of_previous = reader.line_num
        for cells in reader:
            start, end_of_previous = end_of_previous + 1, reader.line_num  # a quoted cell may span lines
            if any(cell.strip() for cell in cells):  # blank lines and rows of empty cells carry nothing
                records.append((f"line {start}", _csv_record(header, cells, delimiter)))
    except csv.Error as err:
        raise DataError(f"{shown} could not be read as a table near line {reader.line_num}: {err}.") from err
    return records


def _csv_record(header: list[str], cells: list[str], delimiter: str) -> dict | RowError:
    if len(cells) != len(header):
        separator = "tab" if delimiter == "\t" else "comma"
        return RowError(f"has {len(cells)} cells but the header has {len(header)} columns; check for a missing or "
                        f"extra {separator} (text containing a {separator} must be in double quotes)")
    record = dict(zip(header, cells))
    for column in CSV_JSON_COLUMNS:
        if record.get(column, "").lstrip().startswith("["):
            try:
                record[column] = json.loads(record[column])
            except json.JSONDecodeError as err:
                return RowError(f'field "{column}" is not valid JSON: {err.msg} at column {err.colno}')
    return record


def _records_from_parquet(shown: str) -> list:
    import pyarrow.parquet  # imported here: only Parquet files need it

    try:
        rows = pyarrow.parquet.read_table(shown).to_pylist()
    except Exception as err:  # pyarrow raises several kinds for a damaged or non-Parquet file
        raise DataError(f"{shown} could not be read as a Parquet file: {_short_reason(err)}.") from err
    return [(f"row {i}", row) for i, row in enumerate(rows, 1)]


def _records_from_txt(text: str, notes: list[str]) -> list:
    """Paragraphs separated by blank lines are rows; without blank lines, each line is a row."""
    blocks, current, start = [], [], 0
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    if len(blocks) == 1 and len(blocks[0][1]) > 1:
        first, lines = blocks[0]
        notes.append("The text file has no blank lines, so each line is one row.")
        return [(f"line {first + i}", {"text": line}) for i, line in enumerate(lines)]
    notes.append("Read the text file as paragraphs separated by blank lines; each paragraph is one row.")
    return [(f"line {first}", {"text": "\n".join(lines)}) for first, lines in blocks]


def _records_from_hub(dataset_id: str, notes: list[str]) -> list:
    try:
        import datasets  # imported here: slow to import, and only hub ids need it

        rows = datasets.load_dataset(dataset_id, split="train")
        records = [(f"row {i}", dict(row)) for i, row in enumerate(rows, 1)]
    except Exception as err:  # no network, no such dataset, gated dataset...: all end the same way for the user
        raise DataError(f"'{dataset_id}' is not a file here and the dataset hub could not be reached: "
                        f"{_short_reason(err)}. Give the path of a .jsonl/.json/.csv/.parquet/.txt file.") from err
    notes.append(f'Loaded "{dataset_id}" (split "train") from the Hugging Face dataset hub.')
    return records


def _short_reason(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200].rstrip(".") if text else type(err).__name__


# ---------------------------------------------------------------------------------------------- formats

def _formats_matching(record: dict) -> list[str]:
    """Formats whose fields the record has, most specific first."""
    keys = {key for key, value in record.items() if value is not None}  # Parquet and CSV give every column
    found = []
    if "messages" in keys:
        found.append("messages")
    if keys & {"conversations", "conversation"}:
        found.append("sharegpt")
    if "instruction" in keys:
        found.append("alpaca")
    if keys & {"prompt", "completion"} or {"question", "answer"} <= keys or (
            {"input", "output"} <= keys and "instruction" not in keys):
        found.append("prompt_completion")
    if "text" in keys or ("content" in keys and not keys & {"role", "from"}):
        found.append("text")
    return found


def _field_list(record: dict) -> str:
    return ", ".join(str(key) for key, value in record.items() if value is not None) or "no fields"


def detect_format(record: dict) -> str:
    found = _formats_matching(record) if isinstance(record, dict) else []
    if not found:
        fields = _field_list(record) if isinstance(record, dict) else f"{_kind(record)} instead of fields"
        needs = "; ".join(f"{name}: {NEEDS_IN_FULL[name]}" for name in FORMATS)
        raise DataError(f"Could not tell the data format: found {fields}. Each format needs these fields: {needs}.")
    return found[0]


def _choose_format(shown: str, records: list, format: str, notes: list[str]) -> str:
    first_where, first = next((w, r) for w, r in records if isinstance(r, dict))
    is_table = shown.lower().endswith((".csv", ".tsv"))
    if is_table:  # a table's fields are its column names
        first_where = "the header (line 1)"
    if format != "auto":
        if format not in _formats_matching(first):
            guess = _formats_matching(first)
            hint = f' It looks like "{guess[0]}": choose that, or "auto".' if guess else ""
            raise DataError(f'{shown}: the format "{format}" does not fit {first_where}, which has the fields '
                            f"{_field_list(first)}. {format} rows need {NEEDS_IN_FULL[format]}.{hint}")
        return format
    # The first row that fits a format decides; rows before it become problems when they are normalized.
    record = next((r for _, r in records if isinstance(r, dict) and _formats_matching(r)), first)
    try:
        detected = detect_format(record)
    except DataError as err:
        hint = " A CSV file needs a header row naming the columns." if is_table else ""
        raise DataError(f"{shown}, {first_where}: {err}{hint}") from err
    notes.append(f'Detected format "{detected}" from the fields {_field_list(record)}.')
    return detected


def normalize(record: dict, format: str) -> dict:
    if not isinstance(record, dict):
        raise RowError(f"should be a record with fields, found {_kind(record)}")
    normalizers = {"alpaca": _normalize_alpaca, "sharegpt": _normalize_sharegpt, "messages": _normalize_messages,
                   "prompt_completion": _normalize_prompt_completion, "text": _normalize_text}
    if format not in normalizers:
        raise DataError(f'Unknown data format "{format}". Choose one of: {", ".join(FORMATS)}.')
    return normalizers[format](record)


def _normalize_alpaca(record: dict) -> dict:
    instruction = _text(record, "instruction", "alpaca", may_be_empty=True)
    extra = _text(record, "input", "alpaca", optional=True)
    output = _text(record, "output", "alpaca")
    user = "\n\n".join(part for part in (instruction, extra) if part.strip())
    if not user:
        raise RowError('field "instruction" is empty')
    messages = _system_message(record, "alpaca")
    history = record.get("history")
    if history not in (None, ""):  # CSV gives "" for an empty cell
        if not isinstance(history, list):
            raise RowError(f'field "history" should be a list of [user, assistant] pairs, found {_kind(history)}')
        for number, pair in enumerate(history, 1):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(t, str) for t in pair)):
                raise RowError(f'field "history" pair {number} should be [user text, assistant text]')
            if not pair[0].strip() or not pair[1].strip():
                raise RowError(f'field "history" pair {number} has an empty message')
            messages += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": output}]
    return {"messages": messages}


def _normalize_sharegpt(record: dict) -> dict:
    name = "conversation" if "conversation" in record and "conversations" not in record else "conversations"
    messages = _parse_messages(record.get(name), name, "sharegpt", role_key="from", content_key="value")
    system = _system_message(record, "sharegpt")
    if system and messages and messages[0]["role"] == "system":
        raise RowError(f'has a system message both in the field "system" and in "{name}"; keep only one')
    return {"messages": _check_conversation(system + messages)}


def _normalize_messages(record: dict) -> dict:
    messages = _parse_messages(record.get("messages"), "messages", "messages", role_key="role", content_key="content")
    return {"messages": _check_conversation(messages)}


def _normalize_prompt_completion(record: dict) -> dict:
    prompt_key, completion_key = "prompt", "completion"
    if not record.keys() & {"prompt", "completion"}:
        if record.keys() & {"question", "answer"}:
            prompt_key, completion_key = "question", "answer"
        elif record.keys() & {"input", "output"}:
            prompt_key, completion_key = "input", "output"
    prompt, completion = record.get(prompt_key), record.get(completion_key)
    if isinstance(prompt, list) or isinstance(completion, list):  # trl's conversational prompt-completion
        if not (isinstance(prompt, list) and isinstance(completion, list)):
            raise RowError(f'fields "{prompt_key}" and "{completion_key}" must both be text or both be lists '
                           "of messages")
        messages = (_parse_messages(prompt, prompt_key, "prompt_completion", "role", "content")
                    + _parse_messages(completion, completion_key, "prompt_completion", "role", "content"))
        return {"messages": _check_conversation(messages)}
    return {"prompt": _text(record, prompt_key, "prompt_completion", may_be_empty=True),
            "completion": _text(record, completion_key, "prompt_completion")}


def _normalize_text(record: dict) -> dict:
    name = "text" if "text" in record or "content" not in record else "content"
    return {"text": _text(record, name, "text")}


def _text(record: dict, name: str, format: str, *, optional: bool = False, may_be_empty: bool = False) -> str:
    """The string in record[name], or a RowError that names the field and what is wrong with it."""
    value = record.get(name)
    if value is None:
        if optional:
            return ""
        if name in record:  # null in JSON, an empty Parquet cell
            raise RowError(f'field "{name}" is empty')
        raise RowError(f'missing field "{name}" ({format} rows need {NEEDS[format]})')
    if not isinstance(value, str):
        raise RowError(f'field "{name}" should be text, found {_kind(value)}')
    if not (optional or may_be_empty) and not value.strip():
        raise RowError(f'field "{name}" is empty')
    return value


def _system_message(record: dict, format: str) -> list[dict]:
    system = _text(record, "system", format, optional=True)
    return [{"role": "system", "content": system}] if system.strip() else []


def _parse_messages(value, name: str, format: str, role_key: str, content_key: str) -> list[dict]:
    """Role/content dicts from a list of messages; accepts both {from, value} and {role, content} spellings."""
    if value is None:
        raise RowError(f'missing field "{name}" ({format} rows need {NEEDS[format]})')
    if not isinstance(value, list):
        raise RowError(f'field "{name}" should be a list of messages, found {_kind(value)}')
    messages = []
    for number, message in enumerate(value, 1):
        if not isinstance(message, dict):
            raise RowError(f'message {number} in "{name}" should be an object with "{role_key}" and '
                           f'"{content_key}", found {_kind(message)}')
        role = message.get(role_key, message.get("role", message.get("from")))
        if role is None:
            raise RowError(f'message {number} in "{name}" has no "{role_key}"')
        if not isinstance(role, str) or role.strip().lower() not in ROLES:
            raise RowError(f'message {number} in "{name}" has the role "{role}"; use one of: {", ".join(ROLES)}')
        content = message.get(content_key, message.get("content", message.get("value")))
        messages.append({"role": ROLES[role.strip().lower()], "content": _content_text(content, number, name)})
    return messages


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
                kind = part.get("type") if isinstance(part, dict) else _kind(part)
                raise RowError(f'message {number} in "{name}" has a "{kind}" part; only text parts are supported')
        return "".join(texts)
    raise RowError(f'message {number} in "{name}" should have text content, found {_kind(content)}')


def _check_conversation(messages: list[dict]) -> list[dict]:
    """Optional system message first, then user and assistant taking turns, ending with the assistant."""
    if not messages:
        raise RowError("the conversation has no messages")
    has_system = messages[0]["role"] == "system"
    turns = messages[1:] if has_system else messages
    if not any(m["role"] == "assistant" for m in turns):
        raise RowError("the conversation has no assistant reply")
    expected = "user"
    for number, message in enumerate(turns, 2 if has_system else 1):
        role = message["role"]
        if role == "system":
            raise RowError(f"message {number} is a system message; a system message may only come first")
        if role != expected:
            if role == "assistant" and number == (2 if has_system else 1):
                raise RowError(f"message {number} is from the assistant; a conversation must start with the user")
            raise RowError(f"messages {number - 1} and {number} are both from the {role}; "
                           "user and assistant must take turns")
        if not message["content"].strip():
            raise RowError(f"message {number} ({role}) is empty")
        expected = "assistant" if role == "user" else "user"
    if turns[-1]["role"] != "assistant":
        raise RowError(f"the conversation ends with a user message (message {len(messages)}); "
                       "the last message must be the assistant's reply")
    if has_system and not messages[0]["content"].strip():
        return turns  # an empty system prompt says nothing; drop it rather than the row
    return messages


def _kind(value) -> str:
    """What a value is, in words a user knows: "a number", "a list"..."""
    kinds = ((type(None), "nothing (null)"), (bool, "true/false"), ((int, float), "a number"), (str, "text"),
             ((list, tuple), "a list"), (dict, "an object"))  # bool before int: True is an int too
    return next((name for types, name in kinds if isinstance(value, types)), type(value).__name__)


# ---------------------------------------------------------------------------------------------- using the rows

def split(rows: list[dict], eval_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, eval): a seeded shuffle, at least one eval row when asked for any, never all rows."""
    if not 0 <= eval_fraction < 1:
        raise ValueError(f"eval_fraction must be at least 0 and below 1, got {eval_fraction}")
    if eval_fraction == 0 or len(rows) < 2:
        return list(rows), []
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    eval_size = min(max(1, round(len(rows) * eval_fraction)), len(rows) - 1)
    return shuffled[eval_size:], shuffled[:eval_size]


def describe(data: LoadedData) -> str:
    lines = [f"File: {data.path}", f"Format: {data.format}",
             f"Rows used: {len(data.rows)} of {data.total}" + (f" ({data.skipped} skipped)" if data.skipped else "")]
    if data.problems:
        listed = data.problems[:10]
        count = max(data.skipped, len(data.problems))
        lines.append(f"Skipped rows (first {len(listed)} of {count}):" if count > len(listed) else "Skipped rows:")
        lines += [f"  {problem}" for problem in listed]
    if data.notes:
        lines.append("Notes:")
        lines += [f"  {note}" for note in data.notes]
    return "\n".join(lines)
