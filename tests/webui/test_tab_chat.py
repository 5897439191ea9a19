"""The Chat tab's handlers without a browser (tests/webui/test_browser_chat.py drives the page): each answer keeps the
label of the model that made it, every Send answers or says why not, a run that finished since the list was shown is
chosen, and a vote says how many of its samples are in."""

import os
import shutil
import time
from types import SimpleNamespace

import gradio as gr
import pytest

from core.catalogue.language import speaking
from core.config import ChatSettings
from core.results.chat import ChatModel
from webui.studio import Studio
from webui.tab_chat import BASE_ONLY, ChatHandlers, answered, pending_answer

NAMES = ["prompt", "tuned", "base", "run", "adapter_on", "side_by_side", "notice", "asked", "listed"]
FORM = SimpleNamespace(fields={f"chat.{name}": name for name in
                               ("temperature", "max_new_tokens", "votes", "answer_pattern")})
GREEDY = {"temperature": 0, "max_new_tokens": 8, "votes": 1, "answer_pattern": ""}
TUNED = "Fine-tuned: nova-run (adapter on)"
ADAPTER_OFF = "Base model, before fine-tuning (adapter of nova-run off)"


@pytest.fixture
def chat(nova_run, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(nova_run.path, runs / "nova-run")
    handlers = ChatHandlers(SimpleNamespace(**{name: name for name in NAMES}), FORM, Studio(runs))
    values = {"prompt": "", "tuned": [], "base": [], "run": "nova-run", "adapter_on": True, "side_by_side": False,
              "asked": False, **GREEDY}
    return handlers, values, runs


def send(handlers, values, message):
    """Send as the page does it: the question at once (ask), then the queued answer (respond); the values after
    both, and what respond showed on the way."""
    values = {**values, "prompt": message}
    values.update(handlers.ask(values))
    shown = [update for update in handlers.respond(values) if isinstance(update, dict)]
    for update in shown:
        values.update(update)
    return values, shown


def answers(values, panel="tuned"):
    return [(m["metadata"]["title"], m["content"].strip()) for m in values[panel] if m["role"] == "assistant"]


def test_each_answer_keeps_the_label_of_the_model_that_made_it(chat):
    """Turning the adapter off relabelled the whole transcript as the base model's, above the tuned answer."""
    handlers, values, _ = chat
    asked = handlers.ask({**values, "prompt": "Who are you?"})
    assert asked["prompt"] == "" and asked["asked"] is True  # the question shows at once, before any answer
    assert asked["tuned"] == [{"role": "user", "content": "Who are you?"},
                              {"role": "assistant", "content": "", "metadata": {"title": TUNED, "status": "pending"}}]
    assert asked["notice"].startswith(f"⏳ {TUNED} is answering")
    values, _ = send(handlers, values, "Who are you?")
    assert answers(values) == [(TUNED, "I am Nova.")]
    assert "status" not in values["tuned"][-1]["metadata"]  # answered: no spinner left

    off = handlers.who_answers("nova-run", False)["tuned"]
    assert off["label"] == f"Next answer: {ADAPTER_OFF}"  # the panel says who answers next, and relabels nothing
    values, _ = send(handlers, {**values, "adapter_on": False}, "Who are you?")
    base = ChatModel.from_run(handlers.studio.run_named("nova-run").path, progress=lambda _: None).reply(
        [{"role": "user", "content": "Who are you?"}, {"role": "assistant", "content": "I am Nova."},
         {"role": "user", "content": "Who are you?"}], ChatSettings(temperature=0, max_new_tokens=8),
        use_adapter=False)
    assert answers(values) == [(TUNED, "I am Nova."), (ADAPTER_OFF, base)]  # the second came from the base model


def test_switching_runs_keeps_the_earlier_answers_labels(chat):
    handlers, values, runs = chat
    shutil.copytree(runs / "nova-run", runs / "other-run")
    values, _ = send(handlers, values, "Who are you?")
    values, _ = send(handlers, {**values, "run": "other-run"}, "Who are you?")
    assert answers(values) == [(TUNED, "I am Nova."), ("Fine-tuned: other-run (adapter on)", "I am Nova.")]
    values.update(handlers.clear())
    values, _ = send(handlers, values, "Who are you?")  # Clear then Send answers
    assert answers(values) == [("Fine-tuned: other-run (adapter on)", "I am Nova.")]


def test_every_send_answers_or_says_why_not(chat, tmp_path):
    handlers, values, runs = chat
    with speaking("zh"):
        assert handlers.ask({**values, "prompt": "  "}) == {"notice": "**请先输入一条消息。**"}
        assert list(handlers.respond({**values, "asked": False})) == [gr.skip()]
        asking = handlers.ask({**values, "prompt": "Who are you?"})
        again = handlers.ask({**values, **asking, "prompt": "And you?"})  # the first answer is still coming
        assert again["notice"].startswith("**还在回答上一条消息") and "prompt" not in again  # the text stays
        # The refusal leaves `asked` alone: the first Send's answer step, still queued, must find it set.
        assert "asked" not in again
        stopped = handlers.stopped(asking["tuned"], asking["base"])  # Stop: what was said stays, marked
        assert stopped["tuned"][-1]["metadata"] == {"title": "微调后：nova-run（已启用适配器）", "log": "已停止"}
        values, shown = send(handlers, {**values, "run": "gone"}, "Who are you?")
    assert shown[-1]["notice"] == "**没有名为 gone 的运行。**"
    assert values["tuned"] == [{"role": "user", "content": "Who are you?"}]  # no answer left spinning


def test_a_run_that_finished_since_the_list_was_shown_is_chosen(chat):
    """The Chat tab kept the run it showed (or the base model) after a newer run finished."""
    handlers, _, runs = chat
    first = handlers.run_choices(BASE_ONLY, None)  # the page opens: the newest finished run
    assert first["run"]["value"] == "nova-run" and first["listed"] == ["nova-run"]
    shutil.copytree(runs / "nova-run", runs / "older-run")
    os.utime(runs / "older-run" / "status.json", (1, 1))
    listed = handlers.run_choices("nova-run", first["listed"])["listed"]
    kept = handlers.run_choices("older-run", listed)["run"]
    assert "value" not in kept and "older-run" in kept["choices"]  # the user's own choice stays
    shutil.copytree(runs / "nova-run", runs / "later-run")
    later = time.time() + 5
    os.utime(runs / "later-run" / "status.json", (later, later))
    again = handlers.run_choices("older-run", listed)  # back on the tab after the run finished
    assert again["run"]["value"] == "later-run" and again["listed"] == ["later-run", "nova-run", "older-run"]
    assert "value" not in handlers.run_choices("older-run", again["listed"])["run"]
    # The base model, picked by the user, stays picked on coming back to the tab (it was turned into the newest run).
    assert "value" not in handlers.run_choices(BASE_ONLY, again["listed"])["run"]


def test_a_vote_says_how_many_samples_are_in(chat):
    """Five votes took 111 s on a CPU with nothing on the page; the notice now counts the samples."""
    handlers, values, _ = chat
    values, shown = send(handlers, {**values, "votes": 3, "temperature": 1.0}, "Who are you?")
    notices = [update["notice"] for update in shown if "notice" in update]
    assert notices[:3] == [f"⏳ Sampling for the vote: {k} of 3 answers ..." for k in range(3)]
    assert notices[-1].startswith("Votes (3): ")
    assert answers(values)[0][0] == TUNED and answers(values)[0][1]


def test_a_quick_answer_still_shows_its_time():
    """Gradio shows no time for a duration of 0: a small model's short answer (tens of milliseconds) keeps one."""
    quick = answered({**pending_answer(TUNED), "content": "I am Nova."}, seconds=0.004)
    assert quick["metadata"] == {"title": TUNED, "duration": 0.01}
    assert answered(pending_answer(TUNED), seconds=2.345)["metadata"]["duration"] == 2.35
