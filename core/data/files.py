"""Read records out of data files, lazily: a preview of a file of several GB appears in seconds, memory stays flat.

Each reader yields (where, record) pairs, where `where` is what a user looks for in an editor ("line 7",
"item 3", "row 12"; "part-2.jsonl line 7" inside a folder) and `record` is a dict, or a RowError when the line
could not even be read as a record. Nothing here knows the formats; core.data.formats does.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.data.errors import DataError, RowError, kind_of, short_reason
from core.data.formats import formats_matching

EXTENSIONS = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".txt")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# CSV cells in these columns may hold a JSON list (a conversation does not fit in a plain cell).
CSV_JSON_COLUMNS = ("messages", "conversations", "conversation", "history", "chosen", "rejected", "prompt")
# A .json file above this size is streamed item by item instead of parsed whole.
JSON_STREAM_BYTES = 64 * 1024 * 1024
# How much of a .txt file decides between "paragraphs" and "one row per line".
TXT_SNIFF_BYTES = 1024 * 1024


@dataclass
class Source:
    """What a path holds: its records (lazy), the format the file type forces (only .txt does), its size."""

    records: Iterator[tuple[str, dict | RowError]]
    fixed_format: str | None
    size_bytes: int
    is_table: bool  # CSV, TSV, Parquet: every row has the same columns


def open_source(path: str, notes: list[str]) -> Source:
    """Check the path and return its records as a lazy iterator; raises DataError for a file that cannot be used."""
    if not os.path.exists(path):
        if HUB_ID.match(path) and not path.lower().endswith(EXTENSIONS):
            return Source(_records_from_hub(path, notes), None, 0, True)
        raise DataError(f"No file at {path}. Check the path, or give the path of a {'/'.join(EXTENSIONS)} file "
                        "(or a folder of them).")
    if os.path.isdir(path):
        return _folder(path, notes)
    return _file(path, notes, label="")


def _file(path: str, notes: list[str], label: str) -> Source:
    extension = os.path.splitext(path)[1].lower()
    if extension not in EXTENSIONS:
        found = f'the extension "{extension}"' if extension else "no extension"
        raise DataError(f"{path} has {found}, which is not supported. Use one of: {', '.join(EXTENSIONS)}.")
    size = os.path.getsize(path)
    if size == 0:
        raise DataError(f"{path} is empty.")
    if extension == ".parquet":
        return Source(_records_from_parquet(path, label), None, size, True)
    if extension == ".txt":
        return Source(_records_from_txt(path, notes, label), "text", size, False)
    if extension in (".csv", ".tsv"):
        return Source(_records_from_csv(path, "\t" if extension == ".tsv" else ",", label), None, size, True)
    if extension == ".json":
        if size > JSON_STREAM_BYTES:
            notes.append(f"{os.path.basename(path)} is {size / 1e9:.1f} GB; it is read item by item.")
            return Source(_records_from_big_json(path, label), None, size, False)
        return Source(_records_from_json(path, notes, label), None, size, False)
    return Source(_records_from_jsonl(path, label), None, size, False)


def _folder(path: str, notes: list[str]) -> Source:
    """Every data file in the folder (and below), in name order, as one dataset."""
    files = sorted(os.path.join(root, name) for root, dirs, names in os.walk(path) for name in names
                   if name.lower().endswith(EXTENSIONS) and not name.startswith("."))
    if not files:
        raise DataError(f"The folder {path} holds no {'/'.join(EXTENSIONS)} files.")
    text_files = [f for f in files if f.lower().endswith(".txt")]
    if text_files and len(text_files) != len(files):
        raise DataError(f"The folder {path} mixes .txt files with other data files ({os.path.basename(text_files[0])}"
                        " and others); put plain text files in a folder of their own.")
    notes.append(f"Read {len(files)} files from the folder {path}: "
                 + ", ".join(os.path.relpath(f, path) for f in files[:5]) + (" ..." if len(files) > 5 else "") + ".")
    sources = [(f, os.path.relpath(f, path) + " ") for f in files]

    def records():
        for file, label in sources:
            if os.path.getsize(file) == 0:
                yield label.strip(), RowError("the file is empty")
                continue
            yield from _file(file, notes, label).records

    return Source(records(), "text" if text_files else None, sum(os.path.getsize(f) for f in files),
                  all(f.lower().endswith((".csv", ".tsv", ".parquet")) for f in files))


# ---------------------------------------------------------------------------------------------- text decoding

def _lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number, text) one line at a time: UTF-8 with or without a byte order mark, any line ending.

    Decoding line by line keeps memory flat and lets a bad byte be reported with its line and column.
    """
    number, offset = 0, 0
    with open(path, "rb") as file:
        for raw in file:
            start = offset
            offset += len(raw)
            if start == 0 and raw.startswith(codecs.BOM_UTF8):
                raw, start = raw[len(codecs.BOM_UTF8):], len(codecs.BOM_UTF8)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise _not_utf8(path, raw, err, start, number + 1) from err
            text = text.rstrip("\n").rstrip("\r")
            for part in text.split("\r"):  # a lone CR ends a line too (old Mac files)
                number += 1
                yield number, part


