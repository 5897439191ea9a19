"""Tab 4, Train: start and stop, watch the run live, look back at past runs.

Training runs in the engine's background thread (core.jobs). This tab only reads the run folder: a gr.Timer
reads the lines metrics.jsonl gained since the last tick and redraws the chart only when there were some, so a
reloaded page (or a second browser) picks the run up where it is, chart included.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import gradio as gr

from core.config import Config, ConfigError
from core.jobs import BusyError
from core.runs import ACTIVE_STATES
from core.training import probes
from webui.charts import loss_figure

POLL_SECONDS = 1.0
HISTORY_SECONDS = 10.0  # the past-runs table reads every run folder: not once a second per open page


def build(i18n) -> SimpleNamespace:
    with gr.Tab(i18n("tab.train"), id="train"):
        with gr.Row():
            start = gr.Button(i18n("train.start"), variant="primary", elem_id="start-training")
            stop = gr.Button(i18n("train.stop"), variant="stop", elem_id="stop-training")
            resume = gr.Button(i18n("train.resume"), elem_id="resume-training")
        notice = gr.Markdown(elem_id="train-notice")
        status = gr.HTML(elem_id="run-status")
        chart = gr.Plot(label=i18n("train.chart"), elem_id="loss-chart")
        best_banner = gr.Markdown(elem_id="best-banner")
        use_best = gr.Button(i18n("train.use_best"), visible=False, size="sm", elem_id="use-best")
        probe_answers = gr.Dataframe(headers=["prompt"], label=i18n("train.probes"), interactive=False, wrap=True,
                                     elem_id="probe-answers")
        probes_seen = gr.State("")  # what the probe table shows now, so the timer redraws it only on change
        log = gr.Textbox(label=i18n("train.log"), lines=8, max_lines=8, interactive=False, autoscroll=True,
                         elem_id="train-log")
        with gr.Accordion(i18n("train.history"), open=False):
            runs_table = gr.Dataframe(headers=["run", "state", "steps", "final loss", "duration"],
                                      interactive=False, elem_id="runs-table")
            pick = gr.Dropdown([], label=i18n("train.pick_run"), elem_id="pick-run")
        view = gr.State({})  # this browser tab's view: which run, how far its metrics were read, the points so far
        timer = gr.Timer(POLL_SECONDS)
        history_timer = gr.Timer(HISTORY_SECONDS)
    return SimpleNamespace(start=start, stop=stop, resume=resume, notice=notice, status=status, chart=chart, log=log,
                           runs_table=runs_table, pick=pick, view=view, timer=timer, history_timer=history_timer,
                           best_banner=best_banner, use_best=use_best, probes=probe_answers,
                           probes_seen=probes_seen)


def connect(ui, form, studio, demo) -> None:
    watched = [ui.status, ui.chart, ui.log, ui.view]

    def start(values):
        try:
            config = form.config_from(values)
        except ConfigError as err:
            return notice_only(f"**{err}**")
        try:
            run = studio.runner.start(config)
        except BusyError as err:
            return notice_only(f"**{err}**")
        note = f"Started run **{run.name}**." + (f" (The name {values_name(values, form)} was taken.)"
                                                 if run.name != values_name(values, form) else "")
        return (note, *refresh(studio, {"run": run.name}, force=True))

    def resume(view):
        run = studio.run_named(view.get("run", ""))
        if run is None:
            return notice_only("Pick a run to resume (Past runs, below).")
        try:
            studio.runner.start(Config.from_yaml(run.config_file), resume=run)
        except (BusyError, ConfigError) as err:
            return notice_only(f"**{err}**")
        return (f"Resuming run **{run.name}** from its last checkpoint.",
                *refresh(studio, {"run": run.name}, force=True))

    def stop():
        return "Stopping at the end of this step ..." if studio.runner.stop() else "No run is in progress."

    def tick(view):
        return refresh(studio, view)

    def attach():
        run = studio.current_run()
        view = {"run": run.name} if run else {}
        return (*refresh(studio, view, force=True), *history(studio))

    def pick_run(name):
        return refresh(studio, {"run": name}, force=True) if name else (gr.skip(),) * 4

    ui.start.click(start, form.inputs(), [ui.notice, *watched], concurrency_id="start", concurrency_limit=1)
    ui.stop.click(stop, None, [ui.notice])
    ui.resume.click(resume, [ui.view], [ui.notice, *watched], concurrency_id="start", concurrency_limit=1)
    ui.timer.tick(tick, [ui.view], watched, show_progress="hidden", concurrency_id="poll",
                  concurrency_limit=None)
    ui.history_timer.tick(lambda: history(studio), None, [ui.runs_table, ui.pick], show_progress="hidden",
                          concurrency_id="poll", concurrency_limit=None)
    ui.pick.select(pick_run, [ui.pick], watched)
    demo.load(attach, None, [*watched, ui.runs_table, ui.pick])

    # Probe answers and the best-step banner: read from probes.jsonl and metrics.jsonl by core.training.probes.
    probe_outputs = [ui.probes, ui.best_banner, ui.use_best, ui.probes_seen]
    ui.timer.tick(lambda view, seen: probe_panel(studio, view, seen), [ui.view, ui.probes_seen], probe_outputs,
                  show_progress="hidden", concurrency_id="poll", concurrency_limit=None)
    for event in (ui.pick.select, demo.load):
        event(lambda view: probe_panel(studio, view, None), [ui.view], probe_outputs, show_progress="hidden")

    def use_best(view):
        run = studio.run_named(view.get("run", ""))
        if run is None:
            return "Pick a run first.", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if studio.runner.busy and studio.runner.run and studio.runner.run.name == run.name:
            return "Wait for the run to finish; its adapter is written at the end.", *(gr.skip(),) * 4
        try:
            message = probes.use_best(run)
        except FileNotFoundError as err:
            return f"**{err}**", *(gr.skip(),) * 4
        return (message, *probe_panel(studio, view, None))

    ui.use_best.click(use_best, [ui.view], [ui.notice, *probe_outputs])


def probe_panel(studio, view: dict, seen: str | None):
    """(probe table, best-step banner, use-best button, what is shown): gr.skip() where nothing changed."""
    run = studio.run_named(view.get("run", ""))
    if run is None:
        return gr.skip(), "", gr.update(visible=False), ""
    headers, rows = probes.probe_table(run)
    best = probes.best_step(run)
    shown = f"{run.name}:{len(headers)}:{best}"
    if shown == seen:
        return gr.skip(), gr.skip(), gr.skip(), seen
    banner = ""
    if best:
        banner = (f"**Held-out loss has risen for {best['rises']} evaluations since step {best['step']}** "
                  f"(its lowest, {best['eval_loss']:.4f}): later steps are memorising the training rows.")
        if best["in_use"]:
            banner += " The run already uses the adapter from that step."
        elif not best["available"]:
            banner += " No adapter was kept from that step."
    table = gr.update(value={"headers": headers, "data": rows or [[""] * len(headers)]})
    return table, banner, gr.update(visible=bool(best and best["available"] and not best["in_use"])), shown


def notice_only(text: str):
    """A message for the notice line, with the status, chart, log and view left as they are."""
    return text, gr.skip(), gr.skip(), gr.skip(), gr.skip()


def values_name(values, form) -> str:
    return str(values.get(form.fields["name"], ""))


def refresh(studio, view: dict, force: bool = False):
    """(status html, chart or skip, log, view): read only what the run folder gained since the last call."""
    run = studio.run_named(view.get("run", ""))
    if run is None:
        return status_html(None), (gr.skip() if not force else None), "", view
    records, offset = run.read_metrics(view.get("offset", 0) if not force else 0)
    points = (view.get("points", []) if not force else []) + records
    view = {"run": run.name, "offset": offset, "points": points}
    status = run.status()
    chart = loss_figure(points, title=run.name) if (records or force) else gr.skip()
    return status_html(status, points, run.name), chart, run.log_tail(40), view


def history(studio):
    rows, names = [], []
    for run in studio.runs()[:50]:
        status = run.status()
        losses = [m["loss"] for m in run.read_metrics()[0] if "loss" in m]
        duration = (status.get("ended_at") or time.time()) - status["started_at"] if status.get("started_at") else 0
        rows.append([run.name, status.get("state", "?"), f"{status.get('step', 0)}/{status.get('total_steps', 0)}",
                     f"{losses[-1]:.3f}" if losses else "", _clock(duration)])
        names.append(run.name)
    return rows, gr.update(choices=names)


def status_html(status: dict | None, points: list[dict] | None = None, name: str = "") -> str:
    if not status:
        return "<div class='run-status'>No run yet. Start one with the defaults, or adjust the tabs before.</div>"
    state = status.get("state", "?")
    step, total = status.get("step") or 0, status.get("total_steps") or 0
    percent = int(100 * step / total) if total else 0
    started, ended = status.get("started_at"), status.get("ended_at")
    elapsed = ((ended or time.time()) - started) if started else 0
    parts = [f"<b>{_escape(name)}</b>", f"<span class='state state-{state}'>{state}</span>",
             f"step {step}/{total or '?'}", f"elapsed {_clock(elapsed)}"]
    train_points = [p for p in (points or []) if "loss" in p]
    if state in ACTIVE_STATES and step and total and len(train_points) >= 2:
        seconds_per_step = (train_points[-1]["time"] - train_points[0]["time"]) / max(
            train_points[-1]["step"] - train_points[0]["step"], 1)
        parts.append(f"ETA {_clock(seconds_per_step * (total - step))}")
    if train_points and "tokens_per_second" in train_points[-1]:
        parts.append(f"{train_points[-1]['tokens_per_second']:.0f} trained tokens/s")
    parts.append(gpu_memory_text(points or []))
    bar = (f"<div class='progress'><div class='progress-fill' style='width:{percent}%'></div></div>")
    return (f"<div class='run-status'>{' · '.join(parts)}{bar}"
            f"<div class='run-message'>{_escape(status.get('message', ''))}</div></div>")


def gpu_memory_text(points: list[dict]) -> str:
    """The run's GPU memory at its latest point, per GPU: 'GPU 0 10.2 GiB, GPU 1 9.8 GiB allocated'."""
    latest = next((p for p in reversed(points) if p.get("gpu_memory_per_gpu")), None)
    if latest:
        per_gpu = ", ".join(f"GPU {gpu} {gb:.1f} GiB" for gpu, gb in latest["gpu_memory_per_gpu"].items())
        return f"{per_gpu} allocated (peak since the previous point)"
    memory = [p["gpu_memory_gb"] for p in points if "gpu_memory_gb" in p]
    return f"GPU memory peak {max(memory):.1f} GiB" if memory else "no GPU in use"


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
