"""The Make data tab's handlers without a browser (tests/webui/test_browser_make_data.py drives the page): the form
is MakeDataConfig's, the key is a password kept in memory only, the review reads, edits and drops rows, and "Use as
training data" opens the Data tab on the file."""

import dataclasses
import json
from types import SimpleNamespace

import gradio as gr
import pytest

from core.catalogue.language import speaking
from core.making.config import MakeDataConfig
from webui import make_review, tab_make_data
from webui.app import build
from webui.studio import Studio
from tests.conftest import wait_for
from tests.making.teacher_server import TeacherServer, last_user_text

SLOTS = [f"slot{i}" for i in range(make_review.SLOTS)]
NAMES = ["progress", "samples", "connection", "api_key", "timer", "start", "stop", "resume", "review_note",
         "review_body", "rows", "row", "review_state"]


@pytest.fixture
def demo(tmp_path):
    return build(Studio(tmp_path / "runs"))


def ui_names():
    return SimpleNamespace(**{name: name for name in NAMES}, slots=SLOTS)


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_every_option_of_make_data_config_has_a_widget_and_the_key_is_a_password(demo, tmp_path):
    form = next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "make-api-key")
    assert form.type == "password"  # shown masked, never echoed
    keys = tab_make_data.option_keys()
    assert "teacher.base_url" in keys and "recipe.kind" in keys and "output" in keys
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    missing = [key for key in keys if "opt-making-" + key.replace(".", "-").replace("_", "-") not in ids]
    assert not missing, missing
    assert not any(f.name in ("api_key", "key") for section in (MakeDataConfig, *[
        f.default_factory for f in dataclasses.fields(MakeDataConfig) if callable(f.default_factory)])
        for f in dataclasses.fields(section))


def test_the_form_becomes_a_make_data_config_and_a_bad_value_names_the_option(tmp_path):
    with gr.Blocks():
        ui = tab_make_data.build(gr.I18n(en={}))
    form = ui.form
    values = {widget: widget.value for widget in form.fields.values()}
    values[form.fields["teacher.base_url"]] = "http://127.0.0.1:9/v1"
    values[form.fields["teacher.model"]] = "teacher"
    values[form.fields["recipe.count"]] = 12.0  # gr.Number hands back floats
    config = form.config_from(values)
    assert isinstance(config, MakeDataConfig) and config.recipe.count == 12
    assert config.teacher.base_url == "http://127.0.0.1:9/v1"
    handlers = tab_make_data.MakeDataHandlers(SimpleNamespace(**{**vars(ui_names()), "api_key": ui.api_key}), form,
                                              tmp_path / "runs")
    values[form.fields["teacher.concurrency"]] = 0
    shown = handlers.start({**values, ui.api_key: ""})
    assert "teacher.concurrency" in shown["progress"]  # refused before anything starts, naming the option
    assert not handlers.batch.busy


def test_only_the_options_a_recipe_reads_are_shown():
    with gr.Blocks():
        ui = tab_make_data.build(gr.I18n(en={}))
    fields = ui.form.fields
    for kind, shown, hidden in (("self_instruct", "recipe.seeds_per_request", "recipe.passage_chars"),
                                ("documents", "recipe.passage_chars", "recipe.seeds_per_request")):
        updates = tab_make_data.options_for_kind(ui.form, kind)
        assert updates[fields[shown]]["visible"] is True and updates[fields[hidden]]["visible"] is False
        assert fields["recipe.count"] not in updates  # every recipe reads it: never hidden


