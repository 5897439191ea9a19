"""Tests for reading data files: folders, large files read lazily, and byte-level trouble (BOM, CR, bad bytes)."""

import json
import os
import resource
import shutil
import time

import pytest

from core.data.errors import DataError
from core.data.files import JSON_STREAM_BYTES, open_source
from core.data.load import load


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_folder_of_files_reads_them_in_name_order_and_names_the_file_in_problems(tmp_path):
    folder = tmp_path / "parts"
    (folder / "more").mkdir(parents=True)
    write_jsonl(folder / "b.jsonl", [{"instruction": "q2", "output": "a2"}, {"instruction": "q3", "output": ""}])
    write_jsonl(folder / "a.jsonl", [{"instruction": "q1", "output": "a1"}])
    (folder / "more" / "c.csv").write_text("instruction,output\nq4,a4\n", encoding="utf-8")
    (folder / "notes.md").write_text("not data", encoding="utf-8")
    data = load(folder)
    assert data.format == "alpaca"
    assert [row["messages"][0]["content"] for row in data.rows] == ["q1", "q2", "q4"]
    assert list(map(str, data.wheres)) == ["a.jsonl line 1", "b.jsonl line 1",
                                           os.path.join("more", "c.csv") + " line 2"]
    assert str(data.problems[0]) == 'b.jsonl line 2: field "output" is empty'
    assert any("Read 3 files from the folder" in str(note) for note in data.notes)


