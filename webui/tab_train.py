"""Tab 4, Train: start and stop, watch the run live, look back at past runs.

Training runs in the engine's background thread (core.jobs). This tab only reads the run folder: one gr.Timer tick
reads the lines metrics.jsonl gained since the last tick and redraws the chart only when there were some, so a
reloaded page (or a second browser) picks the run up where it is, chart included. The same tick greys out the
buttons that cannot act, redraws the probe answers when they change, and every HISTORY_SECONDS the past runs.
While a run trains, Start reads "Add to queue" and queues the form's run (webui/queue_panel.py lists the queue).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import StudioError, say, text_of
from core.config import Config, ConfigError
from core.runs import ACTIVE_STATES, elapsed_seconds, state_word, status_message
from core.training import probes
from webui import compare_runs, queue_panel, sweep_panel
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
        queue = queue_panel.build(i18n)
        sweep = sweep_panel.build(i18n)
        status = gr.HTML(elem_id="run-status")
        chart = gr.Plot(label=i18n("train.chart"), elem_id="loss-chart")
        best_banner = gr.Markdown(elem_id="best-banner")
        use_best = gr.Button(i18n("train.use_best"), visible=False, size="sm", elem_id="use-best")
        probe_answers = gr.Dataframe(headers=["prompt"], label=i18n("train.probes"), interactive=False, wrap=True,
                                     elem_id="probe-answers")
        buttons_seen = gr.State(None)  # (start, stop, resume) usable as last sent, so a tick sends only changes
        probes_seen = gr.State("")  # what the probe table shows now, so the timer redraws it only on change
        history_read = gr.State(0.0)  # when this page last read the past runs (time.monotonic)
        log = gr.Textbox(label=i18n("train.log_english"), lines=8, max_lines=8, interactive=False, autoscroll=True,
                         elem_id="train-log")
        with gr.Accordion(i18n("train.history"), open=False):
            runs_table = gr.Dataframe(headers=["run", "state", "steps", "final loss", "duration"],
                                      interactive=False, elem_id="runs-table")
            pick = gr.Dropdown([], label=i18n("train.pick_run"), elem_id="pick-run")
        compare = compare_runs.build(i18n)
        view = gr.State({})  # this browser tab's view: which run, how far its metrics were read, the points so far
        timer = gr.Timer(POLL_SECONDS)
    return SimpleNamespace(start=start, stop=stop, resume=resume, notice=notice, status=status, chart=chart, log=log,
                           runs_table=runs_table, pick=pick, view=view, timer=timer, history_read=history_read,
                           best_banner=best_banner, use_best=use_best, probes=probe_answers,
                           probes_seen=probes_seen, buttons_seen=buttons_seen, compare=compare, queue=queue,
                           sweep=sweep)


class TrainHandlers:
    """The Train tab's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, form, studio):
        self.ui, self.form, self.studio = ui, form, studio
        self.watched = [ui.status, ui.chart, ui.log, ui.view]  # what refresh() returns, in its order
        self.button_outputs = [ui.start, ui.stop, ui.resume, ui.buttons_seen]
        self.probe_outputs = [ui.probes, ui.best_banner, ui.use_best, ui.probes_seen]  # probe_panel()'s order
        self.history_outputs = [ui.runs_table, ui.pick, ui.compare.picked, ui.history_read]

    def start(self, values: dict) -> dict:
        try:
            config = self.form.config_from(values)
        except ConfigError as err:
            return {self.ui.notice: f"**{text_of(err)}**"}
        # Queued only when the page showed "Add to queue": the second click of a double click on Start is refused
        # ("a run is in progress"), not queued as a copy of the run it just started.
        shown = values.get(self.ui.buttons_seen) or ()
        if self.studio.runner.busy and len(shown) > 1 and shown[1]:
            return self.add_to_queue(config)
        try:
            run = self.studio.start_run(config)  # bad data or a missing model is refused here, by key
        except StudioError as err:
            return {self.ui.notice: f"**{text_of(err)}**"}
        taken = str(values.get(self.form.fields["name"], ""))
        note = say("train.started", name=run.name) + (say("train.name_taken", name=taken) if run.name != taken
                                                      else "")
        return {self.ui.notice: note, **self.run_view(run.name)}

    def add_to_queue(self, config: Config) -> dict:
        """Start while a run trains: the form's run waits in the queue (its config and data checked now)."""
        try:
            entry = self.studio.add_to_queue(config)
        except StudioError as err:
            return {self.ui.notice: f"**{text_of(err)}**"}
        ids = [e.id for e in self.studio.queue.entries()]
        if entry.id not in ids:  # the run in progress ended meanwhile, and this one started at once
            return {self.ui.notice: say("train.started", name=self.studio.runner.run.name)}
        return {self.ui.notice: say("queue.added", name=entry.name, position=ids.index(entry.id) + 1)}

    def resume(self, view: dict) -> dict:
        run = self.studio.run_named(view.get("run", ""))
        if run is None:
            return {self.ui.notice: say("train.pick_to_resume")}
        try:
            self.studio.start_run(Config.from_yaml(run.config_file), resume=run)
        except StudioError as err:
            return {self.ui.notice: f"**{text_of(err)}**"}
        return {self.ui.notice: say("train.resuming", name=run.name), **self.run_view(run.name)}

    def stop(self) -> dict:
        return {self.ui.notice: say("train.stopping" if self.studio.runner.stop() else "train.none_running")}

    def tick(self, view: dict, buttons_seen, probes_seen: str, history_read: float):
        """Each poll: what the run gained, which buttons can act, the probe answers; the past runs when due.
        A run started since this page chose what to show is followed (from this page, Quick start or another tab):
        a poll that was under way while Start answered hands back the previous run's view, and without this the
        tab went on showing the previous run under the new run's chart."""
        newer = newer_run(self.studio, view)
        if newer:
            view, buttons_seen, probes_seen = {"run": newer, "state": None}, None, None
        values = refresh(self.studio, view, force=bool(newer))
        updates = changes(self.watched, values) | self.failure_notice(view, values[-1])
        updates |= self.button_updates(view, buttons_seen) | self.probe_updates(view, probes_seen)
        if time.monotonic() - (history_read or 0.0) >= HISTORY_SECONDS - POLL_SECONDS / 2:
            updates |= self.history_updates()
        return updates or gr.skip()

    def attach(self) -> dict:
        """A page opens: it shows the run in progress, else the newest one, and the past runs."""
        run = self.studio.current_run()
        view = {"run": run.name} if run else {}
        return (changes(self.watched, refresh(self.studio, view, force=True)) | self.button_updates(view, None)
                | self.probe_updates(view, None) | self.history_updates())

    def pick_run(self, name: str):
        if not name:
            return gr.skip()
        view = {"run": name}
        return self.run_view(name) | self.button_updates(view, None) | self.probe_updates(view, None)

    def use_best(self, view: dict) -> dict:
        run = self.studio.run_named(view.get("run", ""))
        if run is None:
            return {self.ui.notice: say("train.pick_first")}
        if self.studio.runner.busy and self.studio.runner.run and self.studio.runner.run.name == run.name:
            return {self.ui.notice: say("train.wait_for_end")}
        try:
            done = probes.use_best(run)
        except FileNotFoundError as err:
            return {self.ui.notice: f"**{text_of(err)}**"}
        return {self.ui.notice: text_of(done), **self.probe_updates(view, None)}

    def failure_notice(self, before: dict, after: dict) -> dict:
        """The notice says at once, in plain words, that the run this page follows has just failed ("Started run
        my-run" stayed beside a failed run); a failed run opened later shows it in its status line only."""
        if after.get("state") != "failed" or before.get("state") not in (None, *ACTIVE_STATES):
            return {}
        run = self.studio.run_named(after.get("run", ""))
        reason = text_of(status_message(run.status())) if run else ""
        return {self.ui.notice: say("train.failed", name=after["run"], reason=_escape(reason))}

    def run_view(self, name: str) -> dict:
        """Status, whole chart, log and view of the run `name`, read from its start."""
        return changes(self.watched, refresh(self.studio, {"run": name}, force=True))

    def button_updates(self, view: dict, seen) -> dict:
        """Buttons that cannot act are greyed out: Stop with nothing running, Resume with no stopped run shown."""
        usable = list(button_states(self.studio, view))
        if usable == (seen or None):
            return {}
        updates = {button: gr.update(interactive=flag) for button, flag in zip(self.button_outputs, usable)}
        queues = usable[1]  # Stop can act: a run trains, so Start queues
        updates[self.ui.start] = gr.update(interactive=usable[0],
                                           value=say("train.add_to_queue" if queues else "train.start"))
        return {**updates, self.ui.buttons_seen: usable}

    def probe_updates(self, view: dict, seen: str | None) -> dict:
        """Probe answers and the best-step banner (core.training.probes reads probes.jsonl and metrics.jsonl)."""
        return changes(self.probe_outputs, probe_panel(self.studio, view, seen))

    def history_updates(self) -> dict:
        table, choices = history(self.studio)
        return {self.ui.runs_table: table, self.ui.pick: choices,
                self.ui.compare.picked: compare_runs.choices(self.studio), self.ui.history_read: time.monotonic()}


