"""What can be wrong with a user's data, as exceptions whose text is the message the user reads.

Reading files (core.data.files) and recognising their shapes (core.data.formats) both raise these, so they live
apart from both.
"""

from __future__ import annotations


class DataError(ValueError):
    """The whole file cannot be used; str(err) is the user-facing message.

    `columns` carries the fields the file does have, when known, so the studio can offer to map them.
    """

    def __init__(self, message: str, columns: list[str] | None = None):
        super().__init__(message)
        self.columns = columns


class RowError(ValueError):
    """One row cannot be used; str(err) names the field and says what is wrong. `raw` is the offending text."""

    def __init__(self, message: str, raw: str = ""):
        super().__init__(message)
        self.raw = raw


def short_reason(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200].rstrip(".") if text else type(err).__name__


def kind_of(value) -> str:
    """What a value is, in words a user knows: "a number", "a list"..."""
    kinds = ((type(None), "nothing (null)"), (bool, "true/false"), ((int, float), "a number"), (str, "text"),
             ((list, tuple), "a list"), (dict, "an object"))  # bool before int: True is an int too
    return next((name for types, name in kinds if isinstance(value, types)), type(value).__name__)
