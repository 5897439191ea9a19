"""Time before you start: the whole run's expected duration on the Data tab, and a warning when it would take hours.

From the speed a finished run of the same model measured here (core.data.check.measured_speed) when there is one;
before the first run, for the default model on a CPU, from the speed measured by hand on these 2-core machines
(/work/shared/MEASUREMENTS.md: about 45 trained tokens/s), labelled as a rough estimate. Nothing is guessed for other
models or for GPUs: the first run measures them.
"""

from __future__ import annotations

from core.catalogue.message import say
from core.models import builtin, devices
from webui.lang import duration_words

ROUGH_CPU_TOKENS_PER_SECOND = 45.0  # the default model, trl defaults, a 2-core CPU (MEASUREMENTS.md)
LONG_SECONDS = 3600.0  # past this, the Data tab says what to change for a first try
FIRST_TRY_SECONDS = 15 * 60  # what a first try should take


def expected_seconds(plan, source: str) -> tuple[float, bool] | None:
    """(seconds for the whole run, rough?) or None when nothing is known about this model's speed here."""
    epochs = plan.total_steps / plan.steps_per_epoch if plan.steps_per_epoch else 0
    if plan.seconds_per_epoch is not None:
        return plan.seconds_per_epoch * epochs, False
    if source in builtin.BUILTINS and not devices.inventory().gpus:
        return plan.trained_tokens_per_epoch * epochs / ROUGH_CPU_TOKENS_PER_SECOND, True
    return None


def time_lines(plan, source: str) -> tuple[list[str], str]:
    """(statistics lines, warning markdown or '') for the Data tab."""
    expected = expected_seconds(plan, source)
    if expected is None:
        return [], ""
    seconds, rough = expected
    line = say("time.rough" if rough else "time.measured", total=duration_words(seconds), steps=plan.total_steps)
    if seconds <= LONG_SECONDS:
        return [line], ""
    per_step = seconds / max(plan.total_steps, 1)
    steps = max(10, int(FIRST_TRY_SECONDS / per_step)) if per_step else 10
    return [line], say("time.long", total=duration_words(seconds), steps=steps, first=duration_words(steps * per_step))
