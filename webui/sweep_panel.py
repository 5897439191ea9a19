"""The Sweep panel on the Train tab: pick a numeric option, type a few values ("1e-4, 3e-4, 1e-3"), see the runs
and their total expected time, and queue one run per value with the form's other settings (core/training/sweep.py
names and checks them as a config file's `sweep:` is; core/measure/sweep_time.py gives the time). More than
MAX_SWEEP runs are queued only with the confirmation ticked. Compare runs then opens on the sweep by its name."""

from __future__ import annotations

import re
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import StudioError, say, text_of
from core.config import ConfigError
from core.measure import sweep_time
from core.training import sweep

SOURCE = "the Sweep panel"  # where a bad value was typed, as core.config's errors say "the form"
DEFAULT_OPTION = "train.learning_rate"


def build(i18n) -> SimpleNamespace:
    with gr.Accordion(i18n("train.sweep"), open=False, elem_id="sweep-box"):
        with gr.Row():
            option = gr.Dropdown(sweep.numeric_keys(), value=DEFAULT_OPTION, label=i18n("train.sweep_option"),
                                 elem_id="sweep-option")
            values = gr.Textbox(label=i18n("train.sweep_values"), placeholder="1e-4, 3e-4, 1e-3",
                                elem_id="sweep-values")
        plan = gr.Markdown(elem_id="sweep-plan")
        with gr.Row():
            confirm = gr.Checkbox(False, label=i18n("train.sweep_confirm"), elem_id="sweep-confirm")
            queue = gr.Button(i18n("train.sweep_queue"), elem_id="sweep-queue")
    return SimpleNamespace(option=option, values=values, plan=plan, confirm=confirm, queue=queue)


def connect(ui, form, studio, notice) -> None:
    """The plan follows what is typed (on Enter, or leaving the box) and the option; the button queues the runs."""
    handlers = SweepHandlers(ui, form, studio, notice)
    inputs = {*form.inputs(), ui.option, ui.values, ui.confirm}
    for event in (ui.values.submit, ui.values.blur, ui.option.change):
        event(handlers.preview, inputs, [ui.plan, ui.queue], show_progress="hidden")
    ui.queue.click(handlers.queue_runs, inputs, [ui.plan, ui.queue, notice], concurrency_id="start",
                   concurrency_limit=1)


def typed_values(text: str) -> list[str]:
    """'1e-4, 3e-4 1e-3' -> ['1e-4', '3e-4', '1e-3'] (commas, Chinese commas, semicolons or spaces between);
    the config's checks read them as numbers, as they read a YAML file's."""
    return [word for word in re.split(r"[\s,，、;；]+", text or "") if word]


class SweepHandlers:
    def __init__(self, ui, form, studio, notice):
        self.ui, self.form, self.studio, self.notice = ui, form, studio, notice

    def planned(self, values: dict) -> tuple[sweep.Sweep, list]:
        """The sweep of the form's config with the typed values, and its configs under a name no run has yet;
        raises ConfigError naming what to fix."""
        base = self.form.config_from(values).to_dict()
        swept = sweep.sweep_of({**base, "sweep": {values[self.ui.option]: typed_values(values[self.ui.values])}},
                               SOURCE)
        taken = [entry.name for entry in self.studio.queue.entries()]
        return swept, swept.configs(swept.fresh_name(self.studio.runs_dir, taken))

    def preview(self, values: dict) -> dict:
        try:
            swept, configs = self.planned(values)
        except ConfigError as err:
            return {self.ui.plan: f"**{text_of(err)}**", self.ui.queue: gr.update(value=say("train.sweep_queue"))}
        return {self.ui.plan: self._plan_text(swept, configs),
                self.ui.queue: gr.update(value=say("sweep.panel_queue_count", count=len(configs)))}

    def queue_runs(self, values: dict) -> dict:
        try:
            swept, configs = self.planned(values)
        except ConfigError as err:
            return {self.ui.plan: f"**{text_of(err)}**"}
        if len(configs) > sweep.MAX_SWEEP and not values[self.ui.confirm]:
            return {self.ui.plan: "**" + say("sweep.panel_confirm", count=len(configs), most=sweep.MAX_SWEEP,
                                             time=text_of(self._time(configs))) + "**"}
        try:
            for config in configs:
                self.studio.add_to_queue(config)  # the first starts at once when nothing trains
        except StudioError as err:  # the queue checks the data as the run will load it: the runs share it, so a
            # refusal comes at the first
            return {self.ui.plan: f"**{text_of(err)}**"}
        return {self.ui.plan: "", self.ui.queue: gr.update(value=say("train.sweep_queue")),
                self.notice: say("sweep.panel_queued", count=len(configs), sweep=configs[0].sweep_of)}

    def _plan_text(self, swept: sweep.Sweep, configs: list) -> str:
        key, listed = next(iter(swept.swept.items()))
        return say("sweep.panel_runs", count=len(configs), key=key,
                   values=", ".join(sweep.value_word(value) for value in listed),
                   names=", ".join(config.name for config in configs), time=text_of(self._time(configs)))

    def _time(self, configs: list):
        return sweep_time.said(configs, self.studio.runs(), progress=lambda *_: None)
