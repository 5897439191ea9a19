"""Read records out of data files, lazily: a preview of a file of several GB appears in seconds, memory stays flat.

Each reader yields (where, record) pairs, where `where` is a Message saying what a user looks for in an editor
("line 7", "item 3", "row 12"; "part-2.jsonl line 7" inside a folder) and `record` is a dict, or a RowError when
the line could not even be read as a record. Notes on how a file was read are Messages too. Nothing here knows the
formats; core.data.formats does.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.catalogue.message import Message
from core.data.errors import DataError, RowError, kind_of, short_reason, where
from core.data.formats import formats_matching
from core.hub import datasets as hub_datasets

EXTENSIONS = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".txt")
# \Z, not $: '$' also matches before a trailing newline, and callers use .match.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+\Z")
# CSV cells in these columns may hold a JSON list (a conversation does not fit in a plain cell).
CSV_JSON_COLUMNS = ("messages", "conversations", "conversation", "history", "chosen", "rejected", "prompt")
# A .json file above this size is streamed item by item instead of parsed whole.
JSON_STREAM_BYTES = 64 * 1024 * 1024
# How much of a .txt file decides between "paragraphs" and "one row per line".
TXT_SNIFF_BYTES = 1024 * 1024
LISTED_EXTENSIONS = "/".join(EXTENSIONS)
# The most one row (a line of JSONL, CSV or text, or one record) may hold. The longest max_length (131,072 tokens)
# rarely spans more than 1 MB of text, so a bigger row is a mistake (a whole book on one line, a dump of a file),
# and decoding and tokenizing it whole took 6.5 GB and 80 s for 50 MB: it is reported, never read whole.
MAX_ROW_BYTES = 4 * 1024 * 1024


@dataclass
class LongLine:
    """A line over MAX_ROW_BYTES, in place of its text: its size, and its start to show the user."""

    size: int
    start: str

    def error(self) -> RowError:
        return RowError("data.files.line_too_long", raw=self.start, size=self.size / 1e6,
                        limit=MAX_ROW_BYTES / 1e6)


@dataclass
class Source:
    """What a path holds: its records (lazy), the format the file type forces (only .txt does), its size."""

    records: Iterator[tuple[Message, dict | RowError]]
    fixed_format: str | None
    size_bytes: int
    is_table: bool  # CSV, TSV, Parquet: every row has the same columns


def open_source(path: str, notes: list[Message]) -> Source:
    """Check the path and return its records as a lazy iterator; raises DataError for a file that cannot be used."""
    if not os.path.exists(path):
        reference = hub_datasets.parse(path)
        if reference and not path.lower().endswith(EXTENSIONS):
            return _from_hub(reference, notes)
        raise DataError("data.files.missing", path=path, extensions=LISTED_EXTENSIONS)
    if os.path.isdir(path):
        return _folder(path, notes)
    return _file(path, notes, label="")


def _file(path: str, notes: list[Message], label: str) -> Source:
    extension = os.path.splitext(path)[1].lower()
    if extension not in EXTENSIONS:
        if extension:
            raise DataError("data.files.bad_extension", path=path, extension=extension,
                            extensions=", ".join(EXTENSIONS))
        raise DataError("data.files.no_extension", path=path, extensions=", ".join(EXTENSIONS))
    size = os.path.getsize(path)
    if size == 0:
        raise DataError("data.files.empty", path=path)
    if extension == ".parquet":
        return Source(_records_from_parquet(path, label), None, size, True)
    if extension == ".txt":
        return Source(_records_from_txt(path, notes, label), "text", size, False)
    if extension in (".csv", ".tsv"):
        return Source(_records_from_csv(path, "\t" if extension == ".tsv" else ",", label), None, size, True)
    if extension == ".json":
        if size > JSON_STREAM_BYTES:
            notes.append(Message("data.files.big_json", {"name": os.path.basename(path), "size": size / 1e9}))
            return Source(_records_from_big_json(path, label), None, size, False)
        return Source(_records_from_json(path, notes, label), None, size, False)
    return Source(_records_from_jsonl(path, label), None, size, False)


def _folder(path: str, notes: list[Message]) -> Source:
    """Every data file in the folder (and below), in name order, as one dataset."""
    files = sorted(os.path.join(root, name) for root, dirs, names in os.walk(path) for name in names
                   if name.lower().endswith(EXTENSIONS) and not name.startswith("."))
    if not files:
        raise DataError("data.files.no_data_files", path=path, extensions=LISTED_EXTENSIONS)
    names = ", ".join(os.path.relpath(f, path) for f in files[:5]) + (" ..." if len(files) > 5 else "")
    notes.append(Message("data.files.folder", {"count": len(files), "path": path, "names": names}))
    return _files(path, files, notes)


def _from_hub(reference, notes: list[Message]) -> Source:
    """A hub dataset: downloaded (or already downloaded) through core.hub from the studio's hub, then the files of
    its subset and split read like a folder's."""
    from core.hub.download import download_dataset
    from core.hub.settings import HubError

    try:
        folder = download_dataset(reference.id)
    except HubError as err:
        raise DataError("data.files.hub_failed", name=reference.id, reason=err.message) from None
    files = [str(p) for p in hub_datasets.split_files(folder, reference, EXTENSIONS)]
    if not files:
        raise DataError("data.files.hub_no_split", name=reference.id, split=reference.split or "train",
                        subset=reference.subset or "-", found=", ".join(hub_datasets.splits_in(folder, EXTENSIONS)))
    notes.append(Message("data.files.hub", {"name": reference.id, "split": reference.split or "train",
                                            "count": len(files)}))
    return _files(str(folder), files, notes)


