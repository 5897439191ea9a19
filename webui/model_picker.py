"""The model picker of the Model tab and Quick start: the curated models with their size, license, gate, chat
template and what each needs on this machine (core.measure.model_fit), and the Download button with its progress
bar (bytes, speed, time left) and Cancel. The download itself is core.hub.download's, run on a thread of its own
(one at a time for the studio), which the page polls; closing the page leaves it going."""

from __future__ import annotations

import html
import threading
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import StudioError, say, text_of
from core.hub import curated, download, settings
from core.models import devices, parent

COLUMNS = ("model", "verdict", "size", "license", "gated", "family", "lora", "qlora", "full")


class Downloader:
    """The studio's one download at a time: the engine's download_model on a thread, its latest Progress kept for
    the page to read."""

    def __init__(self):
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stop = threading.Event()
        self.model_id = ""
        self.progress: download.Progress | None = None
        self.folder = None
        self.error: StudioError | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, model_id: str, hub_settings=None, cache_dir=None) -> bool:
        """Start downloading `model_id`; False when another download is going."""
        with self.lock:
            if self.running:
                return False
            self.stop = threading.Event()
            self.model_id, self.progress, self.folder, self.error = model_id, None, None, None
            self.thread = threading.Thread(target=self._run, args=(model_id, hub_settings, cache_dir, self.stop),
                                           name=f"download {model_id}", daemon=True)
            self.thread.start()
        return True

    def _run(self, model_id, hub_settings, cache_dir, stop) -> None:
        def keep(progress: download.Progress) -> None:
            self.progress = progress

        try:
            self.folder = download.download_model(model_id, settings=hub_settings, cache_dir=cache_dir,
                                                  progress=keep, stop=stop)
        except StudioError as err:
            self.error = err
        except Exception as err:  # noqa: BLE001 - whatever broke, the page says it instead of spinning forever
            self.error = settings.HubError("hub.download.failed", id=model_id, address="", reason=str(err)[:300])

    def cancel(self) -> None:
        self.stop.set()


def machine_text(inventory) -> str:
    if not inventory.gpus:
        return say("hub.picker.machine_cpu", ram=inventory.ram_available_gb)
    return ", ".join(say("hub.picker.machine_gpu", index=g.index, free=g.free_gb) for g in inventory.gpus)


def model_name(entry) -> str:
    name = entry.hub_id.rsplit("/", 1)[-1]
    return say("hub.picker.builtin", name=name) if entry.builtin else entry.hub_id


def table(config, inventory=None) -> dict:
    """The picker's rows, said in the current language, for `config`'s batch and length on `inventory`."""
    from core.measure import model_fit

    inventory = inventory or devices.inventory()
    rows = []
    for entry, found in model_fit.curated_fits(inventory, config.train, config.lora):
        rows.append([model_name(entry), text_of(found.verdict()), f"{entry.size_gb:.1f} GB", entry.license,
                     say("hub.picker.yes" if entry.gated else "hub.picker.no"), entry.family]
                    + [text_of(found.methods[m].cell()) for m in ("lora", "qlora", "full")])
    return {"headers": [say(f"hub.picker.col_{column}") for column in COLUMNS], "data": rows}


def assumptions_text(config, inventory=None) -> str:
    inventory = inventory or devices.inventory()
    return say("hub.picker.assumes", batch=config.train.batch_size, length=config.train.max_length,
               machine=machine_text(inventory))


