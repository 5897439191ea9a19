"""The Chat tab in a real browser, in Chinese and in English: the question shows at once, each answer keeps the label
of the model that made it when the adapter is switched off or another run is picked, Clear then Send answers, an empty
Send says why nothing happened, and a run that finished meanwhile is the one chosen on coming back to the tab.

Uses the shared tiny nova_run ("I am Nova."), copied twice into the studio's runs folder. Screenshots go to
test-artifacts/screenshots/ (chat-zh-*.png, chat-en-*.png).
"""

import os
import shutil
import time

import pytest

from tests.webui.browser import browser, free_port, page_in, screenshot, set_number, studio_server  # noqa: F401

TIMEOUT = 120_000  # ms; a loaded 2-core machine
PAGE = {
    "zh-CN": {"chat": "5. 对话", "data": "1. 数据", "send": "发送", "empty": "请先输入一条消息。",
              "tuned": "微调后：{run}（已启用适配器）", "off": "基础模型，微调前（{run} 的适配器已关闭）",
              "next": "下一条回答：", "answering": "正在回答"},
    "en-US": {"chat": "5. Chat", "data": "1. Data", "send": "Send", "empty": "Type a message first.",
              "tuned": "Fine-tuned: {run} (adapter on)", "off": "Base model, before fine-tuning (adapter of {run} off)",
              "next": "Next answer: ", "answering": "is answering"},
}
# One moment of the page: the question is in the transcript and the notice says who is answering, while the answer
# has not come yet (the model is still loading or thinking).
QUESTION_BEFORE_ANSWER = """([question, answering]) => {
  const user = [...document.querySelectorAll('#chat-tuned .message.user')].some(m => m.innerText.includes(question));
  return user && document.querySelector('#chat-notice').innerText.includes(answering)
    && !document.querySelector('#chat-tuned').innerText.includes('I am Nova.');
}"""
# The last answer is finished: its label shows how long it took (the last update of an answer), no spinner is left.
ANSWERED = """(count) => {
  const answers = document.querySelectorAll('#chat-tuned .message.bot');
  return answers.length > count && /\\d(\\.\\d)?\\s?m?s\\b/.test(answers[answers.length - 1].innerText)
    && !document.querySelector('#chat-tuned [aria-busy=true]');
}"""
ANSWERS = "#chat-tuned .message.bot"


@pytest.fixture(scope="module")
def studio(nova_run, tmp_path_factory):
    runs = tmp_path_factory.mktemp("chat-studio") / "runs"
    shutil.copytree(nova_run.path, runs / "nova-run")
    shutil.copytree(nova_run.path, runs / "other-run")
    with studio_server(runs, free_port()) as url:
        yield url, runs


def pick_run(page, name):
    # The page opens on the newest run once its list has come (a pick made before that would be turned back).
    page.wait_for_function("!['', '(base model only)', '（仅基础模型）']"
                           ".includes(document.querySelector('#chat-run input')?.value ?? '')")
    page.locator("#chat-run input").click()
    page.get_by_role("option", name=name, exact=True).click()
    page.wait_for_function(f"document.querySelector('#chat-run input').value === '{name}'")


def send(page, words, question="Who are you?"):
    """Type and send a question; on an empty transcript, check that it shows at once, before its answer; wait for
    the answer to finish."""
    count = page.locator(ANSWERS).count()
    page.locator("#chat-input textarea").fill(question)
    page.locator("#chat-send").click()
    if count == 0:
        page.wait_for_function(QUESTION_BEFORE_ANSWER, arg=[question, words["answering"]], polling=10)
    page.wait_for_function(ANSWERED, arg=count)


def assert_labels(page, expected: list[str]):
    """The answers, oldest first, each under the label it was made with (and how long it took)."""
    shown = page.locator(ANSWERS).all_inner_texts()
    assert len(shown) == len(expected) and all(label in text for label, text in zip(expected, shown)), shown


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_chat_labels_each_answer_and_answers_every_click(browser, studio, locale):  # noqa: F811
    url, runs = studio
    words = PAGE[locale]
    with page_in(browser, locale, f"chat-{locale[:2]}-failure", TIMEOUT) as page:
        page.goto(url)
        page.get_by_role("tab", name=words["chat"]).click()
        page.locator("#chat-run input").wait_for()
        pick_run(page, "other-run")
        set_number(page, "opt-chat-temperature", 0)
        page.locator("#chat-send").click()  # nothing typed: the click says why nothing was sent
        page.locator("#chat-notice").get_by_text(words["empty"]).wait_for()

        send(page, words)  # the question shows at once, before the model is loaded and answers
        tuned = words["tuned"].format(run="other-run")
        assert_labels(page, [tuned])
        assert "I am Nova." in page.locator(ANSWERS).first.inner_text()

        page.locator("#chat-adapter-on input").click()  # the adapter off: the earlier answer keeps its label
        page.locator("#chat-tuned").get_by_text(words["next"] + words["off"].format(run="other-run")).wait_for()
        assert_labels(page, [tuned])
        send(page, words)
        assert_labels(page, [tuned, words["off"].format(run="other-run")])
        screenshot(page, f"chat-{locale[:2]}-labels")

        page.locator("#chat-adapter-on input").click()
        pick_run(page, "nova-run")  # another run: the earlier answers keep their labels
        page.locator("#chat-tuned").get_by_text(words["next"] + words["tuned"].format(run="nova-run")).wait_for()
        assert_labels(page, [tuned, words["off"].format(run="other-run")])

        page.locator("#chat-clear").click()  # Clear then Send answers
        page.wait_for_function(f"document.querySelectorAll('{ANSWERS}').length === 0")
        send(page, words)
        assert_labels(page, [words["tuned"].format(run="nova-run")])
        assert "I am Nova." in page.locator(ANSWERS).first.inner_text()

        # A run finishes while the user is elsewhere: back on the tab, it is the one chosen.
        page.get_by_role("tab", name=words["data"]).click()
        newest = f"newest-{locale[:2]}"
        shutil.copytree(runs / "nova-run", runs / newest)
        later = time.time() + 5
        os.utime(runs / newest / "status.json", (later, later))
        page.get_by_role("tab", name=words["chat"]).click()
        page.wait_for_function(f"document.querySelector('#chat-run input').value === '{newest}'")
        screenshot(page, f"chat-{locale[:2]}-newest")
