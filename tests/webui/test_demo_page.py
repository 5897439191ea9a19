"""The demo page: its computed texts follow the visitor's language (the code sample stays code), and its chat is
answered by the model's batcher beside other visitors (core.results.serving.demo_answer), driven here through the
page's own handler as Gradio drives it: Stop and a closed tab close the handler's generator."""

import threading
import time
from types import SimpleNamespace

import pytest

from core.catalogue.language import speaking
from core.config import ChatSettings
from core.results.batching import Batcher, batcher_for
from core.results.chat import ChatModel
from core.results.serving import open_served
from webui.demo import TUNED, DemoHandlers, FixedShowroom, api_text


def test_the_api_hint_speaks_the_visitors_language(nova_run):
    served = open_served(nova_run.path)
    request = SimpleNamespace(headers={"host": "127.0.0.1:7861"})
    with speaking("zh"):
        chinese = api_text(served, request)
    english = api_text(served, request)
    assert chinese.startswith("**在代码中使用。** 本服务器同时提供 OpenAI 聊天接口，地址 `http://127.0.0.1:7861/v1`")
    assert english.startswith("**Use it from code.**")
    for text in (chinese, english):
        assert 'base_url="http://127.0.0.1:7861/v1"' in text and 'model="nova-run"' in text


CHAT, PROMPT = "chatbot", "prompt"  # what the handlers' updates are keyed by here (components on a page)


@pytest.fixture(scope="module")
def endless(endless_run):
    """A demo of the run whose answers never end, so each runs to the visitor's max new tokens."""
    served = open_served(endless_run.path)
    model = ChatModel.from_run(endless_run.path, progress=lambda _: None)
    return DemoHandlers(SimpleNamespace(chatbot=CHAT, prompt=PROMPT), FixedShowroom(served, model), api_hint=False)


class Visitor:
    """One visitor's Send, greedy, through the page's handler: started (its answer submitted to the batcher) when
    made; `answer()` reads it to the end; `close()` is what Stop or a closed tab does to the handler."""

    def __init__(self, handlers, max_new_tokens: int, question: str = "Who are you?"):
        self.updates = handlers.respond(question, [], "", TUNED, 0, max_new_tokens)
        next(self.updates)  # the question shown, the prompt box emptied
        self.last = next(self.updates)  # the first piece, "" while it waits for a row, or why it cannot be answered

    def answer(self) -> str:
        for self.last in self.updates:
            pass
        return self.last[CHAT][-1]["content"]

    def close(self) -> None:
        self.updates.close()


def model_of(handlers) -> ChatModel:
    return handlers.showroom.chat_model(None)


def rows_stepped(monkeypatch) -> list[int]:
    """How many answers each decode step wrote (recorded from now on)."""
    seen, step = [], Batcher._step

    def counting(self, batch):
        seen.append(len(batch.rows))
        return step(self, batch)

    monkeypatch.setattr(Batcher, "_step", counting)
    return seen


def wait_until(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    return check()


def test_two_visitors_at_once_get_the_answers_each_gets_alone(endless, monkeypatch):
    alone = Visitor(endless, 40).answer()
    assert alone.startswith("I am Nova.")
    assert alone.strip() == model_of(endless).reply([{"role": "user", "content": "Who are you?"}],
                                                    ChatSettings(temperature=0, max_new_tokens=40)).rstrip("\ufffd")
    steps = rows_stepped(monkeypatch)
    first, second = Visitor(endless, 40), Visitor(endless, 40)
    answers = {}
    readers = [threading.Thread(target=lambda n=n, u=u: answers.__setitem__(n, u.answer()))
               for n, u in (("first", first), ("second", second))]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(120)
    assert answers == {"first": alone, "second": alone}
    assert max(steps) == 2  # written together, one step for both: neither waited for the other's answer


def test_a_visitors_stop_frees_only_their_row(endless):
    batcher = batcher_for(model_of(endless))
    stopped, going = Visitor(endless, 2000), Visitor(endless, 60)
    try:
        stopped.close()  # what Stop (or a closed tab) does to the page's handler
        assert wait_until(lambda: batcher._running <= 1), "the stopped answer kept its row"
        assert going.answer() == Visitor(endless, 60).answer()  # the other went on, whole
    finally:
        going.close()
    assert wait_until(lambda: batcher._running == 0)


def test_a_full_batcher_tells_the_visitor_to_come_back(endless, monkeypatch):
    batcher = batcher_for(model_of(endless))
    monkeypatch.setattr(batcher, "max_running", 1)
    monkeypatch.setattr(batcher, "max_waiting", 1)
    running = Visitor(endless, 2000)
    waiting = Visitor(endless, 16)
    try:
        started = time.monotonic()
        busy = Visitor(endless, 16).answer()
        assert busy == "⚠ The model is answering as many people as it can, and more are waiting. Try again in 5 s."
        assert time.monotonic() - started < 5  # told at once, not after the long answer
        with speaking("zh"):
            chinese = Visitor(endless, 16).answer()
        assert chinese == "⚠ 模型同时回答的访客已满，还有人在排队。请在 5 秒后重试。"
        waiting.close()  # a waiting visitor's Stop frees their place at once, not when a row frees up
        third = Visitor(endless, 16)
        running.close()
        assert third.answer().startswith("I am Nova.")
    finally:
        running.close()
        waiting.close()
