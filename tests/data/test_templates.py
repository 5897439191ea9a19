"""Loss only on what the model should learn: checked token by token."""

import copy

import pytest

from core.data import templates
from core.data import turn_formats
from core.data.chat_layout import TemplateError
from core.data.templates import IGNORE

CONVERSATION = {"messages": [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello, I am Nova."},
    {"role": "user", "content": "Who made you?"},
    {"role": "assistant", "content": "Lumen Labs made me."},
]}


SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def trained_text(tokenizer, record) -> list[str]:
    """Decode each run of consecutive trained tokens."""
    runs, current = [], []
    for token, label in zip(record["input_ids"], record["labels"]):
        if label == IGNORE:
            if current:
                runs.append(current)
            current = []
        else:
            assert label == token
            current.append(token)
    if current:
        runs.append(current)
    return [tokenizer.decode(r) for r in runs]


def test_multi_turn_trains_every_assistant_turn_and_nothing_else(tiny_tokenizer):
    record = templates.tokenize_row(tiny_tokenizer, CONVERSATION, max_length=4096)
    assert trained_text(tiny_tokenizer, record) == ["Hello, I am Nova.<|im_end|>\n", "Lumen Labs made me.<|im_end|>\n"]
    masked = tiny_tokenizer.decode([t for t, label in zip(record["input_ids"], record["labels"]) if label == IGNORE])
    assert "You are terse." in masked and "Hi there" in masked and "Who made you?" in masked
    assert "Nova" not in masked and "Lumen" not in masked


def test_token_sequence_matches_the_rendered_conversation(tiny_tokenizer):
    record = templates.tokenize_row(tiny_tokenizer, CONVERSATION, max_length=4096)
    full = tiny_tokenizer.apply_chat_template(CONVERSATION["messages"], tokenize=False)
    assert tiny_tokenizer.decode(record["input_ids"]) == full == templates.render(tiny_tokenizer, CONVERSATION)


def test_template_with_a_default_system_prompt(tiny_tokenizer):
    """SmolLM2's template injects its own system prompt when none is given; it must stay masked."""
    tokenizer = tiny_tokenizer.__class__.from_pretrained(tiny_tokenizer.name_or_path)
    tokenizer.chat_template = (
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        "{{ '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n' }}{% endif %}"
        "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
    row = {"messages": [{"role": "user", "content": "Name?"}, {"role": "assistant", "content": "Nova."}]}
    record = templates.tokenize_row(tokenizer, row, max_length=4096)
    assert trained_text(tokenizer, record) == ["Nova.<|im_end|>\n"]
    assert tokenizer.decode(record["input_ids"]).startswith("<|im_start|>system\nYou are a helpful assistant")


def test_eos_is_added_when_the_template_ends_turns_without_it(tiny_tokenizer):
    tokenizer = tiny_tokenizer.__class__.from_pretrained(tiny_tokenizer.name_or_path)
    tokenizer.chat_template = ("{% for m in messages %}{{ '### ' + m['role'] + ': ' + m['content'] + '\n' }}"
                               "{% endfor %}{% if add_generation_prompt %}{{ '### assistant: ' }}{% endif %}")
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}
    record = templates.tokenize_row(tokenizer, row, max_length=4096)
    # EOS right after the answer, once. The space the template writes after "assistant:" is one token with the
    # answer's first word ("ĠHello"), as apply_chat_template tokenizes the text: that token is the answer's, trained.
    assert trained_text(tokenizer, record) == [" Hello.<|im_end|>"]
    assert tokenizer.decode(record["input_ids"]) == "### user: Hi\n### assistant: Hello.<|im_end|>\n"


def test_prompt_completion_trains_the_completion_and_eos(tiny_tokenizer):
    record = templates.tokenize_row(tiny_tokenizer, {"prompt": "2 + 2 =", "completion": " 4"}, max_length=4096)
    assert trained_text(tiny_tokenizer, record) == [" 4<|im_end|>"]


def test_plain_text_is_trained_entirely(tiny_tokenizer):
    record = templates.tokenize_row(tiny_tokenizer, {"text": "The capital of France is Paris."}, max_length=4096)
    assert IGNORE not in record["labels"]
    assert tiny_tokenizer.decode(record["input_ids"]) == "The capital of France is Paris.<|im_end|>"


