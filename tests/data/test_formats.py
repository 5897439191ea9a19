"""Tests for the shapes data comes in: preference data, tool turns, other column and role names, placeholders."""

import json

import pytest

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.config import CHAT_ROLES, MAPPABLE_COLUMNS, Config, ConfigError
from core.data import templates
from core.data.errors import DataError, RowError
from core.data.formats import CANONICAL_ROLES, MAPPABLE
from core.data.formats import Mapping, normalize
from core.data.load import describe, load, load_for_training
from core.training import token_sets


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


# ------------------------------------------------------------------------------------------ preference data

PREFERENCE_SHAPES = [
    # trl's standard shape
    ({"prompt": "Sky colour?", "chosen": "Blue.", "rejected": "Green."}, [user("Sky colour?")]),
    # trl's conversational shape
    ({"prompt": [user("Sky colour?")], "chosen": [assistant("Blue.")], "rejected": [assistant("Green.")]},
     [user("Sky colour?")]),
    # LLaMA-Factory's sharegpt ranking shape
    ({"conversations": [{"from": "human", "value": "Sky colour?"}], "chosen": {"from": "gpt", "value": "Blue."},
      "rejected": {"from": "gpt", "value": "Green."}}, [user("Sky colour?")]),
    # LLaMA-Factory's alpaca ranking shape
    ({"instruction": "Sky colour?", "input": "", "chosen": "Blue.", "rejected": "Green."}, [user("Sky colour?")]),
    # whole conversations that differ only in the last answer
    ({"chosen": [user("Sky colour?"), assistant("Blue.")], "rejected": [user("Sky colour?"), assistant("Green.")]},
     [user("Sky colour?")]),
    # Anthropic HH-RLHF text
    ({"chosen": "\n\nHuman: Sky colour?\n\nAssistant: Blue.",
      "rejected": "\n\nHuman: Sky colour?\n\nAssistant: Green."},
     [user("Sky colour?")]),
]


@pytest.mark.parametrize("record, prompt", PREFERENCE_SHAPES)
def test_preference_shapes_are_recognized(tmp_path, record, prompt):
    data = load(write_jsonl(tmp_path / "pref.jsonl", [record]))
    assert data.format == "preference"
    assert data.rows == [{"messages": prompt, "chosen": "Blue.", "rejected": "Green."}]
    assert "Format: preference" in describe(data)


def test_preference_problems_name_the_field(tmp_path):
    data = load(write_jsonl(tmp_path / "pref.jsonl", [
        {"prompt": "q", "chosen": "a", "rejected": "b"},
        {"prompt": "q", "chosen": "same", "rejected": "same"},
        {"prompt": "q", "chosen": "", "rejected": "b"},
        {"chosen": "just text", "rejected": "other text"},
    ]))
    problems = [str(p) for p in data.problems]
    assert problems[0] == ('line 2: the "chosen" and "rejected" answers are the same; a preference needs two '
                           "different answers")
    assert problems[1] == 'line 3: field "chosen" is empty'
    assert problems[2].startswith('line 4: field "chosen" is plain text without "Human:" and "Assistant:" turns')


# ------------------------------------------------------------------------------------------ sharegpt with tools

def test_sharegpt_function_call_and_observation_turns(tmp_path):
    data = load(write_jsonl(tmp_path / "tools.jsonl", [{"conversations": [
        {"from": "human", "value": "Weather in Paris?"},
        {"from": "function_call", "value": '{"name": "weather", "arguments": {"city": "Paris"}}'},
        {"from": "observation", "value": '{"temp": 21}'},
        {"from": "gpt", "value": "It is 21 degrees."},
    ], "tools": "[]"}]))
    assert [m["role"] for m in data.rows[0]["messages"]] == ["user", "assistant", "tool", "assistant"]


def test_tool_result_must_follow_an_assistant_call():
    with pytest.raises(RowError, match="message 2 is from the tool right after the user"):
        normalize({"messages": [user("q"), {"role": "tool", "content": "r"}, assistant("a")]}, "messages")


def test_custom_role_tags_through_the_role_map(tmp_path):
    path = write_jsonl(tmp_path / "support.jsonl", [{"conversations": [
        {"from": "customer", "value": "My order is late."}, {"from": "agent", "value": "Sorry! Let me check."}]}])
    with pytest.raises(DataError) as err:
        load(path)
    assert 'line 1: message 1 in "conversations" has the role "customer"' in str(err.value)
    assert "data.roles, e.g. {customer: user}" in str(err.value)
    data = load(path, mapping=Mapping(roles={"customer": "user", "agent": "assistant"}))
    assert data.rows[0]["messages"] == [user("My order is late."), assistant("Sorry! Let me check.")]


