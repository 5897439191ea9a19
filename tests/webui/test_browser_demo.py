"""The demo page in a real browser: opened from the Chat tab, served alone by `launch.py demo`, freed at once by
Stop or by a closed tab, and answering a second visitor while the first one's answer goes on.

Uses the shared tiny runs: nova_run ("I am Nova.") and endless_run (the same adapter on a base whose answers never
end, so an answer runs to max new tokens: about 90 s for 8192). Screenshots go to test-artifacts/screenshots/.
"""

import contextlib
import json
import shutil
import time

import pytest

from tests.webui.browser import browser, demo_server, free_port, page, screenshot, studio_server  # noqa: F401

TIMEOUT = 60_000  # ms
PROMPT_FREED_S = 15  # an abandoned 8192-token answer takes about 90 s; a freed model answers in about one


@pytest.fixture(scope="module")
def studio(nova_run, endless_run, tmp_path_factory):
    runs = tmp_path_factory.mktemp("demo-studio") / "runs"
    shutil.copytree(nova_run.path, runs / "nova-run")
    shutil.copytree(endless_run.path, runs / "endless-run")
    with studio_server(runs, free_port()) as url:
        yield url, runs


@contextlib.contextmanager
def screenshot_on_failure(page, name):
    try:
        yield
    except Exception:
        screenshot(page, f"{name}-failure")
        raise


def answer_text(page) -> str:
    bubbles = page.locator("#demo-chat .message.bot")
    return bubbles.last.inner_text() if bubbles.count() else ""


def test_open_demo_from_the_chat_tab(page, studio):
    url, runs = studio
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    with screenshot_on_failure(page, "demo-open"):
        page.get_by_role("tab", name="5. Chat").click()
        # The newest finished run is picked on arrival (the demo of it is offered); pick the other one.
        page.locator("#chat-open-demo").wait_for()
        page.locator("#chat-run input").click()
        page.get_by_role("option", name="nova-run").click()
        page.wait_for_function("document.querySelector('#chat-run input').value === 'nova-run'")
        with page.context.expect_page() as opened:
            page.locator("#chat-open-demo").click()
        demo = opened.value
    demo.set_default_timeout(TIMEOUT)
    with screenshot_on_failure(demo, "demo-page"):
        demo.wait_for_url("**/demo?run=nova-run")  # a new tab starts as about:blank
        demo.locator("#demo-title").get_by_text("nova-run").wait_for()
        assert "fine-tuned with LoRA on data.jsonl" in demo.locator("#demo-description").inner_text()
        demo.locator("#demo-examples").get_by_text("Who are you?").first.click()  # an example asks at once
        demo.locator("#demo-chat").get_by_text("I am Nova.").wait_for()
        screenshot(demo, "demo-page")

        demo.locator("#demo-which").get_by_text("The base model").click()  # the switch starts a new chat
        demo.wait_for_function("document.querySelectorAll('#demo-chat .message').length === 0")
        demo.locator("#demo-input textarea").fill("Who are you?")
        demo.locator("#demo-send").click()
        demo.wait_for_function("document.querySelectorAll('#demo-chat .message.bot').length === 1")
        time.sleep(1)
        # The tiny base model samples word pieces at random (they can spell "Nova" by chance), never the tuned answer.
        assert not answer_text(demo).startswith("I am Nova.")

        demo.get_by_text("Edit the title and description").click()
        demo.locator("#demo-title-box textarea").fill("Meet Nova")
        demo.locator("#demo-description-box textarea").fill("Lumen Labs' assistant, tuned on 16 rows.")
        demo.locator("#demo-save").click()
        demo.locator("#demo-title").get_by_text("Meet Nova").wait_for()
    saved = json.loads((runs / "nova-run" / "demo.json").read_text(encoding="utf-8"))
    assert saved["title"] == "Meet Nova" and saved["description"] == "Lumen Labs' assistant, tuned on 16 rows."


def open_endless(page, url):
    page.goto(url + "demo?run=endless-run")
    page.locator("#demo-title").get_by_text("endless-run").wait_for()
    page.get_by_text("Answer settings").click()
    set_number(page, "demo-temperature", 0)  # greedy: every answer starts "I am Nova."


def set_max_tokens(page, count: int):
    set_number(page, "demo-max-new-tokens", count)


