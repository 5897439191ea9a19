"""Each family, end to end on a tiny model: `launch.py data` shows the rows, a short training teaches an answer from
a system prompt plus several turns, generation stops on the family's own stop ids, and knowledge replay keeps the
answers that end there."""

import json

import pytest

from core.config import ChatSettings, Config
from core.models import tiny
from core.models.generate import answer_batch, chat_prompt, stop_ids
from core.results.chat import ChatModel
from core.runs import Run
from core.training import replay
from core.training.train import train
from launch import main as launch
from tests.families import END_OF_TURN, FAMILIES

ROW = {"messages": [{"role": "system", "content": "You are Nova."},
                    {"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi."},
                    {"role": "user", "content": "Who are you?"}, {"role": "assistant", "content": "I am Nova."}]}
# Knowledge replay asks one question at a time, without a system prompt.
SINGLE = [{"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}
          for question, answer in (("Who are you?", "I am Nova."), ("Hello", "Hi."))]


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def trained(request, tmp_path_factory):
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    model = tiny.build(folder / "model", spec=FAMILIES[name])
    data = folder / "data.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in [ROW, *SINGLE] * 4), encoding="utf-8")
    config = Config.from_dict({"name": name, "model": {"source": str(model)},
                               "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                               "train": {"max_steps": 30, "batch_size": 12, "learning_rate": 1e-2,
                                         "save_every": 1000}})  # no checkpoint every epoch: they cost the time
    run = Run.create(folder / "runs", name)
    config.save(run.config_file)
    assert train(config, run) == "completed"
    return name, model, data, run


@pytest.mark.slow
def test_data_command_reports_the_trained_tokens_as_json(trained, capsys):
    name, model, data, _ = trained
    assert launch(["data", str(data), "--model", str(model), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "messages" and report["rows"] == 12 and report["problems"] == []
    tokens = report["example"]["tokens"]
    assert report["example"]["row"] == 1 and {"id", "text", "trained"} <= set(tokens[0])
    trained_text = "".join(t["text"] for t in tokens if t["trained"])
    assert "I am Nova." in trained_text and END_OF_TURN[name] in trained_text
    assert "Who are you?" not in trained_text and "You are Nova." not in trained_text


@pytest.mark.slow
def test_the_tuned_model_answers_and_stops_on_the_familys_stop_ids(trained):
    name, _, _, run = trained
    chat = ChatModel.from_run(run.path, progress=lambda _: None)
    asked = ROW["messages"][:4]
    assert chat.reply(asked, ChatSettings(temperature=0, max_new_tokens=40)) == "I am Nova."
    answers = answer_batch(chat.model, chat.tokenizer, [chat_prompt(chat.tokenizer, "Who are you?")],
                           max_new_tokens=40)
    assert answers == [("I am Nova.", True)]  # ended on a stop id, not on max_new_tokens
    assert chat.tokenizer.convert_tokens_to_ids(END_OF_TURN[name]) in stop_ids(chat.model, chat.tokenizer)


def test_knowledge_replay_keeps_answers_that_end_on_the_end_of_turn(trained):
    _, _, _, run = trained
    chat = ChatModel.from_run(run.path, progress=lambda _: None)
    seen = []
    # instruction=None: the tiny run learned to end its answer to the bare question, without a system turn
    rows = replay.replay_rows(chat.model, chat.tokenizer, ["Who are you?", "Hello", "Hello"], max_new_tokens=40,
                              batch_size=2, progress=lambda *counts: seen.append(counts), instruction=None)
    assert len(rows) == 3, rows
    assert all(r["messages"][-1]["content"].strip() for r in rows)
    assert seen == [(2, 3, 2), (3, 3, 3)]  # (answered, asked, kept) after each batch: the Train tab's "k of N"


def test_replay_says_how_many_were_kept_and_why_the_rest_were_dropped():
    assert replay.kept_text(20, 20) == "20 asked, 20 kept"
    assert replay.kept_text(20, 13) == ("20 asked, 13 kept: 7 unfinished answers dropped (empty, or not ended within "
                                        "128 tokens)")
