"""What can be wrong with a user's data, as exceptions that carry a catalogue key (core/catalogue/data.py), and the
small words the messages share: what kind a value is, a list of reasons, a place in a file.

Reading files (core.data.files) and recognising their shapes (core.data.formats) both raise these, so they live
apart from both.
"""

from __future__ import annotations

from core.catalogue.message import Message, StudioError


class DataError(StudioError, ValueError):
    """The whole file cannot be used; str(err) is the English message, err.text() the page's language.

    `columns` carries the fields the file does have, when known, so the studio can offer to map them.
    """

    def __init__(self, key: str, /, *, columns: list[str] | None = None, **values):
        super().__init__(key, **values)
        self.columns = columns


class RowError(StudioError, ValueError):
    """One row cannot be used; the message names the field and says what is wrong. `raw` is the offending text."""

    def __init__(self, key: str, /, *, raw: str = "", **values):
        super().__init__(key, **values)
        self.raw = raw


def short_reason(err: Exception) -> Message | str:
    """Why `err` happened, short: a studio error's own message, else the first line of a library's English."""
    if isinstance(err, StudioError):
        return err.message
    text = str(err).strip()
    return text.splitlines()[0][:200].rstrip(".") if text else type(err).__name__


# What a value is, in words a user knows; bool before int: True is an int too.
_KINDS = ((type(None), Message("data.kind.null")), (bool, Message("data.kind.bool")),
          ((int, float), Message("data.kind.number")), (str, Message("data.kind.text")),
          ((list, tuple), Message("data.kind.list")), (dict, Message("data.kind.object")))


def kind_of(value) -> Message:
    """What a value is: "a number", "a list"... (str() is the English)."""
    return next((kind for types, kind in _KINDS if isinstance(value, types)),
                Message("data.kind.other", {"name": type(value).__name__}))


def joined(parts: list) -> Message | str:
    """Texts (Messages or plain) one after the other, separated as each language separates reasons ("; ")."""
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return Message("data.list.then", {"first": parts[0], "rest": joined(parts[1:])})


def where(unit: str, number: int, label: str = "") -> Message:
    """A row's place as a user finds it in an editor: "line 7", "item 3", "row 12"; `label` is a folder's file name
    and a space ("part-2.jsonl ")."""
    keys = {"line": "data.where.line", "item": "data.where.item", "row": "data.where.row"}
    return Message(keys[unit], {"label": label, "number": number})
