"""Answer text as people read it."""

from core.models import tiny
from core.models.generate import answer_text, without_empty_think


def test_an_answer_cut_inside_a_character_never_shows_half_of_it():
    tokenizer = tiny.build_tokenizer()
    ids = tokenizer.encode("Nova 我", add_special_tokens=False)
    assert tokenizer.decode(ids[:-1]).endswith("\ufffd")  # the last byte of 我 is missing
    assert answer_text(tokenizer, ids[:-1], stops=set()) == ("Nova", False)
    assert answer_text(tokenizer, ids, stops=set()) == ("Nova 我", False)


def test_an_empty_streamed_answer_ends_instead_of_waiting_forever():
    """A model that ends at once (its first token is end-of-sequence, as the tiny Nova run does for a long JSON
    prompt) streams nothing; reading the finished streamer again used to wait forever, holding the chat's model
    and the demo API's slot. The streamer's timeout turns that wait into an error here."""
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(tiny.build_tokenizer(), timeout=2)
    streamer.end()
    assert list(without_empty_think(streamer)) == []
    think_only = TextIteratorStreamer(tiny.build_tokenizer(), timeout=2)
    think_only.text_queue.put("<think>\n\n</think>")
    think_only.end()
    assert list(without_empty_think(think_only)) == []


def test_sampled_batches_repeat_with_their_seed_and_greedy_ones_match_single_rows(tiny_model, tiny_tokenizer):
    """Votes and sampled evaluation need the same answers again for the same seed; greedy rows answered together
    (left-padded, prompts of very different lengths, any order) must be the ones each gets alone."""
    from transformers import AutoModelForCausalLM

    from core.data.templates import ensure_pad_token
    from core.models.generate import answer_all, answer_batch, chat_prompt

    ensure_pad_token(tiny_tokenizer)
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    prompts = [chat_prompt(tiny_tokenizer, q) for q in ("Hi", "Who are you? " * 30, "Name a colour.", "x " * 90)]
    first = answer_batch(model, tiny_tokenizer, prompts, 12, temperature=1.0, seed=3)
    assert answer_batch(model, tiny_tokenizer, prompts, 12, temperature=1.0, seed=3) == first
    assert answer_batch(model, tiny_tokenizer, prompts, 12, temperature=1.0, seed=4) != first
    alone = [answer_batch(model, tiny_tokenizer, [p], 12)[0] for p in prompts]
    assert answer_all(model, tiny_tokenizer, prompts, 12, batch_size=3) == alone
    assert answer_batch(model, tiny_tokenizer, prompts, 12) == alone


def test_gpu_batches_are_sized_by_free_memory():
    """Stands for a GPU with 80 GB or 1 GB free (the CPU cannot show free GPU memory): a 0.5B model's key/value
    cache of 1,024 tokens a row in bfloat16 takes 12 MB, so half of 1 GB holds 42 rows, half of 80 GB more than the
    cap of 64; a nearly full GPU still answers one row at a time."""
    from transformers import LlamaConfig

    from core.models.generate import GPU_BATCH_LIMIT, rows_that_fit

    config = LlamaConfig(num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2, hidden_size=896)
    assert rows_that_fit(config, 2, 1024, 80 * 2 ** 30) == GPU_BATCH_LIMIT
    per_row = 2 * 24 * 2 * 64 * 2 * 1024
    assert per_row == 12 * 2 ** 20 and rows_that_fit(config, 2, 1024, 2 ** 30) == 42
    assert rows_that_fit(config, 2, 1024, per_row) == 1


def test_cpu_batches_are_sized_by_the_machines_free_memory(tiny_model, monkeypatch):
    """A small model on a CPU answers CPU_BATCH_LIMIT rows at once; an 8B one in float32 with 8 GB free, 2,048
    tokens a row (512 MiB of key/value cache each), answers 8: half the free memory, not every row at once."""
    import psutil
    from transformers import AutoModelForCausalLM

    from core.models import shapes
    from core.models.generate import CPU_BATCH_LIMIT, batch_rows, rows_that_fit

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert batch_rows(model, 512) == CPU_BATCH_LIMIT
    assert rows_that_fit(shapes.config_for("llama-8b"), 4, 2048, 8 * 2 ** 30, CPU_BATCH_LIMIT) == 8

    class Tight:
        available = 300 * 2 ** 20  # 300 MB free: the tiny model's cache is small, yet not every row fits
    monkeypatch.setattr(psutil, "virtual_memory", lambda: Tight)
    per_row = 2 * model.config.num_hidden_layers * model.config.num_key_value_heads * model.config.head_dim * 4 * 512
    assert batch_rows(model, 512) == min(CPU_BATCH_LIMIT, max(1, int(Tight.available * 0.5 // per_row)))
