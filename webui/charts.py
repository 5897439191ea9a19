"""The live loss chart: train and held-out loss per step, learning rate on a second axis; below it, for preference
runs, trl's reward metrics (under trl's names in metrics.jsonl); for grpo runs each reward's mean and spread, the
shares of answers right and well-formed, and the answers' length with the KL; for GPU runs each GPU's memory."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.catalogue.message import say

# trl's reward metrics of dpo, orpo and kto, as metrics.jsonl keeps them: (legend text key, line style).
REWARDS = {"rewards/chosen": ("chart.reward_chosen", "solid"), "rewards/rejected": ("chart.reward_rejected", "solid"),
           "rewards/margins": ("chart.reward_margin", "dot"), "rewards/accuracies": ("chart.reward_accuracy", "dash"),
           "eval_rewards/accuracies": ("chart.reward_accuracy_held_out", "dashdot")}
# grpo's shares of sampled answers (core.training.rewards.SHARES), training and held-out.
SHARES = {"share/correct": ("chart.share_correct", "solid"), "share/well_formed": ("chart.share_formed", "dot"),
          "share/correct_and_formed": ("chart.share_both", "solid"),
          "eval_share/correct_and_formed": ("chart.share_both_held_out", "dashdot")}


def loss_figure(records: list[dict], title: str = "") -> go.Figure:
    """Loss per step (learning rate on a second axis); below it, a preference run's rewards and a GPU run's memory
    per GPU."""
    train = [r for r in records if "loss" in r]
    held_out = [r for r in records if "eval_loss" in r]
    memory = [r for r in records if r.get("gpu_memory_per_gpu")]
    rewarded = [r for r in records if any(key in r for key in REWARDS)]
    sampled = [r for r in records if "reward" in r]  # grpo: three rows of its own
    rows = 1 + bool(rewarded) + 3 * bool(sampled) + bool(memory)
    specs = [[{"secondary_y": True}]] + [[{}]] * bool(rewarded) + [[{}], [{}], [{"secondary_y": True}]] * bool(
        sampled) + [[{}]] * bool(memory)
    figure = make_subplots(rows=rows, cols=1, shared_xaxes=True, row_heights=[0.6] + [0.4 / (rows - 1)] * (rows - 1)
                           if rows > 1 else None, vertical_spacing=0.08 if rows < 4 else 0.04, specs=specs)
    figure.add_trace(go.Scatter(x=[r["step"] for r in train], y=[r["loss"] for r in train],
                                name=say("chart.train_loss"), mode="lines+markers", line={"color": "#2563eb"},
                                marker={"size": 4}))
    if held_out:
        figure.add_trace(go.Scatter(x=[r["step"] for r in held_out], y=[r["eval_loss"] for r in held_out],
                                    name=say("chart.held_out_loss"), mode="lines+markers",
                                    line={"color": "#ea580c", "dash": "dot"}, marker={"size": 7}))
    if any("learning_rate" in r for r in train):
        figure.add_trace(go.Scatter(x=[r["step"] for r in train], y=[r.get("learning_rate") for r in train],
                                    name=say("chart.learning_rate"), mode="lines",
                                    line={"color": "#94a3b8", "width": 1}),
                         secondary_y=True)
    for key, (name, dash) in REWARDS.items():
        points = [r for r in rewarded if key in r]
        if points:
            figure.add_trace(go.Scatter(x=[r["step"] for r in points], y=[r[key] for r in points],
                                        name=say(name),
                                        mode="lines+markers", marker={"size": 3}, line={"width": 1.5, "dash": dash}),
                             row=2, col=1)
    if sampled:
        grpo_rows(figure, sampled, 2 + bool(rewarded))
    for gpu in sorted({g for r in memory for g in r["gpu_memory_per_gpu"]}, key=int):
        points = [r for r in memory if gpu in r["gpu_memory_per_gpu"]]
        figure.add_trace(go.Scatter(x=[r["step"] for r in points], y=[r["gpu_memory_per_gpu"][gpu] for r in points],
                                    name=say("chart.gpu_memory", gpu=gpu), mode="lines+markers",
                                    marker={"size": 3}, line={"width": 1.5}), row=rows, col=1)
    figure.update_layout(title=title or None, height=360 + (120 if rows < 4 else 110) * (rows - 1),
                         margin={"l": 50, "r": 50, "t": 40 if title else 20, "b": 40},
                         legend={"orientation": "h", "y": -0.2}, hovermode="x unified", template="plotly_white")
    figure.update_xaxes(title_text=say("chart.step"), rangemode="tozero", row=rows, col=1)
    figure.update_yaxes(title_text=say("chart.loss"), secondary_y=False, row=1, col=1)
    figure.update_yaxes(title_text=say("chart.learning_rate"), secondary_y=True, showgrid=False, exponentformat="e",
                        row=1, col=1)
    if rewarded:
        figure.update_yaxes(title_text=say("chart.reward"), row=2, col=1)
    if memory:
        figure.update_yaxes(title_text=say("chart.gib_allocated"), rangemode="tozero", row=rows, col=1)
    return figure


def grpo_rows(figure: go.Figure, records: list[dict], first: int) -> None:
    """Rows `first` to `first` + 2: each reward's mean with its spread (the whole sum's as well), the shares of
    sampled answers right and well-formed, and their mean length in tokens with the KL on a second axis."""
    steps = [r["step"] for r in records]
    names = sorted({key.split("/")[1] for r in records for key in r if key.startswith("rewards/")
                    and key.endswith("/mean")})
    series = [("reward", "reward_std", say("chart.reward_total"))] + [
        (f"rewards/{name}/mean", f"rewards/{name}/std", say("chart.reward_named", name=name)) for name in names]
    for mean, spread, label in series:
        points = [r for r in records if mean in r]
        figure.add_trace(go.Scatter(x=[r["step"] for r in points], y=[r[mean] for r in points], name=label,
                                    error_y={"type": "data", "array": [r.get(spread, 0) for r in points],
                                             "thickness": 0.8, "width": 2},
                                    mode="lines+markers", marker={"size": 3}, line={"width": 1.5}), row=first, col=1)
    for key, (name, dash) in SHARES.items():
        points = [r for r in records if key in r]
        if points:
            figure.add_trace(go.Scatter(x=[r["step"] for r in points], y=[r[key] for r in points], name=say(name),
                                        mode="lines+markers", marker={"size": 3}, line={"width": 1.5, "dash": dash}),
                             row=first + 1, col=1)
    figure.add_trace(go.Scatter(x=steps, y=[r.get("completions/mean_length") for r in records],
                                name=say("chart.answer_length"), mode="lines+markers", marker={"size": 3},
                                line={"width": 1.5, "color": "#0d9488"}), row=first + 2, col=1)
    if any("kl" in r for r in records):
        figure.add_trace(go.Scatter(x=steps, y=[r.get("kl") for r in records], name=say("chart.kl"), mode="lines",
                                    line={"width": 1, "color": "#94a3b8"}), row=first + 2, col=1, secondary_y=True)
    figure.update_yaxes(title_text=say("chart.reward"), row=first, col=1)
    figure.update_yaxes(title_text=say("chart.share"), range=[0, 1.05], row=first + 1, col=1)
    figure.update_yaxes(title_text=say("chart.tokens"), rangemode="tozero", row=first + 2, col=1)
    figure.update_yaxes(title_text="KL", showgrid=False, rangemode="tozero", row=first + 2, col=1, secondary_y=True)


def length_figure(bins: list[tuple[int, int, int]], max_length: int) -> go.Figure:
    """Rows per token length (bins from core.data.check.histogram_bins), with the max-length cut marked."""
    figure = go.Figure(go.Bar(
        x=[(low + high) / 2 for low, high, _ in bins], y=[count for _, _, count in bins],
        width=[high - low for low, high, _ in bins], customdata=[[low, high] for low, high, _ in bins],
        marker={"color": ["#dc2626" if low >= max_length else "#2563eb" for low, _, _ in bins]},
        hovertemplate=say("chart.bin_hover") + "<extra></extra>"))
    figure.add_vline(x=max_length, line={"color": "#dc2626", "dash": "dash", "width": 2},
                     annotation_text=say("chart.max_length", max_length=max_length),
                     annotation_position="top right")
    figure.update_layout(height=280, margin={"l": 50, "r": 20, "t": 50, "b": 40}, template="plotly_white",
                         bargap=0.05, showlegend=False)
    figure.update_xaxes(title_text=say("chart.tokens_per_row"), rangemode="tozero")
    figure.update_yaxes(title_text=say("chart.rows"))
    return figure