def connect(ui, form, studio, demo) -> None:
    handlers = TrainHandlers(ui, form, studio)
    shown = handlers.watched + handlers.button_outputs + handlers.probe_outputs
    on_run = [ui.status, ui.chart, ui.log]  # where loading shows; the buttons and probe table change quietly
    ui.start.click(handlers.start, form.inputs() | {ui.buttons_seen}, [ui.notice, *handlers.watched],
                   concurrency_id="start", concurrency_limit=1)
    ui.stop.click(handlers.stop, None, [ui.notice])
    ui.resume.click(handlers.resume, [ui.view], [ui.notice, *handlers.watched], concurrency_id="start",
                    concurrency_limit=1)
    ui.timer.tick(handlers.tick, [ui.view, ui.buttons_seen, ui.probes_seen, ui.history_read],
                  [ui.notice, *shown, *handlers.history_outputs], show_progress="hidden", concurrency_id="poll",
                  concurrency_limit=None)
    ui.pick.select(handlers.pick_run, [ui.pick], shown, show_progress_on=on_run)
    demo.load(handlers.attach, None, shown + handlers.history_outputs, show_progress_on=on_run)
    ui.use_best.click(handlers.use_best, [ui.view], [ui.notice, *handlers.probe_outputs])
    compare_runs.connect(ui.compare, studio)
    queue_panel.connect(ui.queue, studio, ui.notice, ui.timer, demo)
    sweep_panel.connect(ui.sweep, form, studio, ui.notice)


