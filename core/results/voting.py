"""Majority voting: sample several answers, pull the final answer out of each with a pattern, keep the most common.

For answers that end in a choice ("the answer is: B") a single sample can be unlucky; the majority of N samples
is steadier, and the vote counts show how sure the model was.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from core.catalogue.message import StudioError
from core.config import ChatSettings
from core.models.generate import generate

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
        raise PatternError("results.voting.bad_pattern", pattern=pattern, error=str(err)) from None


def extract_answer(text: str, pattern: str | re.Pattern | None) -> str:
    """The final answer in `text`: the pattern's first group (or whole match) at its last occurrence, else the
    whole answer. Whitespace is collapsed and trailing full stops dropped, so "Paris." matches "Paris"."""
    compiled = compile_pattern(pattern) if isinstance(pattern, str) else pattern
    found = text
    if compiled is not None:
        matches = list(compiled.finditer(text))
        if matches:  # the last one: models often restate the question's wording before answering
            last = matches[-1]
            found = last.group(1) if compiled.groups and last.group(1) is not None else last.group(0)
    return normalize(found)


def normalize(answer: str) -> str:
    return re.sub(r"\s+", " ", answer).strip().rstrip(".。!！").strip()


@dataclass
class Vote:
    answer: str  # the winning extracted answer
    text: str  # one full sampled answer that gave it, to show
    counts: dict[str, int] = field(default_factory=dict)  # extracted answer -> votes, most first
    samples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return ", ".join(f"{answer!r} x{count}" for answer, count in self.counts.items())


def majority(samples: list[str], pattern: str | re.Pattern | None) -> Vote:
    """The most common extracted answer; a tie goes to the answer that appeared first."""
    extracted = [extract_answer(s, pattern) for s in samples]
    counts = dict(Counter(extracted).most_common())  # Counter keeps first-seen order among equal counts
    winner = next(iter(counts))
    return Vote(winner, samples[extracted.index(winner)], counts, samples)


def vote(model, tokenizer, prompt: str, votes: int, pattern: str | re.Pattern | None, temperature: float = 0.7,
         top_p: float = 0.9, max_new_tokens: int = 64, seed: int | None = None, use_adapter: bool = True) -> Vote:
    """Sample `votes` answers in one generate call (num_return_sequences) and take the majority."""
    if votes < 1:
        raise ValueError("votes must be at least 1")
    if votes > 1 and temperature <= 0:
        temperature = 0.7  # identical greedy samples would make a vote pointless (the votes option says so)
    samples = generate(model, tokenizer, prompt, max_new_tokens, n=votes, temperature=temperature, top_p=top_p,
                       seed=seed, use_adapter=use_adapter)
    return majority(samples, compile_pattern(pattern) if isinstance(pattern, str) else pattern)