def picked_text(source: str, config=None, inventory=None, runs_dir="runs") -> str:
    """What the picked model is and whether it is here: size, license, verdict, downloaded or where it comes from,
    and for a gated model without a stored token, where to accept its license. A finished run (run:NAME, found in
    `runs_dir`) is told by what it trained and what it stands on."""
    if parent.names_run(source or ""):
        return run_text(source, runs_dir)
    entry = curated.find(source or "")
    if entry is None:
        return ""
    from core.measure import model_fit

    config = config or _default_config()
    inventory = inventory or devices.inventory()
    hf_config, skeleton = model_fit._config_and_skeleton(str(entry.config_dir()))
    verdict = model_fit.fit(hf_config, inventory, config.train, config.lora, model=skeleton).verdict()
    hub = settings.load_settings()
    if entry.builtin:
        state = say("hub.picker.builtin_note")
    elif (folder := download.find_local(entry.id_on(hub.hub), hub=hub.hub)) is not None:
        state = say("hub.picker.downloaded", folder=str(folder))
    else:
        state = say("hub.picker.to_download", address=hub.address())
        if entry.gated and hub.hub == "huggingface" and not settings.has_token("huggingface"):
            state += "\n\n" + say("hub.picker.gated_note", id=entry.hub_id, page=entry.license_page())
    return say("hub.picker.picked", id=entry.hub_id, size=entry.size_gb, license=entry.license,
               verdict=text_of(verdict), state=state)


def run_text(source: str, runs_dir="runs") -> str:
    """A finished run as a base: its method, data and final held-out loss, and the model at the bottom of its chain
    (with the runs between); or why it cannot be started from."""
    try:
        found = parent.lineage(source, runs_dir)
    except StudioError as err:
        return f"**{text_of(err)}**"
    loss = say("models.parent.picked_loss", loss=found.eval_loss) if found.eval_loss is not None \
        else say("models.parent.picked_no_loss")
    through = say("models.parent.picked_through", runs=", ".join(found.below)) if found.below else ""
    return say("models.parent.picked", name=found.run.name, method=found.config.train.method,
               data=Path(found.config.data.path).name, loss=loss, base=found.base, through=through)


def _default_config():
    from core.config import Config

    return Config()


def progress_html(progress: download.Progress | None) -> str:
    """The bar: a <progress> element the page draws, with the line (bytes, speed, time left) under it."""
    if progress is None:
        return ""
    share = progress.done_bytes / progress.total_bytes if progress.total_bytes else 1.0
    line = html.escape(text_of(download.progress_line(progress)))
    return (f'<progress id="download-bar" value="{share:.3f}" max="1" style="width:100%"></progress>'
            f'<div id="download-line">{line}</div>')


def build(i18n) -> SimpleNamespace:
    """The picker's table, the picked model's line and the download controls, inside the caller's layout."""
    gr.Markdown(i18n("hub.picker.heading"))
    gr.Markdown(i18n("hub.picker.intro"))
    assumptions = gr.Markdown(elem_id="picker-assumes")
    models = gr.Dataframe(headers=list(COLUMNS), interactive=False, wrap=True, max_height=360,
                          elem_id="model-picker")
    picked = gr.Markdown(elem_id="picked-model")
    with gr.Row():
        start = gr.Button(i18n("hub.picker.download"), size="sm", variant="primary", elem_id="download-model")
        cancel = gr.Button(i18n("hub.picker.cancel"), size="sm", elem_id="cancel-download")
    bar = gr.HTML(elem_id="download-progress")
    status = gr.Markdown(elem_id="download-status")
    timer = gr.Timer(1.0, active=False)
    return SimpleNamespace(assumptions=assumptions, models=models, picked=picked, start=start, cancel=cancel,
                           bar=bar, status=status, timer=timer)


