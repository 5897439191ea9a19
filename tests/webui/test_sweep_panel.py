"""The Train tab's Sweep panel (webui/sweep_panel.py): the runs and their total time as values are typed, a bad
value said by key, more than 12 runs queued only when confirmed, and one queued run per value, of one sweep."""

from __future__ import annotations

import gradio as gr
import pytest

from core.catalogue.language import speaking
from core.training.sweep import MAX_SWEEP
from webui import sweep_panel
from webui.form import Form
from webui.i18n import build_i18n
from webui.studio import Studio


@pytest.fixture
def panel(tmp_path, monkeypatch):
    studio = Studio(tmp_path / "runs")
    queued = []
    # Queued without starting: the panel's part ends at the queue (core/training/queue.py is tested on its own).
    monkeypatch.setattr(studio, "add_to_queue", lambda config: queued.append(config) or
                        studio.queue.add(config, check_data=False))
    with gr.Blocks():
        form = Form(build_i18n())
        for key in ("name", "data.path", "train.max_steps"):
            form.add(key)
        ui = sweep_panel.build(build_i18n())
        notice = gr.Markdown()
    handlers = sweep_panel.SweepHandlers(ui, form, studio, notice)

    def values(typed: str, option: str = "train.learning_rate", confirm: bool = False, name: str = "demo") -> dict:
        return {form.fields["name"]: name, form.fields["data.path"]: "assets/datasets/identity.jsonl",
                form.fields["train.max_steps"]: 10, ui.option: option, ui.values: typed, ui.confirm: confirm}

    return handlers, ui, values, queued, notice, studio


def test_typed_values_are_split_on_commas_and_spaces():
    assert sweep_panel.typed_values("1e-4, 3e-4 1e-3；2e-3，") == ["1e-4", "3e-4", "1e-3", "2e-3"]


def test_the_plan_names_the_runs_and_their_total_time(panel):
    handlers, ui, values, *_ = panel
    shown = handlers.preview(values("1e-4, 3e-4, 1e-3"))
    assert shown[ui.plan].startswith("3 runs, the settings of the form with train.learning_rate = 1e-4, 3e-4, "
                                     "1e-3: demo-lr1e-4, demo-lr3e-4, demo-lr1e-3. Time: ")
    assert shown[ui.queue]["value"] == "Queue 3 runs"
    with speaking("zh"):
        assert handlers.preview(values("8, 32", option="lora.r"))[ui.plan].startswith(
            "2 次运行，使用表单的设置，lora.r 取 8, 32：demo-r8, demo-r32。时间：")


def test_a_bad_value_is_said_with_the_key_and_the_value(panel):
    handlers, ui, values, *_ = panel
    assert handlers.preview(values("1e-4, 5"))[ui.plan] == (
        "**the Sweep panel (sweep, train.learning_rate: 5): 'train.learning_rate' is 5.0; it must be at most 1.0**")
    assert handlers.preview(values(""))[ui.plan] == (
        "**the Sweep panel: 'sweep' should give 'train.learning_rate' a list of values, for example [1e-4, 3e-4, "
        "1e-3], found []**")


def test_queue_adds_one_run_per_value_of_one_sweep(panel):
    handlers, ui, values, queued, notice, studio = panel
    said = handlers.queue_runs(values("1e-4, 3e-4, 1e-3"))
    assert [c.name for c in queued] == ["demo-lr1e-4", "demo-lr3e-4", "demo-lr1e-3"]
    assert [c.train.learning_rate for c in queued] == [1e-4, 3e-4, 1e-3]
    assert {(c.sweep_of, c.train.max_steps) for c in queued} == {("demo", 10)}  # the form's other settings
    assert said[notice] == ("Queued 3 runs of sweep demo; when they have finished, Compare runs below opens on "
                            "them.")
    handlers.queue_runs(values("1e-4, 3e-4"))  # the same names are queued already: a sweep of its own name
    assert [c.name for c in queued[3:]] == ["demo-2-lr1e-4", "demo-2-lr3e-4"]


def test_more_than_twelve_runs_wait_for_the_tick(panel):
    handlers, ui, values, queued, *_ = panel
    many = ", ".join(str(n) for n in range(1, MAX_SWEEP + 2))
    said = handlers.queue_runs(values(many, option="train.seed"))
    assert said[ui.plan].startswith("**13 runs is more than 12 (")
    assert said[ui.plan].endswith("): tick “Queue more than 12 runs” to queue them all.**")
    assert queued == []
    handlers.queue_runs(values(many, option="train.seed", confirm=True))
    assert len(queued) == 13 and queued[-1].name == "demo-seed13"