def changes(components: list, values) -> dict:
    """{component: value} for the values that change something: a gr.skip() leaves its component as it is."""
    return {component: value for component, value in zip(components, values)
            if not (isinstance(value, dict) and value == gr.skip())}


def newer_run(studio, view: dict) -> str | None:
    """The name of the run the studio started after this page chose the run it shows (view["since"]), if another."""
    run = studio.runner.run
    if run is None or run.name == view.get("run"):
        return None
    started = run.status().get("started_at") or 0
    return run.name if started > (view.get("since") or 0) else None


def probe_panel(studio, view: dict, seen: str | None):
    """(probe table, best-step banner, use-best button, what is shown): gr.skip() where nothing changed."""
    run = studio.run_named(view.get("run", ""))
    if run is None:
        return {"headers": [say("probes.prompt")], "data": [[say("table.none_yet")]]}, "", gr.update(visible=False), ""
    samples = probes.sample_table(run)  # a grpo run shows what it sampled and how each answer was scored
    headers, rows = samples or probes.probe_table(run)
    best = probes.best_step(run)
    shown = f"{run.name}:{len(headers)}:{best}:{rows[0][0] if samples and rows else ''}"
    if shown == seen:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    banner = ""
    if best:
        banner = say("train.best_banner", rises=best["rises"], step=best["step"], loss=best["eval_loss"])
        if best["in_use"]:
            banner += say("train.best_in_use")
        elif not best["available"]:
            banner += say("train.best_missing")
    headers, rows = ([say(key) for key in headers], rows) if samples else readable_probes(headers, rows)
    table = gr.update(value={"headers": headers, "data": rows or [[say("table.none_yet"), *[""] * (len(headers) - 1)]]},
                      label=say("train.samples" if samples else "train.probes"))
    return table, banner, gr.update(visible=bool(best and best["available"] and not best["in_use"])), shown


