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
from webui import compare_runs
from webui.charts import loss_figure
from webui.lang import lang_of, note_text, say

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
        buttons_seen = gr.State(None)  # (start, stop, resume) usable as last sent, so a tick sends only changes
        probes_seen = gr.State("")  # what the probe table shows now, so the timer redraws it only on change
        log = gr.Textbox(label=i18n("train.log_english"), lines=8, max_lines=8, interactive=False, autoscroll=True,
                         elem_id="train-log")
        with gr.Accordion(i18n("train.history"), open=False):
            runs_table = gr.Dataframe(headers=["run", "state", "steps", "final loss", "duration"],
                                      interactive=False, elem_id="runs-table")
            pick = gr.Dropdown([], label=i18n("train.pick_run"), elem_id="pick-run")
        compare = compare_runs.build(i18n)
        view = gr.State({})  # this browser tab's view: which run, how far its metrics were read, the points so far
        timer = gr.Timer(POLL_SECONDS)
        history_timer = gr.Timer(HISTORY_SECONDS)
    return SimpleNamespace(start=start, stop=stop, resume=resume, notice=notice, status=status, chart=chart, log=log,
                           runs_table=runs_table, pick=pick, view=view, timer=timer, history_timer=history_timer,
                           best_banner=best_banner, use_best=use_best, probes=probe_answers,
                           probes_seen=probes_seen, buttons_seen=buttons_seen, compare=compare)


def connect(ui, form, studio, demo) -> None:
    watched = [ui.status, ui.chart, ui.log, ui.view]

    def start(values, request: gr.Request):
        lang = lang_of(request)
        try:
            config = form.config_from(values)
        except ConfigError as err:
            return notice_only(f"**{err}**")
        try:
            run = studio.runner.start(config)
        except BusyError as err:
            return notice_only(f"**{err}**")
        taken = values_name(values, form)
        note = say(lang, "train.started", name=run.name) + (say(lang, "train.name_taken", name=taken)
                                                          if run.name != taken else "")
        return (note, *refresh(studio, {"run": run.name}, force=True, lang=lang))

    def resume(view, request: gr.Request):
        lang = lang_of(request)
        run = studio.run_named(view.get("run", ""))
        if run is None:
            return notice_only(say(lang, "train.pick_to_resume"))
        try:
            studio.runner.start(Config.from_yaml(run.config_file), resume=run)
        except (BusyError, ConfigError) as err:
            return notice_only(f"**{err}**")
        return (say(lang, "train.resuming", name=run.name),
                *refresh(studio, {"run": run.name}, force=True, lang=lang))

    def stop(request: gr.Request):
        return say(lang_of(request), "train.stopping" if studio.runner.stop() else "train.none_running")

    def tick(view, request: gr.Request):
        return refresh(studio, view, lang=lang_of(request))

    def attach(request: gr.Request):
        lang = lang_of(request)
        run = studio.current_run()
        view = {"run": run.name} if run else {}
        return (*refresh(studio, view, force=True, lang=lang), *history(studio, lang))

    def pick_run(name, request: gr.Request):
        return refresh(studio, {"run": name}, force=True, lang=lang_of(request)) if name else (gr.skip(),) * 4

    ui.start.click(start, form.inputs(), [ui.notice, *watched], concurrency_id="start", concurrency_limit=1)
    ui.stop.click(stop, None, [ui.notice])
    ui.resume.click(resume, [ui.view], [ui.notice, *watched], concurrency_id="start", concurrency_limit=1)
    ui.timer.tick(tick, [ui.view], watched, show_progress="hidden", concurrency_id="poll",
                  concurrency_limit=None)
    def history_tick(request: gr.Request):
        return history(studio, lang_of(request))

    ui.history_timer.tick(history_tick, None, [ui.runs_table, ui.pick], show_progress="hidden",
                          concurrency_id="poll", concurrency_limit=None)
    ui.pick.select(pick_run, [ui.pick], watched)
    demo.load(attach, None, [*watched, ui.runs_table, ui.pick])
    compare_runs.connect(ui.compare, studio, demo, ui.history_timer.tick)

    # Buttons that cannot act are greyed out: Stop with nothing running, Resume with no stopped run shown.
    def buttons(view, seen):
        usable = button_states(studio, view)
        if list(usable) == (seen or None):
            return gr.skip(), gr.skip(), gr.skip(), seen
        return (*(gr.update(interactive=flag) for flag in usable), list(usable))

    button_outputs = [ui.start, ui.stop, ui.resume, ui.buttons_seen]
    ui.timer.tick(buttons, [ui.view, ui.buttons_seen], button_outputs, show_progress="hidden",
                  concurrency_id="poll", concurrency_limit=None)
    for event in (demo.load, ui.pick.select):
        event(lambda view: buttons(view, None), [ui.view], button_outputs, show_progress="hidden")

    # Probe answers and the best-step banner: read from probes.jsonl and metrics.jsonl by core.training.probes.
    probe_outputs = [ui.probes, ui.best_banner, ui.use_best, ui.probes_seen]
    def probes_tick(view, seen, request: gr.Request):
        return probe_panel(studio, view, seen, lang_of(request))

    def probes_now(view, request: gr.Request):
        return probe_panel(studio, view, None, lang_of(request))

    ui.timer.tick(probes_tick, [ui.view, ui.probes_seen], probe_outputs,
                  show_progress="hidden", concurrency_id="poll", concurrency_limit=None)
    for event in (ui.pick.select, demo.load):
        event(probes_now, [ui.view], probe_outputs, show_progress="hidden")

    def use_best(view, request: gr.Request):
        lang = lang_of(request)
        run = studio.run_named(view.get("run", ""))
        if run is None:
            return say(lang, "train.pick_first"), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if studio.runner.busy and studio.runner.run and studio.runner.run.name == run.name:
            return say(lang, "train.wait_for_end"), *(gr.skip(),) * 4
        try:
            message = probes.use_best(run)
        except FileNotFoundError as err:
            return f"**{err}**", *(gr.skip(),) * 4
        return (message, *probe_panel(studio, view, None, lang))

    ui.use_best.click(use_best, [ui.view], [ui.notice, *probe_outputs])


