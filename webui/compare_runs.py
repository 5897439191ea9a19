"""Compare runs, on the Train tab: the loss curves of two or more past runs together, and a table of the settings in
which they differ (what was changed between them is what explains the curves)."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import gradio as gr
import plotly.graph_objects as go

from core.catalogue.message import say
from core.config import Config, ConfigError

COLOURS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#475569"]


def build(i18n) -> SimpleNamespace:
    with gr.Accordion(i18n("train.compare"), open=False, elem_id="compare-box"):
        picked = gr.Dropdown([], multiselect=True, label=i18n("train.compare_pick"), elem_id="compare-runs")
        chart = gr.Plot(elem_id="compare-chart")
        table = gr.Dataframe(interactive=False, wrap=True, elem_id="compare-settings")
    return SimpleNamespace(picked=picked, chart=chart, table=table)


def connect(ui, studio) -> None:
    """The curves and the table follow the picked runs; the Train tab's load and history refresh the choices."""
    ui.picked.change(functools.partial(compare, ui, studio), [ui.picked], [ui.chart, ui.table],
                     show_progress="hidden")


def choices(studio) -> dict:
    """The runs to offer, newest first (the Train tab's history reads the same 50)."""
    return gr.update(choices=[run.name for run in studio.runs()[:50]])


def compare(ui, studio, names) -> dict:
    runs = [run for run in (studio.run_named(name) for name in names or []) if run is not None]
    return {ui.chart: loss_curves(runs), ui.table: settings_table(runs)}


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


def settings_table(runs) -> dict:
    """One row per setting whose value differs between the runs (the name aside), one column per run."""
    if not runs:  # said, not left blank: an empty table looks broken
        return {"headers": [say("compare.setting")], "data": [[say("compare.none_picked")]]}
    flat = [flatten(_config(run)) for run in runs]
    keys = sorted({key for settings in flat for key in settings} - {"name"})
    rows = [[key, *(str(settings.get(key, "")) for settings in flat)] for key in keys
            if len({repr(settings.get(key)) for settings in flat}) > 1]
    headers = [say("compare.setting"), *(run.name for run in runs)]
    return {"headers": headers, "data": rows or [[say("compare.same"), *[""] * len(runs)]]}


def flatten(values: dict, prefix: str = "") -> dict:
    """{'train': {'epochs': 3}} -> {'train.epochs': 3}: the option names the Settings tab and config files use."""
    out = {}
    for key, value in values.items():
        if isinstance(value, dict) and key not in ("columns", "roles", "placeholders"):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _config(run) -> dict:
    try:
        return Config.from_yaml(run.config_file).to_dict()
    except ConfigError:  # a damaged config: the run still shows its curve
        return {}
