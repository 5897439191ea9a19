"""Answers read in the pass that scores their rows (core.models.scored): each row's answer and loss as it gets them
alone, whether its cache is reused (the usual case), cannot be (a sliding window) or its prompt is not where its row
begins (a row cut at max_length)."""

import pytest

from core.data.templates import ensure_pad_token, tokenize_row
from core.models.generate import answer_batch, prompt_of
from core.models.scored import score_and_answer_all
from core.results.evaluate import token_losses

ROWS = [
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there."}]},
    {"messages": [{"role": "system", "content": "You are Nova."}, {"role": "user", "content": "Hello"},
                  {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "Who are you? " * 20},
                  {"role": "assistant", "content": "I am Nova, a small model."}]},  # an earlier answer is scored too
    {"messages": [{"role": "user", "content": "Name a colour. " * 40}, {"role": "assistant", "content": "Blue."}]},
    {"prompt": "The sea is", "completion": " deep and wide."},
    {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y " * 30}]},
]


def alone(model, tokenizer, rows, max_length=1024):
    """Each row's greedy answer from a generate call of its own, and its loss from a forward pass of its own."""
    out = []
    for row in rows:
        answer = answer_batch(model, tokenizer, [prompt_of(tokenizer, row)[0]], 12)[0]
        out.append((answer, token_losses(model, tokenize_row(tokenizer, row, max_length))))
    return out


def together(model, tokenizer, rows, max_length=1024, batch_size=3):
    prompts = [prompt_of(tokenizer, row)[0] for row in rows]
    records = [tokenize_row(tokenizer, row, max_length) for row in rows]
    scored = score_and_answer_all(model, tokenizer, prompts, records, 12, batch_size=batch_size)
    return [((s.text, s.done), (s.loss, s.tokens)) for s in scored]


def assert_same(got, wanted):
    assert [answer for answer, _ in got] == [answer for answer, _ in wanted]
    for (_, (loss, tokens)), (_, (wanted_loss, wanted_tokens)) in zip(got, wanted):
        assert tokens == wanted_tokens and tokens > 0
        assert loss == pytest.approx(wanted_loss, rel=1e-4)


def cache_passed(model) -> list[bool]:
    """A spy on generate: for each call, whether it started from a cache (the real generate answers)."""
    calls, real = [], model.generate

    def spy(*args, **kwargs):
        calls.append(kwargs.get("past_key_values") is not None)
        return real(*args, **kwargs)

    model.generate = spy
    return calls


@pytest.fixture
def llama(tiny_model, tiny_tokenizer):
    from transformers import AutoModelForCausalLM

    ensure_pad_token(tiny_tokenizer)
    return AutoModelForCausalLM.from_pretrained(tiny_model).eval(), tiny_tokenizer


def test_answers_and_losses_are_each_rows_alone_and_the_prompts_are_read_once(llama):
    model, tokenizer = llama
    wanted = alone(model, tokenizer, ROWS)
    calls = cache_passed(model)
    assert_same(together(model, tokenizer, ROWS), wanted)
    assert calls == [True, True]  # 5 rows in batches of 3: both started from the scoring pass's cache
    assert_same(together(model, tokenizer, ROWS, batch_size=1), wanted)


def test_a_row_cut_at_max_length_is_scored_in_a_pass_of_its_own(llama):
    """The long rows lose their answer at 40 tokens: their prompt is no longer where the row begins."""
    model, tokenizer = llama
    wanted = alone(model, tokenizer, ROWS[:3], max_length=40)
    calls = cache_passed(model)
    got = together(model, tokenizer, ROWS[:3], max_length=40)
    assert [answer for answer, _ in got] == [answer for answer, _ in wanted]
    assert [score for _, score in got][0] == pytest.approx(wanted[0][1], rel=1e-4)
    assert got[2][1] == (0.0, 0)  # nothing trained is left of the cut row
    assert calls == [False]  # one batch of 3, answered from a fresh prefill


def test_a_sliding_window_model_answers_from_a_fresh_prefill(tiny_tokenizer):
    """A sliding window's cache cannot be cut back to the prompts; answers and losses are still each row's own."""
    from transformers import MistralConfig, MistralForCausalLM

    ensure_pad_token(tiny_tokenizer)
    config = MistralConfig(vocab_size=len(tiny_tokenizer), hidden_size=64, intermediate_size=128,
                           num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, sliding_window=16,
                           pad_token_id=tiny_tokenizer.pad_token_id)
    model = MistralForCausalLM(config).eval()
    rows = ROWS[:1] + ROWS[3:]  # prompts shorter than the window (answers alike within it)
    wanted = alone(model, tiny_tokenizer, rows)
    calls = cache_passed(model)
    assert_same(together(model, tiny_tokenizer, rows), wanted)
    assert calls == [False]
