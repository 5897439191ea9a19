"""Tab 6, Evaluate and export: base vs tuned on a labelled test file, then hand the result on.

Scoring is core.results.evaluate's; this tab picks the run and the file and shows the tables. Answering a whole
test file without reference answers is webui/answer_file.py, and the export half (zip, merged model, GGUF, downloads,
Ollama) webui/export_panel.py, both built into this tab. Evaluation runs in a worker thread while the handler reports
its progress line by line, so the page shows where it is; the loaded model is the chat tab's (one model in memory,
never two).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import message, say, text_of
from core.config import Config, ConfigError
from core.models import devices, parent
from core.models.load import ModelError
from core.results.chat import ChatError, ChatModel
from core.results.evaluate import EvalError, evaluate
from core.data.answers import DEFAULT_ANSWER_PATTERN, PatternError
from webui import answer_file, export_panel
from webui.export_panel import in_worker
from webui.studio import SAMPLES_DIR
from webui.tab_train import _clock

SUMMARY_HEADERS = ["measure", "base", "tuned"]
CHANGED_HEADERS = ["where", "change", "question", "expected", "base answer", "tuned answer"]
ROW_HEADERS = ["where", "question", "expected", "base", "tuned", "base right", "tuned right"]
# The header keys in core/catalogue/pages.py, column for column.
SUMMARY_KEYS = ["eval.measure", "eval.base", "eval.tuned"]
CHANGED_KEYS = ["eval.where", "eval.change", "eval.question", "eval.expected", "eval.base_answer", "eval.tuned_answer"]
ROW_KEYS = ["eval.where", "eval.question", "eval.expected", "eval.base", "eval.tuned", "eval.base_right",
            "eval.tuned_right"]
MEASURE_KEYS = {"loss": "eval.loss", "perplexity": "eval.perplexity", "exact match": "eval.exact_match",
                "key words found": "eval.key_words", "preference accuracy": "eval.preference_accuracy"}
# Questions about the identity demo the training file does not hold, with the answers it teaches: evaluate a run of
# the bundled sample without writing a test file first.
BUNDLED_TEST = SAMPLES_DIR / "identity_test.jsonl"
FAILURES = (ChatError, ModelError, ConfigError, EvalError, PatternError, OSError)


def build(i18n) -> SimpleNamespace:
    with gr.Tab(i18n("tab.evaluate"), id="evaluate") as tab:
        gr.Markdown(i18n("eval.intro"))
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                run = gr.Dropdown([], label=i18n("eval.run"), elem_id="eval-run")
                refresh = gr.Button(i18n("chat.refresh"), size="sm", elem_id="eval-refresh")
                test_file = gr.File(label=i18n("eval.file"), file_types=[".jsonl", ".json", ".csv", ".parquet"],
                                    type="filepath", height=120, elem_id="eval-file")
                use_bundled = gr.Button(i18n("eval.use_bundled"), size="sm", elem_id="eval-use-bundled")
                pattern = gr.Textbox(DEFAULT_ANSWER_PATTERN, label=i18n("chat.answer_pattern.label"),
                                     info=i18n("chat.answer_pattern.help"), elem_id="eval-pattern")
                with gr.Row():
                    votes = gr.Number(1, minimum=1, maximum=32, precision=0, label=i18n("chat.votes.label"),
                                      info=i18n("chat.votes.help"), elem_id="eval-votes")
                    max_new_tokens = gr.Number(64, minimum=1, maximum=4096, precision=0,
                                               label=i18n("chat.max_new_tokens.label"), elem_id="eval-max-new-tokens")
                    max_rows = gr.Number(0, minimum=0, precision=0, label=i18n("eval.max_rows"),
                                         elem_id="eval-max-rows")
                original_base = gr.Checkbox(False, label=i18n("eval.original_base"),
                                            info=i18n("eval.original_base_help"), visible=False,
                                            elem_id="eval-original-base")
                start = gr.Button(i18n("eval.start"), variant="primary", elem_id="eval-start")
            with gr.Column(scale=3):
                notice = gr.Markdown(elem_id="eval-notice")
                summary = gr.Dataframe(headers=SUMMARY_HEADERS, label=i18n("eval.summary"), interactive=False,
                                       wrap=True, elem_id="eval-summary")
                changed = gr.Dataframe(headers=CHANGED_HEADERS, label=i18n("eval.changed"), interactive=False,
                                       wrap=True, elem_id="eval-changed")
                with gr.Accordion(i18n("eval.all_rows"), open=False):
                    rows = gr.Dataframe(headers=ROW_HEADERS, interactive=False, wrap=True, elem_id="eval-rows")
        answers = answer_file.build(i18n)
        export = export_panel.build(i18n)
    return SimpleNamespace(tab=tab, run=run, refresh=refresh, test_file=test_file, use_bundled=use_bundled,
                           pattern=pattern, votes=votes, max_new_tokens=max_new_tokens, max_rows=max_rows,
                           original_base=original_base, start=start,
                           notice=notice, summary=summary, changed=changed, rows=rows, answers=answers,
                           export=export)


class EvaluateHandlers:
    """The Evaluate tab's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, studio):
        self.ui, self.studio = ui, studio

    def run_choices(self, current=None) -> dict:
        names = [r.name for r in self.studio.runs() if r.has_weights()]
        return {self.ui.run: gr.update(choices=names,
                                       value=current if current in names else (names[0] if names else None))}

    def chained(self, name) -> dict:
        """The switch to the original base, shown only for a run that started from another run (and unticked
        whenever the run changes: the base side is the parent's result unless asked for again)."""
        run = self.studio.run_named(name or "")
        return {self.ui.original_base: gr.update(visible=run is not None and started_from_run(run), value=False)}

    def use_bundled(self) -> dict:
        return {self.ui.test_file: str(BUNDLED_TEST)}

    def empty_tables(self) -> dict:
        """The tables' headers in the page's language before anything is evaluated or exported."""
        ui = self.ui
        return {ui.summary: table_of([], SUMMARY_KEYS), ui.changed: table_of([], CHANGED_KEYS),
                ui.rows: table_of([], ROW_KEYS), ui.export.check: table_of([], export_panel.CHECK_KEYS)}

    def start(self, name, test_file, pattern, votes, max_new_tokens, max_rows, original_base=False):
        """Score base and tuned on the test file, saying where it is while it works. With `original_base` (a run
        started from a run), the base side is the model at the bottom of the chain, loaded beside the tuned one for
        this evaluation only and let go after it, as `launch.py eval --original-base` does."""
        ui = self.ui
        run = self.studio.run_named(name or "")
        if run is None or not run.has_weights():
            yield {ui.notice: say("eval.pick_run")}
            return
        if not test_file:
            yield {ui.notice: say("eval.need_file")}
            return
        started = time.monotonic()

        def work(progress):
            model = self.studio.chat_model(f"run:{run.path}",
                                           lambda: ChatModel.from_run(run.path, progress=lambda _: None))
            try:
                return evaluate(run.path, test_file, pattern=pattern or "", votes=int(votes or 1),
                                max_new_tokens=int(max_new_tokens or 64), max_rows=int(max_rows or 0),
                                progress=progress, chat_model=model, original_base=bool(original_base))
            finally:
                if original_base:
                    devices.release_memory()  # the original base is gone with evaluate's frame: its memory too

        for line, report, error in in_worker(work, message("eval.loading"), FAILURES):
            if error:
                yield {ui.notice: f"**{text_of(error)}**"}
            elif report is None:
                yield {ui.notice: say("eval.waiting", line=text_of(line), clock=_clock(time.monotonic() - started))}
            else:
                yield {ui.notice: report_notice(report), ui.summary: summary_table(report),
                       ui.changed: changed_table(report), ui.rows: all_rows(report)}


