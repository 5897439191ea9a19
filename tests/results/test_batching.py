"""Several answers generated together (core.results.batching): each row as if it were alone.

The tiny "I am Nova." run, and its endless twin whose answers run to max_tokens, are asked straight through the
Batcher; the API's own tests (test_openai_api.py) ask it through the openai client on loopback.
"""

from __future__ import annotations

import time

import pytest

from core.config import ChatSettings
from core.results.batching import Batcher, QueueFull
from core.results.chat import ChatModel

QUESTIONS = ["Who are you?", "What is the capital of France? " * 6, "Hi", "Tell me about the sea, please."]


def asked(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def alone(model: ChatModel, text: str, settings: ChatSettings, use_adapter: bool = True) -> str:
    """The answer ChatModel.stream gives alone, less the half character it shows when max_tokens cuts one (the
    batcher never shows one)."""
    return model.reply(asked(text), settings, use_adapter=use_adapter).rstrip("\ufffd").strip()


@pytest.fixture(scope="module")
def nova(nova_run):
    return ChatModel.from_run(nova_run.path, progress=lambda _: None)


@pytest.fixture(scope="module")
def endless(endless_run):
    return ChatModel.from_run(endless_run.path, progress=lambda _: None)


def test_greedy_answers_together_are_the_answers_alone(nova):
    """Prompts of different lengths (left padding), with the adapter and without, one joining while another is
    being written (its cache merged into the running batch): each answer as ChatModel.stream gives it alone."""
    greedy = ChatSettings(temperature=0, max_new_tokens=24)
    wanted = [(q, adapter) for q in QUESTIONS for adapter in (True, False)]
    one_by_one = [alone(nova, q, greedy, adapter) for q, adapter in wanted]
    assert one_by_one[0] == "I am Nova." and one_by_one[1] != "I am Nova."
    batcher = Batcher(nova)
    first = batcher.submit(asked("Tell me a long story."), ChatSettings(temperature=0, max_new_tokens=60))
    head = next(first)  # it is being written when the others arrive
    answers = [batcher.submit(asked(q), greedy, use_adapter=adapter) for q, adapter in wanted]
    together = ["".join(answer).strip() for answer in answers]
    assert together == one_by_one
    assert (head + "".join(first)).strip() == alone(nova, "Tell me a long story.",
                                                     ChatSettings(temperature=0, max_new_tokens=60))


def test_each_row_keeps_its_own_sampling_and_length(nova):
    batcher = Batcher(nova)
    greedy = ChatSettings(temperature=0, max_new_tokens=24)
    # top_p this small leaves only the likeliest token: sampled, yet the greedy answer
    narrow = ChatSettings(temperature=1.5, top_p=0.05, max_new_tokens=24)
    wide = ChatSettings(temperature=2.0, top_p=1.0, max_new_tokens=24)
    short = ChatSettings(temperature=0, max_new_tokens=2)
    answers = [batcher.submit(asked("Who are you?"), s) for s in (greedy, narrow, wide, short)]
    greedy_text, narrow_text, wide_text, short_text = ("".join(a).strip() for a in answers)
    assert greedy_text == narrow_text == "I am Nova."
    assert wide_text  # sampled from a flattened distribution: anything, but something
    assert len(nova.tokenizer(short_text, add_special_tokens=False)["input_ids"]) <= 2
    assert "I am Nova.".startswith(short_text)


def test_a_stopped_answer_frees_only_its_row(endless):
    """Three endless answers; the second is closed after two pieces. It ends at once, its row is freed, and the
    others write on to their max_tokens."""
    batcher = Batcher(endless)
    settings = ChatSettings(temperature=0, max_new_tokens=40)
    answers = [batcher.submit(asked("Who are you?"), settings) for _ in range(3)]
    next(answers[1]), next(answers[1])
    answers[1].close()
    deadline = time.monotonic() + 30
    while batcher._running > 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert batcher._running <= 2  # freed before the others finished
    assert all(len(a.ids) < 40 for a in (answers[0], answers[2]))
    rest = ["".join(a) for a in (answers[0], answers[2])]
    assert len(answers[1].ids) < 40
    assert len(answers[0].ids) == len(answers[2].ids) == 40 and rest[0] == rest[1]
    assert list(answers[1]) == []  # read after it was stopped: the end, never a wait


def test_a_full_queue_is_refused_at_once(endless):
    batcher = Batcher(endless, max_running=1, max_waiting=1)
    settings = ChatSettings(temperature=0, max_new_tokens=500)
    running, waiting = (batcher.submit(asked("Who are you?"), settings) for _ in range(2))
    next(running)
    with pytest.raises(QueueFull):
        batcher.submit(asked("Who are you?"), settings)
    running.close()
    assert next(waiting)  # the freed row went to the one that waited
    waiting.close()


def test_an_answer_being_prefilled_holds_its_row(endless, monkeypatch):
    """Between admission and its first token an answer is in no batch yet; it still counts, so one more is refused."""
    import threading

    batcher = Batcher(endless, max_running=1, max_waiting=0)
    prefilling, go_on, prefill = threading.Event(), threading.Event(), Batcher._prefill

    def slow_prefill(self, answers):
        prefilling.set()
        go_on.wait(30)
        return prefill(self, answers)

    monkeypatch.setattr(Batcher, "_prefill", slow_prefill)
    first = batcher.submit(asked("Who are you?"), ChatSettings(temperature=0, max_new_tokens=8))
    assert prefilling.wait(30)
    with pytest.raises(QueueFull) as refused:
        batcher.submit(asked("Who are you?"), ChatSettings(temperature=0, max_new_tokens=8))
    assert refused.value.values["seconds"] > 0
    go_on.set()
    assert "".join(first).startswith("I am Nova.")


def test_a_model_let_go_is_not_kept_by_its_batcher(nova_run):
    """The studio lets its chat model go before a run needs the memory; the batcher that answered the demo page with
    it (its thread still idling) must not keep it."""
    import gc
    import weakref

    from core.results.batching import batcher_for

    model = ChatModel.from_run(nova_run.path, progress=lambda _: None)
    batcher = batcher_for(model)
    assert "".join(batcher.submit(asked("Who are you?"), ChatSettings(temperature=0))).strip() == "I am Nova."
    held = weakref.ref(model.model)
    del model
    # The answer's last piece reaches the reader a moment before the thread ends its step and drops the model
    # (the project's CI once checked in between): the model must be gone soon after, not at that very instant.
    deadline = time.monotonic() + 10
    while held() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    assert batcher._thread is not None and batcher._thread.is_alive()  # idling for the next request
    assert held() is None
