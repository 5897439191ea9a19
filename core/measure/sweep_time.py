"""How long a sweep's runs take one after another: the figure a sweep of more than MAX_SWEEP runs is confirmed with
(`launch.py train --yes`, the Sweep panel), and that the panel shows for any sweep.

Each run is estimated as the Data tab estimates one (core.measure.duration's parts, training's speed measured by an
earlier run of the model here, or the rough CPU figure for the built-in models): the data is read and tokenized
once for the runs that see it the same way, so a sweep of twelve learning rates costs one check of the file, and
the base model's replay answers are written once (core.training.replay copies them to the runs alike).
"""

from __future__ import annotations

import dataclasses

from core.catalogue.message import Message, message
from core.config import Config
from core.data import check
from core.data.check import duration as duration_words
from core.measure import duration
from core.models import builtin, devices

ROUGH_CPU_TOKENS_PER_SECOND = duration.ROUGH_TRAINED_TOKENS_PER_SECOND


def expected_run(plan: check.Plan, source: str, eval_every: int = 0,
                 writes_replay: bool = True) -> duration.RunTime | None:
    """A whole run's parts (the Data tab's figure, webui/time_estimate.py), or None when nothing is known about the
    speed of this model here. `writes_replay` False: the run copies its replay answers from a run alike (its
    replay rows still train)."""
    written = plan.replay_rows if writes_replay else 0
    epochs = plan.total_steps / plan.steps_per_epoch if plan.steps_per_epoch else 0
    evaluations = duration.evaluations(plan.total_steps, eval_every, plan.eval_rows)
    if plan.seconds_per_epoch is not None:
        speed = plan.trained_tokens_per_epoch / plan.seconds_per_epoch if plan.seconds_per_epoch else None
        return duration.whole_run(plan.seconds_per_epoch * epochs, written, evaluations, duration.slowdown(speed))
    if source in builtin.BUILTINS and not devices.inventory().gpus:
        training = plan.trained_tokens_per_epoch * epochs / ROUGH_CPU_TOKENS_PER_SECOND
        return duration.whole_run(training, written, evaluations, rough=True)
    return None


def sweep_seconds(configs: list[Config], runs: list = (), progress=print) -> tuple[float, bool] | None:
    """(seconds for all the runs, rough?), or None when any run's time cannot be known here (its model's speed
    was never measured, or its data or tokenizer cannot be read: the run itself will say why)."""
    from core.data.errors import DataError
    from core.models import load as models

    from core.training.replay import answers_key

    total, rough, inspected = 0.0, False, {}
    speeds, replayed = {}, []
    for config in configs:
        seen_as = _how_the_data_is_seen(config)
        try:
            if seen_as not in inspected:
                tokenizer, _ = models.load_tokenizer(models.tokenizer_source(config.model.source, progress=progress),
                                                     config.model.trust_remote_code, config.model.system_prompt)
                inspected[seen_as] = check.inspect(config, tokenizer, runs=list(runs))
        except (DataError, models.ModelError, OSError, ValueError):
            return None
        first = inspected[seen_as].plan
        if config.model.source not in speeds:
            speeds[config.model.source] = check.measured_speed(list(runs), config.model.source)
        t = config.train
        key = answers_key(config)  # the runs after the first with the same key copy its replay answers
        plan = check.plan(inspected[seen_as].report, first.train_rows, first.eval_rows, t.batch_size, t.grad_accum,
                          t.epochs, t.max_steps, speeds[config.model.source], first.replay_rows)
        whole = expected_run(plan, config.model.source, t.eval_every, writes_replay=key not in replayed)
        replayed.append(key)
        if whole is None:
            return None
        total, rough = total + whole.total, rough or whole.rough
    return total, rough


def said(configs: list[Config], runs: list = (), progress=print) -> Message:
    """'about 19 min in all', 'roughly ...', or that it is not known yet."""
    found = sweep_seconds(configs, runs, progress)
    if found is None:
        return message("sweep.time_unknown")
    seconds, rough = found
    return message("sweep.time_rough" if rough else "sweep.time_total", time=duration_words(seconds))


def _how_the_data_is_seen(config: Config) -> str:
    """What decides the rows, their tokens and the replay rows: runs alike here share one check of the data."""
    t = config.train
    return repr((dataclasses.asdict(config.data), dataclasses.asdict(config.model), t.method, t.max_length, t.seed,
                 t.num_generations))