def probe_panel(studio, view: dict, seen: str | None, lang: str = "en"):
    """(probe table, best-step banner, use-best button, what is shown): gr.skip() where nothing changed."""
    run = studio.run_named(view.get("run", ""))
    if run is None:
        return {"headers": [say(lang, "probes.prompt")], "data": [[""]]}, "", gr.update(visible=False), ""
    headers, rows = probes.probe_table(run)
    best = probes.best_step(run)
    shown = f"{run.name}:{len(headers)}:{best}"
    if shown == seen:
        return gr.skip(), gr.skip(), gr.skip(), seen
    banner = ""
    if best:
        banner = say(lang, "train.best_banner", rises=best["rises"], step=best["step"], loss=best["eval_loss"])
        if best["in_use"]:
            banner += say(lang, "train.best_in_use")
        elif not best["available"]:
            banner += say(lang, "train.best_missing")
    headers, rows = readable_probes(headers, rows, lang)
    table = gr.update(value={"headers": headers, "data": rows or [[""] * len(headers)]})
    return table, banner, gr.update(visible=bool(best and best["available"] and not best["in_use"])), shown


def button_states(studio, view: dict) -> tuple[bool, bool, bool]:
    """(Start, Stop, Resume) usable now: one run at a time; Resume continues a stopped, failed or interrupted run."""
    busy = studio.runner.busy
    run = studio.run_named(view.get("run", "")) if view else None
    state = run.status().get("state") if run else None
    return not busy, busy, (not busy and state in ("stopped", "failed", "interrupted"))


def notice_only(text: str):
    """A message for the notice line, with the status, chart, log and view left as they are."""
    return text, gr.skip(), gr.skip(), gr.skip(), gr.skip()


def values_name(values, form) -> str:
    return str(values.get(form.fields["name"], ""))


def readable_probes(headers: list[str], rows: list[list], lang: str) -> tuple[list[str], list[list]]:
    """The probe table as a glance: prompt, the base model's answer and the latest adapter's answer side by side
    (every evaluation's column made the table thousands of pixels wide; the run folder keeps them all)."""
    if len(headers) > 3:
        keep = [0, 1, len(headers) - 1]
        headers = [headers[i] for i in keep]
        rows = [[row[i] for i in keep] for row in rows]
    names = []
    for number, header in enumerate(headers):
        step = header.split()[-1] if header.startswith("step") else ""
        if number == 0:
            names.append(say(lang, "probes.prompt"))
        elif header == "base":
            names.append(say(lang, "probes.base"))
        elif step.isdigit():
            names.append(say(lang, "probes.latest" if number == len(headers) - 1 else "probes.step", step=step))
        else:
            names.append(header)
    return names, rows


def refresh(studio, view: dict, force: bool = False, lang: str = "en"):
    """(status html, chart or skip, log, view): read only what the run folder gained since the last call."""
    run = studio.run_named(view.get("run", ""))
    if run is None:
        return status_html(None, lang=lang), (gr.skip() if not force else None), "", view
    records, offset = run.read_metrics(view.get("offset", 0) if not force else 0)
    points = (view.get("points", []) if not force else []) + records
    view = {"run": run.name, "offset": offset, "points": points}
    status = run.status()
    chart = loss_figure(points, title=run.name, lang=lang) if (records or force) else gr.skip()
    return status_html(status, points, run.name, lang), chart, run.log_tail(40), view


