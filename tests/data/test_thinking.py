"""Reasoning models' own data: the thinking of every answer is trained, in the form the model's template writes it.

Qwen3's template writes an answer's thinking (reasoning_content, or <think> ... </think> in its text) before the
answers after the last question only; DeepSeek-R1's cuts it from every answer. The studio trained the first answer
of a two-turn Qwen3 conversation without its thinking, and DeepSeek-R1's answers as "\\n\\n6" (the text after
</think>, line breaks and all). Now every answer's thinking is trained as "<think>\\n" + thinking + "\\n</think>\\n\\n"
before the answer, and the data check and the token view say how many answers' thinking the template leaves out.
"""

import pytest

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.data import templates
from core.data.check import check
from core.models.tiny import build_tokenizer
from tests.data.test_families import spans
from tests.families import END_OF_TURN, FAMILIES

REASONING = {"messages": [
    {"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6", "reasoning_content": "Add three."},
    {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4", "reasoning_content": "Add two."}]}
INLINE = {"messages": [
    {"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "<think>\nAdd three.\n</think>\n\n6"},
    {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "<think>\nAdd two.\n</think>\n\n4"}]}
PLAIN = {"messages": [{"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6"},
                      {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}
REASONERS = ["qwen3", "deepseek-r1-distill"]
WHOLE = {"qwen3": "<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n{first}<|im_end|>\n"
                  "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n{last}<|im_end|>\n",
         "deepseek-r1-distill": "<｜begin▁of▁sentence｜><｜User｜>3+3?<｜Assistant｜>{first}<｜end▁of▁sentence｜>"
                                "<｜User｜>2+2?<｜Assistant｜>{last}<｜end▁of▁sentence｜>"}


def tokenizer_of(name: str):
    return build_tokenizer(spec=FAMILIES[name])


def trained(tokenizer, row) -> list[str]:
    """The text of each stretch of trained tokens."""
    return [tokenizer.decode(ids) for ids, is_trained in spans(templates.tokenize_row(tokenizer, row, 4096))
            if is_trained]


def closing(name: str) -> str:
    return END_OF_TURN[name] + ("\n" if name == "qwen3" else "")  # ChatML's line break is trained with <|im_end|>


@pytest.mark.parametrize("row", [REASONING, INLINE], ids=["reasoning_content", "inline"])
@pytest.mark.parametrize("name", REASONERS)
def test_every_answers_thinking_is_trained_as_the_model_writes_it(name, row):
    tokenizer = tokenizer_of(name)
    assert trained(tokenizer, row) == [f"<think>\nAdd three.\n</think>\n\n6{closing(name)}",
                                       f"<think>\nAdd two.\n</think>\n\n4{closing(name)}"]
    # Nothing else is trained: the text is the template's, with the thinking it leaves out written in.
    text = WHOLE[name].format(first="<think>\nAdd three.\n</think>\n\n6", last="<think>\nAdd two.\n</think>\n\n4")
    assert templates.render(tokenizer, row) == text
    record = templates.tokenize_row(tokenizer, row, 4096)
    assert record["input_ids"] == tokenizer(text, add_special_tokens=False)["input_ids"]
    # What the template itself writes: Qwen3 drops the first answer's thinking; DeepSeek-R1 drops both, and keeps
    # the line breaks after </think> (the studio trained "\n\n6" before).
    cut = "\n\n" if name == "deepseek-r1-distill" and row is INLINE else ""
    last = "<think>\nAdd two.\n</think>\n\n4" if name == "qwen3" else cut + "4"
    assert tokenizer.apply_chat_template(row["messages"], tokenize=False) == WHOLE[name].format(first=cut + "6",
                                                                                               last=last)


def test_an_earlier_answers_thinking_takes_the_form_qwen3s_template_gives_the_last():
    qwen3 = tokenizer_of("qwen3")
    alone = trained(qwen3, {"messages": INLINE["messages"][:2]})  # the template itself writes this one
    assert trained(qwen3, INLINE)[0] == alone[0]
    # Whatever the spacing in the data: Qwen3 strips the line breaks around the thinking and before the answer.
    loose = {"messages": [INLINE["messages"][0], {"role": "assistant", "content": "<think>Add three.</think>\n6"},
                          *INLINE["messages"][2:]]}
    assert trained(qwen3, loose) == trained(qwen3, INLINE)


def test_deepseek_r1_trains_what_its_generation_prompt_asks_for():
    """Its generation prompt ends with "<think>\\n"; the chat asks with the turn's own opening, and the trained
    answer starts with that "<think>\\n", so training and the chat agree on where the model starts writing."""
    r1 = tokenizer_of("deepseek-r1-distill")
    asked = templates.prompt_for_chat(r1, INLINE["messages"][:1])
    generation_prompt = r1.apply_chat_template(INLINE["messages"][:1], tokenize=False, add_generation_prompt=True)
    assert asked + "<think>\n" == generation_prompt
    assert templates.render(r1, {"messages": INLINE["messages"][:2]}).startswith(asked + "<think>\nAdd three.")


@pytest.mark.parametrize("name", REASONERS)
def test_the_data_check_and_the_count_say_how_many_answers_thinking_the_template_leaves_out(name):
    tokenizer = tokenizer_of(name)
    kept = {"qwen3": 1, "deepseek-r1-distill": 2}[name]  # Qwen3 writes the last answer's itself
    assert templates.thinking_kept(tokenizer, REASONING) == kept == templates.thinking_kept(tokenizer, INLINE)
    assert templates.thinking_kept(tokenizer, PLAIN) == 0
    warnings = check([PLAIN, INLINE, REASONING], tokenizer, 4096).warnings
    warning = next(w for w in warnings if w.kind == "thinking_kept")
    assert warning.rows == [1, 2] and not [w for w in warnings if w.kind == "thinking"]
    assert f"leaves out the thinking of {2 * kept} answers" in str(warning.message)
    with speaking("zh"):
        assert f"省略了{2 * kept} 个回答的思考部分" in text_of(warning.message)


def test_rows_without_thinking_are_what_they_were():
    """Qwen3's empty think block before the last answer only, as its template writes it; nothing added elsewhere."""
    qwen3 = tokenizer_of("qwen3")
    assert trained(qwen3, PLAIN) == ["6<|im_end|>\n", "<think>\n\n</think>\n\n4<|im_end|>\n"]
    r1 = tokenizer_of("deepseek-r1-distill")
    assert trained(r1, PLAIN) == ["6<｜end▁of▁sentence｜>", "4<｜end▁of▁sentence｜>"]
    # Thinking in one answer only: the other stays as the template writes it.
    mixed = {"messages": [*REASONING["messages"][:2], *PLAIN["messages"][2:]]}
    assert trained(qwen3, mixed) == ["<think>\nAdd three.\n</think>\n\n6<|im_end|>\n",
                                     "<think>\n\n</think>\n\n4<|im_end|>\n"]


@pytest.mark.parametrize("name", sorted(set(FAMILIES) - set(REASONERS)))
def test_other_families_treat_thinking_as_before(name):
    """A template with no place for thinking leaves reasoning_content out (and the check says so); <think> in an
    answer's text is text like any other."""
    tokenizer = tokenizer_of(name)
    assert templates.layout_of(tokenizer).thinking is None
    for row in (INLINE, REASONING):
        assert templates.thinking_kept(tokenizer, row) == 0
    assert trained(tokenizer, REASONING) == trained(tokenizer, PLAIN)
    assert [w.kind for w in check([REASONING], tokenizer, 4096).warnings if w.kind.startswith("thinking")] == [
        "thinking"]


def test_a_preference_rows_chosen_thinking_is_trained_too():
    r1 = tokenizer_of("deepseek-r1-distill")
    row = {"messages": INLINE["messages"][:1], "chosen": INLINE["messages"][1]["content"], "rejected": "7"}
    from core.data import pairs

    pair = pairs.tokenize_pair(r1, row)
    assert r1.decode(pair["chosen_ids"]) == "<think>\nAdd three.\n</think>\n\n6<｜end▁of▁sentence｜>"
    assert r1.decode(pair["rejected_ids"]) == "7<｜end▁of▁sentence｜>"
    assert templates.thinking_kept(r1, row) == 1