class PickerHandlers:
    """The picker's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, form, downloader: Downloader, choices, runs_dir="runs"):
        self.ui, self.form, self.downloader, self.choices = ui, form, downloader, choices
        self.runs_dir = runs_dir  # where a run:NAME base is found

    def _config(self, values: dict):
        try:
            return self.form.config_from(values)
        except StudioError:
            return _default_config()

    def fill(self, values: dict) -> dict:
        config, inventory = self._config(values), devices.inventory()
        source = values.get(self.form.fields["model.source"])
        return {self.ui.models: table(config, inventory), self.ui.assumptions: assumptions_text(config, inventory),
                self.ui.picked: picked_text(source, config, inventory, self.runs_dir)}

    def pick(self, event: gr.SelectData) -> dict:
        """A row clicked: its model becomes model.source."""
        row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        entry = curated.CURATED[row]
        return {self.form.fields["model.source"]: gr.update(value=entry.value)}

    def describe(self, values: dict) -> dict:
        source = values.get(self.form.fields["model.source"])
        return {self.ui.picked: picked_text(source, self._config(values), runs_dir=self.runs_dir)}

    def start(self, source: str) -> dict:
        ui = self.ui
        model_id = _download_id(source)
        if model_id is None:
            key = "hub.picker.pick_first" if not source else "hub.picker.not_downloadable"
            return {ui.status: say(key, source=source or "")}
        if not self.downloader.start(model_id, settings.load_settings()):
            return {ui.status: say("hub.download.busy", id=self.downloader.model_id)}
        return {ui.status: say("hub.picker.starting", id=model_id), ui.bar: "", ui.timer: gr.Timer(active=True)}

    def cancel(self) -> dict:
        self.downloader.cancel()
        return {self.ui.status: say("hub.download.cancelled") if self.downloader.running else ""}

    def tick(self, values: dict | None = None) -> dict:
        """The bar while the download goes; when it ended, how (the folder, or the error in words), and the
        downloaded model picked and listed."""
        ui, loader = self.ui, self.downloader
        if loader.running:
            return {ui.bar: progress_html(loader.progress)}
        done = {ui.bar: progress_html(loader.progress), ui.timer: gr.Timer(active=False)}
        if loader.error is not None:
            return {**done, ui.status: f"**{text_of(loader.error)}**"}
        if loader.folder is not None:
            return {**done, ui.status: say("hub.download.done", id=loader.model_id, folder=str(loader.folder)),
                    self.form.fields["model.source"]: gr.update(choices=self.choices(), value=loader.model_id),
                    ui.picked: picked_text(loader.model_id, self._config(values or {}))}
        return done


def _download_id(source: str | None) -> str | None:
    """The hub id to download for a model.source value, on the kept hub (ModelScope's name where it differs);
    None for a built-in, a local folder or nothing."""
    if not source:
        return None
    entry = curated.find(source)
    if entry is not None:
        return None if entry.builtin else entry.id_on(settings.load_settings().hub)
    return source if download.REPO_ID.match(source) and not _is_folder(source) else None


def _is_folder(source: str) -> bool:
    from pathlib import Path

    return Path(source).expanduser().exists()


def kept_hub():
    """A run's hub starts as the studio's kept one (its mirror is taken from the kept settings when left empty)."""
    return settings.load_settings().hub


def sizing_fields(form) -> list:
    """model.source, then the options the estimate depends on."""
    keys = ("train.batch_size", "train.max_length", "train.method", "train.gradient_checkpointing", "lora.r",
            "lora.target_modules")
    return [form.fields["model.source"]] + [form.fields[key] for key in keys if key in form.fields]


def connect(ui, form, demo, downloader: Downloader, choices, runs_dir="runs") -> PickerHandlers:
    handlers = PickerHandlers(ui, form, downloader, choices, runs_dir)
    source = form.fields["model.source"]
    sizing = sizing_fields(form)
    demo.load(handlers.fill, set(sizing), [ui.models, ui.assumptions, ui.picked], show_progress="hidden",
              concurrency_id="model-picker", concurrency_limit=1)
    for field in sizing[1:]:
        field.change(handlers.fill, set(sizing), [ui.models, ui.assumptions, ui.picked], show_progress="hidden",
                     concurrency_id="model-picker", concurrency_limit=1)
    ui.models.select(handlers.pick, None, [source], show_progress="hidden")
    if "model.hub" in form.fields:
        demo.load(kept_hub, None, [form.fields["model.hub"]], show_progress="hidden")
    source.change(handlers.describe, set(sizing), [ui.picked], show_progress="hidden")
    ui.start.click(handlers.start, [source], [ui.status, ui.bar, ui.timer])
    ui.cancel.click(handlers.cancel, None, [ui.status])
    ui.timer.tick(handlers.tick, set(sizing), [ui.bar, ui.status, ui.timer, source, ui.picked],
                  show_progress="hidden")
    return handlers
