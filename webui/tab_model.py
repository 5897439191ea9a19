"""Tab 2, Model and hardware: the base model, quantization, placement, the GPUs a run uses (and how), what this
machine has, and the machine check (`launch.py doctor`)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import say, text_of
from core.config import ConfigError, ModelConfig
from core.models import builtin
from core.models import devices
from core.models import load as models
from webui import model_picker
from webui.form import GPU_WORDS, gpus_value
from webui.studio import APP_ROOT

COMPUTE_KEYS = ["compute.gpus", "compute.strategy", "compute.processes"]
MODEL_FOLDERS = (APP_ROOT / "models", Path.home() / "models")  # where people keep model folders by hand


def local_model_folders() -> list[tuple[str, str]]:
    """The built-in models (by their names, in the current language: "default" alone told nothing), the finished
    downloads (by hub id, which model.source takes), model folders under ./models and ~/models, then the curated
    models, offered in the base-model list as (label, model.source)."""
    from core.hub import curated, download

    found = [(say("model.choice_builtin", name=spec.name), source) for source, spec in builtin.BUILTINS.items()]
    found += [(say("hub.picker.downloaded_choice", name=local.id), local.id) for local in download.local_models()]
    for folder in MODEL_FOLDERS:
        if folder.is_dir():
            found += [(str(p), str(p)) for p in sorted(folder.iterdir()) if (p / "config.json").exists()]
    # Then the curated models not downloaded yet, by hub id and size (the Model tab's picker says the rest).
    found += [(say("hub.picker.curated_choice", id=entry.hub_id, size=entry.size_gb), entry.hub_id)
              for entry in curated.CURATED if not entry.builtin]
    return _unique(found)


def source_choices(runs_dir) -> list[tuple[str, str]]:
    """The base-model list with the finished runs in `runs_dir` first: a run is started from by choosing it."""
    return _unique(run_choices(runs_dir) + local_model_folders())


def run_choices(runs_dir) -> list[tuple[str, str]]:
    """Finished runs a new run can start from (model.source run:NAME), newest first, each with its method, data and
    final held-out loss: 'Run nova: sft on identity.jsonl, held-out loss 0.412'. The value names the folder, so the
    tokenizer and the checks find it whatever the studio's runs folder is."""
    from core.config import Config, ConfigError
    from core.models import parent

    found = []
    for run in parent.finished_runs(runs_dir):
        try:
            config = Config.from_yaml(run.config_file)
        except ConfigError:
            continue  # a hand-edited config that no longer reads: not offered rather than a broken choice
        losses = [row["eval_loss"] for row in run.read_metrics()[0] if row.get("eval_loss") is not None]
        loss = say("model.choice_run_loss", loss=losses[-1]) if losses else ""
        found.append((say("model.choice_run", name=run.name, method=config.train.method,
                          data=Path(config.data.path).name, loss=loss), parent.PREFIX + str(run.path)))
    return found


