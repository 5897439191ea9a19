"""'Answer a test file' on the Evaluate tab, through its handlers without a browser: the progress line while rows come,
the first rows' table, the rows with no answer listed, the answers and the submission file in the run's folder, Stop,
and a second press that resumes; bad input said in plain words before any model loads.

Uses the shared tiny "I am Nova." run, copied into a studio's runs folder.
"""

import csv
import json
import shutil
import time
from types import SimpleNamespace

import pytest

from core.catalogue.language import speaking
from core.results import predict as engine
from core.results.chat import ChatModel
from webui import answer_file
from webui.answer_file import AnswerFileHandlers
from webui.studio import Studio

NAMES = ["notice", "first_rows", "unanswered", "jsonl_file", "csv_file"]
NOVA = r"I am (\w+)"
SHAPES = [lambda i: {"id": f"q{i}", "question": "Who are you?"},
          lambda i: {"id": f"q{i}", "instruction": "Who are you?"},
          lambda i: {"id": f"q{i}", "messages": [{"role": "user", "content": "Who are you?"}]}]


@pytest.fixture
def answering(nova_run, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(nova_run.path, runs / "nova-run")
    studio = Studio(runs)
    return AnswerFileHandlers(SimpleNamespace(**{name: name for name in NAMES}), studio), runs / "nova-run"


def write_test_file(folder, rows: int, name="contest test.jsonl"):
    path = folder / name
    path.write_text("".join(json.dumps(SHAPES[i % 3](i + 1)) + "\n" for i in range(rows)), encoding="utf-8")
    return str(path)


def press(handlers, test_path, pattern=NOVA, votes=1, start_over=False):
    """Every update the button's handler yields, in order."""
    return list(handlers.start("nova-run", test_path, pattern, votes, 16, start_over))


def notices(updates) -> list[str]:
    return [u["notice"] for u in updates if "notice" in u]


@pytest.fixture
def every_line_shown(monkeypatch):
    """The page polls the worker twice a second; each progress line is held a little longer so every one is shown
    (the rows of the tiny model come faster than that). `stop_at`: the line after which Stop is pressed."""
    real = engine.predict
    plan = {"stop_at": None, "handlers": None}

    def predict(*args, progress, **kwargs):
        def held(line):
            progress(line)
            time.sleep(0.6)
            if plan["stop_at"] and str(line).startswith(plan["stop_at"]):
                plan["handlers"].stop()
        return real(*args, progress=held, **kwargs)

    monkeypatch.setattr(answer_file, "predict", predict)
    return plan


def test_every_row_answered_with_progress_table_and_files(answering, tmp_path, every_line_shown, monkeypatch):
    handlers, run = answering
    monkeypatch.setattr(answer_file, "FIRST_ROWS", 8)
    updates = press(handlers, write_test_file(tmp_path, 10))
    said = notices(updates)
    assert said[0].startswith("⏳ Loading the model ...")
    assert any(s.startswith("⏳ 8/10 rows, ") for s in said), said  # the line moves as rows come
    assert any(s.startswith("⏳ 10/10 rows, ") for s in said), said
    last = updates[-1]
    out = run / "answers" / "contest_test.jsonl"
    assert said[-1].startswith(f"Answered 10 rows into {out} (10 now in ")
    assert "Every row got an answer." in said[-1]
    assert "The table shows the first 8 of 10 rows; the files hold them all." in said[-1]
    assert "Pressing Answer every row again on this file keeps these answers and answers only the rows missing" \
        in said[-1]
    assert last["first_rows"]["headers"] == ["row", "id", "answer", "votes"]
    assert last["first_rows"]["data"][:2] == [[1, "q1", "Nova", "Nova: 1"], [2, "q2", "Nova", "Nova: 1"]]
    assert len(last["first_rows"]["data"]) == 8
    assert last["unanswered"]["data"] == [["(none)", "", ""]]
    assert last["jsonl_file"] == str(out) and last["csv_file"] == str(out.with_suffix(".csv"))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["row"], r["id"], r["answer"]) for r in rows] == [(i, f"q{i}", "Nova") for i in range(1, 11)]
    assert all(r["texts"][0].startswith("I am Nova") for r in rows)
    with open(last["csv_file"], encoding="utf-8", newline="") as file:
        assert list(csv.reader(file)) == [["id", "answer"]] + [[f"q{i}", "Nova"] for i in range(1, 11)]


