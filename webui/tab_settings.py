"""Tab 3, LoRA and training: the adapter and the schedule, presets, and the YAML file the command line runs.

Load takes one run's config into the form; a chain file (`stages:`, core/training/chain.py) is said stage by stage
instead, with a button that queues its stages (the first starting at once when nothing trains)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import StudioError, say, text_of
from core.config import METHODS, Config, ConfigError, used_by
from core.models import load as models
from core.training import chain, trackers
from webui import fit_panel, hub_settings
from webui.form import field_of

# Each preset changes only these options; everything else keeps what the user set.
PRESETS = {
    "quick": {"train.epochs": 1, "lora.r": 8, "lora.alpha": 16, "train.max_length": 512},
    "balanced": {"train.epochs": 3, "lora.r": 16, "lora.alpha": 32, "train.max_length": 1024},
    "thorough": {"train.epochs": 5, "lora.r": 32, "lora.alpha": 64, "train.max_length": 2048},
}

LORA_KEYS = ["lora.r", "lora.alpha", "lora.dropout", "lora.use_rslora", "lora.use_dora"]
TRAIN_KEYS = ["train.epochs", "train.max_steps", "train.learning_rate", "train.batch_size", "train.grad_accum",
              "train.max_length", "train.scheduler", "train.warmup_fraction", "train.gradient_checkpointing",
              "train.eval_every", "train.save_every", "train.seed", "train.weight_decay", "train.max_grad_norm",
              "train.logging_every", "train.retry_on_oom", "train.probes", "train.padding_free", "train.packing",
              "train.attention", "train.liger_kernel", "train.group_by_length", "train.torch_compile",
              "train.report_to"]
# The training method and which weights train, with the options only some methods or tunings use.
METHOD_KEYS = ["train.method", "train.tuning", "train.freeze_trainable_layers", "train.beta", "train.dpo_loss",
               "train.sft_weight", "train.desirable_weight", "train.undesirable_weight"]
# grpo's own: the rewards and how the answers are sampled (shown only for grpo), four to a row.
GRPO_KEYS = ["train.rewards", "train.answer_weight", "train.format_weight", "train.length_weight",
             "train.num_generations", "train.completion_length", "train.temperature", "train.length_limit",
             "train.answer_pattern", "train.format_pattern", "train.reward_file", "train.run_reward_code"]


def shown(method: str, tuning: str) -> dict[str, bool]:
    """Which LoRA and training options the Settings tab shows for this method and tuning: those they use (the
    config's methods/tunings metadata); LoRA's own only with LoRA."""
    return {key: used_by(field_of(key).metadata, method, tuning) and (tuning == "lora" or not key.startswith("lora."))
            for key in LORA_KEYS + TRAIN_KEYS + METHOD_KEYS + GRPO_KEYS}


def build(form, i18n) -> SimpleNamespace:
    with gr.Tab(i18n("tab.settings"), id="settings"):
        with gr.Row():
            preset = gr.Radio([(i18n(f"preset.{name}"), name) for name in PRESETS], value="balanced",
                              label=i18n("settings.preset"), info=i18n("settings.preset_help"), elem_id="preset")
            form.add("name")
        with gr.Row():
            with gr.Column(visible=True) as lora_column:
                gr.Markdown(i18n("settings.lora"))
                form.fields["lora.target_modules"] = gr.CheckboxGroup(
                    ["all-linear"], value=["all-linear"], label=i18n("lora.target_modules.label"),
                    info=i18n("lora.target_modules.help"), elem_id="opt-lora-target-modules")
                find_layers = gr.Button(i18n("settings.find_layers"), size="sm", elem_id="find-layers")
                for key in LORA_KEYS:
                    form.add(key)
            with gr.Column():
                gr.Markdown(i18n("settings.training"))
                with gr.Row():
                    for key in METHOD_KEYS[:2]:
                        form.add(key)
                # One plain line on what the chosen method does (all of them exist; the chosen one is shown).
                method_text = {name: gr.Markdown(i18n(f"method.{name}"), visible=name == "sft",
                                                 elem_id=f"method-text-{name}") for name in METHODS}
                with gr.Row():
                    for key in METHOD_KEYS[2:]:
                        form.add(key, visible=shown("sft", "lora")[key])
                for start in range(0, len(GRPO_KEYS), 4):
                    with gr.Row():
                        for key in GRPO_KEYS[start:start + 4]:
                            form.add(key, visible=False)
                with gr.Row():
                    for key in TRAIN_KEYS[:6]:
                        form.add(key)
                with gr.Accordion(i18n("settings.more"), open=False):
                    for key in TRAIN_KEYS[6:-1]:
                        form.add(key)
                    # Only the trackers installed here are offered; the help says how to install the others.
                    form.fields["train.report_to"] = gr.Dropdown(
                        trackers.available(), value="none", label=i18n("train.report_to.label"),
                        info=i18n("train.report_to.help"), elem_id="opt-train-report-to")
        with gr.Row():
            save = gr.Button(i18n("settings.save"), elem_id="save-settings")
            load = gr.UploadButton(i18n("settings.load"), file_types=[".yaml", ".yml"], elem_id="load-settings")
        message = gr.Markdown(elem_id="settings-message")
        queue_chain = gr.Button(i18n("settings.queue_chain"), visible=False, variant="primary", elem_id="queue-chain")
        chain_file = gr.State("")  # the loaded chain file's kept copy, read again when the chain is queued
        with gr.Row():
            check_fit = gr.Button(i18n("settings.check_fit"), elem_id="check-fit")
            apply_fit = gr.Button(i18n("settings.apply_fit"), visible=False, variant="primary", elem_id="apply-fit")
        fit_report = gr.Markdown(elem_id="fit-report")
        proposal = gr.State({})
        with gr.Row():
            command = gr.Textbox(label=i18n("settings.command"), interactive=False, scale=3, elem_id="command-line",
                                 buttons=["copy"])
            saved_file = gr.File(label=i18n("settings.saved_file"), interactive=False, height=90, scale=2,
                                 elem_id="saved-config")
        hub = hub_settings.build(i18n)
    return SimpleNamespace(hub=hub, preset=preset, find_layers=find_layers, save=save, load=load, message=message,
                           queue_chain=queue_chain, chain_file=chain_file,
                           command=command, saved_file=saved_file, check_fit=check_fit, apply_fit=apply_fit,
                           fit_report=fit_report, proposal=proposal, lora_column=lora_column,
                           method_text=method_text)


class SettingsHandlers:
    """The Settings tab's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, form, studio):
        self.ui, self.form, self.studio = ui, form, studio

    def apply_preset(self, name) -> dict:
        changes = PRESETS.get(name, {})
        return {self.form.fields[key]: gr.update(value=value) for key, value in changes.items()} or gr.skip()

    def find_layers(self, source, trust) -> dict:
        try:
            names = models.target_layer_choices(source or "default", bool(trust), progress=lambda _: None)
        except models.ModelError as err:
            return {self.ui.message: f"**{text_of(err)}**"}
        return {self.form.fields["lora.target_modules"]: gr.update(choices=["all-linear"] + names,
                                                                   value=["all-linear"]),
                self.ui.message: say("settings.layers", names=", ".join(names))}

    def save(self, values: dict) -> dict:
        try:
            config = self.form.config_from(values)
        except ConfigError as err:
            return {self.ui.message: f"**{text_of(err)}**"}
        path = self.studio.configs_dir / f"{config.name}.yaml"
        config.save(path)
        return {self.ui.message: say("settings.saved", path=path), self.ui.command: f"python launch.py train {path}",
                self.ui.saved_file: str(path)}

    def load(self, file) -> dict:
        hide = {self.ui.queue_chain: gr.update(visible=False), self.ui.chain_file: ""}
        try:
            stages = chain.read(file)
            if stages:
                return self.chain_loaded(file, stages)
            config = Config.from_yaml(file)
        except ConfigError as err:
            return {self.ui.message: f"**{text_of(err)}**", **hide}
        return {**self.form.updates_from(config), self.ui.message: say("settings.loaded"), **hide}

    def chain_loaded(self, file, stages: list) -> dict:
        """A chain file: its stages said (name, run, method, data), the form left as it is, and the button that
        queues them, named for what it will do now."""
        kept = self.studio.keep_upload(file)  # the upload's temporary copy may be gone by the time it is queued
        said = []
        for stage in stages:
            config = stage.config()
            said.append(say("settings.chain_stage", number=stage.number, stage=stage.label, run=config.name,
                            method=config.train.method, data=Path(config.data.path).name))
        label = say("settings.chain_add" if self.studio.runner.busy else "settings.chain_start", count=len(stages))
        return {self.ui.message: say("settings.chain_loaded", file=Path(file).name, count=len(stages),
                                     stages="\n".join(said)),
                self.ui.queue_chain: gr.update(visible=True, value=label), self.ui.chain_file: str(kept)}

    def queue_chain(self, kept: str) -> dict:
        """Queue the loaded chain's stages; the first starts at once when nothing trains."""
        try:
            stages = chain.read(kept) if kept and Path(kept).exists() else None
            if not stages:
                return {self.ui.message: say("settings.chain_gone"), self.ui.queue_chain: gr.update(visible=False)}
            entries = self.studio.add_chain(stages)
        except StudioError as err:
            return {self.ui.message: f"**{text_of(err)}**"}
        runs = [entry.name for entry in entries]
        running = self.studio.runner.run
        if self.studio.runner.busy and running is not None and running.name == runs[0]:
            note = say("settings.chain_started", run=runs[0], rest=", ".join(runs[1:]) or "-")
        else:
            note = say("settings.chain_queued", chain=stages[0].chain, runs=", ".join(runs))
        return {self.ui.message: note, self.ui.queue_chain: gr.update(visible=False), self.ui.chain_file: ""}

    def check_fit(self, values: dict):
        ui = self.ui
        try:
            config = self.form.config_from(values)
        except ConfigError as err:
            yield {ui.fit_report: f"**{text_of(err)}**", ui.proposal: {}, ui.apply_fit: gr.update(visible=False)}
            return
        for report, proposal, apply_fit in fit_panel.check_fit_stream(config, self.studio):
            yield {ui.fit_report: report, ui.proposal: proposal, ui.apply_fit: apply_fit}

    def apply_fit(self, values: dict) -> dict:  # a set of inputs: gradio hands over one {component: value} dict
        proposal = values[self.ui.proposal] or {}
        try:
            from core.measure import preflight

            config = preflight.apply(self.form.config_from(values), proposal)
        except ConfigError as err:
            return {self.ui.message: f"**{text_of(err)}**"}
        changed = {self.form.fields[key] for key in proposal if key in self.form.fields}
        updates = {widget: update for widget, update in self.form.updates_from(config).items() if widget in changed}
        applied = ", ".join(f"{key} = {value}" for key, value in proposal.items())
        return {**updates, self.ui.message: say("settings.applied", changes=applied),
                self.ui.apply_fit: gr.update(visible=False)}

    def show_method(self, method, tuning) -> dict:
        fields = self.form.fields
        return ({fields[key]: gr.update(visible=on) for key, on in shown(method, tuning).items() if key in fields}
                | {text: gr.update(visible=name == method) for name, text in self.ui.method_text.items()}
                | {self.ui.lora_column: gr.update(visible=tuning == "lora")})


def connect(ui, form, studio, demo=None) -> None:
    handlers = SettingsHandlers(ui, form, studio)
    if demo is not None:
        hub_settings.connect(ui.hub, demo, form.fields.get("model.hub"))
    outputs = list(form.fields.values())
    method_outputs = ([form.fields[key] for key in shown("sft", "lora") if key in form.fields]
                      + list(ui.method_text.values()) + [ui.lora_column])
    for key in ("train.method", "train.tuning"):
        form.fields[key].change(handlers.show_method, [form.fields["train.method"], form.fields["train.tuning"]],
                                method_outputs)
    ui.check_fit.click(handlers.check_fit, form.inputs(), [ui.fit_report, ui.proposal, ui.apply_fit],
                       concurrency_id="model-load", concurrency_limit=1)
    ui.apply_fit.click(handlers.apply_fit, {ui.proposal} | form.inputs(), outputs + [ui.message, ui.apply_fit])
    ui.preset.change(handlers.apply_preset, [ui.preset], outputs)
    ui.find_layers.click(handlers.find_layers, [form.fields["model.source"], form.fields["model.trust_remote_code"]],
                         [form.fields["lora.target_modules"], ui.message])
    ui.save.click(handlers.save, form.inputs(), [ui.message, ui.command, ui.saved_file])
    ui.load.upload(handlers.load, [ui.load], outputs + [ui.message, ui.queue_chain, ui.chain_file])
    ui.queue_chain.click(handlers.queue_chain, [ui.chain_file], [ui.message, ui.queue_chain, ui.chain_file],
                         concurrency_id="start", concurrency_limit=1)
