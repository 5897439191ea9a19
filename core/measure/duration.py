"""How long a whole run takes: loading the model, knowledge replay, the probe answers, and training, as one figure
with its parts, so the Data tab, Quick start, Check fit and `launch.py train --dry-run` say the same thing.

Training alone was what the studio used to announce (8 steps, about 33 s), while the identity demo on a quiet 2-core
CPU took 6.3 min, 4.5 of them the base model writing its 20 replay answers: generating is one forward pass per new
token for a batch of answers, so its cost is the decode steps (answers / batch x tokens each) times the time of
one. The rough figures below are the built-in model's on that CPU; a measured training speed scales all of them
(a busy or a faster machine is slower or faster at every part alike).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.catalogue.message import Message, message
from core.data.check import duration
from core.training import replay

ROUGH_TRAINED_TOKENS_PER_SECOND = 45.0  # the built-in model, trl defaults, a quiet 2-core CPU (MEASUREMENTS.md)
ROUGH_LOAD_SECONDS = 15.0  # loading the built-in model and its tokenizer from the local cache on that CPU
# One generated token for a batch of answers, the built-in model on that CPU: 20 replay answers (3 batches of at
# most 128 tokens) took 4.5 min, 270 s / 384 decode steps.
ROUGH_DECODE_STEP_SECONDS = 0.7
# The base model's probe answers before training and the adapter's at each evaluation (with the held-out loss):
# a round of up to 3 short answers (probes.PROBE_TOKENS) on that CPU. The same demo's 6.3 min less replay (4.5 min),
# training (33 s) and loading leave about 60 s for its 9 rounds.
ROUGH_PROBE_ROUND_SECONDS = 6.5
REPLAY_TOKENS = replay.ANSWER_TOKENS  # what each replay answer may take, and how many are answered together
REPLAY_BATCH = replay.BATCH_SIZE


@dataclass
class RunTime:
    """Seconds for each part of a run, and whether they are a rough estimate (no run of this model measured here)."""

    load: float
    replay: float
    probes: float
    training: float
    rough: bool = False

    @property
    def total(self) -> float:
        return self.load + self.replay + self.probes + self.training

    def parts(self) -> Message:
        """'model load 15 s, knowledge replay 4 min, probe answers 2 min, training 33 s' (parts of 0 are left out)."""
        said = [message(key, time=duration(seconds))
                for key, seconds in (("measure.duration.load", self.load), ("measure.duration.replay", self.replay),
                                     ("measure.duration.probes", self.probes),
                                     ("measure.duration.training", self.training)) if seconds > 0]
        joined = said[0] if said else message("measure.duration.training", time=duration(0))
        for part in said[1:]:  # the list separator of the language it is said in
            joined = message("measure.duration.pair", first=joined, second=part)
        return joined


def slowdown(trained_tokens_per_second: float | None) -> float:
    """How many times slower than the rough CPU figures this machine measured (1.0 when nothing was measured)."""
    if not trained_tokens_per_second or trained_tokens_per_second <= 0:
        return 1.0
    return ROUGH_TRAINED_TOKENS_PER_SECOND / trained_tokens_per_second


def evaluations(total_steps: int, eval_every: int, eval_rows: int) -> int:
    """Evaluations the trainer runs (core.training.steps: every eval_every steps, else five in a run)."""
    if not eval_rows or total_steps <= 0:
        return 0
    return total_steps // (eval_every or max(1, total_steps // 5))


def whole_run(training_seconds: float, replay_prompts: int, evaluation_count: int, factor: float = 1.0,
              rough: bool = False) -> RunTime:
    """The run's parts: `factor` is slowdown() of the speed the training figure comes from."""
    replay = math.ceil(replay_prompts / REPLAY_BATCH) * REPLAY_TOKENS * ROUGH_DECODE_STEP_SECONDS * factor
    probes = (evaluation_count + 1) * ROUGH_PROBE_ROUND_SECONDS * factor  # the base model's round, then each evaluation
    return RunTime(ROUGH_LOAD_SECONDS * factor, replay, probes, training_seconds, rough)


def replay_prompts_asked(config) -> int:
    """Replay prompts a run of `config` answers (sft only; the bundled prompts are the most there are)."""
    from core.training.replay import bundled_prompts

    if config.train.method != "sft" or config.data.replay <= 0:
        return 0
    return min(config.data.replay, len(bundled_prompts()))
