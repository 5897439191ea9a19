"""The rewards grpo learns from: plain checks of each sampled answer, chosen on the form and weighted.

answer: 1 when the answer the answer pattern finds equals the reference's (the Evaluate tab's pattern), else 0.
format: 1 when the answer is written in the chosen format ("The answer is X" at the end, or <think>...</think>
then the answer, or a regular expression of the user's), else 0.
length: 0 up to the length limit, then down to -1 at twice the limit: a soft push towards answers that finish.
A reward file (train.reward_file) adds the user's own function, run only when they turned on run_reward_code.

trl calls each reward function with the whole batch of completions; the checks run once per batch (Rewards.score)
and each function returns its column, so the shares the Train tab charts (correct, well-formed, both) and the
sampled answers it lists come from the same scores the model learned from.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.config import FORMAT_PRESETS, TrainConfig
from core.data.answers import PatternError, compile_pattern, extract_answer, found_answer
from core.training.errors import TrainingError

# The named formats of train.format_pattern, each matched against the whole answer: the answer line last, short
# (the answer, not a new paragraph after it), and an answer rather than a quotation mark: a model that repeats the
# instruction ('End with the sentence "The answer is" and the city.') has not answered in the format.
FORMATS = {
    "answer_is": r".*(?:the answer is|答案是)\s*[:：]?\s*(?![\"“”'‘’「」](?:\s|$))[^\s:：][^\n]{0,40}",
    "think_then_answer": r"<think>.+?</think>\s*\S.*",
}
assert set(FORMATS) == set(FORMAT_PRESETS), "config.FORMAT_PRESETS and rewards.FORMATS name the same formats"
SHARES = ("share/correct", "share/well_formed", "share/correct_and_formed")  # metrics.jsonl keys, per step
BARE_ANSWER = 40  # characters: a reference this short may be the answer itself ("68", "B", "Paris")
DECORATION = "*_`\"'“”‘’「」()（）[] "  # what models wrap answers in: **68**, "B", (C)


@dataclass
class Scored:
    """One batch's checks, completion by completion, and each reward's value."""

    correct: list[bool]
    well_formed: list[bool]
    values: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Batch:
    """A scored batch as `on_scored` receives it: the step, each completion's question, text, reference answer,
    length in tokens, and the scores."""

    step: int
    questions: list[str]
    texts: list[str]
    references: list[str]
    lengths: list[int]
    scored: Scored


def format_regex(setting: str) -> re.Pattern:
    """train.format_pattern as a regex the whole answer (spaces around it aside) must match: a named format, or
    the user's own; case-insensitive, '.' matching newlines."""
    pattern = FORMATS.get(setting, setting)
    try:
        return re.compile(f"(?:{pattern})", re.IGNORECASE | re.DOTALL)
    except re.error as err:
        raise TrainingError("training.rewards.bad_format", pattern=setting, error=str(err)) from None


def reference_of(row: dict) -> str:
    """The row's reference answer: its last assistant turn, or its completion."""
    if "messages" in row:
        return next(m["content"] for m in reversed(row["messages"]) if m["role"] == "assistant")
    return row["completion"]


def same_answer(found: str | None, reference: str, compiled) -> bool:
    """Whether the answer found in a completion is the reference's (case, spacing and decoration aside)."""
    if found is None:
        return False
    return _plain(found) == _plain(extract_answer(reference, compiled))


def _plain(answer: str) -> str:
    return answer.strip(DECORATION).rstrip(".。").strip(DECORATION).casefold()


def check(train: TrainConfig, rows: list[dict], path: str) -> None:
    """What would make grpo learn nothing, refused before the model loads: an answer pattern that is not a regex
    or finds no answer in any reference written out in full, a format that is not a regex, a reward file that
    cannot run."""
    try:
        compiled = compile_pattern(train.answer_pattern)
    except PatternError as err:
        raise TrainingError("training.rewards.bad_answer_pattern", reason=err) from None
    format_regex(train.format_pattern)
    if "answer" in train.rewards and compiled is not None:
        written = [ref for ref in map(reference_of, rows) if len(ref.strip()) > BARE_ANSWER or "\n" in ref.strip()]
        if written and len(written) == len(rows) and not any(found_answer(ref, compiled) for ref in written):
            raise TrainingError("training.rewards.pattern_misses", pattern=train.answer_pattern, path=path,
                                count=len(written), example=written[0].strip()[:80])
    if train.reward_file:
        load_reward_file(train)


