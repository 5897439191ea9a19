"""How a final answer is found in a text: the answer pattern ("the answer is: B") shared by voting, evaluation,
prediction and the rewards that check answers during training.

The pattern's first group (or whole match) at its last occurrence is the answer; whitespace is collapsed and a
trailing full stop dropped, so "Paris." and "Paris" agree.
"""

from __future__ import annotations

import re

from core.catalogue.message import StudioError
from core.config import ChatSettings

DEFAULT_ANSWER_PATTERN = ChatSettings().answer_pattern  # defined once, with its help text, in core/config.py


class PatternError(StudioError, ValueError):
    """The answer pattern is not a valid regular expression; the message says where and how to fix it."""


def compile_pattern(pattern: str) -> re.Pattern | None:
    """The compiled answer pattern (case-insensitive), or None for an empty one (whole answers are compared)."""
    if not (pattern or "").strip():
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as err:
        raise PatternError("data.answers.bad_pattern", pattern=pattern, error=str(err)) from None


def found_answer(text: str, compiled: re.Pattern | None) -> str | None:
    """The answer the pattern finds in `text`, or None when it does not match: never a guess. An empty pattern
    takes the whole text."""
    if compiled is None:
        return normalize(text) or None
    matches = list(compiled.finditer(text))
    if not matches:
        return None
    last = matches[-1]  # the last one: models often restate the question's wording before answering
    found = last.group(1) if compiled.groups and last.group(1) is not None else last.group(0)
    return normalize(found) or None


def extract_answer(text: str, pattern: str | re.Pattern | None) -> str:
    """The final answer in `text` as found_answer finds it, else the whole text (normalized): a reference written
    as a bare answer ("Paris") is its own answer."""
    compiled = compile_pattern(pattern) if isinstance(pattern, str) else pattern
    found = found_answer(text, compiled) if compiled is not None else None
    return found if found is not None else normalize(text)


def normalize(answer: str) -> str:
    return re.sub(r"\s+", " ", answer).strip().rstrip(".。!！").strip()
