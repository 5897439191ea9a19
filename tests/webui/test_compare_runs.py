"""Compare runs on the Train tab (webui/compare_runs.py): a sweep picked selects its runs; the table ranks them by
held-out loss with their time, the values that differ and their last probe answers side by side; the best named."""

from __future__ import annotations

from types import SimpleNamespace

from core.catalogue.language import speaking
from tests.results.test_compare import finished_run, three_rates
from webui import compare_runs
from webui.studio import Studio


def test_picking_a_sweep_selects_its_runs_in_the_order_they_ran(tmp_path):
    studio = Studio(tmp_path / "runs")
    three_rates(studio.runs_dir)
    finished_run(studio.runs_dir, "solo", 1e-4, [1.0], sweep="")
    assert compare_runs.sweep_choices(studio)["choices"] == ["demo"]  # the run of no sweep adds none
    picked = compare_runs.pick_sweep(studio, "demo")["value"]
    assert sorted(picked) == ["demo-lr1e-3", "demo-lr1e-4", "demo-lr3e-4"]
    assert compare_runs.pick_sweep(studio, None)["value"] == []


def test_the_runs_side_by_side_best_first_with_the_best_named(tmp_path):
    studio = Studio(tmp_path / "runs")
    three_rates(studio.runs_dir)
    ui = SimpleNamespace(best="best", chart="chart", results="results", table="table")
    shown = compare_runs.compare(ui, studio, ["demo-lr1e-4", "demo-lr3e-4", "demo-lr1e-3"])
    assert shown["best"] == "**Best by held-out loss: demo-lr3e-4 (1.1000)**"
    assert shown["results"]["headers"] == ["run", "held-out loss", "time", "train.learning_rate",
                                           "answer to: Who are you?"]
    assert shown["results"]["data"] == [
        ["demo-lr3e-4", "1.1000", "2 min", "0.0003", "I am Nova, made by Lumen Labs."],
        ["demo-lr1e-3", "1.4000", "30 s", "0.001", "I am Nova."],
        ["demo-lr1e-4", "1.8000", "2 min", "0.0001", "I am Nova."]]
    assert [trace.name for trace in shown["chart"].data][:2] == ["demo-lr1e-4: train loss",
                                                                 "demo-lr1e-4: held-out loss"]
    with speaking("zh"):
        shown = compare_runs.compare(ui, studio, ["demo-lr1e-4", "demo-lr3e-4"])
    assert shown["best"] == "**按留出集损失最佳：demo-lr3e-4（1.1000）**"
    assert shown["results"]["headers"][:3] == ["运行", "留出集损失", "用时"]


def test_nothing_picked_says_so(tmp_path):
    ui = SimpleNamespace(best="best", chart="chart", results="results", table="table")
    shown = compare_runs.compare(ui, Studio(tmp_path / "runs"), [])
    assert shown["best"] == "" and shown["chart"] is None
    assert shown["results"]["data"] == [["(pick two or more runs above)"]]