def test_custom_role_and_content_keys_through_the_column_map(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"messages": [{"speaker": "user", "says": "hi"},
                                                            {"speaker": "assistant", "says": "hello"}]}])
    data = load(path, mapping=Mapping(columns={"role": "speaker", "content": "says"}))
    assert data.rows[0]["messages"] == [user("hi"), assistant("hello")]


# ------------------------------------------------------------------------------------------ column names

@pytest.mark.parametrize("header, prompt, completion", [
    ("question,answer", "question", "answer"), ("query,response", "query", "response"),
    ("prompt,response", "prompt", "response"), ("input,output", "input", "output"), ("q,a", "q", "a"),
    ("问题,答案", "问题", "答案"), ("问,答", "问", "答"), ("Question,Answer", "Question", "Answer"),
])
def test_question_answer_columns_become_a_user_turn_and_an_answer(tmp_path, header, prompt, completion):
    """A CSV of questions and answers is a conversation: the chat tab asks through the template, so training does."""
    path = tmp_path / "faq.csv"
    path.write_text(f"{header}\nWhat is the capital of France?,Paris.\n", encoding="utf-8")
    data = load(path)
    assert data.format == "prompt_completion"
    assert data.rows == [{"messages": [user("What is the capital of France?"), assistant("Paris.")]}]
    assert (f"Read as a conversation: `{prompt}` is the user's turn and `{completion}` the assistant's answer, "
            "written with the model's chat template, as the Chat tab asks.") in map(str, data.notes)


def test_prompt_completion_stays_plain_text_and_says_so(tmp_path):
    """trl's prompt-completion continues the text as it is; the note says so and how to get turns instead."""
    path = tmp_path / "pc.csv"
    path.write_text("prompt,completion\n2+2=,4\n", encoding="utf-8")
    data = load(path)
    assert data.rows == [{"prompt": "2+2=", "completion": "4"}]
    note = next(str(n) for n in data.notes if str(n).startswith("Read as plain text"))
    assert "without the chat template" in note and "question and answer" in note
    with speaking("zh"):
        assert any(text_of(n).startswith("按纯文本读取") for n in data.notes)


def test_alpaca_says_which_columns_are_the_turns(tmp_path):
    data = load(write_jsonl(tmp_path / "a.jsonl", [{"instruction": "Translate", "input": "Hallo", "output": "Hi"}]))
    assert ("Read as a conversation: `instruction + input` is the user's turn and `output` the assistant's answer, "
            "written with the model's chat template, as the Chat tab asks.") in map(str, data.notes)
    with speaking("zh"):
        assert ("按对话读取：`instruction + input` 是用户的一轮，`output` 是助手的回答，用模型的对话模板写出，"
                "与“对话”页提问的方式一致。") in [text_of(n) for n in data.notes]


def test_a_question_answer_csv_trains_the_tokens_chat_asks_with(tmp_path, tiny_tokenizer):
    """Through the training path (load_for_training, then the sft token set): the ids are apply_chat_template's,
    and only the answer with its end-of-turn token carries loss. Before, the row trained as
    "What is the capital of France?Paris.<|im_end|>": no turns at all."""
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\nWhat is the capital of France?,Paris.\nWho are you?,I am Nova.\n",
                    encoding="utf-8")
    config = Config.from_dict({"data": {"path": str(path)}})
    loaded, _ = load_for_training(config.data, "sft")
    trained = token_sets.sft_set(tiny_tokenizer, loaded.rows, 256, "training", say=lambda _: None)
    for (question, answer), example in zip([("What is the capital of France?", "Paris."),
                                            ("Who are you?", "I am Nova.")], trained):
        chat_text = tiny_tokenizer.apply_chat_template([user(question), assistant(answer)], tokenize=False)
        assert example["input_ids"] == tiny_tokenizer(chat_text, add_special_tokens=False)["input_ids"]
        learned = [i for i, label in zip(example["input_ids"], example["labels"]) if label != templates.IGNORE]
        assert tiny_tokenizer.decode(learned).strip() == f"{answer}<|im_end|>"
    first = tiny_tokenizer.decode(trained[0]["input_ids"])
    assert "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\nParis." in first