def test_review_reads_edits_and_drops_rows_and_keeps_where_they_came_from(tmp_path):
    made = write_jsonl(tmp_path / "made.jsonl", [
        {"instruction": f"Question {i}?", "output": f"Answer {i}.", "source": {"teacher": "t", "recipe": "answer"}}
        for i in range(3)])
    ui = ui_names()
    review = make_review.ReviewHandlers(ui, tab_make_data.Batch(tmp_path / "runs"))
    shown = review.reload(str(made))
    assert shown["review_note"].startswith("**3** rows in")
    assert shown["rows"]["headers"] == ["#", "instruction", "output"]  # provenance is kept, not shown
    assert shown["rows"]["data"][1] == [2, "Question 1?", "Answer 1."]
    state = shown["review_state"]

    picked = review.pick(state, 2)
    assert picked["slot0"]["label"] == "instruction" and picked["slot0"]["value"] == "Question 1?"
    assert picked["slot1"]["value"] == "Answer 1." and picked["slot2"]["visible"] is False
    saved = review.save(state, 2, "Question 1?", "A better answer.", "", "")
    assert saved["review_note"] == "Row 2 saved (3 rows)."
    rows = make_review.read_rows(made)
    assert rows[1] == {"instruction": "Question 1?", "output": "A better answer.",
                       "source": {"teacher": "t", "recipe": "answer"}}

    dropped = review.drop(state, 1)
    assert dropped["review_note"] == "Row 1 dropped (2 rows left)."
    assert [r["output"] for r in make_review.read_rows(made)] == ["A better answer.", "Answer 2."]
    assert review.drop(state, 9)["review_note"] == "There is no row 9: the file has 2."
    with speaking("zh"):
        assert review.drop(state, 9)["review_note"] == "没有第 9 行：文件共有 2 行。"


def test_a_line_cut_short_by_a_crash_is_not_shown_as_a_row(tmp_path):
    made = tmp_path / "made.jsonl"
    made.write_text('{"instruction": "Q?", "output": "A."}\n{"instruction": "Half', encoding="utf-8")
    assert make_review.read_rows(made) == [{"instruction": "Q?", "output": "A."}]


def test_use_as_training_data_opens_the_data_tab_on_the_file(tmp_path):
    made = write_jsonl(tmp_path / "made.jsonl", [{"instruction": "Q?", "output": "A."}])
    tabs, path = make_review.use_as_training_data({"path": str(made)}, "")
    assert tabs.selected == "data" and path == str(made)
    assert make_review.use_as_training_data({}, str(tmp_path / "none.jsonl")) == (gr.skip(), gr.skip())


def test_progress_says_done_kept_dropped_tokens_time_and_cost():
    from core.making.batch import JobProgress

    progress = JobProgress(done=7, total=20, kept=5, dropped_by_reason={"duplicate": 2}, tokens_in=1200,
                           tokens_out=3400, seconds_left=65.0, cost=0.0123, wanted=9)
    line = tab_make_data.progress_line(progress)
    assert "Requests done **7** of 20 · rows kept **5** (wanted 9)" in line and "near-duplicate: 2" in line
    assert "Tokens: 1200 in, 3400 out" in line and "Time left: about" in line and "0.0123" in line
    with speaking("zh"):
        assert "已完成请求 **7** / 20 · 保留 **5** 行（目标 9 行）" in tab_make_data.progress_line(progress)


# ---------------------------------------------------------------------------------------------- with a teacher
# A real OpenAI-compatible endpoint on 127.0.0.1 (tests/making/teacher_server.py) answers through the real openai
# client; the page's own handlers send the requests.

KEY = "sk-typed-in-the-page-4f1c9e"


def answering(messages):
    question = last_user_text(messages)
    return "The answer is: 4" if "2 + 2" in question else f"An answer to: {question}"


def filled_form(tmp_path, url, **recipe):
    with gr.Blocks():
        ui = tab_make_data.build(gr.I18n(en={}))
    values = {widget: widget.value for widget in ui.form.fields.values()}
    fields = ui.form.fields
    settings = {"teacher.base_url": url, "teacher.model": "teacher", "teacher.concurrency": 1,
                "teacher.api_key_env": "", "output": str(tmp_path / "made" / "rows.jsonl"), **recipe}
    for key, value in settings.items():
        values[fields[key]] = value
    values[ui.api_key] = KEY
    names = SimpleNamespace(**{**{name: getattr(ui, name) for name in NAMES}, "slots": ui.slots})
    return tab_make_data.MakeDataHandlers(names, ui.form, tmp_path / "runs"), values, names


def questions_file(tmp_path, count):
    path = tmp_path / "questions.jsonl"
    rows = [{"question": f"What is question {i}?"} for i in range(count)]
    rows[0] = {"question": "What is 2 + 2?", "answer": "4"}
    rows[1] = {"question": "What is 2 + 2 here?", "answer": "5"}  # the teacher says 4: dropped, disagrees
    return write_jsonl(path, rows)


