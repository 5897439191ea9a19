"""Loss only on what the model should learn: checked token by token."""

from core.data import templates
from core.data.templates import IGNORE

CONVERSATION = {"messages": [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello, I am Nova."},
    {"role": "user", "content": "Who made you?"},
    {"role": "assistant", "content": "Lumen Labs made me."},
]}


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
    masked = tiny_tokenizer.decode([t for t, l in zip(record["input_ids"], record["labels"]) if l == IGNORE])
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
    assert trained_text(tokenizer, record) == ["Hello.<|im_end|>\n"]


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
    note = templates.ensure_chat_template(tokenizer)
    assert "no chat template" in note and "ChatML" in note
    assert templates.ensure_chat_template(tokenizer) is None  # only once
    text = templates.render(tokenizer, CONVERSATION)
    assert text.startswith("<|im_start|>system\nYou are terse.<|im_end|>")


def test_missing_pad_token_uses_eos_and_says_so(tiny_tokenizer):
    tokenizer = tiny_tokenizer.__class__.from_pretrained(tiny_tokenizer.name_or_path)
    tokenizer.pad_token = None
    note = templates.ensure_pad_token(tokenizer)
    assert tokenizer.pad_token == "<|im_end|>" and "<|im_end|>" in note