def _files(path: str, files: list[str], notes: list[Message]) -> Source:
    """Several data files read one after another as one dataset; each row says which file it came from."""
    text_files = [f for f in files if f.lower().endswith(".txt")]
    if text_files and len(text_files) != len(files):
        raise DataError("data.files.mixed_folder", path=path, name=os.path.basename(text_files[0]))
    sources = [(f, os.path.relpath(f, path) + " ") for f in files]

    def records():
        for file, label in sources:
            if os.path.getsize(file) == 0:
                yield Message("data.where.file", {"file": label.strip()}), RowError("data.files.empty_file")
                continue
            yield from _file(file, notes, label).records

    return Source(records(), "text" if text_files else None, sum(os.path.getsize(f) for f in files),
                  all(f.lower().endswith((".csv", ".tsv", ".parquet")) for f in files))


# ---------------------------------------------------------------------------------------------- text decoding

def _lines(path: str, capped: bool = True) -> Iterator[tuple[int, str | LongLine]]:
    """(line number, text) one line at a time: UTF-8 with or without a byte order mark, any line ending.

    Decoding line by line keeps memory flat and lets a bad byte be reported with its line and column. With `capped`,
    a line over MAX_ROW_BYTES comes as a LongLine: it is skipped in 1 MB reads, never held or decoded whole.
    """
    number, offset = 0, 0
    with open(path, "rb") as file:
        while raw := file.readline(MAX_ROW_BYTES + 1 if capped else -1):
            start = offset
            offset += len(raw)
            if capped and len(raw) > MAX_ROW_BYTES and not raw.endswith(b"\n"):
                offset += _skip_line(file)
                number += 1
                yield number, LongLine(offset - start, raw[:300].decode("utf-8", errors="replace") + " ...")
                continue
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


def _skip_line(file) -> int:
    """Read past the rest of the current line, 1 MB at a time; the bytes skipped."""
    skipped = 0
    while chunk := file.readline(1 << 20):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _not_utf8(path: str, raw: bytes, err: UnicodeDecodeError, start: int, line: int) -> DataError:
    column = len(raw[:err.start].decode("utf-8", errors="replace")) + 1
    return DataError("data.files.not_utf8", path=path, byte=raw[err.start], position=start + err.start, line=line,
                     column=column)


def read_text(path: str) -> str:
    """A whole (small) file as text, with the same rules as _lines; a .json file may well be one long line."""
    return "\n".join(text for _, text in _lines(path, capped=False))


# ---------------------------------------------------------------------------------------------- readers