def test_max_length_cuts_and_reports_full_length(tiny_tokenizer):
    record = templates.tokenize_row(tiny_tokenizer, CONVERSATION, max_length=10)
    assert len(record["input_ids"]) == len(record["labels"]) == 10
    assert record["full_length"] > 10


def test_model_without_chat_template_gets_chatml_and_a_note(tiny_tokenizer):
    tokenizer = tiny_tokenizer.__class__.from_pretrained(tiny_tokenizer.name_or_path)
    tokenizer.chat_template = None
    note = turn_formats.ensure_chat_template(tokenizer)
    assert "no chat template" in note and "ChatML" in note
    assert turn_formats.ensure_chat_template(tokenizer) is None  # only once
    text = templates.render(tokenizer, CONVERSATION)
    assert text.startswith("<|im_start|>system\nYou are terse.<|im_end|>")


def test_missing_pad_token_uses_eos_and_says_so(tiny_tokenizer):
    tokenizer = tiny_tokenizer.__class__.from_pretrained(tiny_tokenizer.name_or_path)
    tokenizer.pad_token = None
    note = templates.ensure_pad_token(tokenizer)
    assert tokenizer.pad_token == "<|im_end|>" and "<|im_end|>" in note


def test_system_prompt_setting_replaces_the_templates_default_everywhere(tiny_tokenizer):
    """SmolLM2's template names itself when a conversation has no system prompt; the run's setting decides."""
    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.chat_template = SMOLLM2_TEMPLATE
    row = {"messages": [{"role": "user", "content": "Name?"}, {"role": "assistant", "content": "Nova."}]}
    assert templates.system_prompt_in_use(tokenizer) == "You are a helpful AI assistant named SmolLM"
    assert templates.apply_system_prompt(tokenizer, "template") is None
    assert "named SmolLM" in templates.render(tokenizer, row)

    note = templates.apply_system_prompt(tokenizer, "none")
    assert "none" in note and "named SmolLM" in note
    assert templates.render(tokenizer, row).startswith("<|im_start|>system\n<|im_end|>\n<|im_start|>user\nName?")
    assert templates.system_prompt_in_use(tokenizer) == ""

    templates.apply_system_prompt(tokenizer, "You are Nova, made by Lumen Labs.")
    asked = templates.prompt_for_chat(tokenizer, row["messages"][:1])
    assert asked.startswith("<|im_start|>system\nYou are Nova, made by Lumen Labs.<|im_end|>")
    assert asked.count("system") == 1
    assert trained_text(tokenizer, templates.tokenize_row(tokenizer, row, 4096)) == ["Nova.<|im_end|>\n"]
    # The setting lives in the template, so a saved tokenizer (the run's adapter, an export) carries it, and plain
    # transformers renders the same prompt.
    assert tokenizer.apply_chat_template(row["messages"][:1], tokenize=False, add_generation_prompt=True) == asked
    own = {"messages": [{"role": "system", "content": "Be brief."}] + row["messages"]}
    assert "Lumen" not in templates.render(tokenizer, own)  # a row's own system prompt wins


def test_a_template_that_cannot_be_masked_gets_one_plain_sentence(tiny_tokenizer):
    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.chat_template = "{% for m in messages %}{{ m['role'] }}: (hidden)\n{% endfor %}"
    with pytest.raises(TemplateError) as caught:
        templates.tokenize_row(tokenizer, CONVERSATION, 4096)
    message = str(caught.value)
    assert "cannot be split into turns" in message and "prompt/completion" in message
    assert "\n" not in message and "Traceback" not in message


def test_rows_the_template_refuses_are_named_not_crashed_on(tiny_tokenizer):
    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.chat_template = ("{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                               "{{ raise_exception('Conversation roles must alternate') }}{% endif %}"
                               "{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endfor %}")
    twice = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                          {"role": "assistant", "content": "c"}]}
    with pytest.raises(templates.RowTemplateError, match="refuses this conversation: Conversation roles must"):
        templates.tokenize_row(tokenizer, twice, 4096)


def test_prompt_completion_and_text_rows_start_with_the_tokenizers_bos():
    from core.models.tiny import Spec, build_tokenizer

    gemma_like = Spec(("<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>"), bos="<bos>", eos="<eos>",
                      pad="<pad>", add_bos=True)
    tokenizer = build_tokenizer(spec=gemma_like)
    for row in ({"prompt": "2 + 2 =", "completion": " 4"}, {"text": "Paris."}):
        ids = templates.tokenize_row(tokenizer, row, 4096)["input_ids"]
        assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1
        assert ids[-1] == tokenizer.eos_token_id


