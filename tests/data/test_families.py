"""The chat templates of the families people fine-tune, on tiny tokenizers with their special tokens: a system prompt
plus a multi-turn conversation is masked right, BOS comes once, and the chat prompt is the template's own."""

import pytest
from transformers import GenerationConfig

from core.data import templates
from core.data.templates import IGNORE
from core.models.generate import prompt_of, stop_ids
from core.models.tiny import Spec, build_tokenizer
from tests.families import END_OF_TURN, FAMILIES

SYSTEM = "You are Nova, made by Lumen Labs."
ANSWERS = ["Hello, I am Nova.", "Lumen Labs made me."]
CONVERSATION = {"messages": [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": ANSWERS[0]},
    {"role": "user", "content": "Who made you?"},
    {"role": "assistant", "content": "  " + ANSWERS[1] + " "},  # spaces that Llama's and Gemma's templates trim
]}
# Templates that write BOS themselves; the others start with the first turn's markup.
BOS_IN_TEMPLATE = {"llama-3.1", "llama-3.2", "mistral-v0.3", "mistral-nemo", "gemma-2", "gemma-3",
                   "deepseek-r1-distill"}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request):
    return request.param, build_tokenizer(spec=FAMILIES[request.param])


def spans(record) -> list[tuple[list[int], bool]]:
    """The row as runs of (ids, trained)."""
    runs = []
    for token, label in zip(record["input_ids"], record["labels"]):
        trained = label != IGNORE
        if runs and runs[-1][1] == trained:
            runs[-1][0].append(token)
        else:
            runs.append(([token], trained))
    return runs


def decoded(tokenizer, ids: list[int]) -> str:
    """The text of `ids` as they read mid-sequence: a SentencePiece decoder drops the space of a first "▁Hello"."""
    anchor = tokenizer.eos_token_id
    return tokenizer.decode([anchor] + list(ids))[len(tokenizer.decode([anchor])):]


def test_trained_tokens_are_each_answer_and_its_end_of_turn(family):
    name, tokenizer = family
    record = templates.tokenize_row(tokenizer, CONVERSATION, 4096)
    trained = [decoded(tokenizer, ids) for ids, is_trained in spans(record) if is_trained]
    assert len(trained) == 2, trained
    for number, (text, answer) in enumerate(zip(trained, ANSWERS)):
        body = text.rstrip("\n")
        assert body.endswith(END_OF_TURN[name]), text
        body = body[:-len(END_OF_TURN[name])]
        if name == "qwen3" and number == 1:  # Qwen3 writes an empty think block before the last answer only
            assert body.startswith("<think>\n\n</think>\n\n")
            body = body.removeprefix("<think>\n\n</think>\n\n")
        if name == "mistral-v0.3":  # its answers are " " + the trimmed content
            assert body.startswith(" ")
        assert body.strip() == answer
        assert body.count(END_OF_TURN[name]) == 0 and (tokenizer.eos_token not in body)  # no EOS inside a turn
    masked = tokenizer.decode([t for t, label in zip(record["input_ids"], record["labels"]) if label == IGNORE])
    assert masked.count(SYSTEM) == 1 and "Hi there" in masked and "Who made you?" in masked
    assert "Nova." not in masked.replace(SYSTEM, "")


def test_bos_comes_once_at_the_start_of_every_row_type(family):
    name, tokenizer = family
    bos = tokenizer.bos_token_id
    chat = templates.tokenize_row(tokenizer, CONVERSATION, 4096)["input_ids"]
    completion = templates.tokenize_row(tokenizer, {"prompt": "2 + 2 =", "completion": " 4"}, 4096)["input_ids"]
    text = templates.tokenize_row(tokenizer, {"text": "Paris is in France."}, 4096)["input_ids"]
    adds_bos = FAMILIES[name].add_bos
    for ids, expected in ((chat, name in BOS_IN_TEMPLATE), (completion, adds_bos), (text, adds_bos)):
        if bos is None:
            continue
        assert ids.count(bos) == (1 if expected else 0), (name, tokenizer.decode(ids))
        assert (ids[0] == bos) == expected
    prompt, _ = prompt_of(tokenizer, {"prompt": "2 + 2 =", "completion": " 4"})
    assert tokenizer(prompt, add_special_tokens=False)["input_ids"] == completion[:len(completion) - 2]


