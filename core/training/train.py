"""One training run, from the config to the saved adapter or model: the method's own story, called by name.

`train()` runs in a run's own process (core.training.worker, one process or each of several) or directly from a
test. Each method is one short file beside this one (sft, dpo, orpo, kto, cpt, grpo) that reads top to bottom: its rows,
the model, its dataset, LoRA (or full, or freeze), its trl trainer, train, save. What they share, written once, is
core.training.steps (data, model, settings, callbacks, saving) and core.training.tuning (which weights train). A
run reports through the run folder only: train.log for people, status.json and metrics.jsonl for the UI and the
command line; with several processes only rank 0 writes there.
"""

from __future__ import annotations

import threading

from core.config import Config
from core.runs import Run
from core.training import cpt
from core.training import dpo
from core.training import grpo
from core.training import kto
from core.training import orpo
from core.training import sft
from core.training.steps import Session

# train.method -> the module that trains it
# train.method -> the module that trains it
METHODS = {"sft": sft, "dpo": dpo, "orpo": orpo, "kto": kto, "cpt": cpt, "grpo": grpo}


def train(config: Config, run: Run, stop: threading.Event | None = None, resume_from: str | None = None,
          callbacks: list | None = None, strategy: str = "single") -> str:
    """Train as `config` says, writing into `run`. Returns 'completed' or 'stopped'; raises on failure.

    `callbacks` are extra TrainerCallbacks that only watch (the benchmark's timers). `strategy` is the resolved
    compute.strategy of this run's process (core.models.compute): it decides where the model is loaded.
    """
    session = Session(config, run, stop or threading.Event(), strategy, resume_from, list(callbacks or ()))
    return METHODS[config.train.method].train(session)