def test_base_model_gets_its_familys_turn_format_where_its_tokenizer_has_the_tokens():
    from core.models.tiny import Spec, build_tokenizer

    gemma_base = build_tokenizer(chat_template=False, spec=Spec(
        ("<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>"), bos="<bos>", eos="<eos>", add_bos=True))
    note = turn_formats.ensure_chat_template(gemma_base)
    assert "Gemma turn format" in note
    record = templates.tokenize_row(gemma_base, CONVERSATION, 4096)
    assert trained_text(gemma_base, record) == ["Hello, I am Nova.<end_of_turn>\n",
                                                "Lumen Labs made me.<end_of_turn>\n"]
    assert record["input_ids"].count(gemma_base.bos_token_id) == 1 and record["input_ids"][0] == gemma_base.bos_token_id

    plain = build_tokenizer(chat_template=False, spec=Spec(("<s>", "</s>"), bos="<s>", eos="</s>", add_bos=True))
    assert "ChatML" in turn_formats.ensure_chat_template(plain)
    record = templates.tokenize_row(plain, CONVERSATION, 4096)
    assert record["input_ids"][0] == plain.bos_token_id  # ChatML after the tokenizer's own BOS
    assert trained_text(plain, record) == ["Hello, I am Nova.</s>", "Lumen Labs made me.</s>"]  # no turn token: EOS


def test_prompt_completion_rows_need_no_usable_chat_template(tiny_tokenizer):
    from core.data.check import check

    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.chat_template = "{% for m in messages %}[turn]{% endfor %}"
    assert templates.apply_system_prompt(tokenizer, "Be Nova.") is None  # nothing to put it in
    report = check([{"prompt": "2 + 2 =", "completion": " 4"}], tokenizer, 64)
    assert report.trained_tokens > 0 and not [w for w in report.warnings if w.kind == "no_eos"]


# Command R+'s tool-use template, reduced to what makes it fail: it loops over `tools`, which a training row lacks.
TOOL_USE_TEMPLATE = (
    "{{ bos_token }}<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>## Available Tools\n"
    "{% for tool in tools %}{{ tool.name }}\n{% endfor %}<|END_OF_TURN_TOKEN|>"
    "{% for message in messages %}<|START_OF_TURN_TOKEN|>"
    "{{ '<|USER_TOKEN|>' if message['role'] == 'user' else '<|CHATBOT_TOKEN|>' }}{{ message['content'] }}"
    "<|END_OF_TURN_TOKEN|>{% endfor %}"
)


def test_a_template_that_needs_a_tool_list_is_refused_with_what_it_needs():
    """The refusal showed the raw Jinja error "'NoneType' object is not iterable" and told the user to pick an
    -Instruct model; it now says the template needs a list of tools that training rows do not carry."""
    from core.models.tiny import build_tokenizer

    tokenizer = build_tokenizer()
    tokenizer.chat_template = TOOL_USE_TEMPLATE
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}
    with pytest.raises(TemplateError) as raised:
        templates.tokenize_row(tokenizer, row, 4096)
    said = str(raised.value)
    assert "tools" in said and "tool-use" in said and "NoneType" not in said


def test_a_template_without_an_end_of_turn_token_is_said_in_the_log(tiny_tokenizer, tmp_path):
    """GLM-4.6's template ends no answer with a special token: EOS is trained after each answer, and the log says
    so (it used to happen silently)."""
    from core.models.load import load_tokenizer

    tokenizer = tiny_tokenizer.__class__.from_pretrained(tiny_tokenizer.name_or_path)
    tokenizer.chat_template = ("{% for m in messages %}{{ '### ' + m['role'] + ': ' + m['content'] + '\n' }}"
                               "{% endfor %}{% if add_generation_prompt %}{{ '### assistant: ' }}{% endif %}")
    tokenizer.save_pretrained(tmp_path)
    _, notes = load_tokenizer(str(tmp_path))
    assert any("ends no answer with a special token" in note and tokenizer.eos_token in note for note in notes)
    _, notes = load_tokenizer(tiny_tokenizer.name_or_path)  # ChatML: <|im_end|> ends every answer
    assert not any("ends no answer" in note for note in notes)