def state_name(state: str, lang: str) -> str:
    from core.catalogue.message import entries

    return say(lang, f"state.{state}") if f"state.{state}" in entries() else state


def history(studio, lang: str = "en"):
    rows, names = [], []
    for run in studio.runs()[:50]:
        status = run.status()
        losses = [m["loss"] for m in run.read_metrics()[0] if "loss" in m]
        duration = (status.get("ended_at") or time.time()) - status["started_at"] if status.get("started_at") else 0
        rows.append([run.name, state_name(status.get("state", "?"), lang), f"{status.get('step', 0)}/{status.get('total_steps', 0)}",
                     f"{losses[-1]:.3f}" if losses else "", _clock(duration)])
        names.append(run.name)
    headers = [say(lang, key) for key in ("runs.run", "runs.state", "runs.steps", "runs.final_loss", "runs.duration")]
    return {"headers": headers, "data": rows or [[""] * 5]}, gr.update(choices=names)


def status_html(status: dict | None, points: list[dict] | None = None, name: str = "", lang: str = "en") -> str:
    if not status:
        return f"<div class='run-status'>{say(lang, 'train.no_run')}</div>"
    state = status.get("state", "?")
    step, total = status.get("step") or 0, status.get("total_steps") or 0
    percent = int(100 * step / total) if total else 0
    started, ended = status.get("started_at"), status.get("ended_at")
    elapsed = ((ended or time.time()) - started) if started else 0
    parts = [f"<b>{_escape(name)}</b>", f"<span class='state state-{state}'>{state_name(state, lang)}</span>",
             say(lang, "train.elapsed", clock=_clock(elapsed))]
    if total:  # before the trainer has counted its steps there is no "step 0/?" to show: the message says what it does
        parts.insert(2, say(lang, "train.step", step=step, total=total))
    train_points = [p for p in (points or []) if "loss" in p]
    if state in ACTIVE_STATES and step and total and len(train_points) >= 2:
        seconds_per_step = (train_points[-1]["time"] - train_points[0]["time"]) / max(
            train_points[-1]["step"] - train_points[0]["step"], 1)
        parts.append(say(lang, "train.eta", clock=_clock(seconds_per_step * (total - step))))
    rates = [p["tokens_per_second"] for p in train_points if p.get("tokens_per_second")]
    if rates:  # the last point of a finished run can read 0 (the final step's partial window): show the last real one
        parts.append(say(lang, "train.throughput", rate=rates[-1]))
    parts += replay_parts(status, lang)
    parts.append(gpu_memory_text(points or [], lang))
    bar = (f"<div class='progress'><div class='progress-fill' style='width:{percent}%'></div></div>")
    return (f"<div class='run-status'>{' · '.join(parts)}{bar}"
            f"<div class='run-message'>{_escape(note_text(lang, status.get('message', '')))}</div></div>")


def replay_parts(status: dict, lang: str) -> list[str]:
    """Knowledge replay's progress while the base model writes its answers (minutes on a CPU), then what it kept."""
    asked, done, kept = status.get("replay_asked"), status.get("replay_done"), status.get("replay_kept")
    if not asked:
        return []
    if status.get("state") == "loading" and done is not None and done < asked:
        parts = [say(lang, "train.replay_progress", done=done, asked=asked)]
        if status.get("replay_seconds_left"):
            parts.append(say(lang, "train.replay_left", clock=_clock(status["replay_seconds_left"])))
        return parts
    if kept is not None and done == asked and kept < asked:
        return [say(lang, "train.replay_kept", asked=asked, kept=kept, dropped=asked - kept)]
    return []


def gpu_memory_text(points: list[dict], lang: str = "en") -> str:
    """The run's GPU memory at its latest point, per GPU: 'GPU 0 10.2 GiB, GPU 1 9.8 GiB allocated'."""
    latest = next((p for p in reversed(points) if p.get("gpu_memory_per_gpu")), None)
    if latest:
        per_gpu = ", ".join(f"GPU {gpu} {gb:.1f} GiB" for gpu, gb in latest["gpu_memory_per_gpu"].items())
        return say(lang, "train.gpu_per_gpu", per_gpu=per_gpu)
    memory = [p["gpu_memory_gb"] for p in points if "gpu_memory_gb" in p]
    return say(lang, "train.gpu_peak", gb=max(memory)) if memory else say(lang, "train.no_gpu")


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
