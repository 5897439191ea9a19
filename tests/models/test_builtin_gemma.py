"""The second built-in model, Gemma 3 270M (pretrained), for real: the suite's non-ChatML tokenizer with BOS.

Reading its tokenizer needs the 238 MB download once (then the cache); the weights are converted only by the
last test, which trains a few steps and chats (about 4 minutes the first time on a 2-core CPU, then about 1).
"""

import json

import pytest

from core.config import ChatSettings, Config
from core.data import templates
from core.models import builtin
from core.models import load as models
from core.models.generate import prompt_of, stop_ids
from core.results.chat import ChatModel
from core.runs import Run
from core.training.train import train
from launch import main as launch

pytestmark = pytest.mark.slow  # every test here loads the real Gemma 3 270M (238 MB, converted once)

CONVERSATION = {"messages": [
    {"role": "system", "content": "You are Nova."},
    {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! "},
    {"role": "user", "content": "你是谁？"}, {"role": "assistant", "content": "我是 Nova，由 Lumen Labs 开发。"},
]}


@pytest.fixture(scope="module")
def gemma_tokenizer():
    tokenizer, notes = models.load_tokenizer(models.tokenizer_source("gemma-3-270m", progress=lambda _: None),
                                             system_prompt="none")
    return tokenizer, notes


def trained_spans(tokenizer, record) -> list[str]:
    spans, current = [], []
    for token, label in zip(record["input_ids"] + [None], record["labels"] + [templates.IGNORE]):
        if label != templates.IGNORE:
            current.append(token)
        elif current:
            spans.append(tokenizer.decode(current))
            current = []
    return spans


def test_a_base_gemma_gets_the_gemma_turn_format_and_the_log_says_so(gemma_tokenizer):
    tokenizer, notes = gemma_tokenizer
    assert any("Gemma turn format" in str(note) for note in notes)
    record = templates.tokenize_row(tokenizer, CONVERSATION, 4096)
    assert trained_spans(tokenizer, record) == ["Hello!<end_of_turn>\n",
                                                "我是 Nova，由 Lumen Labs 开发。<end_of_turn>\n"]
    text = tokenizer.decode(record["input_ids"])
    assert text == templates.render(tokenizer, CONVERSATION)  # tokenizing the pieces loses nothing
    assert text.startswith("<bos><start_of_turn>user\nYou are Nova.\n\nHi<end_of_turn>\n<start_of_turn>model\n")


def test_bos_once_for_every_row_type_and_the_stops(gemma_tokenizer):
    tokenizer, _ = gemma_tokenizer
    bos = tokenizer.bos_token_id
    for row in (CONVERSATION, {"prompt": "The capital of France is", "completion": " Paris."}, {"text": "Paris."}):
        ids = templates.tokenize_row(tokenizer, row, 4096)["input_ids"]
        assert ids[0] == bos and ids.count(bos) == 1, tokenizer.decode(ids)
    prompt, _ = prompt_of(tokenizer, {"prompt": "The capital of France is", "completion": " Paris."})
    assert prompt.startswith("<bos>")
    asked = CONVERSATION["messages"][:4]
    assert templates.prompt_for_chat(tokenizer, asked) == tokenizer.apply_chat_template(
        asked, tokenize=False, add_generation_prompt=True)

    class Base:  # the converted model's generation config lists <eos> only
        generation_config = type("Config", (), {"eos_token_id": 1})()

    assert stop_ids(Base(), tokenizer) == [1, tokenizer.convert_tokens_to_ids("<end_of_turn>")]


def test_data_command_reads_only_the_tokenizer(capsys):
    assert launch(["data", "assets/datasets/identity.jsonl", "--model", "gemma-3-270m", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    tokens = report["example"]["tokens"]
    assert tokens[0]["text"] == "<bos>" and not tokens[0]["trained"]
    trained = "".join(t["text"] for t in tokens if t["trained"])
    assert trained.endswith("<end_of_turn>\n") and "Gemma turn format" in " ".join(report["notes"])


def test_gemma_built_in_trains_a_few_steps_and_chats(tmp_path):
    config = Config.from_dict({
        "name": "gemma-smoke", "model": {"source": "gemma-3-270m"},
        "data": {"path": "assets/datasets/identity.jsonl", "replay": 0, "eval_fraction": 0},
        "train": {"max_steps": 2, "batch_size": 2, "max_length": 128, "save_every": 1000},
    })
    run = Run.create(tmp_path / "runs", config.name)
    config.save(run.config_file)
    assert train(config, run) == "completed"
    log = run.log_file.read_text(encoding="utf-8")
    assert "Gemma turn format" in log and "268.1M parameters" in log
    assert builtin.is_ready("gemma-3-270m")
    assert len([m for m in run.read_metrics()[0] if "loss" in m]) == 2
    chat = ChatModel.from_run(run.path, progress=lambda _: None)
    answer = chat.reply([{"role": "user", "content": "Who are you?"}], ChatSettings(temperature=0, max_new_tokens=8))
    assert answer.strip()
