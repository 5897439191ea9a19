"""Load a dataset, work out its format, normalize its rows and report the bad ones.

The people using this are not programmers, so every message names the file, the line (or item or row) and the
field, and says what to fix. Nothing is dropped silently: a row that cannot be used becomes a Problem. Places,
problems and notes are Messages (core/catalogue/data.py): str() is the English, text_of() the page's language.
Reading files is core.data.files (lazy, so a preview of a huge file is quick); the formats are
core.data.formats; what a usable row may still get wrong (too long, duplicated...) is core.data.check.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from dataclasses import dataclass, field

from core.catalogue.message import Message
from core.data import method_rows
from core.data.errors import DataError, RowError, joined
from core.data.files import open_source, oversized
from core.data.formats import (FORMATS, Mapping, detect_format, field_list, fill_placeholders,
                               formats_matching, normalize, placeholders_in, reading_note, NEEDS_IN_FULL)


# Records looked at to decide the format: the first one that fits a format decides.
DETECT_WINDOW = 200


@dataclass
class Problem:
    where: Message  # "line 7", "item 3" or "row 12"
    message: Message  # what is wrong with the row
    raw: str = ""  # the row as it is in the file (cut short), to show the user

    def said(self) -> Message:
        """"line 7: <what is wrong>" as one message."""
        return Message("data.load.problem", {"where": self.where, "message": self.message})

    def __str__(self):
        return str(self.said())


@dataclass
class LoadedData:
    path: str
    format: str
    rows: list[dict]
    problems: list[Problem]
    total: int
    notes: list[Message] = field(default_factory=list)  # how the file was read
    wheres: list[Message] = field(default_factory=list)  # where each row is in the file, parallel to rows
    columns: list[str] = field(default_factory=list)  # the fields of the first record, for column mapping
    alternatives: list[str] = field(default_factory=list)  # other formats the first record would also fit
    placeholders: dict = field(default_factory=dict)  # {{name}} -> how many rows use it (before filling)
    complete: bool = True  # False when only the first `limit` records were read
    size_bytes: int = 0

    @property
    def skipped(self) -> int:
        """Rows not used; can exceed len(problems) when the problem list was cut short."""
        return self.total - len(self.rows)


def load(path: str | os.PathLike, format: str = "auto", *, mapping: Mapping | None = None,
         placeholders: dict | None = None, limit: int | None = None, max_problems_listed: int = 50) -> LoadedData:
    """Read and normalize a dataset. With `limit`, stop after that many records (a preview of a huge file)."""
    shown = os.fspath(path)
    if format not in ("auto", *FORMATS):
        raise DataError("data.formats.unknown", format=format, formats=", ".join(("auto", *FORMATS)))
    mapping = mapping or Mapping()
    notes: list[Message] = []
    source = open_source(shown, notes)
    records = source.records if limit is None else itertools.islice(source.records, limit + 1)
    head = list(itertools.islice(records, DETECT_WINDOW))
    if not head:
        raise DataError("data.load.no_rows", path=shown)
    first = next((record for _, record in head if isinstance(record, dict)), None)
    columns = list(first) if first else []
    alternatives: list[str] = []
    if source.fixed_format:
        if format not in ("auto", source.fixed_format):
            raise DataError("data.load.text_only", path=shown, fixed=source.fixed_format, format=format)
        format = source.fixed_format
    elif first is not None:
        format, alternatives = _choose_format(shown, head, format, mapping, source.is_table, notes)

    rows, wheres, problems, used = [], [], [], {}
    total, complete = 0, True
    for where, record in itertools.chain(head, records):
        if limit is not None and total == limit:
            complete = False  # the record past the limit only tells us the file goes on
            break
        total += 1
        try:
            if isinstance(record, RowError):  # the line could not even be read as a record
                raise record
            if too_long := oversized(record):  # before anything renders or tokenizes it
                raise too_long
            row = normalize(record, format, mapping)
        except RowError as err:
            if len(problems) < max_problems_listed:
                problems.append(Problem(where, err.message, err.raw or _raw(record)))
            continue
        for name in placeholders_in(row):
            used[name] = used.get(name, 0) + 1
        rows.append(fill_placeholders(row, placeholders or {}))
        wheres.append(where)
    if not rows:
        more = Message("data.load.and_more", {"count": total - 5}) if total > 5 else ""
        raise DataError("data.load.no_usable_rows", path=shown, problems=joined([p.said() for p in problems[:5]]),
                        more=more, columns=columns)
    if total - len(rows) > len(problems):
        notes.append(Message("data.load.not_listed", {"count": total - len(rows) - len(problems)}))
    if not complete:
        notes.append(Message("data.load.preview", {"rows": total, "size": source.size_bytes / 1e6}))
    return LoadedData(shown, format, rows, problems, total, notes, wheres, columns, alternatives, used, complete,
                      source.size_bytes)


def _choose_format(shown: str, head: list, format: str, mapping: Mapping, is_table: bool,
                   notes: list[Message]) -> tuple[str, list[str]]:
    """The format to read every row with, and the other formats the deciding record would also fit."""
    mapped = []
    for where, record in head:
        if isinstance(record, dict):
            try:
                mapped.append((where, mapping.apply(record)))
            except RowError as err:
                if is_table:  # every row has the same columns: the header itself is wrong
                    raise DataError("data.load.bad_header", path=shown, error=err.message,
                                    columns=list(record)) from None
    if not mapped:
        first = next(r for _, r in head if isinstance(r, dict))
        mapping.apply(first)  # raises the RowError naming the missing column
    first_where, first = mapped[0]
    if is_table:  # a table's fields are its column names
        first_where = Message("data.where.header" if shown.lower().endswith((".csv", ".tsv")) else "data.where.columns")
    if format != "auto":
        if format not in formats_matching(first):
            guess = formats_matching(first)
            hint = Message("data.load.looks_like", {"format": guess[0]}) if guess else ""
            raise DataError("data.load.wrong_format", path=shown, format=format, where=first_where,
                            fields=field_list(first), needs=NEEDS_IN_FULL[format], hint=hint, columns=list(first))
        notes += filter(None, [reading_note(first, format)])
        return format, []
    # The first record that fits a format decides; records before it become problems when they are normalized.
    record = next((r for _, r in mapped if formats_matching(r)), first)
    try:
        detected = detect_format(record)
    except DataError as err:
        hint = Message("data.load.csv_header_hint") if shown.lower().endswith((".csv", ".tsv")) else ""
        raise DataError("data.load.undetected", path=shown, where=first_where, error=err.message, hint=hint,
                        columns=err.columns) from err
    notes.append(Message("data.load.detected", {"format": detected, "fields": field_list(record)}))
    notes += filter(None, [reading_note(record, detected)])  # which columns are the user's turn, which the answer
    return detected, formats_matching(record)[1:]


def _raw(record) -> str:
    if isinstance(record, dict):
        return json.dumps(record, ensure_ascii=False, default=str)[:2000]
    return ""


def load_for_training(data_config, method: str = "sft") -> tuple[LoadedData, LoadedData | None]:
    """The rows `method` (train.method) trains on (and a separate held-out file's, if given) as a run's config says,
    refusing bad data.

    Rows that cannot be used stop the run unless the user chose to skip them (data.skip_bad_rows): training on
    part of a file by surprise is how "fine-tuning had no effect" happens.
    """
    mapping = Mapping(dict(data_config.columns), dict(data_config.roles))
    loaded = load(data_config.path, data_config.format, mapping=mapping, placeholders=dict(data_config.placeholders))
    held_out = None
    if data_config.eval_path:
        held_out = load(data_config.eval_path, data_config.format, mapping=mapping,
                        placeholders=dict(data_config.placeholders))
    for data in filter(None, (loaded, held_out)):
        if data.skipped and not data_config.skip_bad_rows:
            raise DataError("data.load.bad_rows", skipped=data.skipped, total=data.total, path=data.path,
                            problems=joined([p.said() for p in data.problems[:3]]),
                            more=" ..." if data.skipped > 3 else "")
        unfilled = sorted(name for name in data.placeholders if name not in data_config.placeholders)
        if unfilled:
            word = Message("data.load.placeholders" if len(unfilled) > 1 else "data.load.placeholder")
            raise DataError("data.load.unfilled", path=data.path, word=word,
                            names=", ".join("{{" + name + "}}" for name in unfilled), first=unfilled[0])
    return method_rows.for_method(method, loaded), held_out and method_rows.for_method(method, held_out)


# ---------------------------------------------------------------------------------------------- using the rows

def split(rows: list[dict], eval_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, eval): a seeded shuffle, at least one eval row when asked for any, never all rows."""
    train, evaluation = split_indices(len(rows), eval_fraction, seed)
    return [rows[i] for i in train], [rows[i] for i in evaluation]


def split_indices(count: int, eval_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    if not 0 <= eval_fraction < 1:
        raise ValueError(f"eval_fraction must be at least 0 and below 1, got {eval_fraction}")
    if eval_fraction == 0 or count < 2:
        return list(range(count)), []
    order = list(range(count))
    random.Random(seed).shuffle(order)
    eval_size = min(max(1, round(count * eval_fraction)), count - 1)
    return order[eval_size:], order[:eval_size]


def describe(data: LoadedData) -> str:
    lines = [f"File: {data.path}", f"Format: {data.format}",
             f"Rows used: {len(data.rows)} of {data.total}" + (f" ({data.skipped} skipped)" if data.skipped else "")]
    if data.alternatives:
        lines.append(f"(The fields would also fit: {', '.join(data.alternatives)}; choose with --format.)")
    if data.problems:
        listed = data.problems[:10]
        count = max(data.skipped, len(data.problems))
        lines.append(f"Skipped rows (first {len(listed)} of {count}):" if count > len(listed) else "Skipped rows:")
        lines += [f"  {problem}" for problem in listed]
    if data.placeholders:
        lines.append("Placeholders: " + ", ".join(f"{{{{{name}}}}} in {count} rows"
                                                   for name, count in sorted(data.placeholders.items())))
    if data.notes:
        lines.append("Notes:")
        lines += [f"  {note}" for note in data.notes]
    return "\n".join(lines)
