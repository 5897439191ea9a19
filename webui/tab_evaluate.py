"""Tab 6, Evaluate and export: base vs tuned on a labelled test file, then hand the result on.

Scoring is core.results.evaluate's; this tab picks the run and the file and shows the tables. The export half (zip,
merged model, GGUF, downloads, Ollama) is webui/export_panel.py, built into this tab. Evaluation runs in a worker
thread while the handler reports its progress line by line, so the page shows where it is; the loaded model is the
chat tab's (one model in memory, never two).
"""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from core.config import ConfigError
from core.models.load import ModelError
from core.results.chat import ChatError, ChatModel
from core.results.evaluate import EvalError, evaluate
from core.results.voting import DEFAULT_ANSWER_PATTERN, PatternError
from webui import export_panel
from webui.export_panel import in_worker

SUMMARY_HEADERS = ["measure", "base", "tuned"]
CHANGED_HEADERS = ["where", "change", "question", "expected", "base answer", "tuned answer"]
ROW_HEADERS = ["where", "question", "expected", "base", "tuned", "base right", "tuned right"]
FAILURES = (ChatError, ModelError, ConfigError, EvalError, PatternError, OSError)


def build(i18n) -> SimpleNamespace:
    with gr.Tab(i18n("tab.evaluate"), id="evaluate"):
        gr.Markdown(i18n("eval.intro"))
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                run = gr.Dropdown([], label=i18n("eval.run"), elem_id="eval-run")
                refresh = gr.Button(i18n("chat.refresh"), size="sm", elem_id="eval-refresh")
                test_file = gr.File(label=i18n("eval.file"), file_types=[".jsonl", ".json", ".csv", ".parquet"],
                                    type="filepath", height=120, elem_id="eval-file")
                pattern = gr.Textbox(DEFAULT_ANSWER_PATTERN, label=i18n("chat.answer_pattern.label"),
                                     info=i18n("chat.answer_pattern.help"), elem_id="eval-pattern")
                with gr.Row():
                    votes = gr.Number(1, minimum=1, maximum=32, precision=0, label=i18n("chat.votes.label"),
                                      info=i18n("chat.votes.help"), elem_id="eval-votes")
                    max_new_tokens = gr.Number(64, minimum=1, maximum=4096, precision=0,
                                               label=i18n("chat.max_new_tokens.label"), elem_id="eval-max-new-tokens")
                    max_rows = gr.Number(0, minimum=0, precision=0, label=i18n("eval.max_rows"),
                                         elem_id="eval-max-rows")
                start = gr.Button(i18n("eval.start"), variant="primary", elem_id="eval-start")
            with gr.Column(scale=3):
                notice = gr.Markdown(elem_id="eval-notice")
                summary = gr.Dataframe(headers=SUMMARY_HEADERS, label=i18n("eval.summary"), interactive=False,
                                       elem_id="eval-summary")
                changed = gr.Dataframe(headers=CHANGED_HEADERS, label=i18n("eval.changed"), interactive=False,
                                       wrap=True, elem_id="eval-changed")
                with gr.Accordion(i18n("eval.all_rows"), open=False):
                    rows = gr.Dataframe(headers=ROW_HEADERS, interactive=False, wrap=True, elem_id="eval-rows")
        export = export_panel.build(i18n)
    return SimpleNamespace(run=run, refresh=refresh, test_file=test_file, pattern=pattern, votes=votes,
                           max_new_tokens=max_new_tokens, max_rows=max_rows, start=start, notice=notice,
                           summary=summary, changed=changed, rows=rows, export=export)


def connect(ui, studio, demo) -> None:
    def run_choices():
        names = [r.name for r in studio.runs() if r.has_weights()]
        return gr.update(choices=names, value=names[0] if names else None)

    def start(name, test_file, pattern, votes, max_new_tokens, max_rows):
        run = studio.run_named(name or "")
        if run is None or not run.has_weights():
            yield "**Pick a finished run (one with an adapter) first.**", gr.skip(), gr.skip(), gr.skip()
            return
        if not test_file:
            yield ("**Upload a test file: rows with a question and the answer you expect (any format the Data tab "
                   "reads).**"), gr.skip(), gr.skip(), gr.skip()
            return

        def work(progress):
            model = studio.chat_model(f"run:{run.path}", lambda: ChatModel.from_run(run.path, progress=lambda _: None))
            return evaluate(run.path, test_file, pattern=pattern or "", votes=int(votes or 1),
                            max_new_tokens=int(max_new_tokens or 64), max_rows=int(max_rows or 0), progress=progress,
                            chat_model=model)

        for line, report, error in in_worker(work, "Loading the model ...", FAILURES):
            if error:
                yield f"**{error}**", gr.skip(), gr.skip(), gr.skip()
            elif report is None:
                yield line, gr.skip(), gr.skip(), gr.skip()
            else:
                yield (report_notice(report), report.summary_rows(),
                       report.changed_rows() or [["", "", "", "", "", ""]], all_rows(report))

    ui.refresh.click(run_choices, None, [ui.run])
    demo.load(run_choices, None, [ui.run])
    ui.start.click(start, [ui.run, ui.test_file, ui.pattern, ui.votes, ui.max_new_tokens, ui.max_rows],
                   [ui.notice, ui.summary, ui.changed, ui.rows], concurrency_id="chat", concurrency_limit=1)
    export_panel.connect(ui.export, ui.run, studio)


def report_notice(report) -> str:
    lines = [f"Evaluated **{report.rows}** rows"
             + (f", majority of {report.votes} sampled answers per row" if report.votes > 1 else "") + "."]
    if report.tuned.answered:
        changed = report.changed()
        fixed = sum(r.change == "fixed" for r in changed)
        lines.append(f"Exact match: base {report.base.correct}/{report.base.answered}, tuned "
                     f"{report.tuned.correct}/{report.tuned.answered} ({fixed} fixed, {len(changed) - fixed} broken).")
    return "  \n".join(lines + report.notes)


def all_rows(report) -> list[list[str]]:
    def answer(text, votes):
        return text + (f"  [{', '.join(f'{a}: {n}' for a, n in votes.items())}]" if votes else "")

    return [[r.where, r.prompt, r.expected, answer(r.base_answer, r.base_votes), answer(r.tuned_answer, r.tuned_votes),
             "yes" if r.base_correct else "no", "yes" if r.tuned_correct else "no"] for r in report.results] \
        or [[""] * len(ROW_HEADERS)]
