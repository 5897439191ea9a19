"""The export half of tab 6: the adapter as a zip, the merged model (as a zip of its folder), a GGUF file for
llama.cpp, LM Studio and Ollama, each a download link in the browser, with the export check's table; and, where the
`ollama` command is on this machine, "Send to Ollama".

The files are written into the studio's exports folder and served from there only (webui.app makes that folder,
and no other, a static path: nothing is copied, so a model of many GB is offered as it is). Merging and converting
take from seconds to many minutes, so they run in a worker thread while the handler shows their progress.
"""

from __future__ import annotations

import contextvars
import threading
import time
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import message, say, text_of
from core.config import ConfigError
from core.models.load import ModelError
from core.results.chat import ChatError
from core.results.export import export_adapter_zip, export_merged, pack_merged
from core.results.gguf import GGUF_TYPES, GGUFError, export_gguf, read_gguf_check, sidecar
from core.results.ollama import OllamaError, ollama_available, ollama_commands, send_to_ollama

CHECK_HEADERS = ["prompt", "exported model", "in-app adapter", "same"]
CHECK_KEYS = ["export.prompt", "export.exported", "export.adapter", "export.same"]
FAILURES = (ChatError, ModelError, ConfigError, GGUFError, OllamaError, OSError)


def build(i18n) -> SimpleNamespace:
    gr.Markdown(i18n("eval.export_heading"))
    with gr.Row():
        export_zip = gr.Button(i18n("eval.export_zip"), elem_id="export-zip")
        export_merge = gr.Button(i18n("eval.export_merged"), elem_id="export-merged")
        with gr.Column(min_width=300):
            gguf_type = gr.Dropdown(list(GGUF_TYPES), value="auto", label=i18n("eval.gguf_type"),
                                    info=i18n("eval.gguf_type_help"), elem_id="export-gguf-type")
            export_gguf_button = gr.Button(i18n("eval.export_gguf"), elem_id="export-gguf")
    export_notice = gr.Markdown(elem_id="export-notice")
    with gr.Row():
        zip_file = gr.File(label=i18n("eval.zip_file"), interactive=False, height=90, elem_id="export-zip-file")
        merged_zip = gr.File(label=i18n("eval.merged_zip"), interactive=False, height=90, elem_id="export-merged-zip")
        gguf_file = gr.File(label=i18n("eval.gguf_file"), interactive=False, height=90, elem_id="export-gguf-file")
    check = gr.Dataframe(headers=CHECK_HEADERS, label=i18n("eval.check"), interactive=False, wrap=True,
                         elem_id="export-check")
    modelfile = gr.State("")  # the last GGUF's Modelfile, for Send to Ollama
    send = gr.Button(i18n("eval.send_ollama"), visible=False, elem_id="export-send-ollama")
    return SimpleNamespace(export_zip=export_zip, export_merge=export_merge, gguf_type=gguf_type,
                           export_gguf=export_gguf_button, export_notice=export_notice, zip_file=zip_file,
                           merged_zip=merged_zip, gguf_file=gguf_file, check=check, modelfile=modelfile, send=send)


