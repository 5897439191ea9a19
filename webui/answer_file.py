"""'Answer a test file', in tab 6: every row of a file without reference answers answered by the run's model, the
answer pulled out by the pattern, the majority of N votes kept; the first rows, the rows with no answer, and the
answers (.jsonl) and the submission (.csv) to download.

Answering is core.results.predict's; the page picks the file and the settings and shows where it is. The out files
live in the run's folder, answers/<test file>.jsonl and .csv, so pressing the button again on the same file resumes
(predict keeps the rows already there). The model is the chat tab's when it holds the same run (one model in memory,
never two). Stop is cooperative: the worker stops after the rows in hand, which are already written.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import message, say, text_of
from core.config import ConfigError
from core.data.answers import DEFAULT_ANSWER_PATTERN, PatternError
from core.models.load import ModelError
from core.results.chat import ChatError, ChatModel
from core.results.predict import PredictError, check_request, kept_rows, predict
from webui.export_panel import in_worker
from webui.studio import safe_file_name
from webui.tab_train import _clock

FIRST_ROWS = 50  # rows the table shows; the files hold every row
SAID_CHARACTERS = 300  # of an unanswered row's first text: enough to see why the pattern missed it
ROW_KEYS = ["answers.row", "answers.id", "answers.answer", "answers.votes"]
UNANSWERED_KEYS = ["answers.row", "answers.id", "answers.said"]
ANSWERS_FOLDER = "answers"  # in the run's folder


class Stopped(Exception):
    """Raised in the worker at the next progress line after Stop: predict has written every row before it."""


FAILURES = (ChatError, ModelError, ConfigError, PredictError, PatternError, OSError, Stopped)


def build(i18n) -> SimpleNamespace:
    with gr.Accordion(i18n("answers.heading"), open=False, elem_id="answers"):
        gr.Markdown(i18n("answers.intro"))
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                test_file = gr.File(label=i18n("answers.file"), file_types=[".jsonl", ".json", ".csv", ".parquet"],
                                    type="filepath", height=120, elem_id="answers-file")
                pattern = gr.Textbox(DEFAULT_ANSWER_PATTERN, label=i18n("chat.answer_pattern.label"),
                                     info=i18n("chat.answer_pattern.help"), elem_id="answers-pattern")
                with gr.Row():
                    votes = gr.Number(1, minimum=1, maximum=32, precision=0, label=i18n("chat.votes.label"),
                                      info=i18n("chat.votes.help"), elem_id="answers-votes")
                    max_new_tokens = gr.Number(256, minimum=1, maximum=8192, precision=0,
                                               label=i18n("chat.max_new_tokens.label"),
                                               elem_id="answers-max-new-tokens")
                start_over = gr.Checkbox(False, label=i18n("answers.start_over"), elem_id="answers-start-over")
                with gr.Row():
                    start = gr.Button(i18n("answers.start"), variant="primary", elem_id="answers-start")
                    stop = gr.Button(i18n("demo.stop"), variant="stop", elem_id="answers-stop")
            with gr.Column(scale=3):
                notice = gr.Markdown(elem_id="answers-notice")
                first_rows = gr.Dataframe(label=i18n("answers.first_rows"), interactive=False, wrap=True,
                                          elem_id="answers-rows")
                unanswered = gr.Dataframe(label=i18n("answers.unanswered"), interactive=False, wrap=True,
                                          elem_id="answers-unanswered")
                with gr.Row():
                    jsonl_file = gr.File(label=i18n("answers.jsonl_file"), interactive=False, height=90,
                                         elem_id="answers-jsonl")
                    csv_file = gr.File(label=i18n("answers.csv_file"), interactive=False, height=90,
                                       elem_id="answers-csv")
    return SimpleNamespace(test_file=test_file, pattern=pattern, votes=votes, max_new_tokens=max_new_tokens,
                           start_over=start_over, start=start, stop=stop, notice=notice, first_rows=first_rows,
                           unanswered=unanswered, jsonl_file=jsonl_file, csv_file=csv_file)


def answer_paths(run_path: Path, test_file: str) -> tuple[Path, Path]:
    """runs/NAME/answers/<stem>.jsonl and .csv: the same test file name finds its answers again."""
    stem = Path(safe_file_name(Path(test_file).name)).stem or "answers"
    folder = Path(run_path) / ANSWERS_FOLDER
    return folder / f"{stem}.jsonl", folder / f"{stem}.csv"


class AnswerFileHandlers:
    """The section's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, studio):
        self.ui, self.studio = ui, studio
        # One answering at a time (the "chat" concurrency group holds the one model), so one flag is enough.
        self.stopping = threading.Event()

    def empty_tables(self) -> dict:
        """The tables' headers in the page's language before anything is answered."""
        return {self.ui.first_rows: table_of([], ROW_KEYS), self.ui.unanswered: table_of([], UNANSWERED_KEYS)}

    def stop(self) -> dict:
        self.stopping.set()
        return {self.ui.notice: say("answers.stopping")}

    def start(self, name, test_file, pattern, votes, max_new_tokens, start_over):
        """Answer every row not yet answered, saying where it is while it works; the tables and files at the end."""
        ui = self.ui
        run = self.studio.run_named(name or "")
        if run is None or not run.has_weights():
            yield {ui.notice: say("eval.pick_run")}
            return
        if not test_file:
            yield {ui.notice: say("answers.need_file")}
            return
        out, csv = answer_paths(run.path, test_file)
        votes = 1 if votes is None else int(votes)
        pattern = pattern or ""  # empty: the whole answer
        try:
            out.parent.mkdir(exist_ok=True)
            if start_over:
                out.unlink(missing_ok=True)
                csv.unlink(missing_ok=True)
            questions, _, kept = check_request(test_file, out, votes, pattern, csv)  # refused before loading
        except (PredictError, PatternError, OSError) as err:
            yield {ui.notice: refusal(err, out)}
            return
        self.stopping.clear()
        started = time.monotonic()

        def work(progress):
            def said(line):
                if self.stopping.is_set():
                    raise Stopped()
                progress(line)

            model = self.chat_model(run) if len(kept) < len(questions) else None  # all kept: nothing to load
            return predict(run.path, test_file, out, votes=votes, pattern=pattern, csv_path=csv,
                           max_new_tokens=int(max_new_tokens or 256), progress=said, chat_model=model)

        for line, report, error in in_worker(work, message("eval.loading"), FAILURES):
            if isinstance(error, Stopped):
                rows = answered_rows(out, questions)
                yield {ui.notice: say("answers.stopped", done=len(rows), total=len(questions), path=out),
                       **self.tables(rows), ui.jsonl_file: str(out) if rows else None, ui.csv_file: None}
            elif error:
                yield {ui.notice: refusal(error, out)}
            elif report is None:
                waiting = self.stopping.is_set()
                yield {ui.notice: say("answers.stopping") if waiting else say(
                    "eval.waiting", line=text_of(line), clock=_clock(time.monotonic() - started))}
            else:
                rows = answered_rows(out, questions)
                yield {ui.notice: finished_notice(report, len(rows)), **self.tables(rows),
                       ui.jsonl_file: str(out), ui.csv_file: str(csv)}

    def chat_model(self, run) -> ChatModel:
        """The chat tab's model when it holds this run (the same key as webui/tab_chat.py), else this run's, loaded
        in its place."""
        held = self.studio.runner.held_gpus
        return self.studio.chat_model(f"run:{run.path}:{held}", lambda: ChatModel.from_run(
            run.path, progress=lambda _: None, held_gpus=held))

    def tables(self, rows: list[dict]) -> dict:
        return {self.ui.first_rows: first_rows(rows), self.ui.unanswered: unanswered_rows(rows)}


