"""Tests for core.data.load: each format, each file type, and the messages a user sees for bad data."""

import json

import pytest

from core.data.errors import DataError, RowError
from core.data.formats import detect_format, normalize
from core.data.load import LoadedData, Problem, describe, load, split


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ the five formats

def test_alpaca_with_system_history_and_input(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{
        "system": "Be brief.", "history": [["Hi", "Hello!"]],
        "instruction": "Translate", "input": "chat", "output": "cat",
    }])
    data = load(path)
    assert data.format == "alpaca"
    assert data.rows == [{"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Translate\n\nchat"},
        {"role": "assistant", "content": "cat"},
    ]}]
    detected = 'Detected format "alpaca" from the fields system, history, instruction, input, output.'
    assert detected in map(str, data.notes)


def test_alpaca_with_empty_input_is_just_the_instruction():
    row = normalize({"instruction": "Say hi", "input": "", "output": "hi"}, "alpaca")
    assert row == {"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "hi"}]}


def test_sharegpt_roles_are_mapped(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [{"system": "sys", "conversations": [
        {"from": "human", "value": "q1"}, {"from": "gpt", "value": "a1"},
        {"from": "user", "value": "q2"}, {"from": "model", "value": "a2"},
        {"from": "HUMAN", "value": "q3"}, {"from": "bot", "value": "a3"},
    ]}])
    data = load(path)
    assert data.format == "sharegpt"
    roles = [m["role"] for m in data.rows[0]["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user", "assistant"]
    assert data.rows[0]["messages"][0]["content"] == "sys"
    assert data.rows[0]["messages"][-1]["content"] == "a3"


def test_sharegpt_unknown_role_names_it_and_the_allowed_ones():
    with pytest.raises(RowError) as err:
        normalize({"conversations": [{"from": "narrator", "value": "x"}]}, "sharegpt")
    assert '"narrator"' in str(err.value) and "message 1" in str(err.value) and "human" in str(err.value)


def test_messages_with_list_of_parts_content(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [{"messages": [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]},
        {"role": "assistant", "content": "Hi"},
    ]}])
    data = load(path)
    assert data.format == "messages"
    assert data.rows[0]["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "Hello there"},
        {"role": "assistant", "content": "Hi"},
    ]


def test_prompt_completion_plain_and_aliases(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "2+2=", "completion": "4"}])
    data = load(path)
    assert data.format == "prompt_completion"
    assert data.rows == [{"prompt": "2+2=", "completion": "4"}]
    # A question and its answer are chat turns (tests/data/test_formats.py), not plain text.
    assert normalize({"question": "q", "answer": "a"}, "prompt_completion") == {"messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    assert normalize({"input": "i", "output": "o"}, "prompt_completion") == {"messages": [
        {"role": "user", "content": "i"}, {"role": "assistant", "content": "o"}]}


def test_conversational_prompt_completion_becomes_messages(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{
        "prompt": [{"role": "user", "content": "Hi"}],
        "completion": [{"role": "assistant", "content": "Hello"}],
    }])
    data = load(path)
    assert data.format == "prompt_completion"
    assert data.rows == [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}]


def test_text_format(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"text": "one"}, {"content": "two"}])
    data = load(path)
    assert data.format == "text"
    assert data.rows == [{"text": "one"}, {"text": "two"}]


@pytest.mark.parametrize("record, expected", [
    ({"instruction": "i", "input": "", "output": "o"}, "alpaca"),
    ({"conversations": []}, "sharegpt"),
    ({"conversation": []}, "sharegpt"),
    ({"messages": []}, "messages"),
    ({"prompt": "p", "completion": "c"}, "prompt_completion"),
    ({"question": "q", "answer": "a"}, "prompt_completion"),
    ({"input": "i", "output": "o"}, "prompt_completion"),
    ({"text": "t"}, "text"),
    ({"content": "t"}, "text"),
    ({"instruction": "i", "input": "", "output": "o", "text": "all of it"}, "alpaca"),
])
def test_detect_format(record, expected):
    assert detect_format(record) == expected


def test_detect_format_names_fields_seen_and_needed():
    with pytest.raises(DataError) as err:
        detect_format({"foo": 1, "bar": 2})
    message = str(err.value)
    assert "foo, bar" in message
    assert "instruction and output" in message and "prompt and completion" in message


# ------------------------------------------------------------------------------------------ file types