def _unique(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen = set()
    return [(label, value) for label, value in choices if not (value in seen or seen.add(value))]


def build(form, i18n) -> SimpleNamespace:
    inventory = devices.inventory()
    choices = devices.device_map_choices(inventory)
    usable_maps = [name for name, reason in choices if reason is None]
    unusable = [(name, reason) for name, reason in choices if reason]
    with gr.Tab(i18n("tab.model"), id="model") as tab:
        picker = model_picker.build(i18n)  # the whole width: the table has nine columns
        with gr.Row():
            with gr.Column(scale=3):
                form.add("model.source", choices=local_model_folders())
                with gr.Row():  # a run's hub; the page starts from the kept choice (tab 3, Where models come from)
                    form.add("model.hub")
                    form.add("model.hub_endpoint")
                form.add("model.start")  # read only when the source is a finished run (run:NAME)
                source_note = gr.Markdown(elem_id="model-source-note")
                # Without a working bitsandbytes only 'none' can work: the choice is locked and the note says why.
                form.add("model.quantization", interactive=devices.bitsandbytes_problem(inventory) is None)
                quantization_note = gr.Markdown(elem_id="quantization-note")
                form.add("model.device_map", choices=usable_maps)
                device_map_note = gr.Markdown(visible=bool(unusable), elem_id="device-map-note")
                form.add("model.max_memory")
                form.add("model.dtype")
                form.add("model.trust_remote_code")
                check = gr.Button(i18n("model.check_placement"), elem_id="check-placement")
                placement_summary = gr.Markdown(elem_id="placement-summary")
                placement = gr.Dataframe(headers=["layer", "device"], wrap=True, interactive=False, visible=False,
                                         max_height=300, elem_id="placement-table")
                gr.Markdown(i18n("model.compute"))
                form.add("compute.gpus", choices=gpu_choices(inventory))
                with gr.Row():
                    form.add("compute.strategy")
                    form.add("compute.processes")
                plan = gr.Markdown(elem_id="compute-plan")
            with gr.Column(scale=2):
                gr.Markdown(i18n("model.hardware"))
                hardware = gr.Markdown(elem_id="hardware-panel")  # filled on load, in the page's language
                timer = gr.Timer(5.0)
                doctor = gr.Button(i18n("model.doctor"), size="sm", elem_id="run-doctor")
                doctor_report = gr.Markdown(elem_id="doctor-report")
    return SimpleNamespace(source_note=source_note, quantization_note=quantization_note, check=check,
                           placement_summary=placement_summary, placement=placement, hardware=hardware, timer=timer,
                           plan=plan, doctor=doctor, doctor_report=doctor_report, device_map_note=device_map_note,
                           unusable=unusable, picker=picker, tab=tab)


class ModelHandlers:
    """The Model tab's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, form, studio):
        self.ui, self.form, self.studio = ui, form, studio

    def check_placement(self, values: dict) -> dict:
        ui = self.ui
        try:
            config = self.form.config_from(values).model
        except ConfigError as err:
            return {ui.placement_summary: f"**{text_of(err)}**", ui.placement: gr.update(visible=False)}
        self.studio.release_chat()  # the chat's model would take the room this one is measured in
        summary, table = placement_report(config)
        return {ui.placement_summary: summary, ui.placement: table}

    def show_plan(self, values: dict) -> str:
        try:
            config = self.form.config_from(values)
        except ConfigError as err:
            return f"**{text_of(err)}**"
        return plan_text(config)

    def page_texts(self, source) -> dict:
        """The notes and the hardware panel, in the page's language (they are computed, not labels)."""
        ui, inventory = self.ui, devices.inventory()
        return {ui.source_note: source_note_text(source), ui.quantization_note: quantization_note_text(inventory),
                ui.hardware: hardware_text(inventory), ui.device_map_note: not_offered_text(ui.unusable),
                self.form.fields["compute.gpus"]: gr.update(choices=gpu_choices(inventory))}

    def doctor(self):
        self.studio.release_chat()  # the machine check measures the memory the chat's model would hold
        yield from doctor_steps()


def hardware_now() -> str:
    return hardware_text(devices.inventory())


def quantization_now(_quantization) -> str:
    return quantization_note_text(devices.inventory())


def tidy_gpus(picked):
    """The GPU picker with the latest choice kept: a word (auto, all, none) alone, or GPU numbers alone."""
    value = gpus_value(picked)
    tidy = [value] if value in GPU_WORDS else value.split(",")
    return gr.skip() if tidy == list(picked or []) else gr.update(value=tidy)


def connect(ui, form, studio, demo, downloader: model_picker.Downloader | None = None) -> None:
    handlers = ModelHandlers(ui, form, studio)
    model_picker.connect(ui.picker, form, demo, downloader or model_picker.Downloader(), local_model_folders,
                         studio.runs_dir)
    model_fields = [form.fields[k] for k in form.fields if k.startswith("model.")]
    plan_fields = set(model_fields) | {form.fields[k] for k in COMPUTE_KEYS}
    gpus = form.fields["compute.gpus"]
    ui.check.click(handlers.check_placement, set(model_fields), [ui.placement_summary, ui.placement],
                   concurrency_id="model-load", concurrency_limit=1)
    gpus.change(tidy_gpus, [gpus], [gpus], show_progress="hidden")
    for key in COMPUTE_KEYS + ["model.source", "model.quantization", "model.device_map"]:
        form.fields[key].change(handlers.show_plan, plan_fields, [ui.plan], show_progress="hidden",
                                concurrency_id="compute-plan", concurrency_limit=1)
    demo.load(handlers.show_plan, plan_fields, [ui.plan], show_progress="hidden")
    ui.doctor.click(handlers.doctor, None, [ui.doctor_report], concurrency_id="model-load", concurrency_limit=1)
    ui.timer.tick(hardware_now, None, [ui.hardware], show_progress="hidden",
                  concurrency_id="hardware", concurrency_limit=None)
    form.fields["model.quantization"].change(quantization_now, [form.fields["model.quantization"]],
                                             [ui.quantization_note])
    form.fields["model.source"].change(source_note_text, [form.fields["model.source"]], [ui.source_note])
    # A run finished since the page opened is offered as a base as soon as the tab is opened again.
    ui.tab.select(lambda: gr.update(choices=source_choices(studio.runs_dir)), None, [form.fields["model.source"]],
                  show_progress="hidden", queue=False)
    demo.load(handlers.page_texts, [form.fields["model.source"]],
              [ui.source_note, ui.quantization_note, ui.hardware, ui.device_map_note, gpus], show_progress="hidden")


def source_note_text(source: str) -> str:
    """What a built-in model is and under which license it comes; nothing for the user's own folders."""
    spec = builtin.BUILTINS.get(source)
    if spec is None:
        return ""
    ready = "" if builtin.is_ready(source) else say("model.fetched", mb=spec.download_mb)
    return say("model.builtin", name=spec.name, license=spec.license, ready=ready)


def placement_report(config: ModelConfig):
    """Load the model as configured, say where its layers went, and let it go again."""
    problems = devices.check_model_choices(config.quantization, config.device_map, devices.inventory())
    if problems:
        return "**" + " ".join(text_of(problem) for problem in problems) + "**", gr.update(visible=False)
    try:
        loaded = models.load(config, progress=lambda _: None)
    except models.ModelError as err:
        return f"**{text_of(err)}**", gr.update(visible=False)
    summary = say("model.placement", name=Path(loaded.source).name, parameters=loaded.parameters / 1e6,
                  dtype=loaded.dtype, placement=text_of(models.describe_placement(loaded.placement)))
    rows = [[name or say("model.whole"), str(device)] for name, device in loaded.placement.items()]
    del loaded
    devices.release_memory()
    table = {"headers": [say("model.layer"), say("model.device")], "data": rows}
    return summary, gr.update(value=table, visible=True)


def not_offered_text(unusable: list) -> str:
    """The device maps this machine cannot use, each with the reason."""
    if not unusable:
        return ""
    return say("model.not_offered", choices=", ".join(
        say("model.not_offered_one", name=name, reason=text_of(reason)) for name, reason in unusable))


def gpu_choices(inv: devices.Inventory) -> list[tuple[str, str]]:
    """The GPU picker: each GPU with its name and free/total memory, after the words that stand for a choice."""
    choices = [(say("model.gpus_auto"), "auto"), (say("model.gpus_all"), "all"),
               (say("model.gpus_none"), "none")]
    return choices + [(say("model.gpu_choice", index=g.index, name=g.name, free=g.free_gb, total=g.total_gb),
                       str(g.index)) for g in inv.gpus]


def plan_text(config) -> str:
    """Where a run with these settings trains, and the one-line reason (or what to change)."""
    from core.measure import memory_estimate
    from core.models.compute import ComputeError

    try:
        plan = memory_estimate.plan_for(config, fetch=False)
    except ComputeError as err:
        return f"**{text_of(err)}**"
    return say("model.runs_on", summary=text_of(plan.summary()), reason=text_of(plan.reason))


def doctor_steps(training: bool = True):
    """The machine check's lines in the page's language, shown as each is found: the training steps and the chat
    reply take a minute or more on a CPU, and a plain button that answers only at the end looks broken."""
    from core.measure import doctor

    found = []
    yield doctor_text(found, done=False)
    for check in doctor.each_check(training):
        found.append(check)
        yield doctor_text(found, done=False)
    yield doctor_text(found, done=True)


def doctor_text(checks: list, done: bool) -> str:
    """One line a check, as `launch.py doctor` prints them (said in the page's language), then how many failed or
    that it is still checking."""
    lines = [f"- {text_of(check.line())}" for check in checks]
    failed = sum(check.status == "failed" for check in checks)
    lines.append(say("model.doctor_done", checks=len(checks), failed=failed) if done else
                 say("model.doctor_running"))
    return "\n".join(lines)


def hardware_text(inv: devices.Inventory) -> str:
    lines = []
    for gpu in inv.gpus:
        lines.append(say("hw.gpu", index=gpu.index, name=gpu.name, used=gpu.total_gb - gpu.free_gb,
                         total=gpu.total_gb))
    if not inv.gpus:
        lines.append(say("hw.no_gpu"))
    lines.append(say("hw.cpu", name=inv.cpu_name or say("hw.unknown"), cores=inv.cpu_cores))
    lines.append(say("hw.ram", used=inv.ram_total_gb - inv.ram_available_gb, total=inv.ram_total_gb))
    return "\n\n".join(lines)


def quantization_note_text(inv: devices.Inventory) -> str:
    reason = devices.bitsandbytes_problem(inv)
    if reason:
        return say("quant.unavailable", reason=text_of(reason))
    return say("quant.gpu" if inv.gpus else "quant.cpu")
