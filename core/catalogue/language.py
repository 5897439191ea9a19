"""Which language the current request speaks: one context, set once per request, read wherever a text is made.

The studio's page sets it around each event handler (webui/lang.py); the command line and the log speak English,
the default. A context variable follows threads started with contextvars.copy_context() and asyncio tasks, so a
helper deep inside a handler never needs a `lang` parameter.
"""

from __future__ import annotations

import contextlib
import contextvars

# The columns of every catalogue entry, in order. A third language is one more name here and one more column.
LANGUAGES = ("en", "zh")

_current = contextvars.ContextVar("finetune_studio_language", default="en")


def normalise(tag: str | None) -> str:
    """A browser or user language tag ('zh-CN', 'zh-Hans', 'en-GB') as one of LANGUAGES; English when unknown."""
    tag = (tag or "").strip().lower().replace("_", "-")
    return next((lang for lang in LANGUAGES if tag == lang or tag.startswith(lang + "-")), LANGUAGES[0])


def current() -> str:
    return _current.get()


@contextlib.contextmanager
def speaking(lang: str):
    """Texts made inside this block are in `lang` (one of LANGUAGES)."""
    token = _current.set(normalise(lang))
    try:
        yield
    finally:
        _current.reset(token)