def test_jsonl_malformed_line_is_reported_and_the_rest_load(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"text": "a"}\n'
        '\n'
        '{"text": "b" "c"}\n'
        '{"text": "d"}\n'
        '[1, 2]\n', encoding="utf-8")
    data = load(path)
    assert data.rows == [{"text": "a"}, {"text": "d"}]
    assert data.total == 4
    assert str(data.problems[0]).startswith("line 3: not valid JSON: Expecting ',' delimiter at column")
    assert str(data.problems[1].where) == "line 5" and "a list" in str(data.problems[1].message)


def test_csv_with_bom_and_crlf(tmp_path):
    path = tmp_path / "d.csv"
    content = 'instruction,input,output\r\nSay hi,,"Hi, there"\r\n"Two\r\nlines",x,ok\r\nbad,,\r\n'
    path.write_bytes(b"\xef\xbb\xbf" + content.encode("utf-8"))
    data = load(path)
    assert data.format == "alpaca"
    assert data.rows[0]["messages"] == [{"role": "user", "content": "Say hi"},
                                        {"role": "assistant", "content": "Hi, there"}]
    assert data.rows[1]["messages"][0]["content"] == "Two\nlines\n\nx"
    # the quoted cell spans lines 3 and 4, so the bad row starts on line 5
    assert [str(p) for p in data.problems] == ['line 5: field "output" is empty']


def test_csv_json_cell_and_wrong_cell_count(tmp_path):
    path = tmp_path / "d.csv"
    conversation = json.dumps([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    path.write_text("messages\n" + '"' + conversation.replace('"', '""') + '"\n' + "a,b\n", encoding="utf-8")
    data = load(path)
    assert data.rows[0]["messages"][1] == {"role": "assistant", "content": "a"}
    assert str(data.problems[0].where) == "line 3" and "2 cells" in str(data.problems[0].message)


def test_tsv(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("prompt\tcompletion\nq, with comma\ta\n", encoding="utf-8")
    assert load(path).rows == [{"prompt": "q, with comma", "completion": "a"}]


def test_json_object_wrapping_a_list(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"version": 1, "data": [{"text": "a"}, {"text": "b"}, 7]}), encoding="utf-8")
    data = load(path)
    assert data.rows == [{"text": "a"}, {"text": "b"}]
    assert any('"data"' in str(note) for note in data.notes)
    assert str(data.problems[0].where) == "item 3"


def test_json_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"text": "a"},\n  {"text": "b",}\n]', encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(path)
    assert "bad.json" in str(err.value) and "line 3, column" in str(err.value)


def test_txt_paragraphs(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("First paragraph\ncontinues here.\n\n\nSecond one.\n", encoding="utf-8")
    data = load(path)
    assert data.format == "text"
    assert data.rows == [{"text": "First paragraph\ncontinues here."}, {"text": "Second one."}]


def test_txt_without_blank_lines_is_one_row_per_line(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("one\ntwo\nthree\n", encoding="utf-8")
    assert load(path).rows == [{"text": "one"}, {"text": "two"}, {"text": "three"}]


def test_txt_only_fits_text_format(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("one\n", encoding="utf-8")
    with pytest.raises(DataError, match='"text"'):
        load(path, "alpaca")


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    table = pa.table({"instruction": ["a", "b"], "input": [None, "x"], "output": ["A", ""]})
    pq.write_table(table, path)
    data = load(path)
    assert data.format == "alpaca"
    assert data.rows == [{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "A"}]}]
    assert [str(p) for p in data.problems] == ['row 2: field "output" is empty']


# ------------------------------------------------------------------------------------------ whole-file errors

def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty.jsonl is empty"):
        load(path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"text": "caf\u00e9"}\n'.encode("latin-1"))
    with pytest.raises(DataError) as err:
        load(path)
    message = str(err.value)
    assert "latin.jsonl" in message and "is not UTF-8 text (byte 0xe9 at position 13, line 1, column 14)" in message
    assert "save it as UTF-8" in message


def test_every_row_empty_lists_the_problems(tmp_path):
    path = write_jsonl(tmp_path / "blank.jsonl", [{"text": ""}, {"text": "   "}, {"text": None}])
    with pytest.raises(DataError) as err:
        load(path)
    message = str(err.value)
    assert message.startswith("no usable rows in ")
    assert 'line 1: field "text" is empty' in message and 'line 2: field "text" is empty' in message


def test_wrong_type_field(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "a", "output": "A"}, {"instruction": "b", "output": 3},
                                              {"instruction": "c", "output": ["x"]}])
    data = load(path)
    assert [str(p) for p in data.problems] == ['line 2: field "output" should be text, found a number',
                                               'line 3: field "output" should be text, found a list']


