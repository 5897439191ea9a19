"""A question as one user turn: the contest shape (a shared problem, a question, lettered options) and the usual
question fields, written the same way for training (core.data.formats), prediction and rewards."""

from __future__ import annotations

import re

QUESTION_KEYS = ("question", "query", "q", "问题", "问", "instruction", "input", "problem")
OPTION_LETTERED = re.compile(r"^\s*[A-Za-z]\s*[.、:：)）]")


def question_text(lowered: dict) -> str:
    """The user's turn: the problem (the contest's shared text), the question, its input and its options."""
    key = next((k for k in QUESTION_KEYS if isinstance(lowered.get(k), str) and lowered[k].strip()), None)
    if key is None:
        return ""
    parts = [lowered["problem"]] if key != "problem" and isinstance(lowered.get("problem"), str) else []
    parts.append(lowered[key])
    extra = lowered.get("input") if key == "instruction" else lowered.get("context")
    if isinstance(extra, str) and extra.strip():
        parts.append(extra)
    text = "\n\n".join(part.strip() for part in parts if part.strip())
    options = options_text(lowered.get("options", lowered.get("choices")))
    return f"{text}\n{options}" if options else text


def options_text(options) -> str:
    """The options as "A. ...\\nB. ..." lines (a dict keeps its own letters; lettered lines stay as written)."""
    if isinstance(options, str):
        return options.strip()
    if isinstance(options, dict):
        return "\n".join(f"{letter}. {text}" for letter, text in options.items())
    if isinstance(options, list):
        return "\n".join(str(text) if OPTION_LETTERED.match(str(text)) else f"{chr(ord('A') + i)}. {text}"
                         for i, text in enumerate(options))
    return ""