def connect(ui, studio, demo) -> None:
    handlers = EvaluateHandlers(ui, studio)
    ui.refresh.click(handlers.run_choices, None, [ui.run])
    ui.use_bundled.click(handlers.use_bundled, None, [ui.test_file])
    demo.load(handlers.run_choices, None, [ui.run])
    demo.load(handlers.empty_tables, None, [ui.summary, ui.changed, ui.rows, ui.export.check], show_progress="hidden")
    ui.tab.select(handlers.run_choices, [ui.run], [ui.run], show_progress="hidden")  # a run finished meanwhile
    ui.run.change(handlers.chained, [ui.run], [ui.original_base], show_progress="hidden")
    ui.start.click(handlers.start, [ui.run, ui.test_file, ui.pattern, ui.votes, ui.max_new_tokens, ui.max_rows,
                                    ui.original_base],
                   [ui.notice, ui.summary, ui.changed, ui.rows], concurrency_id="chat", concurrency_limit=1)
    answer_file.connect(ui.answers, ui.run, studio, demo)
    export_panel.connect(ui.export, ui.run, studio)


def started_from_run(run) -> bool:
    try:
        return parent.names_run(Config.from_yaml(run.config_file).model.source)
    except ConfigError:
        return False


def report_notice(report) -> str:
    """What changed, in plain words first (key words found, answers closer or further), then exact match."""
    lines = []
    if report.tuned.answered and report.tuned.key_words is not None:
        lines.append(say("eval.headline_words", tuned=100 * report.tuned.key_words,
                         base=100 * (report.base.key_words or 0)))
        better = sum((r.tuned_key_words or 0) > (r.base_key_words or 0) for r in report.results)
        worse = sum((r.tuned_key_words or 0) < (r.base_key_words or 0) for r in report.results)
        lines.append(say("eval.better" if better > worse else "eval.not_better", better=better, worse=worse,
                         rows=len(report.results)))
    if report.base.loss is not None and report.tuned.loss is not None:
        lines.append(say("eval.loss_fell", base=report.base.loss, tuned=report.tuned.loss))
    if report.tuned.answered:
        changed = report.changed()
        fixed = sum(r.change == "fixed" for r in changed)
        lines.append(say("eval.exact", base=report.base.correct, tuned=report.tuned.correct,
                         n=report.tuned.answered, fixed=fixed, broken=len(changed) - fixed))
    votes = say("eval.votes", votes=report.votes) if report.votes > 1 else ""
    lines.append(say("eval.evaluated", rows=report.rows, votes=votes))
    return "  \n".join(lines + [text_of(note) for note in report.notes])


