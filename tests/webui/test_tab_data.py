"""The Data tab's handlers without a browser: what a user reads after picking a file (tests/webui/test_browser_data.py
clicks through the same tab in Chromium)."""

import html
import json
import re

import pytest

from core.catalogue.language import speaking
from core.config import Config
from core.models import devices
from webui import charts, data_viewer, tab_data
from webui.studio import Studio


@pytest.fixture
def studio(tmp_path):
    return Studio(tmp_path / "runs")


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def seen(example_html: str) -> str:
    """The example's text as the browser shows it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", example_html))


def config_for(path, tiny_model, **data):
    train = data.pop("train", {"max_length": 64})
    return Config.from_dict({"model": {"source": str(tiny_model)}, "data": {"path": str(path), **data},
                             "train": train})


def test_summary_names_the_format_warnings_name_the_lines_and_the_example_counts_tokens(studio, tiny_model, tmp_path):
    rows = [{"instruction": f"Question {i}?", "output": f"Answer {i}."} for i in range(4)]
    rows.insert(2, rows[0])  # line 3 repeats line 1
    rows.append({"instruction": "word " * 200, "output": "ok"})  # line 6 is far past max length 64
    shown = tab_data.inspect_dataset(config_for(write_jsonl(tmp_path / "d.jsonl", rows), tiny_model), studio)

    assert shown.summary.startswith("**alpaca** · 6 usable rows of 6")
    assert "longer than max length 64" in shown.warnings and "Rows: line 6." in shown.warnings
    assert "an earlier row exactly" in shown.warnings and "Rows: line 3." in shown.warnings
    labels = dict(shown.filters)
    assert "Too long: 1 row" in labels and "Duplicates: 1 row" in labels
    assert "Split: 5 training rows, 1 held-out; plus up to 20 knowledge-replay rows." in shown.stats
    assert "per epoch" in shown.stats
    assert shown.position == "Row **1** of 6 (line 1)"
    assert "tokens, " in shown.example and "trained</div>" in shown.example
    assert 'class="tok tok-trained' in shown.example and 'class="tok tok-masked' in shown.example

    # The same, computed for a page that speaks Chinese: no English sentence left.
    with speaking("zh"):
        zh = tab_data.inspect_dataset(config_for(tmp_path / "d.jsonl", tiny_model), studio)
    assert zh.summary.startswith("**alpaca** · 共 6 行，6 行可用") and "识别出格式“alpaca”" in zh.summary
    assert "超过最大长度 64 个词元" in zh.warnings and "行：第 6 行。" in zh.warnings
    assert "过长：1 行" in dict(zh.filters)
    assert "划分：5 行用于训练，1 行留出；另加至多 20 行知识回放数据。" in zh.stats
    assert zh.position == "第 **1** 行，共 6 行（第 1 行）"
    assert "参与训练（计入损失）" in zh.example
    assert shown.figure.layout.shapes[0].x0 == 64  # the max-length line on the histogram


def test_viewer_steps_through_the_rows_of_one_warning(studio, tiny_model, tmp_path):
    rows = [{"instruction": "Same?", "output": "Same."}] * 3 + [{"instruction": "long " * 200, "output": "x"}]
    shown = tab_data.inspect_dataset(config_for(write_jsonl(tmp_path / "d.jsonl", rows), tiny_model), studio)
    duplicates = next(key for label, key in shown.filters if label.startswith("Duplicates"))
    indices = data_viewer.pool(shown.state, duplicates)
    assert indices == [1, 2]
    first = data_viewer.step(indices, 0, "first")
    assert data_viewer.step(indices, first, "next") == 2 and data_viewer.step(indices, 2, "next") == 1  # wraps
    assert data_viewer.step(indices, 1, "previous") == 2
    position, example = data_viewer.show(shown.state, 2, duplicates, studio.tokenizer_for)
    assert position == "Row **3** of 4 (line 3) · 2 of 2 rows with this warning"
    too_long = next(key for label, key in shown.filters if label.startswith("Too long"))
    position, example = data_viewer.show(shown.state, 3, too_long, studio.tokenizer_for)
    assert "tok-cut" in example and "cut (beyond max length 64" in example


def test_bad_rows_are_listed_with_where_and_why_and_their_raw_text(studio, tiny_model, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"instruction": "Who are you?", "output": "I am Nova."}\n{"instruction": "x", "output": ""}\n'
                    "not json\n", encoding="utf-8")
    shown = tab_data.inspect_dataset(config_for(path, tiny_model), studio)
    assert "1 usable rows of 3 · **2 skipped**" in shown.summary
    assert [where for where, _ in shown.problems] == ["line 2", "line 3"]
    assert "output" in shown.problems[0][1]
    assert '"output": ""' in shown.state["raws"][0] and "not json" in shown.state["raws"][1]


def test_unknown_columns_open_the_mapping_and_the_mapping_makes_the_file_usable(studio, tiny_model, tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", [{"frage": "Wer bist du?", "antwort": "Ich bin Nova."}] * 2)
    shown = tab_data.inspect_dataset(config_for(path, tiny_model), studio)
    assert shown.summary.startswith("**Cannot use this file.**") and "frage, antwort" in shown.summary
    assert shown.open_mapping and shown.columns == ["frage", "antwort"]
    assert shown.state == {} and shown.example == ""

    mapped = tab_data.inspect_dataset(config_for(path, tiny_model, columns={"prompt": "frage",
                                                                           "completion": "antwort"}), studio)
    assert mapped.summary.startswith("**prompt_completion** · 2 usable rows of 2")
    assert mapped.mapping == {"prompt": "frage", "completion": "antwort"} and mapped.columns == ["frage", "antwort"]
    assert "Ich bin Nova." in seen(mapped.example)


def test_mapping_text_is_what_the_form_parses(tmp_path):
    text = tab_data.mapping_text({"prompt": "frage", "completion": "antwort: lang"})
    assert tab_data.parse_mapping(text) == {"prompt": "frage", "completion": "antwort: lang"}
    assert tab_data.mapping_text({}) == "" and tab_data.parse_mapping("{broken") == {}


def test_placeholders_ask_for_values_and_the_values_reach_the_example(studio, tiny_model, tmp_path):
    path = write_jsonl(tmp_path / "identity.jsonl", [{"instruction": "Who are you?", "output": "I am {{name}}."},
                                                     {"instruction": "Who made you?", "output": "{{author}}."}])
    shown = tab_data.inspect_dataset(config_for(path, tiny_model), studio)
    assert shown.placeholders == {"name": 1, "author": 1}
    assert "Placeholders: {{author}} in 1 rows, {{name}} in 1 rows" in shown.summary
    assert "with no value given" in shown.warnings and shown.state["placeholders"] == ["author", "name"]

    filled = tab_data.inspect_dataset(config_for(path, tiny_model, placeholders={"name": "Nova", "author": "Lumen"}),
                                      studio)
    assert "with no value given" not in filled.warnings and "I am Nova." in seen(filled.example)
    assert filled.placeholder_values == {"name": "Nova", "author": "Lumen"}


def test_preference_rows_show_the_rejected_answer(studio, tiny_model, tmp_path):
    path = write_jsonl(tmp_path / "pref.jsonl", [{"prompt": "2+2?", "chosen": "4.", "rejected": "<b>5</b>"}] * 2)
    shown = tab_data.inspect_dataset(config_for(path, tiny_model), studio)
    assert shown.summary.startswith("**preference**")
    # Side by side, token by token as dpo trains them: the same prompt, then each answer trained.
    assert "Chosen (preferred)" in shown.example and "Rejected" in shown.example
    assert "<b>" not in shown.example and "<b>5</b>" in seen(shown.example)
    assert seen(shown.example).count("2+2?") == 2
    assert shown.preview["data"][0][:2] == ["2+2?", "4."]


def test_cpt_shows_each_document_in_its_blocks(studio, tiny_model, tmp_path):
    path = write_jsonl(tmp_path / "text.jsonl", [{"text": "word " * 30}, {"text": "A short note."}])
    config = config_for(path, tiny_model)
    config.train.method, config.train.max_length = "cpt", 16
    shown = tab_data.inspect_dataset(config, studio)
    assert "Block 1 of" in shown.example and "Block 2 of" in shown.example


def test_user_text_is_escaped_in_the_example(studio, tiny_model, tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"instruction": "<script>alert(1)</script>", "output": "fine"}])
    shown = tab_data.inspect_dataset(config_for(path, tiny_model), studio)
    assert "<script>" not in shown.example and "<script>alert(1)</script>" in seen(shown.example)


def test_separate_held_out_file_sets_the_split_and_a_bad_one_is_named(studio, tiny_model, tmp_path):
    rows = [{"instruction": f"Q{i}?", "output": f"A{i}."} for i in range(6)]
    train, held_out = write_jsonl(tmp_path / "train.jsonl", rows), write_jsonl(tmp_path / "eval.jsonl", rows[:2])
    shown = tab_data.inspect_dataset(config_for(train, tiny_model, eval_path=str(held_out)), studio)
    assert "Split: 6 training rows, 2 held-out (from the separate held-out file);" in shown.stats
    missing = tab_data.inspect_dataset(config_for(train, tiny_model, eval_path=str(tmp_path / "nope.jsonl")), studio)
    assert "**The held-out file cannot be used.**" in missing.summary and "nope.jsonl" in missing.summary


def test_files_and_models_that_cannot_be_used_are_explained_not_raised(studio, tiny_model, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    shown = tab_data.inspect_dataset(config_for(empty, tiny_model), studio)
    assert shown.summary.startswith("**Cannot use this file.**") and "empty" in shown.summary
    missing = tab_data.inspect_dataset(config_for(tmp_path / "gone.jsonl", tiny_model), studio)
    assert missing.summary.startswith("**Cannot use this file.**") and "gone.jsonl" in missing.summary
    good = write_jsonl(tmp_path / "d.jsonl", [{"text": "hello"}])
    no_model = Config.from_dict({"model": {"source": str(tmp_path / "no-model")}, "data": {"path": str(good)}})
    shown = tab_data.inspect_dataset(no_model, studio)
    assert shown.summary.startswith("**text** · 1 usable rows of 1")
    assert "need the tokenizer of the model on tab 2" in shown.stats and "no-model" in shown.stats


def test_length_histogram_marks_rows_past_max_length():
    figure = charts.length_figure([(0, 10, 3), (10, 20, 1), (20, 30, 2)], max_length=20)
    assert list(figure.data[0].y) == [3, 1, 2]
    assert figure.data[0].marker.color[2] != figure.data[0].marker.color[0]
    assert figure.layout.shapes[0].x0 == 20


def test_a_big_file_is_previewed_from_its_first_rows_and_says_so(studio, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(tab_data, "PREVIEW_LIMIT", 5)
    path = write_jsonl(tmp_path / "big.jsonl", [{"text": f"row {i}"} for i in range(12)])
    shown = tab_data.inspect_dataset(config_for(path, tiny_model), studio)
    assert shown.summary.startswith("**text** · 5 usable rows of 5") and "Showing the first 5 rows" in shown.summary
    assert "These figures cover the first 5 rows; the file holds more" in shown.stats


def test_viewer_clicks_keep_to_the_rows_there_are(studio, tiny_model, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": f"row {i}"} for i in range(3)])
    state = tab_data.inspect_dataset(config_for(path, tiny_model), studio).state
    assert data_viewer.go(state, data_viewer.ALL, 3, "next", studio.tokenizer_for)[0] == 1  # wraps around
    assert data_viewer.go(state, data_viewer.ALL, 1, "previous", studio.tokenizer_for)[0] == 3
    number, position, example = data_viewer.go(state, data_viewer.ALL, 99, "here", studio.tokenizer_for)
    assert number == 3 and position.startswith("Row **3** of 3") and "row 2" in seen(example)
    assert data_viewer.go({}, data_viewer.ALL, None, "next", studio.tokenizer_for) == (1, "", "")


def test_placeholder_fields_write_data_placeholders():
    given = tab_data.placeholder_values({"name": "Old", "kept": "x"}, ["name", "author"], ["Nova", "  "])
    assert given == {"name": "Nova", "kept": "x"}
    assert tab_data.placeholder_values(given, ["name"], [""]) == {"kept": "x"}


def test_chat_markup_in_the_data_is_warned_about_and_shown_as_text(studio, tiny_model, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "[INST] <s>Hi</s>", "output": "Hello."}])
    shown = tab_data.inspect_dataset(config_for(path, tiny_model), studio)
    assert "chat markup" in shown.warnings and "Rows: line 1." in shown.warnings
    assert "<s>" not in shown.warnings and "&lt;s>" in shown.warnings  # Markdown would strike the rest through


def test_expected_time_before_the_first_run_and_a_warning_when_it_takes_hours(monkeypatch):
    from types import SimpleNamespace

    from core.data.check import Plan
    from webui import time_estimate

    monkeypatch.setattr(devices, "inventory", lambda: SimpleNamespace(gpus=[]))
    # The identity demo: 12 steps an epoch, 3 epochs, about 2,264 trained tokens an epoch -> about 2.5 min of
    # training, plus loading and the probe answers at its 5 evaluations (the whole run: core.measure.duration).
    lines, warning = time_estimate.time_lines(Plan(94, 10, 12, 36, 2264, None), "default")
    assert lines == ["Expected time for the whole run: about 3 min (model load 15 s, probe answers 39 s, training "
                     "3 min; 36 steps). A rough estimate: the built-in model trains about 45 tokens a second on a "
                     "quiet 2-core CPU; the first run measures this machine."] and not warning
    # A dataset like huanhuan (3,729 rows): 1,260 steps, hours on this CPU -> say so, and what to change (the steps
    # that fit 15 minutes once loading and probes are counted).
    with speaking("zh"):
        lines, warning = time_estimate.time_lines(Plan(3356, 373, 420, 1260, 260000, None), "default")
    assert "粗略估计" in lines[0]
    assert warning.startswith("- ⚠️ **这次训练在本机约需 4.8 小时。**") and "最大步数设为 61（约 15 分钟）" in warning
    # A measured speed is used for every part; an unknown model on an unknown machine gets no guess.
    lines, _ = time_estimate.time_lines(Plan(94, 10, 12, 36, 2264, 100.0, "my-run"), "/models/mine")
    assert lines == ["Expected time for the whole run: about 7 min on this machine (model load 30 s, probe answers "
                     "78 s, training 5 min; 36 steps)."]
    assert time_estimate.time_lines(Plan(94, 10, 12, 36, 2264, None), "/models/mine") == ([], "")