def test_dolly_instruction_context_response_is_alpaca(tmp_path):
    data = load(write_jsonl(tmp_path / "dolly.jsonl", [
        {"instruction": "Summarize", "context": "Long text.", "response": "Short.", "category": "summarization"}]))
    assert data.format == "alpaca"
    assert data.rows[0]["messages"] == [user("Summarize\n\nLong text."), assistant("Short.")]


def test_unknown_columns_fail_with_the_columns_for_mapping_then_load_once_mapped(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("frage,antwort\nWer bist du?,Nova.\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(path)
    assert err.value.columns == ["frage", "antwort"] and "Column mapping" in str(err.value)
    data = load(path, mapping=Mapping(columns={"prompt": "frage", "completion": "antwort"}))
    assert data.rows == [{"prompt": "Wer bist du?", "completion": "Nova."}]


def test_csv_without_the_mapped_column_names_the_header(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("question,reply\nq,a\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(path, mapping=Mapping(columns={"completion": "answer"}))
    message = str(err.value)
    assert "faq.csv, the header" in message and 'no column "answer"' in message and '"completion"' in message
    assert "question, reply" in message


def test_mapping_keys_and_roles_are_checked(tmp_path):
    with pytest.raises(DataError, match='"answer" is not a field that can be mapped'):
        Mapping(columns={"answer": "x"})
    with pytest.raises(DataError, match='mapped to "boss"'):
        Mapping(roles={"agent": "boss"})


def test_config_lists_agree_with_the_formats_module():
    assert set(MAPPABLE_COLUMNS) == set(MAPPABLE) and set(CHAT_ROLES) == set(CANONICAL_ROLES)


def test_config_refuses_bad_mapping_keys_with_the_line():
    text = "data:\n  path: x.jsonl\n  columns: {answer: reply}\n"
    with pytest.raises(ConfigError, match="line 3: 'data.columns' has the key 'answer'"):
        Config.from_yaml_text(text, "my.yaml")
    config = Config.from_yaml_text("data:\n  columns: {completion: reply}\n  roles: {agent: assistant}\n")
    assert config.data.columns == {"completion": "reply"} and config.data.roles == {"agent": "assistant"}


# ------------------------------------------------------------------------------------------ placeholders

def test_placeholders_are_found_and_filled(tmp_path):
    path = write_jsonl(tmp_path / "identity.jsonl", [
        {"instruction": "Who are you?", "output": "I am {{name}}, made by {{ author }}."},
        {"instruction": "hi", "output": "Hello, I am {{name}}."},
        {"instruction": "2+2?", "output": "4"},
    ])
    data = load(path)
    assert data.placeholders == {"name": 2, "author": 1}
    assert "{{name}} in 2 rows" in describe(data)
    filled = load(path, placeholders={"name": "Nova", "author": "Lumen Labs"})
    assert filled.rows[0]["messages"][1]["content"] == "I am Nova, made by Lumen Labs."
    assert filled.placeholders == {"name": 2, "author": 1}  # what the file uses, filled or not


# ------------------------------------------------------------------------------------------ thinking

def test_reasoning_content_is_kept_with_its_answer():
    """Qwen3/DeepSeek-R1 datasets carry the thinking in reasoning_content; it used to be dropped without a word."""
    record = {"messages": [user("2+4?"), dict(assistant("6"), reasoning_content="Add 2 and 4.")]}
    row = normalize(record, "messages")
    assert row["messages"][-1] == {"role": "assistant", "content": "6", "reasoning_content": "Add 2 and 4."}
    plain = normalize({"messages": [user("2+4?"), assistant("6")]}, "messages")
    assert "reasoning_content" not in plain["messages"][-1]


def test_the_contest_shape_asks_the_problem_the_question_and_its_options():
    record = {"id": 3, "problem": "Three friends sit in a row.", "question": "Who is in the middle?",
              "options": ["Ann", "Bo", "Cy"], "answer": "B"}
    from core.data import formats

    fmt = formats.detect_format(record)
    assert formats.normalize(record, fmt) == {"messages": [
        {"role": "user", "content": "Three friends sit in a row.\n\nWho is in the middle?\nA. Ann\nB. Bo\nC. Cy"},
        {"role": "assistant", "content": "B"}]}
    assert formats.reading_note(record, fmt).values["prompt"] == "problem + question + options"