class ExportHandlers:
    """The export panel's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, studio):
        self.ui, self.studio = ui, studio

    def make_zip(self, name) -> dict:
        ui = self.ui
        run = self.studio.run_named(name or "")
        if run is None:
            return {ui.export_notice: say("export.pick_run"), ui.zip_file: None}
        out = self.studio.exports_dir / f"{run.name}-adapter-{_stamp()}.zip"
        try:
            export_adapter_zip(run.path, out, progress=lambda _: None)
        except FAILURES as err:
            return {ui.export_notice: f"**{text_of(err)}**", ui.zip_file: None}
        return {ui.export_notice: say("export.zip_done", path=out), ui.zip_file: str(out)}

    def merge(self, name):
        ui = self.ui
        run = self.studio.run_named(name or "")
        if run is None:
            yield {ui.export_notice: say("export.pick_run")}
            return
        out = self.studio.exports_dir / f"{run.name}-merged-{_stamp()}"

        def work(progress):
            export_merged(run.path, out, progress=progress)
            progress(message("export.packing"))
            return pack_merged(out, out.with_suffix(".zip"))  # the zip only: 2 x 500 MB kept was 500 MB too many

        for line, packed, error in in_worker(work, message("export.merging", path=str(out))):
            if error:
                yield {ui.export_notice: f"**{text_of(error)}**"}
            elif packed is None:
                yield {ui.export_notice: "⏳ " + text_of(line)}
            else:
                zipped, result = packed
                result = result or {"agree": False, "answers": []}
                yield {ui.export_notice: verdict(result, say("export.merged_model"))
                       + say("export.merged_done", path=zipped, folder=out.name),
                       ui.check: check_rows(result), ui.merged_zip: str(zipped)}

    def gguf(self, name, gguf_type):
        ui = self.ui
        run = self.studio.run_named(name or "")
        if run is None:
            yield {ui.export_notice: say("export.pick_run")}
            return
        out = self.studio.exports_dir / f"{run.name}-{_stamp()}.gguf"
        work = lambda progress: export_gguf(run.path, out, gguf_type or "auto", progress=progress)  # noqa: E731
        for line, written, error in in_worker(work, message("export.writing", path=str(out))):
            if error:
                yield {ui.export_notice: f"**{text_of(error)}**"}
            elif written is None:
                yield {ui.export_notice: "⏳ " + text_of(line)}
            else:
                result = read_gguf_check(written) or {"agree": None, "answers": []}
                notice = verdict(result, say("export.gguf")) + say(
                    "export.gguf_done", modelfile=sidecar(written, "modelfile").name,
                    card=sidecar(written, "card").name, path=written)
                yield {ui.export_notice: notice, ui.check: check_rows(result), ui.gguf_file: str(written),
                       ui.modelfile: str(sidecar(written, "modelfile")), ui.send: ollama_offer()}

    def send(self, name, modelfile) -> dict:
        if not modelfile:
            return {self.ui.export_notice: say("export.need_gguf")}
        try:
            reply = send_to_ollama(name or "finetuned", modelfile)
        except FAILURES as err:
            return {self.ui.export_notice: f"**{text_of(err)}**"}
        create, test = ollama_commands(name or "finetuned", modelfile)
        return {self.ui.export_notice: say("export.ollama_done", command=" ".join(create[:3]), prompt=test[-1],
                                           reply=reply)}


def connect(ui, run_picker, studio) -> None:
    handlers = ExportHandlers(ui, studio)
    ui.export_zip.click(handlers.make_zip, [run_picker], [ui.export_notice, ui.zip_file], concurrency_id="export",
                        concurrency_limit=1)
    ui.export_merge.click(handlers.merge, [run_picker], [ui.export_notice, ui.check, ui.merged_zip],
                          concurrency_id="export", concurrency_limit=1)
    ui.export_gguf.click(handlers.gguf, [run_picker, ui.gguf_type],
                         [ui.export_notice, ui.check, ui.gguf_file, ui.modelfile, ui.send],
                         concurrency_id="export", concurrency_limit=1)
    ui.send.click(handlers.send, [run_picker, ui.modelfile], [ui.export_notice], concurrency_id="export",
                  concurrency_limit=1)


def ollama_offer() -> dict:
    """Send to Ollama is offered only where the `ollama` command is on this machine's PATH."""
    return gr.update(visible=ollama_available())


def in_worker(work, first_line, failures: tuple = FAILURES):
    """Run work(progress) in a thread; yield (latest progress line, None, None) twice a second while it runs, then
    (None, its result, None), or (None, None, the error) for one of `failures` (errors a user can act on).

    Progress lines and errors are handed on as core made them (a Message, a StudioError or a str): the page says
    them with text_of, in its language."""
    progress: list = [first_line]
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = work(progress.append)
        except failures as err:
            outcome["error"] = err

    # In a copy of this context, so that what the work says is said in the page's language too.
    worker = threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True, name="worker")
    worker.start()
    while worker.is_alive():
        yield progress[-1], None, None
        worker.join(0.5)
    if "error" in outcome:
        yield None, None, outcome["error"]
    elif "result" in outcome:
        yield None, outcome["result"], None
    else:
        yield None, None, message("worker.stopped")


def verdict(result: dict, what: str) -> str:
    if result.get("agree") is None:
        return say("export.unchecked", what=what, error=result.get("error") or say("export.no_check_result"))
    answers = result["answers"]
    agree = sum(r["agree"] for r in answers)
    return say("export.passed" if result["agree"] else "export.failed", what=what, agree=agree,
               total=len(answers))


def check_rows(result: dict) -> dict:
    rows = [[r["prompt"], r["exported"], r["adapter"], say("export.yes" if r["agree"] else "export.no")]
            for r in result.get("answers", [])] or [[say("table.none_yet"), *[""] * (len(CHECK_KEYS) - 1)]]
    return {"headers": [say(key) for key in CHECK_KEYS], "data": rows}


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")