def _not_utf8(path: str, raw: bytes, err: UnicodeDecodeError, start: int, line: int) -> DataError:
    position = start + err.start
    column = len(raw[:err.start].decode("utf-8", errors="replace")) + 1
    return DataError(f"{path} is not UTF-8 text (byte 0x{raw[err.start]:02x} at position {position}, line {line}, "
                     f"column {column}); save it as UTF-8 (in most editors: Save As, encoding UTF-8).")


def read_text(path: str) -> str:
    """A whole (small) file as text, with the same rules as _lines."""
    return "\n".join(text for _, text in _lines(path))


# ---------------------------------------------------------------------------------------------- readers

def _records_from_jsonl(path: str, label: str):
    for number, line in _lines(path):
        if not line.strip():
            continue
        where = f"{label}line {number}"
        try:
            yield where, as_record(json.loads(line), raw=line)
        except json.JSONDecodeError as err:
            yield where, RowError(f"not valid JSON: {err.msg} at column {err.colno}", raw=line)


def _records_from_json(path: str, notes: list[str], label: str):
    text = read_text(path)
    if not text.strip():
        raise DataError(f"{path} is empty.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        # "Extra data" after a first complete object usually means one object per line: JSON Lines.
        hint = " If it holds one object per line, rename it to .jsonl." if err.msg == "Extra data" else ""
        raise DataError(f"{path} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}. "
                        f"Fix that spot (often a missing comma, quote or bracket).{hint}") from err
    if isinstance(data, dict):
        data = _unwrap_object(path, data, notes)
    if not isinstance(data, list):
        raise DataError(f"{path} should hold a list of rows like [{{...}}, {{...}}], but it holds {kind_of(data)}.")
    for i, item in enumerate(data, 1):
        yield f"{label}item {i}", as_record(item)


def _unwrap_object(path: str, data: dict, notes: list[str]) -> list:
    """A JSON object is either one row, or a wrapper such as {"data": [rows]}."""
    if formats_matching(data):
        notes.append("The file holds a single row (one JSON object), not a list of rows.")
        return [data]
    lists = [key for key, value in data.items() if isinstance(value, list) and value and isinstance(value[0], dict)]
    if len(lists) == 1:
        notes.append(f'The file is a JSON object; used the list of rows under the key "{lists[0]}".')
        return data[lists[0]]
    keys = ", ".join(data) or "none"
    raise DataError(f"{path} holds a JSON object, not a list of rows. Expected a list like "
                    f'[{{"instruction": ..., "output": ...}}, ...] or an object with exactly one such list '
                    f"inside; found the keys: {keys}.", columns=list(data))


def _records_from_big_json(path: str, label: str, chunk_bytes: int = 1 << 20):
    """Items of a JSON list too large to parse whole, decoded one at a time from 1 MB chunks."""
    decoder = json.JSONDecoder()
    text_decoder = codecs.getincrementaldecoder("utf-8")()
    buffer, pos, line, item, started, offset = "", 0, 1, 0, False, 0
    with open(path, "rb") as file:
        while True:
            chunk = file.read(chunk_bytes)
            at_end = not chunk
            try:
                text = text_decoder.decode(chunk, final=at_end)
            except UnicodeDecodeError as err:
                raise DataError(f"{path} is not UTF-8 text (byte 0x{chunk[err.start]:02x} at position "
                                f"{offset + err.start}); save it as UTF-8.") from err
            offset += len(chunk)
            if offset == len(chunk) and text.startswith("\ufeff"):
                text = text[1:]
            line += buffer.count("\n", 0, pos)
            buffer, pos = buffer[pos:] + text, 0
            while True:
                while pos < len(buffer) and (buffer[pos].isspace() or (started and buffer[pos] == ",")):
                    pos += 1
                if pos >= len(buffer):
                    break
                if not started:
                    if buffer[pos] != "[":
                        raise DataError(f"{path} is too large to read whole ({os.path.getsize(path) / 1e9:.1f} GB) "
                                        "and does not start with a list ([...]). Save large data as a JSON list, "
                                        "or better as JSON Lines (.jsonl, one object per line).")
                    started, pos = True, pos + 1
                    continue
                if buffer[pos] == "]":
                    return
                try:
                    value, end = decoder.raw_decode(buffer, pos)
                except json.JSONDecodeError as err:
                    if at_end or len(buffer) - pos > 64 * chunk_bytes:
                        where = line + buffer.count("\n", 0, err.pos)
                        raise DataError(f"{path} is not valid JSON: {err.msg} at line {where}. Fix that spot "
                                        "(often a missing comma, quote or bracket).") from err
                    break  # the item continues in the next chunk
                item += 1
                yield f"{label}item {item}", as_record(value)
                pos = end
            if at_end:
                raise DataError(f"{path} ends before its list is closed with ]; the file may be cut short.")


def _records_from_csv(path: str, delimiter: str, label: str):
    csv.field_size_limit(2**31 - 1)  # long answers are normal; the default limit is 128 KB per cell
    reader = csv.reader((text + "\n" for _, text in _lines(path)), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise DataError(f"{path} needs a header row on line 1 naming the columns, e.g. instruction,output.")
        end_of_previous = reader.line_num
        for cells in reader:
            start, end_of_previous = end_of_previous + 1, reader.line_num  # a quoted cell may span lines
            if any(cell.strip() for cell in cells):  # blank lines and rows of empty cells carry nothing
                yield f"{label}line {start}", _csv_record(header, cells, delimiter)
    except csv.Error as err:
        raise DataError(f"{path} could not be read as a table near line {reader.line_num}: {err}.") from err


def _csv_record(header: list[str], cells: list[str], delimiter: str) -> dict | RowError:
    raw = delimiter.join(cells)
    if len(cells) != len(header):
        separator = "tab" if delimiter == "\t" else "comma"
        return RowError(f"has {len(cells)} cells but the header has {len(header)} columns; check for a missing or "
                        f"extra {separator} (text containing a {separator} must be in double quotes)", raw=raw)
    record = dict(zip(header, cells))
    for column in CSV_JSON_COLUMNS:
        if record.get(column, "").lstrip().startswith(("[", "{")):
            try:
                record[column] = json.loads(record[column])
            except json.JSONDecodeError as err:
                return RowError(f'field "{column}" is not valid JSON: {err.msg} at column {err.colno}', raw=raw)
    return record


def _records_from_parquet(path: str, label: str):
    import pyarrow.parquet  # imported here: only Parquet files need it

    try:
        batches = pyarrow.parquet.ParquetFile(path).iter_batches(batch_size=1024)
        number = 0
        for batch in batches:
            for row in batch.to_pylist():
                number += 1
                yield f"{label}row {number}", row
    except Exception as err:  # pyarrow raises several kinds for a damaged or non-Parquet file
        raise DataError(f"{path} could not be read as a Parquet file: {short_reason(err)}.") from err


def _records_from_txt(path: str, notes: list[str], label: str):
    """Paragraphs separated by blank lines are rows; a file with no blank line near its start has one row a line."""
    with open(path, "rb") as file:
        head = file.read(TXT_SNIFF_BYTES).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    paragraphs = re.search(rb"\n[ \t]*\n\s*\S", head.strip()) is not None
    if not paragraphs:
        notes.append("The text file has no blank lines, so each line is one row.")
        for number, line in _lines(path):
            if line.strip():
                yield f"{label}line {number}", {"text": line}
        return
    notes.append("Read the text file as paragraphs separated by blank lines; each paragraph is one row.")
    current, start = [], 0
    for number, line in _lines(path):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            yield f"{label}line {start}", {"text": "\n".join(current)}
            current = []
    if current:
        yield f"{label}line {start}", {"text": "\n".join(current)}


def _records_from_hub(dataset_id: str, notes: list[str]):
    try:
        import datasets  # imported here: slow to import, and only hub ids need it

        rows = datasets.load_dataset(dataset_id, split="train")
    except Exception as err:  # no network, no such dataset, gated dataset...: all end the same way for the user
        raise DataError(f"'{dataset_id}' is not a file here and the dataset hub could not be reached: "
                        f"{short_reason(err)}. Give the path of a .jsonl/.json/.csv/.parquet/.txt file.") from err
    notes.append(f'Loaded "{dataset_id}" (split "train") from the Hugging Face dataset hub.')
    for i, row in enumerate(rows, 1):
        yield f"row {i}", dict(row)


# ---------------------------------------------------------------------------------------------- small helpers

def as_record(value, raw: str = "") -> dict | RowError:
    if isinstance(value, dict):
        return value
    return RowError(f'should be a JSON object with fields, like {{"text": ...}}, but found {kind_of(value)}',
                    raw=raw or json.dumps(value, ensure_ascii=False)[:2000])
