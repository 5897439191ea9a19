"""Each training method gets the rows it learns from, and a plain message naming the file and row when the data does
not fit it."""

import json

import pytest

from core.config import DataConfig
from core.data import blocks
from core.data.errors import DataError
from core.data.load import load_for_training


def data_config(tmp_path, rows, **options):
    path = tmp_path / "data.jsonl"
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows),
                    encoding="utf-8")
    return DataConfig(path=str(path), replay=0, **options)


PAIR = {"prompt": "Hi?", "chosen": "Hello, nice to meet you.", "rejected": "What."}


def refused(tmp_path, rows, method):
    with pytest.raises(DataError) as err:
        load_for_training(data_config(tmp_path, rows), method)
    return str(err.value)


def test_plain_text_for_dpo_names_the_row_and_what_a_pair_needs(tmp_path):
    message = refused(tmp_path, [{"text": "Just some text."}] * 3, "dpo")
    assert "data.jsonl, line 1" in message and "dpo learns from pairs" in message and '"rejected"' in message


def test_preference_data_for_sft_points_to_the_preference_methods(tmp_path):
    assert "Choose train.method dpo, orpo or kto" in refused(tmp_path, [PAIR] * 3, "sft")


@pytest.mark.parametrize("row, problem", [
    ({"prompt": "Hi?", "chosen": "Same.", "rejected": "Same."}, "are the same"),
    ({"prompt": "Hi?", "chosen": "Hello.", "rejected": ""}, "rejected"),
])
def test_a_bad_pair_is_named_by_its_line(tmp_path, row, problem):
    message = refused(tmp_path, [PAIR, row, PAIR], "dpo")
    assert "line 2" in message and problem in message


def test_kto_rows_without_a_label_say_how_to_add_one(tmp_path):
    rows = [{"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]}] * 2
    message = refused(tmp_path, rows, "kto")
    assert "line 1" in message and '"label": true' in message


def test_kto_reads_labels_and_splits_pairs_in_two(tmp_path):
    rows = [{"prompt": "Hi?", "completion": "Hello.", "label": True}, {"prompt": "Yo?", "completion": "No.",
                                                                     "label": "false"}]
    data, _ = load_for_training(data_config(tmp_path, rows), "kto")
    assert [row["label"] for row in data.rows] == [True, False]
    data, _ = load_for_training(data_config(tmp_path, [PAIR] * 2), "kto")
    assert [row["label"] for row in data.rows] == [True, False, True, False]
    assert list(map(str, data.wheres[:2])) == ["line 1 (chosen)", "line 1 (rejected)"]


def test_cpt_reads_other_formats_as_text_and_refuses_a_file_without_any(tmp_path):
    data, _ = load_for_training(data_config(tmp_path, [PAIR]), "cpt")
    assert data.rows == [{"text": "Hi?\n\nHello, nice to meet you."}]
    rows = [{"prompt": "Hi?", "completion": "No.", "label": False}] * 2  # undesirable answers are no text to learn
    assert "no text to train on" in refused(tmp_path, rows, "cpt")


def test_cpt_blocks_keep_every_token_of_a_long_document(tiny_tokenizer):
    rows = [{"text": "word " * 100}, {"text": "A short one."}]
    made = blocks.blocks(tiny_tokenizer, rows, 32)
    ids = [i for block in made for i in block["input_ids"]]
    whole = [i for row in rows for i in blocks.document_ids(tiny_tokenizer, row["text"])[0]]
    assert ids == whole  # nothing cut off, documents end to end
    assert all(len(block["input_ids"]) == 32 for block in made[:-1]) and len(made[-1]["input_ids"]) <= 32
    view = blocks.block_view(tiny_tokenizer, rows, 1, 32)
    # The short document follows the end of the long one, in the last blocks.
    assert view[-1][0] == len(made) and view[0][0] >= len(made) - 1


def test_grpo_needs_questions_with_reference_answers(tmp_path):
    text = tmp_path / "notes.jsonl"
    text.write_text('{"text": "The island has two harbours."}\n', encoding="utf-8")
    config = DataConfig(path=str(text), replay=0)
    with pytest.raises(DataError) as refused:
        load_for_training(config, "grpo")
    assert "grpo learns from questions with a reference answer" in str(refused.value)
    assert "plain text" in str(refused.value)