def table_of(rows: list[list], keys: list[str], empty: str = "table.none_yet") -> dict:
    """A table with headers in the page's language; an empty one says so in its one row (Gradio drops the headers
    of a table without rows, and a blank row looks like something failed to load)."""
    return {"headers": [say(key) for key in keys], "data": rows or [[say(empty), *[""] * (len(keys) - 1)]]}


def summary_table(report) -> dict:
    rows = [[say(MEASURE_KEYS[name]) if name in MEASURE_KEYS else name, base, tuned]
            for name, base, tuned in report.summary_rows()]
    return {"headers": [say(key) for key in SUMMARY_KEYS], "data": rows}


def changed_table(report) -> dict:
    rows = [[r[0], say(f"eval.{r[1]}"), *r[2:]] for r in report.changed_rows()]
    return table_of(rows, CHANGED_KEYS, "eval.none_changed")


def all_rows(report) -> dict:
    def answer(text, votes):
        return text + (f"  [{', '.join(f'{a}: {n}' for a, n in votes.items())}]" if votes else "")

    def yes(flag):
        return say("eval.yes" if flag else "eval.no")

    rows = [[r.where, r.prompt, r.expected, answer(r.base_answer, r.base_votes),
             answer(r.tuned_answer, r.tuned_votes), yes(r.base_correct), yes(r.tuned_correct)]
            for r in report.results]
    return table_of(rows, ROW_KEYS)