def button_states(studio, view: dict) -> tuple[bool, bool, bool]:
    """(Start, Stop, Resume) usable now: one run at a time, so while one trains Start adds to the queue; Resume
    continues a stopped, failed or interrupted run."""
    busy = studio.runner.busy
    run = studio.run_named(view.get("run", "")) if view else None
    state = run.status().get("state") if run else None
    return True, busy, (not busy and state in ("stopped", "failed", "interrupted"))


def readable_probes(headers: list[str], rows: list[list]) -> tuple[list[str], list[list]]:
    """The probe table as a glance: the prompt, the latest adapter's answer, then the base model's (every
    evaluation's column made the table thousands of pixels wide, and the latest, last, was off-screen on the right;
    the run folder keeps them all)."""
    latest = len(headers) - 1
    if latest >= 2 and headers[latest].startswith("step"):
        keep = [0, latest] + [i for i in range(1, latest) if headers[i] == "base"][:1]
        headers = [headers[i] for i in keep]
        rows = [[row[i] for i in keep] for row in rows]
    names = []
    for number, header in enumerate(headers):
        step = header.split()[-1] if header.startswith("step") else ""
        if number == 0:
            names.append(say("probes.prompt"))
        elif header == "base":
            names.append(say("probes.base"))
        elif step.isdigit():
            names.append(say("probes.latest" if number == 1 else "probes.step", step=step))
        else:
            names.append(header)
    return names, rows


def refresh(studio, view: dict, force: bool = False):
    """(status html, chart or skip, log, view): read only what the run folder gained since the last call."""
    run = studio.run_named(view.get("run", ""))
    if run is None:
        return status_html(None), (gr.skip() if not force else None), "", view
    records, offset = run.read_metrics(view.get("offset", 0) if not force else 0)
    points = (view.get("points", []) if not force else []) + records
    status = run.status()
    # since: when this page chose the run (a run started later is followed); state: to tell when it fails
    since = (view.get("since") if view.get("run") == run.name else None) or time.time()
    view = {"run": run.name, "offset": offset, "points": points, "since": since, "state": status.get("state")}
    chart = loss_figure(points, title=run.name) if (records or force) else gr.skip()
    return status_html(status, points, run.name), chart, page_log(run), view


def page_log(run, lines: int = 40) -> str:
    """The log's last lines without Python tracebacks: the page says what went wrong in words (the status line);
    train.log keeps the traceback for whoever debugs it."""
    shown, in_traceback = [], False
    for line in run.log_tail(lines * 5).splitlines():
        stamped = line[:4].isdigit() and line[19:20] == " "
        said = line[20:] if stamped else line
        if said.startswith("Traceback (most recent call last)"):
            in_traceback = True
        elif stamped:
            in_traceback = False
        if not in_traceback:
            shown.append(line)
    return "\n".join(shown[-lines:])


def state_name(state: str) -> str:
    """A run's state ("state.<name>" in the catalogue) in the page's language; an unknown state as it is."""
    return text_of(state_word(state))


