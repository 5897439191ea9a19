"""core/data says everything by key: places, problems, notes, warnings and errors read in the page's language, while
str() stays the English the command line and the log print."""

import json
import pickle

import pytest

from core.catalogue.language import speaking
from core.catalogue.message import StudioError, text_of
from core.data import check as data_check
from core.data.errors import DataError, RowError, kind_of
from core.data.load import load


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_places_problems_and_notes_speak_the_page_language(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [{"instruction": "q1", "output": "a1"}, {"instruction": "q2", "output": ""}])
    data = load(folder)
    problem = data.problems[0]
    assert str(problem) == 'a.jsonl line 2: field "output" is empty'
    with speaking("zh"):
        assert text_of(data.wheres[0]) == "a.jsonl 第 1 行"
        assert text_of(problem.said()) == "a.jsonl 第 2 行：字段“output”是空的"
        notes = [text_of(note) for note in data.notes]
    assert "根据字段 `instruction, output` 识别出格式“alpaca”。" in notes
    assert any(note.startswith("从文件夹") for note in notes)


def test_a_data_error_keeps_its_english_its_columns_and_its_key_across_processes(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("frage,antwort\nWer?,Ich.\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load(path)
    err = caught.value
    assert isinstance(err, StudioError) and isinstance(err, ValueError)
    assert str(err).startswith(f"{path}, the header (line 1): Could not tell the data format: found frage, antwort.")
    assert err.columns == ["frage", "antwort"]
    again = pickle.loads(pickle.dumps(err))
    assert again.columns == ["frage", "antwort"] and again.key == err.key and str(again) == str(err)
    with speaking("zh"):
        assert err.text().startswith(f"{path}，表头（第 1 行）：无法判断数据格式")
    assert RowError("data.formats.no_reply", raw="{}").raw == "{}"


def test_kinds_of_values_are_messages_whose_english_is_unchanged():
    assert [str(kind_of(v)) for v in (None, True, 3, "x", [1], {})] == [
        "nothing (null)", "true/false", "a number", "text", "a list", "an object"]
    with speaking("zh"):
        assert text_of(kind_of(2.5)) == "数字"


def test_warnings_and_statistics_speak_the_page_language(tiny_tokenizer):
    rows = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "I am Nova."}]}] * 3
    report = data_check.check(rows, tiny_tokenizer, max_length=256)
    (warning,) = report.warnings
    assert str(warning.message).startswith("2 rows repeat an earlier row exactly;")
    assert str(warning.name) == "Duplicates"
    with speaking("zh"):
        assert text_of(warning.message).startswith("2 行与前面某行完全相同；")
        assert text_of(warning.name) == "重复"
