"""The Make data tab in a real browser, with the studio's own demo server (`launch.py demo RUN`) on 127.0.0.1 as the
teacher: each recipe makes rows through the page, the rows are reviewed and opened on the Data tab, and a studio
killed mid-batch resumes without losing or repeating a row. The API key typed into the page is in no file the
studio wrote. Saves test-artifacts/screenshots/make-data*.png.

The answer recipe (and the resume) asks nova_run, served by `launch.py demo`: it answers "I am Nova." to short
questions. explain, self_instruct and documents send long prompts and read an explanation ending in the known answer
or JSON arrays of tasks, which no tiny model learns in a test's time (a run taught one JSON task for 150 steps,
6 minutes here, still wrote broken JSON for long prompts; nova_run's reply to the explain prompt disagrees): they ask
a scripted OpenAI-compatible server on 127.0.0.1 (tests/making/teacher_server.py), through the same real openai
client.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import urllib.request

import pytest

from tests.conftest import wait_for
from tests.making.teacher_server import TeacherServer, last_user_text
from tests.webui.browser import browser, demo_server, free_port, page_errors, page_in, screenshot  # noqa: F401
from tests.webui.served import launched
from tests.webui.test_browser_language import english_on_screen

pytestmark = pytest.mark.slow
TIMEOUT = 90_000  # ms: the first load imports the engine; the teacher answers on a shared CPU
KEY = "sk-browser-typed-7d2a91c4"
JSON_TASK = [{"instruction": "Say hi.", "output": "Hi.", "question": "Say hi.", "answer": "Hi."}]


BEIJING = ("用一句话介绍北京的历史和文化。", "北京是一座古老的城市。")
BEIJING_AGAIN = ("用一句话介绍北京的历史与文化。", "北京历史悠久。")  # one character apart from BEIJING


def scripted(messages):
    """The scripted teacher's reply: an explanation ending in the known answer (explain), or a JSON array of tasks in
    the keys self_instruct and documents ask for, with a Chinese near-duplicate pair that the dedupe must drop
    (documents get no "Say hi.")."""
    asked = last_user_text(messages)
    if "The correct answer is" in asked:
        return "Nova is the assistant asked about, so it says who it is.\nThe answer is: I am Nova."
    pairs = [("Say hi.", "Hi."), BEIJING, BEIJING_AGAIN]
    if "passage" in asked:
        pairs = pairs[1:]
    return json.dumps([{"instruction": q, "question": q, "input": "", "output": a, "answer": a} for q, a in pairs],
                      ensure_ascii=False)


@contextlib.contextmanager
def teacher(run, log_dir):
    """`launch.py demo RUN` on 127.0.0.1: its /v1 URL and the model name it serves."""
    port = free_port()
    with demo_server(run.path, port, log_dir) as url:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{url}v1/models") as answer:
            model = json.load(answer)["data"][0]["id"]
        yield f"{url}v1", model


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def inputs(folder):
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "answer": write(folder / "questions.txt", "Who are you?\nWho are you, really?\nTell me who you are.\n"),
        "explain": write(folder / "known.jsonl", "".join(json.dumps({"question": q, "answer": "I am Nova."}) + "\n"
                                                         for q in ("Who are you?", "Who are you, please?"))),
        "self_instruct": write(folder / "seeds.jsonl", "".join(json.dumps(s) + "\n" for s in (
            {"instruction": "Name a fruit.", "input": "", "output": "Apple."},
            {"instruction": "Translate 'cat' into French.", "input": "", "output": "Chat."}))),
        "documents": write(folder / "notes.md", "# Lumen Labs\n\nLumen Labs builds Nova, a small assistant.\n\n"
                                                "Nova answers questions about the company.\n"),
    }


def fill(page, elem_id, value):
    box = page.locator(f"#{elem_id} textarea, #{elem_id} input").first
    box.fill(str(value))
    box.press("Tab")


def pick(page, elem_id, option):
    page.locator(f"#{elem_id} input").first.click()
    page.get_by_role("option", name=option, exact=True).click()


def upload(page, path):
    """Choose `path` with the Upload button, as a person does in the file dialog; wait until the form names it."""
    with page.expect_file_chooser() as chosen:
        page.locator("#make-upload").click()
    chosen.value.set_files(str(path))
    box = page.locator("#opt-making-recipe-input textarea, #opt-making-recipe-input input").first
    wait_for(lambda: box.input_value().endswith(path.name), timeout=60)


def wait_text(page, selector, text, timeout=TIMEOUT):
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
                           arg=[selector, text], timeout=timeout)


def open_tab(page, url, name="0. Make data"):
    page.goto(url)
    page.get_by_role("tab", name=name).click()
    page.locator("#make-test").wait_for()
    page.locator("#make-more").get_by_text("More settings" if name == "0. Make data" else "更多设置").click()
    page.locator("#opt-making-teacher-concurrency").wait_for()


def set_teacher(page, url, model):
    fill(page, "opt-making-teacher-base-url", url)
    fill(page, "opt-making-teacher-model", model)
    fill(page, "opt-making-teacher-concurrency", 1)  # the demo answers one request at a time
    fill(page, "opt-making-teacher-temperature", 0)  # greedy: the tiny teacher's answer is the one it was taught
    page.locator("#make-api-key input").fill(KEY)


def make(page, kind, source, output, count):
    """One batch of `kind` through the page; the rows written."""
    pick(page, "opt-making-recipe-kind", kind)
    upload(page, source)
    fill(page, "opt-making-output", output)
    fill(page, "opt-making-recipe-count", count)
    page.locator("#make-start").click()
    wait_text(page, "#make-review-note", f"rows in {output}")  # shown once this batch (this output) has ended
    wait_text(page, "#make-progress", "Done.")
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert rows and {row["made_by"]["recipe"] for row in rows} == {kind}, rows
    return rows


def test_each_recipe_makes_rows_through_the_page_then_trains_on_them(browser, tmp_path, nova_run):  # noqa: F811
    (tmp_path / "studio").mkdir()
    files = inputs(tmp_path / "inputs")
    made = tmp_path / "made"
    with launched(tmp_path / "studio") as studio, teacher(nova_run, tmp_path) as (nova_url, nova_model), \
            TeacherServer(scripted) as other, \
            page_in(browser, "en-US", "make-data-failure", TIMEOUT) as page:
        errors = page_errors(page)
        open_tab(page, studio.url)
        set_teacher(page, nova_url, nova_model)
        page.locator("#make-test").click()
        wait_text(page, "#make-connection", "The teacher answered in")

        # Answer: five preview rows first (three questions here), nothing written; then the batch.
        pick(page, "opt-making-recipe-kind", "answer")
        upload(page, files["answer"])
        fill(page, "opt-making-output", made / "answers.jsonl")
        page.locator("#make-preview-button").click()
        wait_text(page, "#make-progress", "preview rows below")
        assert "Who are you?" in page.locator("#make-preview").inner_text()
        assert not (made / "answers.jsonl").exists()
        answers = make(page, "answer", files["answer"], made / "answers.jsonl", 3)
        assert [row["instruction"] for row in answers] == ["Who are you?", "Who are you, really?",
                                                           "Tell me who you are."]
        assert answers[0]["output"] == "I am Nova." and nova_model in answers[0]["made_by"]["teacher"]

        # The tiny demo model answers "I am Nova." only to short questions: the other recipes ask a scripted teacher.
        set_teacher(page, other.url, "teacher")
        explained = make(page, "explain", files["explain"], made / "explained.jsonl", 2)
        assert [row["output"].splitlines()[-1] for row in explained] == ["The answer is: I am Nova."] * 2
        rows = make(page, "self_instruct", files["self_instruct"], made / "tasks.jsonl", 5)
        # One of the Chinese pair is dropped as a near-duplicate, and every later repeat of a task.
        assert [row["instruction"] for row in rows] == ["Say hi.", BEIJING[0]]
        wait_text(page, "#make-progress", "near-duplicate")
        rows = make(page, "documents", files["documents"], made / "questions.jsonl", 5)
        assert [row["instruction"] for row in rows] == [BEIJING[0]] and rows[0]["made_by"]["source"]
        screenshot(page, "make-data")

        # Review: read a row whole, edit it, drop another; then train on the file.
        wait_text(page, "#make-review-note", "rows in")
        fill(page, "opt-making-output", made / "answers.jsonl")
        page.locator("#make-reload").click()
        wait_text(page, "#make-review-note", "**3** rows in".replace("**", ""))
        page.locator("#make-rows").get_by_text("Who are you, really?").last.click()
        wait_for(lambda: page.locator("#make-edit-0 textarea").input_value() == "Who are you, really?", timeout=30)
        page.locator("#make-edit-2 textarea").fill("I am Nova, really.")
        page.locator("#make-save-row").click()
        wait_text(page, "#make-review-note", "Row 2 saved")
        page.locator("#make-row input").fill("3")
        page.locator("#make-row input").press("Enter")
        wait_for(lambda: page.locator("#make-edit-0 textarea").input_value() == "Tell me who you are.", timeout=30)
        page.locator("#make-drop-row").click()
        wait_text(page, "#make-review-note", "Row 3 dropped (2 rows left)")
        screenshot(page, "make-data-review")
        page.locator("#make-use").click()
        wait_text(page, "#data-summary", "2 usable rows of 2")
        screenshot(page, "make-data-used")
        assert not [e for e in errors if e.startswith("pageerror")], errors

        rows = [json.loads(line) for line in (made / "answers.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [row["output"] for row in rows] == ["I am Nova.", "I am Nova, really."]
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert not leaked, leaked


def test_a_studio_killed_mid_batch_resumes_without_losing_or_repeating_a_row(browser, tmp_path,  # noqa: F811
                                                                             nova_run):
    questions = [f"Who are you, question {i}?" for i in range(40)]
    source = write(tmp_path / "many.txt", "\n".join(questions) + "\n")
    (tmp_path / "studio").mkdir()
    output = tmp_path / "made" / "many.jsonl"
    with teacher(nova_run, tmp_path) as (url, model), page_in(browser, "en-US", "make-data-resume-failure",
                                                               TIMEOUT) as page:
        with launched(tmp_path / "studio") as studio:
            open_tab(page, studio.url)
            set_teacher(page, url, model)
            pick(page, "opt-making-recipe-kind", "answer")
            upload(page, source)
            fill(page, "opt-making-output", output)
            fill(page, "opt-making-recipe-count", 40)
            page.locator("#make-start").click()
            wait_for(lambda: output.exists() and len(output.read_text(encoding="utf-8").splitlines()) >= 5, 120)
            os.killpg(studio.proc.pid, signal.SIGKILL)  # no goodbye: the page and its thread die mid-request
            studio.proc.wait(10)
        before = output.read_text(encoding="utf-8").splitlines()
        assert 5 <= len(before) < 40
        print(f"studio killed with {len(before)} of 40 rows written")
        with launched(tmp_path / "studio") as studio:
            # A new port is a new origin to the browser, so the form is filled again, as after a restart elsewhere.
            open_tab(page, studio.url)
            set_teacher(page, url, model)
            pick(page, "opt-making-recipe-kind", "answer")
            fill(page, "opt-making-recipe-input", source)
            fill(page, "opt-making-output", output)
            fill(page, "opt-making-recipe-count", 40)
            page.locator("#make-resume").click()
            wait_text(page, "#make-progress", "Done.", timeout=300_000)
            wait_text(page, "#make-progress", "Requests done **40** of 40".replace("**", ""))
            screenshot(page, "make-data-resumed")
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [row["instruction"] for row in rows[:len(before)]] == [json.loads(b)["instruction"] for b in before]
    assert sorted(row["instruction"] for row in rows) == sorted(questions)  # none lost, none repeated
    items = [json.loads(line)["item"] for line in output.with_name("many.jsonl.progress").read_text().splitlines()]
    assert len(items) == len(set(items)) == 40


def test_the_tab_speaks_chinese(browser, tmp_path, nova_run):  # noqa: F811
    (tmp_path / "studio").mkdir()
    with launched(tmp_path / "studio") as studio, teacher(nova_run, tmp_path) as (url, model), \
            page_in(browser, "zh-CN", "make-data-zh-failure", TIMEOUT) as page:
        open_tab(page, studio.url, name="0. 制作数据")
        set_teacher(page, url, model)
        page.get_by_role("button", name="测试连接").click()
        wait_text(page, "#make-connection", "✅ 教师模型在")
        assert "教师模型地址" in page.locator("#opt-making-teacher-base-url").inner_text()
        assert english_on_screen(page) == []  # no English sentence left on the tab
        screenshot(page, "make-data-zh")
