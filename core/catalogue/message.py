"""Texts by key: `say(key, **values)` in the current language, `Message` for a text core hands on, `StudioError`
for an error the user must act on.

Core never builds a user-facing sentence itself: it raises or reports a key with values, and str() of either gives
the English for the log. Values may be Messages themselves (a reason inside a sentence); they are said in the
same language as the sentence around them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache

from core.catalogue.language import LANGUAGES, current

# The catalogue's tables, one per area; each module holds TEXTS = {key: (english, chinese)}.
TABLES = ("options", "labels", "pages", "hub", "data", "models", "parents", "training", "results", "results_predict",
          "making", "measure", "runs", "desktop", "sweep")


@cache
def entries() -> dict[str, tuple[str, ...]]:
    """All catalogue entries; a key defined in two tables is an error (a text has one home)."""
    merged: dict[str, tuple[str, ...]] = {}
    for table in TABLES:
        for key, texts in importlib.import_module(f"core.catalogue.{table}").TEXTS.items():
            if key in merged:
                raise RuntimeError(f"catalogue key {key!r} is defined twice (core/catalogue/{table}.py and another)")
            if len(texts) != len(LANGUAGES):
                raise RuntimeError(f"catalogue key {key!r} has {len(texts)} texts for {len(LANGUAGES)} languages")
            merged[key] = tuple(texts)
    return merged


def say(key: str, /, lang: str | None = None, **values) -> str:
    """The text `key` in `lang` (default: the current request's language), its {fields} filled from `values`."""
    lang = lang or current()
    template = entries()[key][LANGUAGES.index(lang)]
    if not values:
        return template
    return template.format(**{name: text_of(value, lang) if isinstance(value, (Message, StudioError)) else value
                              for name, value in values.items()})


def text_of(thing, lang: str | None = None) -> str:
    """What to show for anything core hands the page: a Message or StudioError in `lang`, anything else as str()."""
    if isinstance(thing, StudioError):
        return thing.message.text(lang)
    if isinstance(thing, Message):
        return thing.text(lang)
    return str(thing)


@dataclass(frozen=True)
class Message:
    """A text core reports (a status line, a warning, a note on a file): its key and the values in it."""

    key: str
    values: dict = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return say(self.key, lang=lang, **self.values)

    def __str__(self) -> str:  # the English, for the log and the command line
        return self.text(LANGUAGES[0])

    def to_json(self) -> dict:
        """{"key", "values"} with nested Messages the same way, for status.json and other files."""
        return {"key": self.key, "values": {name: value.to_json() if isinstance(value, Message) else value
                                            for name, value in self.values.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "Message":
        values = {name: cls.from_json(value) if isinstance(value, dict) and set(value) == {"key", "values"} else value
                  for name, value in (data.get("values") or {}).items()}
        return cls(data["key"], values)


def message(key: str, /, **values) -> Message:
    return Message(key, values)


class StudioError(Exception):
    """An error whose text is a catalogue entry: `key` and `values`; str() is the English (for the log).

    The studio's own error classes (ConfigError, DataError, ModelError...) derive from this and from the built-in
    class they always were (ValueError, RuntimeError), so `except ValueError` keeps working.
    """

    def __init__(self, key: str, /, **values):
        self.message = Message(key, values)
        super().__init__(str(self.message))

    @property
    def key(self) -> str:
        return self.message.key

    @property
    def values(self) -> dict:
        return self.message.values

    def text(self, lang: str | None = None) -> str:
        return self.message.text(lang)

    def __reduce__(self):  # run processes send errors back pickled; the key and values travel, not the English
        return _restore, (type(self), self.message, self.__dict__)


def _restore(cls, message: Message, state: dict) -> StudioError:
    err = cls.__new__(cls)
    Exception.__init__(err, str(message))
    err.__dict__.update(state)
    return err
