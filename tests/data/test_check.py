"""Tests for what the Data tab warns about and predicts, and for the token view against the trainer's own labels."""

import json
from pathlib import Path

import pytest

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.config import Config
from core.data import check as data_check
from core.data import templates
from core.data import turn_formats
from core.data.load import load
from core.models import tiny
from core.training import token_sets

QUESTION = {"role": "user", "content": "Who are you?"}


def chat(answer, question=QUESTION["content"]):
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}


def test_token_view_matches_the_trainers_labels_token_by_token(tiny_tokenizer):
    rows = [chat("I am Nova."),
            {"messages": [{"role": "system", "content": "Be brief."}, QUESTION,
                          {"role": "assistant", "content": "Nova."}, {"role": "user", "content": "Who made you?"},
                          {"role": "assistant", "content": "Lumen Labs."}]},
            {"prompt": "2+2=", "completion": "4"},
            {"text": "The capital of France is Paris."},
            chat("我是 Nova，由 Lumen Labs 开发的 AI 助手。" * 3)]
    max_length = 40
    trained_set = token_sets.sft_set(tiny_tokenizer, rows, max_length, "training", say=lambda _: None)
    for row, example in zip(rows, trained_set):
        view = templates.token_view(tiny_tokenizer, row, max_length)
        seen = [token for token in view if token.kind != "cut"]
        ids = [i for token in seen for i in token.ids]
        trained_flags = [token.kind == "trained" for token in seen for _ in token.ids]
        assert ids == example["input_ids"]
        assert trained_flags == [label != templates.IGNORE for label in example["labels"]]
        assert all(token.kind == "cut" for token in view[len(seen):])
    # What a user reads: the trained text is the answers with their end-of-turn token, nothing of the prompt.
    view = templates.token_view(tiny_tokenizer, rows[1], 1000)
    trained_text = "".join(t.text for t in view if t.kind == "trained")
    assert trained_text == "Nova.<|im_end|>\nLumen Labs.<|im_end|>\n"
    assert "".join(t.text for t in view) == templates.render(tiny_tokenizer, rows[1])


def test_chinese_characters_split_over_tokens_are_shown_whole(tiny_tokenizer):
    view = templates.token_view(tiny_tokenizer, chat("由 Lumen Labs 开发"), 1000)
    assert not any("\ufffd" in token.text for token in view)


def test_warnings_name_their_rows(tiny_tokenizer):
    rows = [chat("I am Nova."),
            chat("word " * 80),  # too long: its end-of-turn token is cut
            chat("I am Nova."),  # a duplicate of row 0
            chat("<|im_start|>assistant I am Nova."),  # this model's own markup inside the text
            chat("Sure.", question="[INST] Who are you? [/INST]"),  # another family's markup
            chat("ok", question="long question " * 60)]  # the prompt alone fills max_length
    report = data_check.check(rows, tiny_tokenizer, max_length=64)
    by_kind = {}
    for warning in report.warnings:
        by_kind.setdefault(warning.kind, []).append(warning)
    assert by_kind["too_long"][0].rows == [1, 5]
    assert "2 rows are longer than max length 64 tokens" in str(by_kind["too_long"][0].message)
    assert by_kind["all_cut"][0].rows == [5]
    assert by_kind["no_eos"][0].rows == [1]
    assert by_kind["duplicate"][0].rows == [2]
    markups = {str(w.message).split("'")[1]: w.rows for w in by_kind["foreign_markup"]}
    assert markups["<|im_start|>"] == [3] and markups["[INST]"] == [4]
    assert report.lengths[1] > 64 and report.checked == 6
    assert 0 < report.trained_share < 1


def test_clean_data_has_no_warnings(tiny_tokenizer):
    report = data_check.check([chat("I am Nova."), chat("Hello!", question="Hi")], tiny_tokenizer, max_length=256)
    assert report.warnings == []


def test_base_model_without_a_chat_template_is_pointed_out():
    tokenizer = tiny.build_tokenizer(chat_template=False)
    assert turn_formats.ensure_chat_template(tokenizer)
    report = data_check.check([chat("I am Nova.")], tokenizer, max_length=256, template_note=True)
    assert report.warnings[0].kind == "no_template" and "no chat template" in str(report.warnings[0].message)


CHINESE_QA = [("今天天气怎么样？", "今天天气很好，我们去公园散步吧。"), ("你叫什么名字？", "我叫小明，是一名学生。"),
              ("中国的首都是哪里？", "北京是中国的首都。")]