def test_missing_field_names_what_the_format_needs(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "a", "output": "A"}, {"instruction": "b"}])
    data = load(path)
    assert str(data.problems[0]) == 'line 2: missing field "output" (alpaca rows need instruction and output)'


def test_conversation_ending_with_user_turn(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"},
                      {"role": "user", "content": "q2"}]},
        {"messages": [{"role": "user", "content": "q"}]},
        {"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q"},
                      {"role": "assistant", "content": "a"}]},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": " "}]},
        {"messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": "a"}]},
    ])
    data = load(path)
    assert len(data.rows) == 1
    problems = [str(p) for p in data.problems]
    assert problems[0].startswith("line 2: the conversation ends with a user message (message 3)")
    assert problems[1] == "line 3: the conversation has no assistant reply"
    assert problems[2].startswith("line 4: messages 1 and 2 are both from the user")
    assert problems[3] == "line 5: message 2 (assistant) is empty"
    assert problems[4] == "line 6: the conversation has no assistant reply"


def test_given_format_that_does_not_fit(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "p", "completion": "c"}])
    with pytest.raises(DataError) as err:
        load(path, "alpaca")
    message = str(err.value)
    assert '"alpaca"' in message and "prompt, completion" in message and "line 1" in message
    assert '"prompt_completion"' in message


def test_unrecognised_fields_name_the_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"question_text": "q", "reply": "a"}])
    with pytest.raises(DataError) as err:
        load(path)
    assert "d.jsonl, line 1" in str(err.value) and "question_text, reply" in str(err.value)


def test_missing_file_path(tmp_path):
    path = tmp_path / "nowhere" / "train.jsonl"
    with pytest.raises(DataError, match="No file at .*train.jsonl"):
        load(path)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(DataError) as err:
        load(path)
    assert ".xlsx" in str(err.value) and ".jsonl" in str(err.value) and ".parquet" in str(err.value)


def test_hub_id_that_cannot_be_reached(monkeypatch, tmp_path):
    """A hub dataset id is fetched through core.hub (tests/hub/test_datasets.py reads one from a loopback hub);
    here the hub's address answers nothing."""
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(DataError) as err:
        load("someone/some-data")
    assert str(err.value).startswith("'someone/some-data' is not a file here, and as a hub dataset: Cannot reach "
                                     "http://127.0.0.1:9 (")


def test_problem_list_is_capped_but_counted(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "ok"}] + [{"text": ""}] * 5)
    data = load(path, max_problems_listed=2)
    assert len(data.problems) == 2 and data.total == 6 and data.skipped == 5
    assert "3 more skipped rows are not listed." in map(str, data.notes)


# ------------------------------------------------------------------------------------------ split and describe

def test_split_sizes_and_determinism():
    rows = [{"text": str(i)} for i in range(20)]
    train, evaluation = split(rows, 0.1, seed=1)
    assert len(train) == 18 and len(evaluation) == 2
    assert sorted(r["text"] for r in train + evaluation) == sorted(r["text"] for r in rows)
    assert split(rows, 0.1, seed=1) == (train, evaluation)
    assert split(rows, 0.1, seed=2) != (train, evaluation)


def test_split_edges():
    rows = [{"text": str(i)} for i in range(3)]
    assert split(rows, 0.0, seed=0) == (rows, [])
    assert [len(part) for part in split(rows, 0.01, seed=0)] == [2, 1]  # at least one eval row
    assert [len(part) for part in split(rows, 0.99, seed=0)] == [1, 2]  # never all rows
    assert split(rows[:1], 0.5, seed=0) == (rows[:1], [])


def test_describe_lists_file_format_counts_problems_and_notes(tmp_path):
    data = LoadedData("train.jsonl", "text", [{"text": "a"}], [Problem("line 2", 'field "text" is empty')], 2,
                      ['Detected format "text" from the fields text.'])
    summary = describe(data)
    assert "train.jsonl" in summary and "text" in summary and "1 of 2" in summary
    assert 'line 2: field "text" is empty' in summary and "Detected format" in summary


def test_csv_without_header_says_so(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("What is 2+2?,4\nCapital of France?,Paris\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(path)
    assert "d.csv, the header (line 1)" in str(err.value) and "header row" in str(err.value)


def test_conversation_must_start_with_the_user():
    with pytest.raises(RowError, match="message 2 is from the assistant"):
        normalize({"system": "s", "conversation": [{"from": "gpt", "value": "a"}]}, "sharegpt")
