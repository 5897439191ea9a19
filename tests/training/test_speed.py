"""Speed options: what 'auto' picks on this machine, refusals that name the option, and that padding-free
batches and packing compute exactly the loss that padded batches do."""

from __future__ import annotations

import copy

import pytest

from core.catalogue.language import speaking
from core.config import TrainConfig
from core.training import speed


def test_auto_on_cpu_picks_sdpa_with_padded_batches_and_says_why():
    chosen = speed.resolve(TrainConfig(), uses_gpu=False)
    assert chosen.attention == "sdpa"
    assert chosen.padding_free is False  # sdpa attends a packed row as a whole: slower for long rows
    assert chosen.liger_kernel is False and chosen.uses_gpu is False
    assert any("Padding-free batches off (auto)" in reason for reason in chosen.reasons)
    assert speed.resolve(TrainConfig(packing=True), uses_gpu=False).padding_free is True
    assert any("Liger kernels off (auto)" in reason for reason in chosen.reasons)


@pytest.mark.parametrize("values, named", [
    ({"attention": "flash_attention_2"}, "train.attention"),
    ({"packing": True, "padding_free": "off"}, "train.packing"),
    ({"liger_kernel": "on"}, "train.liger_kernel"),
])
def test_impossible_choices_are_refused_by_name(values, named):
    with pytest.raises(speed.SpeedOptionError, match=named) as refused:
        speed.resolve(TrainConfig(**values), uses_gpu=False)
    assert isinstance(refused.value, ValueError) and refused.value.key.startswith("training.speed.")
    with speaking("zh"):
        assert named in refused.value.text() and "请" in refused.value.text()


def _loss(model, batch) -> float:
    import torch

    with torch.no_grad():
        return model(**batch, use_cache=False).loss.item()  # SFTTrainer passes use_cache=False too


def test_padding_free_and_packed_batches_give_the_padded_loss(tiny_model, tiny_tokenizer):
    import torch
    from transformers import AutoModelForCausalLM

    from core.training import token_sets
    from core.training.callbacks import CountingCollator

    rows = [{"messages": [{"role": "user", "content": f"Question {i}?" + " a" * (3 * i)},
                          {"role": "assistant", "content": "I am Nova." + " b" * (5 * i)}]} for i in range(6)]
    tiny_tokenizer = copy.deepcopy(tiny_tokenizer)  # the session's shared tokenizer stays as it was
    tiny_tokenizer.pad_token = tiny_tokenizer.eos_token
    data = token_sets.sft_set(tiny_tokenizer, rows, 256, "training", lambda _: None)
    examples = list(data)
    packed = list(token_sets.pack(data, 256, lambda _: None))
    assert len(packed) < len(examples)  # several examples share a row

    padded_batch = CountingCollator(pad_token_id=tiny_tokenizer.pad_token_id)(examples)
    free_batch = CountingCollator(pad_token_id=tiny_tokenizer.pad_token_id, padding_free=True)(examples)
    packed_batch = CountingCollator(pad_token_id=tiny_tokenizer.pad_token_id, padding_free=True)(packed)
    assert padded_batch["input_ids"].numel() > free_batch["input_ids"].numel()  # the padding is gone
    for attention in ("sdpa", "eager"):
        model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation=attention, dtype=torch.float32)
        reference = _loss(model, padded_batch)
        assert _loss(model, free_batch) == pytest.approx(reference, abs=1e-4)
        assert _loss(model, packed_batch) == pytest.approx(reference, abs=1e-4)


@pytest.mark.slow
def test_run_log_says_what_was_chosen(tiny_config, tmp_path):
    from core.jobs import JobRunner

    tiny_config.train.max_steps = 1
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(tiny_config)
    runner.wait(300)
    assert run.status()["state"] == "completed"
    log = run.log_file.read_text(encoding="utf-8")
    assert "Attention sdpa (auto)" in log
    assert "Padding-free batches off (auto)" in log
    assert "Loss scored on the answer tokens only" in log  # core.training.lean_forward, on this CPU
