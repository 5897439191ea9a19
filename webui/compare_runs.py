"""Compare runs, on the Train tab: the loss curves of two or more past runs together; the runs ranked by their final
held-out loss with their time, the settings that differ and their last probe answers side by side, the best named;
and the settings in which they differ (what was changed between them is what explains the curves). "Compare a sweep"
picks the runs of one sweep (core/training/sweep.py; their config.yaml says sweep_of)."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import gradio as gr
import plotly.graph_objects as go

from core.catalogue.message import say, text_of
from core.results import compare as ranking
from core.runs import duration_text

COLOURS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#475569"]


def build(i18n) -> SimpleNamespace:
    with gr.Accordion(i18n("train.compare"), open=False, elem_id="compare-box") as box:
        sweep = gr.Dropdown([], label=i18n("train.compare_sweep"), elem_id="compare-sweep")
        picked = gr.Dropdown([], multiselect=True, label=i18n("train.compare_pick"), elem_id="compare-runs")
        best = gr.Markdown(elem_id="compare-best")
        chart = gr.Plot(elem_id="compare-chart")
        results = gr.Dataframe(interactive=False, wrap=True, elem_id="compare-results")
        table = gr.Dataframe(interactive=False, wrap=True, elem_id="compare-settings")
    return SimpleNamespace(box=box, sweep=sweep, picked=picked, best=best, chart=chart, results=results, table=table)


def connect(ui, studio) -> None:
    """The curves and the tables follow the picked runs; picking a sweep picks its runs; the Train tab's load and
    history refresh the choices."""
    ui.picked.change(functools.partial(compare, ui, studio), [ui.picked], [ui.best, ui.chart, ui.results, ui.table],
                     show_progress="hidden")
    ui.sweep.select(functools.partial(pick_sweep, studio), [ui.sweep], [ui.picked], show_progress="hidden")
    ui.box.expand(lambda: sweep_choices(studio), None, [ui.sweep], show_progress="hidden")  # sweeps finished since


def choices(studio) -> dict:
    """The runs to offer, newest first (the Train tab's history reads the same 50)."""
    return gr.update(choices=[run.name for run in studio.runs()[:50]])


def sweep_choices(studio) -> dict:
    """The sweeps of the runs offered, newest first."""
    return gr.update(choices=ranking.sweeps(studio.runs()[:50]))


def pick_sweep(studio, sweep: str | None) -> dict:
    """The runs of `sweep`, in the order they ran."""
    runs = ranking.of_sweep(studio.runs(), sweep) if sweep else []
    return gr.update(value=[run.name for run in reversed(runs)])


def compare(ui, studio, names) -> dict:
    runs = [run for run in (studio.run_named(name) for name in names or []) if run is not None]
    rows = ranking.ranked(runs)
    best = f"**{text_of(ranking.verdict(rows))}**" if rows else ""
    return {ui.best: best, ui.chart: loss_curves(runs), ui.results: results_table(rows),
            ui.table: settings_table(runs)}


def loss_curves(runs) -> go.Figure | None:
    """Train loss (solid) and held-out loss (dotted) of each run, one colour per run, on one chart."""
    if not runs:
        return None
    figure = go.Figure()
    for number, run in enumerate(runs):
        colour = COLOURS[number % len(COLOURS)]
        points = run.read_metrics()[0]
        train = [p for p in points if "loss" in p]
        held_out = [p for p in points if "eval_loss" in p]
        figure.add_trace(go.Scatter(x=[p["step"] for p in train], y=[p["loss"] for p in train], mode="lines",
                                    name=say("compare.train", run=run.name), line={"color": colour}))
        if held_out:
            figure.add_trace(go.Scatter(x=[p["step"] for p in held_out], y=[p["eval_loss"] for p in held_out],
                                        mode="lines+markers", name=say("compare.held_out", run=run.name),
                                        line={"color": colour, "dash": "dot"}))
    figure.update_layout(height=360, margin={"l": 50, "r": 20, "t": 20, "b": 40}, template="plotly_white",
                         legend={"orientation": "h", "y": -0.2}, hovermode="x unified")
    figure.update_xaxes(title_text=say("chart.step"), rangemode="tozero")
    figure.update_yaxes(title_text=say("chart.loss"))
    return figure


def results_table(rows: list[ranking.Compared]) -> dict:
    """One row per run, best held-out loss first: the loss, the time taken, the settings that differ, and the answer
    to each probe prompt at the run's last evaluation."""
    if not rows:
        return {"headers": [say("compare.run")], "data": [[say("compare.none_picked")]]}
    varied = ranking.differing(rows)
    prompts = next((row.prompts for row in rows if row.prompts), [])
    headers = [say("compare.run"), say("compare.held_out_loss"), say("compare.time"), *varied,
               *(say("compare.answer", prompt=prompt) for prompt in prompts)]
    data = []
    for row in rows:
        answers = dict(zip(row.prompts, row.answers))
        data.append([row.name, ranking.loss_text(row), duration_text(row.seconds),
                     *(str(row.settings.get(key, "")) for key in varied), *(answers.get(p, "") for p in prompts)])
    return {"headers": headers, "data": data}


def settings_table(runs) -> dict:
    """One row per setting whose value differs between the runs (the name aside), one column per run."""
    if not runs:  # said, not left blank: an empty table looks broken
        return {"headers": [say("compare.setting")], "data": [[say("compare.none_picked")]]}
    rows = [ranking.compared(run) for run in runs]
    keys = ranking.differing(rows)
    data = [[key, *(str(row.settings.get(key, "")) for row in rows)] for key in keys]
    headers = [say("compare.setting"), *(run.name for run in runs)]
    return {"headers": headers, "data": data or [[say("compare.same"), *[""] * len(runs)]]}