def connect(ui, run_picker, studio, demo) -> None:
    handlers = AnswerFileHandlers(ui, studio)
    demo.load(handlers.empty_tables, None, [ui.first_rows, ui.unanswered], show_progress="hidden")
    ui.start.click(handlers.start, [run_picker, ui.test_file, ui.pattern, ui.votes, ui.max_new_tokens, ui.start_over],
                   [ui.notice, ui.first_rows, ui.unanswered, ui.jsonl_file, ui.csv_file], concurrency_id="chat",
                   concurrency_limit=1)
    ui.stop.click(handlers.stop, None, [ui.notice], queue=False)  # never queued behind the answering it stops


def answered_rows(out: Path, questions) -> list[dict]:
    """The rows written so far, as the out file holds them (checked against the test file's rows)."""
    try:
        return kept_rows(out, questions)
    except (PredictError, OSError):
        return []


def refusal(err, out: Path) -> str:
    """An error in plain words; an out file of another test file by the same name says how to go on from the page
    (the engine's own words name the command line's --out)."""
    if isinstance(err, PredictError) and err.key == "results.predict.out_mismatch":
        return say("answers.other_file", path=out, line=err.values["line"])
    return f"**{text_of(err)}**"


def finished_notice(report, rows: int) -> str:
    lines = [text_of(note) for note in report.notes()]
    if rows > FIRST_ROWS:
        lines.append(say("answers.shown", shown=FIRST_ROWS, total=rows))
    return "  \n".join(lines + [say("answers.resume_hint")])


def table_of(rows: list[list], keys: list[str], empty: str = "table.none_yet") -> dict:
    """Headers in the page's language; an empty table says so in its one row (Gradio drops a rowless table's
    headers)."""
    return {"headers": [say(key) for key in keys], "data": rows or [[say(empty), *[""] * (len(keys) - 1)]]}


def first_rows(rows: list[dict]) -> dict:
    def counted(votes: dict) -> str:
        return ", ".join(f"{answer}: {n}" for answer, n in votes.items())

    return table_of([[r["row"], "" if r.get("id") is None else str(r["id"]),
                      say("answers.none") if r["answer"] is None else r["answer"], counted(r.get("votes") or {})]
                     for r in rows[:FIRST_ROWS]], ROW_KEYS)


def unanswered_rows(rows: list[dict]) -> dict:
    def said(texts: list) -> str:
        text = str(texts[0]) if texts else ""
        return text if len(text) <= SAID_CHARACTERS else text[:SAID_CHARACTERS] + " …"

    return table_of([[r["row"], "" if r.get("id") is None else str(r["id"]), said(r.get("texts") or [])]
                     for r in rows if r["answer"] is None], UNANSWERED_KEYS, "answers.none")