def test_chat_prompt_is_the_templates_generation_prompt_and_what_training_puts_before_the_answer(family):
    name, tokenizer = family
    asked = CONVERSATION["messages"][:4]
    prompt = templates.prompt_for_chat(tokenizer, asked)
    if name == "gemma-2":  # its template refuses a system message: it goes in front of the first user turn
        asked = [dict(asked[1], content=SYSTEM + "\n\n" + asked[1]["content"])] + asked[2:]
    generation_prompt = tokenizer.apply_chat_template(asked, tokenize=False, add_generation_prompt=True)
    if name == "deepseek-r1-distill":
        # Its generation prompt forces "<think>\n", which its template never writes into an answer: the chat asks
        # as training showed the model, and generates the thinking itself if it wants to.
        assert generation_prompt == prompt + "<think>\n"
    else:
        assert prompt == generation_prompt
    record = templates.tokenize_row(tokenizer, CONVERSATION, 4096)
    runs = spans(record)
    before_last_answer = [token for ids, _ in runs[:-2 if not runs[-1][1] else -1] for token in ids]
    assert tokenizer(prompt, add_special_tokens=False)["input_ids"] == before_last_answer


def test_stops_are_every_generation_config_id_and_the_end_of_turn(family):
    name, tokenizer = family
    spec = FAMILIES[name]
    shipped = [tokenizer.convert_tokens_to_ids(token) for token in spec.stop] or [tokenizer.eos_token_id]

    class Model:  # only what stop_ids reads: the model's generation config
        generation_config = GenerationConfig(eos_token_id=shipped)

    stops = stop_ids(Model(), tokenizer)
    assert set(shipped) <= set(stops)
    assert tokenizer.convert_tokens_to_ids(END_OF_TURN[name]) in stops
    assert tokenizer.eos_token_id in stops


def test_system_prompt_setting_reaches_every_family(family):
    name, tokenizer = family
    tokenizer = build_tokenizer(spec=FAMILIES[name])
    templates.apply_system_prompt(tokenizer, "Answer as Nova.")
    row = {"messages": [{"role": "user", "content": "Who are you?"}, {"role": "assistant", "content": "Nova."}]}
    assert tokenizer.decode(templates.tokenize_row(tokenizer, row, 4096)["input_ids"]).count("Answer as Nova.") == 1
    prompt = templates.prompt_for_chat(tokenizer, row["messages"][:1])
    assert prompt.count("Answer as Nova.") == 1
    # Outside the studio (plain transformers, the exported chat_template.jinja) the same prompt comes out.
    if name != "deepseek-r1-distill":
        assert tokenizer.apply_chat_template(row["messages"][:1], tokenize=False, add_generation_prompt=True) == prompt


def test_thinking_in_answers_is_trained_where_the_template_keeps_it_and_where_it_drops_it():
    from core.data.check import check

    row = {"messages": [{"role": "user", "content": "2+2?"},
                        {"role": "assistant", "content": "<think>\nAdd them.\n</think>\n\n4"}]}
    qwen3 = build_tokenizer(spec=FAMILIES["qwen3"])
    trained = [qwen3.decode(ids) for ids, is_trained in spans(templates.tokenize_row(qwen3, row, 4096)) if is_trained]
    assert trained == ["<think>\nAdd them.\n</think>\n\n4<|im_end|>\n"]  # the model writes its whole turn
    assert not [w for w in check([row], qwen3, 4096).warnings if w.kind == "thinking"]

    r1 = build_tokenizer(spec=FAMILIES["deepseek-r1-distill"])  # its template drops it: kept, and said so
    trained = [r1.decode(ids) for ids, is_trained in spans(templates.tokenize_row(r1, row, 4096)) if is_trained]
    assert trained == ["<think>\nAdd them.\n</think>\n\n4<｜end▁of▁sentence｜>"]
    warning = next(w for w in check([row], r1, 4096).warnings if w.kind == "thinking_kept")
    assert warning.rows == [0] and "leaves out the thinking of 1 answer" in str(warning.message)


