"""Time before you start: the whole run's expected duration on the Data tab (and Quick start, which shows the same
lines), with its parts, and a warning when it would take hours.

The whole run, not only its steps: loading the model, the base model's knowledge-replay answers and the probe
answers at each evaluation took 5 of the identity demo's 6.3 minutes on a 2-core CPU (core.measure.duration).
Training's speed comes from a finished run of the same model measured here (core.data.check.measured_speed) when
there is one; before the first run, for the built-in models on a CPU, from the speed measured by hand on these 2-core
machines (/work/shared/MEASUREMENTS.md: about 45 trained tokens/s), labelled as a rough estimate. Nothing is guessed
for other models or for GPUs: the first run measures them.
"""

from __future__ import annotations

from core.catalogue.message import say
from core.measure.sweep_time import expected_run
from webui.lang import duration_words

LONG_SECONDS = 3600.0  # past this, the Data tab says what to change for a first try
FIRST_TRY_SECONDS = 15 * 60  # what a first try should take


def expected_seconds(plan, source: str, eval_every: int = 0) -> tuple[float, bool] | None:
    """(seconds for the whole run, rough?) or None when nothing is known about this model's speed here."""
    whole = expected_run(plan, source, eval_every)
    return None if whole is None else (whole.total, whole.rough)


def time_lines(plan, source: str, eval_every: int = 0) -> tuple[list[str], str]:
    """(statistics lines, warning markdown or '') for the Data tab."""
    whole = expected_run(plan, source, eval_every)
    if whole is None:
        return [], ""
    seconds = whole.total
    line = say("time.rough" if whole.rough else "time.measured", total=duration_words(seconds),
               parts=whole.parts().text(), steps=plan.total_steps)
    if seconds <= LONG_SECONDS:
        return [line], ""
    # What a first try can shorten is the steps: loading, replay and probes stay.
    fixed = seconds - whole.training
    per_step = whole.training / max(plan.total_steps, 1)
    steps = max(10, int(max(FIRST_TRY_SECONDS - fixed, 0) / per_step)) if per_step else 10
    return [line], say("time.long", total=duration_words(seconds), steps=steps,
                       first=duration_words(fixed + steps * per_step))
