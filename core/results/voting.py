"""Majority voting: sample several answers, pull the final answer out of each with a pattern, keep the most common.

For answers that end in a choice ("the answer is: B") a single sample can be unlucky; the majority of N samples
is steadier, and the vote counts show how sure the model was.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.data.answers import compile_pattern, extract_answer
from core.models.generate import generate

PROGRESS_STEPS = 4  # a vote shown step by step is sampled in about this many batches: progress, at little cost


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
    *_, last = vote_in_steps(model, tokenizer, prompt, votes, pattern, temperature=temperature, top_p=top_p,
                             max_new_tokens=max_new_tokens, seed=seed, use_adapter=use_adapter, batch=votes)
    return last.vote


@dataclass
class Tally:
    """How far a vote has come: `done` of `total` samples are in; `vote` is set once all of them are."""

    done: int
    total: int
    vote: Vote | None = None


def vote_in_steps(model, tokenizer, prompt: str, votes: int, pattern: str | re.Pattern | None,
                  temperature: float = 0.7, top_p: float = 0.9, max_new_tokens: int = 64, seed: int | None = None,
                  use_adapter: bool = True, batch: int | None = None, guard=contextlib.nullcontext) -> Iterator[Tally]:
    """The vote sampled `batch` answers at a time (about four steps by default), a Tally after each, so that a page
    can show "k of N samples" (five votes took 111 s on a CPU with nothing to show). One batch of all the votes is
    the fastest; `guard()` is entered around each generate call (the chat model's lock, never held between steps)."""
    if votes < 1:
        raise ValueError("votes must be at least 1")
    compiled = compile_pattern(pattern) if isinstance(pattern, str) else pattern  # refused before any sampling
    if votes > 1 and temperature <= 0:
        temperature = 0.7  # identical greedy samples would make a vote pointless (the votes option says so)
    batch = batch or -(-votes // PROGRESS_STEPS)
    samples: list[str] = []
    for step, start in enumerate(range(0, votes, batch)):
        with guard():
            samples += generate(model, tokenizer, prompt, max_new_tokens, n=min(batch, votes - start),
                                temperature=temperature, top_p=top_p, seed=None if seed is None else seed + step,
                                use_adapter=use_adapter)
        yield Tally(len(samples), votes, majority(samples, compiled) if len(samples) == votes else None)