CHAT = {"messages": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": ANSWERS[0]},
                     {"role": "user", "content": "Who made you?"}, {"role": "assistant", "content": ANSWERS[1]}]}


def test_a_conversation_is_the_token_sequence_apply_chat_template_gives(family):
    """The whole row is tokenized as one text: a SentencePiece tokenizer (Phi-3.5, Mistral v0.3 here) tokenizing
    each piece alone would put a stray "▁" in front of every piece that starts mid-text ("\\n", an answer)."""
    name, tokenizer = family
    record = templates.tokenize_row(tokenizer, CHAT, 4096)
    text = tokenizer.apply_chat_template(CHAT["messages"], tokenize=False)
    assert record["input_ids"] == tokenizer(text, add_special_tokens=False)["input_ids"], name
    trained = [decoded(tokenizer, ids) for ids, is_trained in spans(record) if is_trained]
    opening = " " if name == "mistral-v0.3" else ""  # Mistral writes "[/INST] " + answer: the model writes the " "
    thinking = "<think>\n\n</think>\n\n" if name == "qwen3" else ""
    closes = [text[text.index(answer) + len(answer):] for answer in ANSWERS]
    for number, (got, answer) in enumerate(zip(trained, ANSWERS)):
        end_of_turn = closes[number][:closes[number].index(END_OF_TURN[name]) + len(END_OF_TURN[name])]
        ending = closes[number][len(end_of_turn):][:1] if closes[number][len(end_of_turn):][:1] == "\n" else ""
        think = thinking if number == 1 else ""
        assert got == opening + think + answer + end_of_turn + ending, (name, got)


@pytest.mark.parametrize("name", ["phi-3.5", "mistral-v0.3"])
@pytest.mark.parametrize("prompt, completion", [("2 + 2 =", " 4"), ("Capital of France?\n", "Paris.")])
def test_a_completion_is_trained_without_a_stray_prefix_space(name, prompt, completion):
    """A completion tokenized on its own got the SentencePiece prefix: "Paris." trained as "▁Par" ... after a
    prompt ending in a line break. The completion is now the tail of the one tokenized text, as the chat tab sees
    it (it tokenizes BOS + prompt, then generates)."""
    tokenizer = build_tokenizer(spec=FAMILIES[name])
    row = {"prompt": prompt, "completion": completion}
    record = templates.tokenize_row(tokenizer, row, 4096)
    whole = templates.layout_bos(tokenizer) + prompt + completion + tokenizer.eos_token
    assert record["input_ids"] == tokenizer(whole, add_special_tokens=False)["input_ids"]
    trained = [ids for ids, is_trained in spans(record) if is_trained]
    assert [decoded(tokenizer, ids) for ids in trained] == [completion + tokenizer.eos_token]