def load_reward_file(train: TrainConfig):
    """The `reward` function of train.reward_file; its code runs only when the user turned run_reward_code on."""
    path = Path(train.reward_file)
    if not path.is_file():
        raise TrainingError("training.rewards.no_file", path=str(path))
    if not train.run_reward_code:
        raise TrainingError("training.rewards.code_off", path=str(path))
    spec = importlib.util.spec_from_file_location(f"studio_reward_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # the user's code: whatever it raises is theirs to fix, named with the file
        raise TrainingError("training.rewards.file_failed", path=str(path), error=f"{type(err).__name__}: {err}") \
            from None
    function = getattr(module, "reward", None)
    if not callable(function):
        raise TrainingError("training.rewards.no_function", path=str(path))
    return function


class Rewards:
    """train.rewards as trl reward functions with their weights; every batch checked once, its shares logged
    and, through `on_scored`, its samples kept for the Train tab."""

    def __init__(self, train: TrainConfig, on_scored=None):
        self.names = list(train.rewards) + (["file"] if train.reward_file else [])
        weights = {"answer": train.answer_weight, "format": train.format_weight, "length": train.length_weight,
                   "file": 1.0}
        self.weights = [float(weights[name]) for name in self.names]
        self.answer = compile_pattern(train.answer_pattern)
        self.format = format_regex(train.format_pattern)
        self.limit = train.length_limit
        self.user_reward = load_reward_file(train) if train.reward_file else None
        self.reward_file = train.reward_file
        self.on_scored = on_scored
        self.training = lambda: True  # whether the batch is the training's (set by grpo; held-out ones are not kept)
        self._last: tuple | None = None  # (the batch's completions object, its Scored)

    def functions(self) -> list:
        """One function per reward, named as trl logs it (rewards/<name>/mean)."""
        def make(name):
            def reward(prompts, completions, completion_ids=None, reference=None, **kwargs):
                return self.score(prompts, completions, completion_ids, reference, **kwargs).values[name]
            reward.__name__ = name
            return reward
        return [make(name) for name in self.names]

    def score(self, prompts, completions, completion_ids, references, trainer_state=None, log_metric=None,
              question=None, **kwargs) -> Scored:
        if self._last is not None and self._last[0] is completions:  # the same batch, asked by the next function
            return self._last[1]
        texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
        found = [found_answer(text, self.answer) for text in texts]
        correct = [same_answer(f, ref, self.answer) for f, ref in zip(found, references)]
        formed = [bool(self.format.fullmatch(text.strip())) for text in texts]
        scored = Scored(correct, formed)
        for name in self.names:
            if name == "answer":
                scored.values[name] = [float(c) for c in correct]
            elif name == "format":
                scored.values[name] = [float(f) for f in formed]
            elif name == "length":
                lengths = [len(ids) for ids in completion_ids] if completion_ids is not None else \
                    [len(text.split()) for text in texts]
                scored.values[name] = [-min(1.0, max(0, n - self.limit) / self.limit) for n in lengths]
            else:
                scored.values[name] = self._user_rewards(texts, references, prompts)
        if log_metric is not None:
            total = max(len(texts), 1)
            for key, share in zip(SHARES, (sum(correct), sum(formed), sum(c and f for c, f in zip(correct, formed)))):
                log_metric(key, share / total)
        if self.on_scored is not None and self.training():
            lengths = [len(ids) for ids in completion_ids] if completion_ids is not None else [0] * len(texts)
            step = trainer_state.global_step + 1 if trainer_state else 0  # the step these answers train
            self.on_scored(Batch(step, question or prompts, texts,
                                 list(references), lengths, scored))
        self._last = (completions, scored)
        return scored

    def _user_rewards(self, texts, references, prompts) -> list[float]:
        try:
            values = [float(v) for v in self.user_reward(completions=texts, references=references, prompts=prompts)]
        except Exception as err:  # the user's code, named with its file
            raise TrainingError("training.rewards.file_failed", path=self.reward_file,
                                error=f"{type(err).__name__}: {err}") from None
        if len(values) != len(texts):
            raise TrainingError("training.rewards.file_count", path=self.reward_file, got=len(values),
                                expected=len(texts))
        return values

    def total(self, scored: Scored, index: int) -> float:
        return sum(w * scored.values[name][index] for name, w in zip(self.names, self.weights))