def test_test_connection_shows_the_reply_and_its_latency_or_a_plain_error(tmp_path):
    with TeacherServer(answering, key=KEY) as teacher:
        handlers, values, ui = filled_form(tmp_path, teacher.url)
        shown = handlers.test_connection(values)[ui.connection]
        assert shown.startswith("✅ The teacher answered in ") and "> An answer to:" in shown
        wrong = handlers.test_connection({**values, ui.api_key: "sk-wrong"})[ui.connection]
        assert wrong.startswith("❌") and "key" in wrong.lower()
        with speaking("zh"):
            assert handlers.test_connection(values)[ui.connection].startswith("✅ 教师模型在 ")
    assert all(header in (f"Bearer {KEY}", "Bearer sk-wrong") for header in teacher.seen_keys)


def test_preview_shows_five_rows_and_writes_nothing(tmp_path):
    with TeacherServer(answering) as teacher:
        handlers, values, ui = filled_form(tmp_path, teacher.url, **{"recipe.input": str(questions_file(tmp_path, 9))})
        shown = handlers.preview(values)
    # Five questions asked: one answer disagrees with its known answer, so four rows, and the reason.
    assert shown[ui.progress].startswith("4 preview rows below")
    assert "disagrees with the known answer: 1" in shown[ui.progress]
    table = shown[ui.samples]["value"]
    assert table["headers"] == ["#", "instruction", "input", "output"] and len(table["data"]) == 4
    assert table["data"][0][1:] == ["What is 2 + 2?", "", "The answer is: 4"]
    assert not (tmp_path / "made").exists()


def wait_until_idle(handlers):
    handlers.batch.wait(60)
    assert not handlers.batch.busy


def test_the_batch_runs_in_the_background_stops_and_resumes_without_losing_or_repeating_a_row(tmp_path):
    """Stop mid-batch, then Resume: every question is answered once; the key is in no file the studio wrote."""
    with TeacherServer(answering, key=KEY, delay_s=0.15) as teacher:
        handlers, values, ui = filled_form(tmp_path, teacher.url, **{"recipe.input": str(questions_file(tmp_path, 16)),
                                                                     "teacher.price_in": 2.0, "teacher.price_out": 8.0})
        started = handlers.start(values)
        assert started[ui.progress].startswith("⏳ Started") and started[ui.stop]["interactive"] is True
        assert handlers.start(values)[ui.progress].startswith("A batch is already running")
        wait_for(lambda: handlers.batch.progress is not None and handlers.batch.progress.done >= 4, timeout=30)
        running = handlers.tick()
        assert "Requests done **" in running[ui.progress] and ui.timer not in running
        handlers.stop()
        wait_until_idle(handlers)
        stopped = handlers.tick()
        assert stopped[ui.progress].startswith("⏹ Stopped.") and stopped[ui.timer].active is False
        made = tmp_path / "made" / "rows.jsonl"
        first = make_review.read_rows(made)
        assert 3 <= len(first) < 15 and stopped[ui.review_note].startswith(f"**{len(first)}** rows in")

        handlers.start(values)  # Resume: the same form
        wait_until_idle(handlers)
        done = handlers.tick()
    assert done[ui.progress].startswith("✅ Done.")
    assert "Requests done **16** of 16 · rows kept **15**" in done[ui.progress]
    assert "disagrees with the known answer: 1" in done[ui.progress] and "Estimated cost:" in done[ui.progress]
    rows = make_review.read_rows(made)
    questions = [row["instruction"] for row in rows]
    assert len(questions) == len(set(questions)) == 15  # none lost, none repeated
    assert rows[:len(first)] == first  # the rows made before Stop stay as they were
    assert {row["made_by"]["recipe"] for row in rows} == {"answer"}
    assert all(row["made_by"]["teacher"] == f"teacher @ {teacher.url}" for row in rows)
    assert len(teacher.requests) == 16  # not one question asked twice
    assert done[ui.rows]["data"][0][1] == "What is 2 + 2?"
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and not [p for p in written if KEY.encode() in p.read_bytes()]


def test_a_wrong_key_ends_the_batch_with_a_plain_message(tmp_path):
    with TeacherServer(answering, key="sk-right") as teacher:
        handlers, values, ui = filled_form(tmp_path, teacher.url, **{"recipe.input": str(questions_file(tmp_path, 4))})
        handlers.start(values)
        wait_until_idle(handlers)
        shown = handlers.tick()
    assert shown[ui.progress].startswith("❌") and "key" in shown[ui.progress].lower()
    assert shown[ui.start]["interactive"] is True and shown[ui.stop]["interactive"] is False
