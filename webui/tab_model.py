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
from webui.lang import lang_of, note_text, say
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
    unusable = [(name, reason) for name, reason in choices if reason]
    with gr.Tab(i18n("tab.model"), id="model"):
        with gr.Row():
            with gr.Column(scale=3):
                form.add("model.source", choices=local_model_folders())
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
                           unusable=unusable)


def connect(ui, form, studio, demo) -> None:
    model_fields = [form.fields[k] for k in form.fields if k.startswith("model.")]
    plan_fields = set(model_fields) | {form.fields[k] for k in COMPUTE_KEYS}

    def check_placement(values, request: gr.Request):
        try:
            config = form.config_from(values).model
        except ConfigError as err:
            return f"**{err}**", gr.update(visible=False)
        studio.release_chat()  # the chat's model would take the room this one is measured in
        return placement_report(config, lang_of(request))

    def show_plan(values, request: gr.Request):
        try:
            config = form.config_from(values)
        except ConfigError as err:
            return f"**{err}**"
        return plan_text(config, lang_of(request))

    def page_texts(source, request: gr.Request):
        """The notes and the hardware panel, in the page's language (they are computed, not labels)."""
        lang, inventory = lang_of(request), devices.inventory()
        return (source_note_text(source, lang), quantization_note_text(inventory, lang),
                hardware_text(inventory, lang),
                say(lang, "model.not_offered", choices=", ".join(
                    say(lang, "model.not_offered_one", name=name, reason=note_text(lang, reason))
                    for name, reason in ui.unusable)) if ui.unusable else "",
                gr.update(choices=gpu_choices(inventory, lang)))

    def hardware_now(request: gr.Request):
        return hardware_text(devices.inventory(), lang_of(request))

    def quantization_now(_, request: gr.Request):
        return quantization_note_text(devices.inventory(), lang_of(request))

    def source_now(source, request: gr.Request):
        return source_note_text(source, lang_of(request))

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
    ui.timer.tick(hardware_now, None, [ui.hardware], show_progress="hidden",
                  concurrency_id="hardware", concurrency_limit=None)
    form.fields["model.quantization"].change(quantization_now, [form.fields["model.quantization"]],
                                             [ui.quantization_note])
    form.fields["model.source"].change(source_now, [form.fields["model.source"]], [ui.source_note])
    demo.load(page_texts, [form.fields["model.source"]],
              [ui.source_note, ui.quantization_note, ui.hardware, ui.device_map_note, gpus], show_progress="hidden")


def source_note_text(source: str, lang: str = "en") -> str:
    """What a built-in model is and under which license it comes; nothing for the user's own folders."""
    spec = builtin.BUILTINS.get(source)
    if spec is None:
        return ""
    ready = "" if builtin.is_ready(source) else say(lang, "model.fetched", mb=spec.download_mb)
    return say(lang, "model.builtin", name=spec.name, license=spec.license, ready=ready)


def placement_report(config: ModelConfig, lang: str = "en"):
    """Load the model as configured, say where its layers went, and let it go again."""
    problems = devices.check_model_choices(config.quantization, config.device_map, devices.inventory())
    if problems:
        return "**" + " ".join(problems) + "**", gr.update(visible=False)
    try:
        loaded = models.load(config, progress=lambda _: None)
    except models.ModelError as err:
        return f"**{err}**", gr.update(visible=False)
    where = models.describe_placement(loaded.placement).replace("the whole model", say(lang, "model.the_whole_model"))
    summary = say(lang, "model.placement", name=Path(loaded.source).name, parameters=loaded.parameters / 1e6,
                  dtype=loaded.dtype, placement=where)
    rows = [[name or say(lang, "model.whole"), str(device)] for name, device in loaded.placement.items()]
    del loaded
    devices.release_memory()
    table = {"headers": [say(lang, "model.layer"), say(lang, "model.device")], "data": rows}
    return summary, gr.update(value=table, visible=True)


def gpu_choices(inv: devices.Inventory, lang: str = "en") -> list[tuple[str, str]]:
    """The GPU picker: each GPU with its name and free/total memory, after the words that stand for a choice."""
    choices = [(say(lang, "model.gpus_auto"), "auto"), (say(lang, "model.gpus_all"), "all"),
               (say(lang, "model.gpus_none"), "none")]
    return choices + [(say(lang, "model.gpu_choice", index=g.index, name=g.name, free=g.free_gb, total=g.total_gb),
                       str(g.index)) for g in inv.gpus]


def plan_text(config, lang: str = "en") -> str:
    """Where a run with these settings trains, and the one-line reason (or what to change)."""
    from core.measure import memory_estimate
    from core.models.compute import ComputeError

    try:
        plan = memory_estimate.plan_for(config, fetch=False)
    except ComputeError as err:
        return f"**{err}**"
    return say(lang, "model.runs_on", summary=note_text(lang, plan.summary()), reason=note_text(lang, plan.reason))


def doctor_text() -> str:
    """The machine check's lines, as `launch.py doctor` prints them."""
    from core.measure import doctor

    return "\n".join(f"- `{check.line()}`" for check in doctor.run_checks(progress=lambda _: None))


def hardware_text(inv: devices.Inventory, lang: str = "en") -> str:
    lines = []
    for gpu in inv.gpus:
        lines.append(say(lang, "hw.gpu", index=gpu.index, name=gpu.name, used=gpu.total_gb - gpu.free_gb,
                         total=gpu.total_gb))
    if not inv.gpus:
        lines.append(say(lang, "hw.no_gpu"))
    lines.append(say(lang, "hw.cpu", name=inv.cpu_name or say(lang, "hw.unknown"), cores=inv.cpu_cores))
    lines.append(say(lang, "hw.ram", used=inv.ram_total_gb - inv.ram_available_gb, total=inv.ram_total_gb))
    return "\n\n".join(lines)


def quantization_note_text(inv: devices.Inventory, lang: str = "en") -> str:
    reason = devices.bitsandbytes_problem(inv)
    if reason:
        return say(lang, "quant.unavailable", reason=reason)
    return say(lang, "quant.gpu" if inv.gpus else "quant.cpu")