# Python's json module explains in English: the reasons a hand-edited file usually has are said by key (the same
# English, and Chinese for the page); the rest as they are.
JSON_REASONS = {"Expecting value": "data.files.json_value", "Expecting ',' delimiter": "data.files.json_comma",
                "Expecting ':' delimiter": "data.files.json_colon",
                "Expecting property name enclosed in double quotes": "data.files.json_name",
                "Unterminated string starting at": "data.files.json_unterminated",
                "Invalid control character at": "data.files.json_control", "Invalid \\escape": "data.files.json_escape",
                "Extra data": "data.files.json_extra"}


def json_reason(err: json.JSONDecodeError) -> Message | str:
    key = JSON_REASONS.get(err.msg)
    return Message(key) if key else err.msg


def _records_from_jsonl(path: str, label: str):
    for number, line in _lines(path):
        if isinstance(line, LongLine):
            yield where("line", number, label), line.error()
            continue
        if not line.strip():
            continue
        place = where("line", number, label)
        try:
            yield place, as_record(json.loads(line), raw=line)
        except json.JSONDecodeError as err:
            yield place, RowError("data.files.bad_json_line", raw=line, error=json_reason(err), column=err.colno)


def _records_from_json(path: str, notes: list[Message], label: str):
    text = read_text(path)
    if not text.strip():
        raise DataError("data.files.empty", path=path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        # "Extra data" after a first complete object usually means one object per line: JSON Lines.
        hint = Message("data.files.jsonl_hint") if err.msg == "Extra data" else ""
        raise DataError("data.files.bad_json", path=path, error=json_reason(err), line=err.lineno, column=err.colno,
                        hint=hint) from err
    if isinstance(data, dict):
        data = _unwrap_object(path, data, notes)
    if not isinstance(data, list):
        raise DataError("data.files.not_a_list", path=path, kind=kind_of(data))
    for i, item in enumerate(data, 1):
        yield where("item", i, label), as_record(item)


def _unwrap_object(path: str, data: dict, notes: list[Message]) -> list:
    """A JSON object is either one row, or a wrapper such as {"data": [rows]}."""
    if formats_matching(data):
        notes.append(Message("data.files.single_object"))
        return [data]
    lists = [key for key, value in data.items() if isinstance(value, list) and value and isinstance(value[0], dict)]
    if len(lists) == 1:
        notes.append(Message("data.files.wrapped_list", {"key": lists[0]}))
        return data[lists[0]]
    keys = ", ".join(data) or Message("data.files.no_keys")
    raise DataError("data.files.json_object", path=path, keys=keys, columns=list(data))


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
                raise DataError("data.files.not_utf8_big", path=path, byte=chunk[err.start],
                                position=offset + err.start) from err
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
                        raise DataError("data.files.big_not_a_list", path=path, size=os.path.getsize(path) / 1e9)
                    started, pos = True, pos + 1
                    continue
                if buffer[pos] == "]":
                    return
                try:
                    value, end = decoder.raw_decode(buffer, pos)
                except json.JSONDecodeError as err:
                    if at_end or len(buffer) - pos > 64 * chunk_bytes:
                        raise DataError("data.files.bad_big_json", path=path, error=json_reason(err),
                                        line=line + buffer.count("\n", 0, err.pos)) from err
                    break  # the item continues in the next chunk
                item += 1
                yield where("item", item, label), as_record(value)
                pos = end
            if at_end:
                raise DataError("data.files.unclosed_list", path=path)


def _records_from_csv(path: str, delimiter: str, label: str):
    csv.field_size_limit(2**31 - 1)  # long answers are normal; the default limit is 128 KB per cell
    long_lines: list[tuple[int, LongLine]] = []
    reader = csv.reader(_csv_lines(path, long_lines), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise DataError("data.files.no_header", path=path)
        end_of_previous = reader.line_num
        for cells in reader:
            start, end_of_previous = end_of_previous + 1, reader.line_num  # a quoted cell may span lines
            while long_lines:  # a line too long to read reaches the reader as a blank line: report it here
                number, line = long_lines.pop(0)
                yield where("line", number, label), line.error()
            if any(cell.strip() for cell in cells):  # blank lines and rows of empty cells carry nothing
                yield where("line", start, label), _csv_record(header, cells, delimiter)
    except csv.Error as err:
        raise DataError("data.files.bad_table", path=path, line=reader.line_num, error=str(err)) from err


def _csv_lines(path: str, long_lines: list) -> Iterator[str]:
    """The file's lines for csv.reader; a line over MAX_ROW_BYTES becomes a blank line, noted in `long_lines`."""
    for number, text in _lines(path):
        if isinstance(text, LongLine):
            long_lines.append((number, text))
            text = ""
        yield text + "\n"


def _csv_record(header: list[str], cells: list[str], delimiter: str) -> dict | RowError:
    raw = delimiter.join(cells)
    if len(cells) != len(header):
        separator = Message("data.files.tab" if delimiter == "\t" else "data.files.comma")
        return RowError("data.files.cell_count", raw=raw, cells=len(cells), header=len(header), separator=separator)
    record = dict(zip(header, cells))
    for column in CSV_JSON_COLUMNS:
        if record.get(column, "").lstrip().startswith(("[", "{")):
            try:
                record[column] = json.loads(record[column])
            except json.JSONDecodeError as err:
                return RowError("data.files.bad_json_cell", raw=raw, field=column, error=json_reason(err),
                                column=err.colno)
    return record


def _records_from_parquet(path: str, label: str):
    import pyarrow.parquet  # imported here: only Parquet files need it

    try:
        batches = pyarrow.parquet.ParquetFile(path).iter_batches(batch_size=1024)
        number = 0
        for batch in batches:
            for row in batch.to_pylist():
                number += 1
                yield where("row", number, label), row
    except Exception as err:  # pyarrow raises several kinds for a damaged or non-Parquet file
        raise DataError("data.files.bad_parquet", path=path, reason=short_reason(err)) from err


def _records_from_txt(path: str, notes: list[Message], label: str):
    """Paragraphs separated by blank lines are rows; a file with no blank line near its start has one row a line."""
    with open(path, "rb") as file:
        head = file.read(TXT_SNIFF_BYTES).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    paragraphs = re.search(rb"\n[ \t]*\n\s*\S", head.strip()) is not None
    if not paragraphs:
        notes.append(Message("data.files.text_lines"))
        for number, line in _lines(path):
            if isinstance(line, LongLine):
                yield where("line", number, label), line.error()
            elif line.strip():
                yield where("line", number, label), {"text": line}
        return
    notes.append(Message("data.files.text_paragraphs"))
    current, start = [], 0
    for number, line in _lines(path):
        if isinstance(line, LongLine):
            yield where("line", number, label), line.error()  # the paragraph goes on; its own size is load's check
        elif line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            yield where("line", start, label), {"text": "\n".join(current)}
            current = []
    if current:
        yield where("line", start, label), {"text": "\n".join(current)}


# ---------------------------------------------------------------------------------------------- small helpers

def oversized(record: dict) -> RowError | None:
    """The error for a record holding more than MAX_ROW_BYTES of text (a .json item, a Parquet, hub or CSV row, a
    paragraph of many lines), checked before anything renders or tokenizes it; None when it is not too big."""
    size = _text_size(record)
    if size <= MAX_ROW_BYTES:
        return None
    return RowError("data.files.row_too_long", raw=json.dumps(_shortened(record), ensure_ascii=False, default=str),
                    size=size / 1e6, limit=MAX_ROW_BYTES / 1e6)


def _text_size(value) -> int:
    """Characters of text in a record, all fields and turns together (a lower bound of its UTF-8 bytes)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_text_size(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_text_size(item) for item in value)
    return 0


def _shortened(value):
    """The record with every text cut to 200 characters: enough to recognise it in the file."""
    if isinstance(value, str):
        return value[:200] + (" ..." if len(value) > 200 else "")
    if isinstance(value, dict):
        return {key: _shortened(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shortened(item) for item in value[:20]]
    return value


def as_record(value, raw: str = "") -> dict | RowError:
    if isinstance(value, dict):
        return value
    return RowError("data.files.not_an_object", raw=raw or json.dumps(value, ensure_ascii=False)[:2000],
                    kind=kind_of(value))
