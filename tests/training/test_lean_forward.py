"""The lean training forward (core.training.lean_forward): the same loss and gradients as trl's fused LM head, with
the padding mask dropped and only the answer tokens scored."""

from __future__ import annotations

import copy

import pytest


def _trainer(tiny_model, tiny_tokenizer, tmp_path, rows):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from core.training import token_sets
    from core.training.callbacks import CountingCollator

    tokenizer = copy.deepcopy(tiny_tokenizer)  # the session's shared tokenizer stays as it was
    tokenizer.pad_token = tokenizer.eos_token
    data = token_sets.sft_set(tokenizer, rows, 256, "training", lambda _: None)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation="sdpa", dtype=torch.float32)
    torch.manual_seed(0)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear",
                                             task_type="CAUSAL_LM", init_lora_weights=False))
    args = SFTConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to=[], max_length=256)
    collator = CountingCollator(pad_token_id=tokenizer.pad_token_id)
    trainer = SFTTrainer(model=model, args=args, data_collator=collator, train_dataset=data,
                         processing_class=tokenizer)
    return trainer, collator(list(data))


def _loss_and_grads(trainer, batch):
    trainer.model.zero_grad()
    loss = trainer.compute_loss(trainer.model, dict(batch))
    loss.backward()
    grads = {name: p.grad.clone() for name, p in trainer.model.named_parameters() if p.requires_grad}
    return loss.item(), grads, dict(trainer._metrics["train"])


ROWS = [{"messages": [{"role": "user", "content": f"Question {i}?" + " a" * (7 * i)},
                      {"role": "assistant", "content": "I am Nova." + " b" * (5 * i)}]} for i in range(5)]


def test_same_loss_gradients_and_metrics_as_trls_head(tiny_model, tiny_tokenizer, tmp_path):
    from core.training import lean_forward

    trainer, batch = _trainer(tiny_model, tiny_tokenizer, tmp_path, ROWS)
    assert (batch["attention_mask"] == 0).any()  # rows of different lengths: the batch is padded
    loss, grads, metrics = _loss_and_grads(trainer, batch)
    trainer._metrics["train"].clear()

    assert lean_forward.lean_forward(trainer)
    lean_loss, lean_grads, lean_metrics = _loss_and_grads(trainer, batch)

    assert lean_loss == pytest.approx(loss, rel=1e-5)
    for name, grad in grads.items():
        assert (lean_grads[name] - grad).abs().max().item() <= 1e-5 * max(1.0, grad.abs().max().item()), name
    assert lean_metrics["mean_token_accuracy"] == pytest.approx(metrics["mean_token_accuracy"])
    assert lean_metrics["entropy"] == pytest.approx(metrics["entropy"], rel=1e-5)


def test_generation_and_plain_forward_are_unchanged(tiny_model, tiny_tokenizer, tmp_path):
    import torch

    from core.training import lean_forward

    trainer, batch = _trainer(tiny_model, tiny_tokenizer, tmp_path, ROWS[:2])
    model = trainer.model.eval()
    with torch.no_grad():
        before = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        answer = model.generate(input_ids=batch["input_ids"][:1, :5], max_new_tokens=4, do_sample=False)
    lean_forward.lean_forward(trainer)
    with torch.no_grad():
        after = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        assert torch.equal(model.generate(input_ids=batch["input_ids"][:1, :5], max_new_tokens=4,
                                          do_sample=False), answer)
    assert torch.equal(before, after)


def test_a_batch_without_answer_tokens_gives_a_zero_loss(tiny_model, tiny_tokenizer, tmp_path):
    from core.training import lean_forward

    trainer, batch = _trainer(tiny_model, tiny_tokenizer, tmp_path, ROWS[:2])
    lean_forward.lean_forward(trainer)
    batch = dict(batch, labels=batch["labels"].fill_(-100))
    loss = trainer.compute_loss(trainer.model, batch)
    loss.backward()  # connected to the model, so the step does not fail
    assert loss.item() == 0.0


def test_only_right_padding_is_left_to_the_causal_mask():
    import torch

    from core.training.lean_forward import right_padded

    assert right_padded(torch.tensor([[1, 1, 1], [1, 1, 0], [1, 0, 0]]))
    assert not right_padded(torch.tensor([[0, 1, 1], [1, 1, 1]]))  # left padding needs its mask
    assert not right_padded(None)


def test_scaled_logits_keep_trls_path(tiny_model):
    import torch
    from transformers import AutoModelForCausalLM

    from core.training.lean_forward import supported

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    assert supported(model)
    model.config.final_logit_softcapping = 30.0
    assert not supported(model)