def test_empty_folder_and_mixed_text_folder_say_what_to_do(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no .jsonl/.json/.csv/.tsv/.parquet/.txt files"):
        load(tmp_path / "empty")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a.txt").write_text("hello", encoding="utf-8")
    write_jsonl(mixed / "b.jsonl", [{"text": "x"}])
    with pytest.raises(DataError, match="mixes .txt files with other data files"):
        load(mixed)


def test_big_json_list_is_streamed_item_by_item(tmp_path, monkeypatch):
    monkeypatch.setattr("core.data.files.JSON_STREAM_BYTES", 100)  # stream even this small file
    path = tmp_path / "list.json"
    items = [{"instruction": f"q{i}", "output": "ä" * (i % 7 + 1)} for i in range(300)] + [7]
    path.write_text("\ufeff[\n" + ",\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n]",
                    encoding="utf-8")
    notes = []
    source = open_source(str(path), notes)
    records = list(source.records)
    assert len(records) == 301 and str(records[299][0]) == "item 300"
    assert records[5][1] == items[5]
    data = load(path)
    assert len(data.rows) == 300 and str(data.problems[0].where) == "item 301"


def test_big_json_with_a_syntax_error_names_the_line(tmp_path, monkeypatch):
    monkeypatch.setattr("core.data.files.JSON_STREAM_BYTES", 10)
    path = tmp_path / "broken.json"
    path.write_text('[\n{"text": "a"},\n{"text": "b",}\n]', encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(path)
    assert "broken.json is not valid JSON" in str(err.value) and "line 3" in str(err.value)


def test_lone_carriage_returns_end_lines(tmp_path):
    path = tmp_path / "mac.jsonl"
    path.write_bytes(b'{"text": "a"}\r{"text": "b"}\r{"text": ""}\r')
    data = load(path)
    assert data.rows == [{"text": "a"}, {"text": "b"}] and str(data.problems[0].where) == "line 3"


def test_non_utf8_byte_deep_in_a_file_names_line_and_column(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("prompt,completion\nq,a\nq2,caf".encode() + b"\xe9\n")
    with pytest.raises(DataError) as err:
        load(path)
    assert "mixed.csv is not UTF-8 text (byte 0xe9" in str(err.value) and "line 3, column 7" in str(err.value)


def test_a_row_keeps_its_raw_text_for_the_user_to_see(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "ok"}\n{"text": 5}\n{broken\n', encoding="utf-8")
    data = load(path)
    assert data.problems[0].raw == '{"text": 5}'
    assert data.problems[1].raw == "{broken"


def test_limit_reads_only_the_start_and_says_so(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": f"row {i}"} for i in range(50)])
    data = load(path, limit=10)
    assert len(data.rows) == 10 and not data.complete
    assert any("Showing the first 10 rows" in str(note) for note in data.notes)
    assert load(path, limit=50).complete and load(path, limit=60).complete


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.slow
def test_two_gigabyte_file_previews_in_seconds_with_flat_memory(tmp_path):
    if shutil.disk_usage(tmp_path).free < 6 * 2**30:
        pytest.skip("needs 6 GB of free disk for the 2 GB file")
    path = tmp_path / "huge.jsonl"
    line = (json.dumps({"instruction": "Tell me a long story.", "output": "Once upon a time " * 60}) + "\n").encode()
    block = line * (8 * 2**20 // len(line))
    with open(path, "wb") as file:
        while file.tell() < 2 * 2**30:
            file.write(block)
    before = _peak_rss_mb()
    started = time.perf_counter()
    data = load(path, limit=1000)
    seconds = time.perf_counter() - started
    assert len(data.rows) == 1000 and not data.complete and data.size_bytes >= 2 * 2**30
    assert seconds < 20, f"preview took {seconds:.1f} s"
    assert _peak_rss_mb() - before < 200  # the file is 2048 MB; reading its start must not load it


def test_json_above_the_stream_threshold_is_not_parsed_whole():
    assert JSON_STREAM_BYTES <= 128 * 2**20


# ------------------------------------------------------------------------------------------ rows too long to read

def test_a_line_over_the_row_cap_is_reported_with_its_line_and_size_and_the_rest_is_read(tmp_path, monkeypatch):
    """A JSONL with one 50 MB line took the data check to 6.5 GB; a line over the cap is skipped, never decoded."""
    monkeypatch.setattr("core.data.files.MAX_ROW_BYTES", 1_000_000)
    path = write_jsonl(tmp_path / "long.jsonl", [{"instruction": "q1", "output": "a1"},
                                                 {"instruction": "q2", "output": "x" * 1_500_000},
                                                 {"instruction": "q3", "output": "a3"}])
    data = load(path)
    assert [str(where) for where in data.wheres] == ["line 1", "line 3"]
    assert str(data.problems[0]).startswith("line 2: this line is 1.5 MB, over the 1 MB a row may hold, so it was "
                                            "not read; split it into several rows")
    assert len(data.problems[0].raw) < 1000  # the user sees its start, not 1.5 MB


def test_long_lines_in_csv_and_text_files_are_reported_too(tmp_path, monkeypatch):
    monkeypatch.setattr("core.data.files.MAX_ROW_BYTES", 1_000_000)
    long = "y" * 1_200_000
    (tmp_path / "t.csv").write_text(f"instruction,output\nq1,a1\nq2,{long}\nq3,a3\n", encoding="utf-8")
    data = load(tmp_path / "t.csv")
    assert [str(where) for where in data.wheres] == ["line 2", "line 4"]
    assert str(data.problems[0]).startswith("line 3: this line is 1.2 MB")
    (tmp_path / "t.txt").write_text(f"first line\n{long}\nthird line\n", encoding="utf-8")
    data = load(tmp_path / "t.txt")
    assert [row["text"] for row in data.rows] == ["first line", "third line"]
    assert str(data.problems[0]).startswith("line 2: this line is 1.2 MB")


def test_a_json_item_over_the_row_cap_is_reported_before_it_is_used(tmp_path, monkeypatch):
    monkeypatch.setattr("core.data.files.MAX_ROW_BYTES", 1_000_000)
    items = [{"instruction": "q", "output": "a"}, {"instruction": "z" * 600_000, "output": "z" * 600_000}]
    (tmp_path / "t.json").write_text(json.dumps(items), encoding="utf-8")
    data = load(tmp_path / "t.json")
    assert data.total == 2 and len(data.rows) == 1
    assert str(data.problems[0]).startswith("item 2: this row holds 1.2 MB of text, over the 1 MB a row may hold")
    assert len(data.problems[0].raw) < 1000


def test_a_hub_id_with_a_trailing_newline_is_not_taken_for_one(tmp_path):
    """'$' matches before a final newline: 'org/data\\n' was sent to the dataset hub instead of reported missing."""
    with pytest.raises(DataError, match="org/data"):
        open_source("org/data\n", [])
    with pytest.raises(DataError) as err:
        open_source("org/data\n", [])
    assert err.value.key == "data.files.missing"


def test_a_broken_json_line_is_explained_in_the_pages_language(tmp_path):
    """The table of rows that cannot be used showed Python's own English ("Unterminated string starting at") on a
    Chinese page; the usual reasons are said by key: the same English for the log, Chinese for the page."""
    from core.catalogue.language import speaking
    from core.catalogue.message import text_of

    path = tmp_path / "bad.jsonl"
    path.write_text('{"instruction": "Hi", "output": "Hello."}\n{"instruction": "broken\n'
                    '{"instruction": "Bye", "output": "Goodbye."}\n', encoding="utf-8")
    problem = load(str(path)).problems[0]
    assert str(problem).startswith("line 2: not valid JSON: Unterminated string starting at at column")
    with speaking("zh"):
        assert "有未闭合的字符串" in text_of(problem.said()) and "Unterminated" not in text_of(problem.said())