def test_reasoning_content_is_trained_in_every_answer_and_named_where_the_template_drops_it():
    """Qwen3 writes reasoning_content inside <think> in the last turn only; the studio trained
    "<think>\\n\\n</think>\\n\\n6<|im_end|>" (the model learnt to skip thinking). Now the thinking is trained in
    every answer, as the template writes it in the last, and the data check names the rows where the template
    leaves some of it out."""
    from core.data.check import check

    first = {"role": "assistant", "content": "6", "reasoning_content": "Add three."}
    last = {"role": "assistant", "content": "4", "reasoning_content": "Add two."}
    one = {"messages": [{"role": "user", "content": "2+2?"}, last]}
    two = {"messages": [{"role": "user", "content": "3+3?"}, first, {"role": "user", "content": "2+2?"}, last]}
    qwen3 = build_tokenizer(spec=FAMILIES["qwen3"])
    record = templates.tokenize_row(qwen3, two, 4096)
    trained = [decoded(qwen3, ids) for ids, is_trained in spans(record) if is_trained]
    assert trained == ["<think>\nAdd three.\n</think>\n\n6<|im_end|>\n", "<think>\nAdd two.\n</think>\n\n4<|im_end|>\n"]
    text = qwen3.apply_chat_template(two["messages"], tokenize=False)
    kept = text.replace("assistant\n6", "assistant\n<think>\nAdd three.\n</think>\n\n6")
    assert record["input_ids"] == qwen3(kept, add_special_tokens=False)["input_ids"]
    warnings = [w for w in check([one, two], qwen3, 4096).warnings if w.kind.startswith("thinking")]
    assert [(w.kind, w.rows) for w in warnings] == [("thinking_kept", [1])]  # Qwen3 writes only the last turn's

    r1 = build_tokenizer(spec=FAMILIES["deepseek-r1-distill"])
    assert [(w.kind, w.rows) for w in check([one], r1, 4096).warnings if w.kind.startswith("thinking")] == [
        ("thinking_kept", [0])]


# gpt-oss's turn ends as its template (openai/gpt-oss-20b, the harmony format) writes them, reduced to plain text
# turns: earlier answers end with <|end|>, the conversation's last answer with <|return|> (also its EOS).
HARMONY_TURNS = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{- '<|start|>assistant<|channel|>final<|message|>' + message['content'] -}}"
    "{{- '<|return|>' if loop.last and not add_generation_prompt else '<|end|>' -}}"
    "{%- else -%}{{- '<|start|>' + message['role'] + '<|message|>' + message['content'] + '<|end|>' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|start|>assistant' -}}{%- endif -%}"
)
HARMONY = Spec(("<|startoftext|>", "<|endoftext|>", "<|start|>", "<|message|>", "<|channel|>", "<|end|>", "<|return|>"),
               bos="<|startoftext|>", eos="<|return|>", pad="<|endoftext|>", chat_template=HARMONY_TURNS)


def test_each_answer_ends_as_the_template_ends_it_when_the_last_turn_ends_differently():
    """gpt-oss: no token ends every answer, so the studio decided there was none and appended EOS after each
    answer ("...<|end|><|return|>", the last "<|return|><|return|>"). Each answer now ends as the template writes it."""
    tokenizer = build_tokenizer(spec=HARMONY)
    record = templates.tokenize_row(tokenizer, CHAT, 4096)
    text = tokenizer.apply_chat_template(CHAT["messages"], tokenize=False)
    assert record["input_ids"] == tokenizer(text, add_special_tokens=False)["input_ids"]
    trained = [decoded(tokenizer, ids) for ids, is_trained in spans(record) if is_trained]
    assert trained == ["<|channel|>final<|message|>" + ANSWERS[0] + "<|end|>",
                       "<|channel|>final<|message|>" + ANSWERS[1] + "<|return|>"]
    assert {tokenizer.convert_tokens_to_ids(t) for t in ("<|end|>", "<|return|>")} <= templates.turn_end_ids(tokenizer)


def test_the_token_view_keeps_the_spaces_a_sentencepiece_token_carries(family):
    """Each token decoded alone lost its "▁" space (the data command showed "IamNova."): the view reads as the
    text the model sees, token by token."""
    name, tokenizer = family
    view = templates.token_view(tokenizer, CHAT, 4096)
    record = templates.tokenize_row(tokenizer, CHAT, 4096)
    assert "".join(token.text for token in view) == tokenizer.decode(record["input_ids"])
    assert ANSWERS[1] in "".join(token.text for token in view if token.kind == "trained")