def history(studio):
    rows, names = [], []
    for run in studio.runs()[:50]:
        status = run.status()
        losses = [m["loss"] for m in run.read_metrics()[0] if "loss" in m]
        duration = elapsed_seconds(status)  # a resumed run's earlier parts included
        rows.append([run.name, state_name(status.get("state", "?")),
                     f"{status.get('step', 0)}/{status.get('total_steps', 0)}", f"{losses[-1]:.3f}" if losses else "",
                     _clock(duration)])
        names.append(run.name)
    headers = [say(key) for key in ("runs.run", "runs.state", "runs.steps", "runs.final_loss", "runs.duration")]
    return {"headers": headers, "data": rows or [[say("table.none_yet"), *[""] * 4]]}, gr.update(choices=names)


def status_html(status: dict | None, points: list[dict] | None = None, name: str = "") -> str:
    if not status:
        return f"<div class='run-status'>{say('train.no_run')}</div>"
    state = status.get("state", "?")
    step, total = status.get("step") or 0, status.get("total_steps") or 0
    percent = int(100 * step / total) if total else 0
    elapsed = elapsed_seconds(status)  # a resumed run's earlier parts included
    parts = [f"<b>{_escape(name)}</b>", f"<span class='state state-{state}'>{state_name(state)}</span>",
             say("train.elapsed", clock=_clock(elapsed))]
    if total:  # before the trainer has counted its steps there is no "step 0/?" to show: the message says what it does
        parts.insert(2, say("train.step", step=step, total=total))
    train_points = [p for p in (points or []) if "loss" in p]
    if state in ACTIVE_STATES and step and total and len(train_points) >= 2:
        seconds_per_step = (train_points[-1]["time"] - train_points[0]["time"]) / max(
            train_points[-1]["step"] - train_points[0]["step"], 1)
        parts.append(say("train.eta", clock=_clock(seconds_per_step * (total - step))))
    rates = [p["tokens_per_second"] for p in train_points if p.get("tokens_per_second")]
    if rates:  # the last point of a finished run can read 0 (the final step's partial window): show the last real one
        parts.append(say("train.throughput", rate=rates[-1]))
    parts += replay_parts(status)
    parts.append(gpu_memory_text(points or []))
    bar = (f"<div class='progress'><div class='progress-fill' style='width:{percent}%'></div></div>")
    return (f"<div class='run-status'>{' · '.join(parts)}{bar}"
            f"<div class='run-message'>{_escape(text_of(status_message(status)))}</div></div>")


def replay_parts(status: dict) -> list[str]:
    """Knowledge replay's progress while the base model writes its answers (minutes on a CPU), then what it kept."""
    asked, done, kept = status.get("replay_asked"), status.get("replay_done"), status.get("replay_kept")
    if not asked:
        return []
    if status.get("state") == "loading" and done is not None and done < asked:
        parts = [say("train.replay_progress", done=done, asked=asked)]
        if status.get("replay_seconds_left"):
            parts.append(say("train.replay_left", clock=_clock(status["replay_seconds_left"])))
        return parts
    if kept is not None and done == asked and kept < asked:
        return [say("train.replay_kept", asked=asked, kept=kept, dropped=asked - kept)]
    return []


def gpu_memory_text(points: list[dict]) -> str:
    """The run's GPU memory at its latest point, per GPU: 'GPU 0 10.2 GiB, GPU 1 9.8 GiB allocated'."""
    latest = next((p for p in reversed(points) if p.get("gpu_memory_per_gpu")), None)
    if latest:
        per_gpu = ", ".join(f"GPU {gpu} {gb:.1f} GiB" for gpu, gb in latest["gpu_memory_per_gpu"].items())
        return say("train.gpu_per_gpu", per_gpu=per_gpu)
    memory = [p["gpu_memory_gb"] for p in points if "gpu_memory_gb" in p]
    return say("train.gpu_peak", gb=max(memory)) if memory else say("train.no_gpu")


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