def set_number(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def start_long_answer(page, url):
    open_endless(page, url)
    set_max_tokens(page, 8192)
    page.locator("#demo-input textarea").fill("Who are you?")
    page.locator("#demo-send").click()
    page.wait_for_function("(() => { const b = document.querySelectorAll('#demo-chat .message.bot');"
                           " return b.length && b[b.length - 1].innerText.length > 40; })()")


def ask_and_time(page, question="Who are you?") -> float:
    """Seconds from Send until the new answer shows its first words (the model must be free to start it)."""
    bots = page.locator("#demo-chat .message.bot").count()
    page.locator("#demo-input textarea").fill(question)
    started = time.monotonic()
    page.locator("#demo-send").click()
    page.wait_for_function(f"(() => {{ const b = document.querySelectorAll('#demo-chat .message.bot');"
                           f" return b.length > {bots} && b[b.length - 1].innerText.trim().length > 0; }})()")
    return time.monotonic() - started


def test_stop_ends_the_answer_and_frees_the_model(browser, studio):  # noqa: F811
    url, _ = studio
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(TIMEOUT)
    try:
        with screenshot_on_failure(page, "demo-stop"):
            start_long_answer(page, url)
            page.locator("#demo-stop").click()
            time.sleep(1.5)
            stopped_at = len(answer_text(page))
            time.sleep(2)
            assert len(answer_text(page)) == stopped_at, "the answer kept growing after Stop"
            set_max_tokens(page, 16)
            waited = ask_and_time(page)
            assert waited < PROMPT_FREED_S, f"the next answer waited {waited:.1f} s after Stop"
    finally:
        page.close()


def test_a_closed_tab_frees_the_model(browser, studio):  # noqa: F811
    url, _ = studio
    first = browser.new_page()
    first.set_default_timeout(TIMEOUT)
    with screenshot_on_failure(first, "demo-closed-tab"):
        start_long_answer(first, url)
    first.close()  # the visitor leaves mid-answer
    second = browser.new_page()
    second.set_default_timeout(TIMEOUT)
    try:
        with screenshot_on_failure(second, "demo-after-closed-tab"):
            open_endless(second, url)
            set_max_tokens(second, 16)
            waited = ask_and_time(second)
            assert waited < PROMPT_FREED_S, f"the next visitor waited {waited:.1f} s: the closed tab kept the model"
            second.locator("#demo-chat").get_by_text("I am Nova.").wait_for()
    finally:
        second.close()


def test_a_second_visitor_is_answered_while_the_first_answer_goes_on(browser, studio):  # noqa: F811
    """Two tabs at once: the second visitor's short answer comes while the first one's long answer is still being
    written (the page's chat goes through the model's batcher, not one answer at a time), and the first goes on."""
    url, _ = studio
    first, second = browser.new_page(), browser.new_page()
    try:
        for tab in (first, second):
            tab.set_default_timeout(TIMEOUT)
        with screenshot_on_failure(first, "demo-two-visitors"):
            start_long_answer(first, url)
            open_endless(second, url)
            set_max_tokens(second, 16)
            waited = ask_and_time(second)
            assert waited < PROMPT_FREED_S, f"the second visitor waited {waited:.1f} s for the first one's answer"
            second.locator("#demo-chat").get_by_text("I am Nova.").wait_for()
            so_far = len(answer_text(first))
            first.wait_for_function(f"(() => {{ const b = document.querySelectorAll('#demo-chat .message.bot');"
                                    f" return b[b.length - 1].innerText.length > {so_far}; }})()")  # still writing
            first.locator("#demo-stop").click()
    finally:
        first.close()
        second.close()


def test_launch_demo_serves_the_page_and_says_how_to_use_the_api(page, nova_run, tmp_path):
    page.set_default_timeout(TIMEOUT)
    with demo_server(nova_run.path, free_port(), tmp_path) as url, screenshot_on_failure(page, "demo-alone"):
        page.goto(url)
        page.locator("#demo-title").get_by_text("nova-run").wait_for()
        # The hint is filled by the same page-load event as the title, but may render a moment later.
        page.locator("#demo-api").get_by_text(f'base_url="http://127.0.0.1:{url.split(":")[-1].rstrip("/")}/v1"',
                                              exact=False).wait_for()
        page.locator("#demo-input textarea").fill("Who are you?")
        page.locator("#demo-input textarea").press("Enter")
        page.locator("#demo-chat").get_by_text("I am Nova.").wait_for()
        screenshot(page, "demo-alone")