def test_stop_then_a_second_press_resumes(answering, tmp_path, every_line_shown, monkeypatch):
    handlers, run = answering
    data = write_test_file(tmp_path, 20)
    every_line_shown.update(stop_at="8/20 rows", handlers=handlers)
    updates = press(handlers, data)
    out = run / "answers" / "contest_test.jsonl"
    # Stop pressed after the first 8 rows: the batch in hand (rows 9-16) is finished and kept, then it stops.
    assert updates[-1]["notice"] == (f"**Stopped** after 16 of 20 rows; they are kept in `{out}`. Press Answer every "
                                     "row again to go on.")
    assert len(updates[-1]["first_rows"]["data"]) == 16 and updates[-1]["csv_file"] is None
    assert len(out.read_text(encoding="utf-8").splitlines()) == 16

    assert handlers.stop() == {"notice": "⏳ Stopping after the rows being answered ..."}  # what Stop shows at once

    every_line_shown.update(stop_at=None)
    said = notices(press(handlers, data))
    assert any(s.startswith(f"⏳ 16 of 20 rows are already in {out}; answering the rest.") for s in said), said
    assert said[-1].startswith(f"Answered 20 rows into {out} (4 now in ") and ", 16 from before)." in said[-1]
    assert [json.loads(line)["row"] for line in out.read_text(encoding="utf-8").splitlines()] == list(range(1, 21))

    # All answered: a third press loads no model and says every row was kept.
    monkeypatch.setattr(ChatModel, "from_run", classmethod(lambda *a, **k: pytest.fail("loaded a model")))
    handlers.studio.release_chat()
    said = notices(press(handlers, data))
    assert said[-1].startswith(f"Answered 20 rows into {out} (0 now in ") and ", 20 from before)." in said[-1]


def test_rows_with_no_answer_are_listed_never_guessed(answering, tmp_path):
    """A pattern the tuned model's answers never match: every row is listed, with what the model said, and the
    submission file leaves their answers empty."""
    handlers, run = answering
    last = press(handlers, write_test_file(tmp_path, 3), pattern=r"答案是[:：]\s*([A-D])")[-1]
    assert "3 rows got no answer (the pattern found none in their answers; answer is null): rows 1, 2, 3." \
        in last["notice"]
    assert [row[:3] for row in last["first_rows"]["data"]] == [[1, "q1", "(none)"], [2, "q2", "(none)"],
                                                               [3, "q3", "(none)"]]
    assert last["unanswered"]["headers"] == ["row", "id", "what the model said"]
    assert [(r[0], r[1], r[2].startswith("I am Nova")) for r in last["unanswered"]["data"]] == [
        (1, "q1", True), (2, "q2", True), (3, "q3", True)]
    with open(last["csv_file"], encoding="utf-8", newline="") as file:
        assert list(csv.reader(file)) == [["id", "answer"], ["q1", ""], ["q2", ""], ["q3", ""]]


def test_the_chat_tabs_model_is_used_when_it_holds_the_run(answering, tmp_path, monkeypatch):
    handlers, run = answering
    held = handlers.studio.runner.held_gpus
    loaded = ChatModel.from_run(run, progress=lambda _: None)
    handlers.studio.chat_model(f"run:{run}:{held}", lambda: loaded)  # what the chat tab's key holds
    monkeypatch.setattr(ChatModel, "from_run", classmethod(lambda *a, **k: pytest.fail("loaded a second model")))
    assert press(handlers, write_test_file(tmp_path, 2))[-1]["first_rows"]["data"][0][2] == "Nova"


def test_bad_input_is_said_plainly_before_any_model_loads(answering, tmp_path, monkeypatch):
    handlers, run = answering
    monkeypatch.setattr(ChatModel, "from_run", classmethod(lambda *a, **k: pytest.fail("loaded a model")))
    data = write_test_file(tmp_path, 2)
    assert notices(list(handlers.start("", data, NOVA, 1, 16, False))) == ["**Pick a finished run first.**"]
    assert notices(press(handlers, None))[0].startswith("**Upload a test file: one question per row")
    said = notices(press(handlers, data, pattern="(unclosed"))
    assert len(said) == 1 and said[0].startswith("**") and "missing ), unterminated subpattern" in said[0]
    assert notices(press(handlers, data, votes=0)) == [
        "**Votes must be 1 or more (got 0): the number of answers sampled per row.**"]
    no_question = tmp_path / "no question.jsonl"
    no_question.write_text('{"id": 1, "question": "Who?"}\n{"id": 2, "note": "nothing to ask"}\n', encoding="utf-8")
    said = notices(press(handlers, str(no_question)))[0]
    assert "Row 2 of the test file" in said and "has no question" in said and "note" in said
    with speaking("zh"):
        assert notices(press(handlers, None))[0].startswith("**请上传测试文件")

    # The answers of another file by the same name are not mixed in: the page says how to go on.
    out = run / "answers" / "contest_test.jsonl"
    out.write_text(json.dumps({"row": 1, "id": "other", "answer": "B", "votes": {"B": 1}, "texts": ["B"]}) + "\n",
                   encoding="utf-8")
    assert notices(press(handlers, data)) == [
        f"**`{out}` holds the answers of another file with this name** (line 1 is not this file's next row). Tick "
        "Start again to replace them, or rename the test file."]


def test_start_again_replaces_the_answers_so_far(answering, tmp_path):
    handlers, run = answering
    out = run / "answers" / "contest_test.jsonl"
    out.parent.mkdir()
    out.write_text(json.dumps({"row": 1, "id": "other", "answer": "B", "votes": {"B": 1}, "texts": ["B"]}) + "\n",
                   encoding="utf-8")
    last = press(handlers, write_test_file(tmp_path, 2), start_over=True)[-1]
    assert last["notice"].startswith(f"Answered 2 rows into {out} (2 now in ")
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["q1", "q2"]