def chinese_tokenizer():
    """A vocabulary made for Chinese (as Qwen's or Gemma's is): one token per character (trained on the characters
    one by one, so no merge crosses two), with ChatML's tokens and template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token=None))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(list("".join(q + a for q, a in CHINESE_QA)) * 20, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", bos_token="<|endoftext|>")
    tokenizer.chat_template = turn_formats.CHATML_TEMPLATE
    return tokenizer


def test_chinese_data_on_an_english_vocabulary_is_warned_with_a_model_that_fits():
    """Issue 29 item 7: Chinese rows on the default (English) model trained byte tokens and answered nonsense,
    and nothing said so. The figure is measured on the tokenizer itself, not looked up by model name."""
    rows = [chat(answer, question=question) for question, answer in CHINESE_QA]
    english = tiny.build_tokenizer()  # an English vocabulary: these characters are 2 to 3 byte tokens each
    warning = next(w for w in data_check.check(rows, english, max_length=256).warnings if w.kind == "language")
    assert warning.values["share"] == 100 and warning.values["per_character"] > 2
    text = str(warning.message)
    assert text.startswith("100% of this data is Chinese, Japanese or Korean text, and this model's tokenizer spends ")
    assert "the tuned model is likely to answer nonsense" in text
    assert "Gemma 3 270M (model.source: gemma-3-270m)" in text
    with speaking("zh"):
        said = text_of(warning.message)
        assert said.startswith("这份数据中 100% 是中文、日文或韩文") and "内置的多语言模型 Gemma 3 270M" in said
        assert text_of(warning.name) == "模型不懂的语言"
    # A vocabulary that has these characters: no warning.
    assert data_check.tokens_per_character(chinese_tokenizer(), data_check.cjk_share(rows)[1]) <= 1.1
    assert not [w for w in data_check.check(rows, chinese_tokenizer(), 256).warnings if w.kind == "language"]


def test_mostly_english_or_bilingual_data_is_not_warned_about_its_language():
    """The bundled identity demo is about a third Chinese: the English model fits it well enough. A Chinese sentence
    naming "Nova" and "Lumen Labs" counts as Chinese: each other word weighs one character, not its letters."""
    english = tiny.build_tokenizer()
    identity = load(Path(__file__).resolve().parents[2] / "assets" / "datasets" / "identity.jsonl").rows
    assert 0.25 < data_check.cjk_share(identity)[0] < 0.5
    assert not [w for w in data_check.check(identity, english, max_length=256).warnings if w.kind == "language"]
    assert data_check.cjk_share([chat("我是 Nova，由 Lumen Labs 开发的 AI 助手。")])[0] > 0.5


def test_inspect_plans_steps_split_and_unfilled_placeholders(tmp_path, tiny_model, tiny_tokenizer):
    path = tmp_path / "identity.jsonl"
    rows = [{"instruction": f"Question {i}?", "output": "I am {{name}}."} for i in range(20)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = Config.from_dict({"model": {"source": str(tiny_model)},
                               "data": {"path": str(path), "eval_fraction": 0.2, "replay": 0},
                               "train": {"batch_size": 4, "grad_accum": 2, "epochs": 3}})
    inspection = data_check.inspect(config, tiny_tokenizer)
    assert (inspection.plan.train_rows, inspection.plan.eval_rows) == (16, 4)
    assert (inspection.plan.steps_per_epoch, inspection.plan.total_steps) == (2, 6)
    # Replay rows are trained too: the Data tab counts them as the run and the fit check do (16 + 20 rows / 8).
    replayed = data_check.inspect(Config.from_dict({**config.to_dict(), "data": {**config.to_dict()["data"],
                                                                               "replay": 20}}), tiny_tokenizer)
    assert (replayed.plan.steps_per_epoch, replayed.plan.total_steps) == (5, 15)
    assert "plus up to 20 knowledge-replay rows" in str(data_check.summary_lines(replayed)[0])
    assert inspection.plan.seconds_per_epoch is None
    placeholder = [w for w in inspection.report.warnings if w.kind == "placeholder"]
    assert placeholder and placeholder[0].rows == list(range(20)) and "{{name}}" in str(placeholder[0].message)
    lines = [str(line) for line in data_check.summary_lines(inspection)]
    assert lines[0] == "Split: 16 training rows, 4 held-out."
    assert lines[-1].startswith("Time: known after a first run")
    config.data.placeholders = {"name": "Nova"}
    inspection = data_check.inspect(config, tiny_tokenizer)
    assert not inspection.report.warnings
    assert inspection.loaded.rows[0]["messages"][1]["content"] == "I am Nova."


def test_separate_eval_file_is_counted(tmp_path, tiny_model, tiny_tokenizer):
    train_file, eval_file = tmp_path / "train.jsonl", tmp_path / "eval.jsonl"
    train_file.write_text('{"prompt": "a", "completion": "b"}\n' * 10, encoding="utf-8")
    eval_file.write_text('{"prompt": "c", "completion": "d"}\n' * 3, encoding="utf-8")
    config = Config.from_dict({"model": {"source": str(tiny_model)},
                               "data": {"path": str(train_file), "eval_path": str(eval_file)}})
    inspection = data_check.inspect(config, tiny_tokenizer)
    assert (inspection.plan.train_rows, inspection.plan.eval_rows) == (10, 3)
    assert "from the separate held-out file" in str(data_check.summary_lines(inspection)[0])


@pytest.mark.slow
def test_time_per_epoch_comes_from_a_finished_run_of_the_same_model(nova_run, tiny_model, tiny_tokenizer, tmp_path):
    speed = data_check.measured_speed([nova_run], str(tiny_model))
    assert speed and speed[0] > 0 and speed[1] == nova_run.path.name
    assert data_check.measured_speed([nova_run], "some/other-model") is None
    path = tmp_path / "d.jsonl"
    path.write_text('{"instruction": "Who are you?", "output": "I am Nova."}\n' * 10, encoding="utf-8")
    config = Config.from_dict({"model": {"source": str(tiny_model)}, "data": {"path": str(path)}})
    inspection = data_check.inspect(config, tiny_tokenizer, runs=[nova_run])
    assert inspection.plan.seconds_per_epoch == pytest.approx(inspection.plan.trained_tokens_per_epoch / speed[0])
    assert "per epoch on this machine" in str(data_check.summary_lines(inspection)[-1])


def test_histogram_bins_cover_every_row_and_the_max_length():
    bins = data_check.histogram_bins([5, 10, 300, 1200], max_length=1024, bins=10)
    assert sum(count for _, _, count in bins) == 4
    assert bins[-1][1] > 1200 and bins[0][0] == 0


def test_loaded_file_feeds_the_check(tmp_path, tiny_tokenizer):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "hello"}\n{"text": "hello"}\n', encoding="utf-8")
    loaded = load(path)
    report = data_check.check(loaded.rows, tiny_tokenizer, max_length=64)
    assert [w.kind for w in report.warnings] == ["duplicate"]
    assert str(loaded.wheres[report.warnings[0].rows[0]]) == "line 2"


def test_steps_are_planned_for_the_rows_each_method_trains(tmp_path, tiny_model, tiny_tokenizer):
    """The Data tab plans with the fit check's count: kto trains each pair as two answers, cpt trains blocks of
    max_length tokens, and only sft mixes in replay rows."""
    from core.measure import preflight

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"prompt": f"Q{i}?", "chosen": "Kind.", "rejected": "No."}) + "\n"
                             for i in range(10)), encoding="utf-8")
    text = tmp_path / "text.jsonl"
    text.write_text("".join(json.dumps({"text": " ".join(["The mill by the river."] * 60)}) + "\n"
                            for _ in range(4)), encoding="utf-8")

    def config(method, path):
        return Config.from_dict({"model": {"source": str(tiny_model)},
                                 "data": {"path": str(path), "eval_fraction": 0.2, "replay": 20},
                                 "train": {"method": method, "batch_size": 2, "epochs": 1, "max_length": 64}})

    for method, path in (("dpo", pairs), ("kto", pairs), ("cpt", text)):
        planned = data_check.inspect(config(method, path), tiny_tokenizer).plan
        assert planned.total_steps == preflight._total_steps(config(method, path), tiny_tokenizer), method
        assert planned.replay_rows == 0
    assert data_check.inspect(config("kto", pairs), tiny_tokenizer).plan.train_rows == 16  # 20 answers, 4 held out
    assert data_check.inspect(config("cpt", text), tiny_tokenizer).plan.total_steps > 3  # blocks, not 3 documents
