"""Memory estimates and device-map previews from a model's config alone, with no weights loaded."""

from __future__ import annotations

import pytest

from core.measure import memory_estimate
from core.models import shapes
from core.models.skeleton import skeleton


@pytest.fixture(scope="module")
def llama_8b():
    config = shapes.config_for("llama-8b")
    return config, skeleton(config)


def test_llama_8b_weights_and_lora_size(llama_8b):
    config, model = llama_8b
    bf16 = memory_estimate.estimate(config, rank=16, target_modules="all-linear", batch_size=1, max_length=1024,
                                    dtype="bfloat16", model=model)
    assert 8.0e9 < bf16.parameters < 8.1e9
    assert bf16.lora_parameters == 41_943_040  # r=16 on all linear layers of Llama 3 8B, as peft counts it
    assert bf16.parts_gb["weights"] == pytest.approx(14.96, abs=0.05)
    four_bit = memory_estimate.estimate(config, rank=16, target_modules="all-linear", batch_size=1, max_length=1024,
                                        dtype="bfloat16", quantization="4bit", model=model)
    assert four_bit.parts_gb["weights"] < bf16.parts_gb["weights"] / 2.5
    checkpointed = memory_estimate.estimate(config, rank=16, target_modules="all-linear", batch_size=1,
                                            max_length=1024, dtype="bfloat16", gradient_checkpointing=True, model=model)
    assert checkpointed.parts_gb["activations"] < bf16.parts_gb["activations"] / 4
    assert "Estimated peak" in str(bf16.lines()[0])


def test_llama_8b_placement_spills_to_cpu_when_the_gpu_is_small(llama_8b):
    config, model = llama_8b
    placement = memory_estimate.placement_preview(config, {0: "10GiB", "cpu": "64GiB"}, "bfloat16", model=model)
    devices = set(placement.values())
    assert devices == {"cuda:0", "cpu"}
    assert placement["model.embed_tokens"] == "cuda:0" and placement["lm_head"] == "cpu"
    four_bit = memory_estimate.placement_preview(config, {0: "10GiB", "cpu": "64GiB"}, "bfloat16", "4bit",
                                                 model=model)
    assert set(four_bit.values()) == {"cuda:0"}  # 4-bit weights (about 5 GiB) fit the 10 GiB GPU


def test_tiny_model_estimate_from_a_run_config(tiny_config):
    estimate, placement = memory_estimate.for_config(tiny_config, progress=lambda _: None)
    assert placement == {"": "cpu"}
    assert 50_000 < estimate.parameters < 200_000
    # r=16 on 7 layers of 2 blocks: q (64->64), k and v (64->32), o (64->64), gate and up (64->128), down (128->64)
    per_block = 16 * ((64 + 64) + 2 * (64 + 32) + (64 + 64) + 2 * (64 + 128) + (128 + 64))
    assert estimate.lora_parameters == 2 * per_block
    assert estimate.total_gb < 1.0


def test_llama_8b_qlora_counts_what_trl_and_peft_keep(llama_8b):
    """It once said 20.6 GiB for 8B QLoRA: 9.8 GiB of logits trl 1.16 never builds (its LM head scores tiles),
    and the float32-upcast embeddings and head at 2 bytes. Now: loss tiles, and 4 bytes only where they are kept."""
    config, model = llama_8b
    settings = dict(rank=16, target_modules="all-linear", max_length=2048, quantization="4bit",
                    gradient_checkpointing=True, model=model)
    one = memory_estimate.estimate(config, batch_size=1, dtype="bfloat16", **settings)
    four = memory_estimate.estimate(config, batch_size=4, dtype="bfloat16", **settings)
    assert 7.0 < one.total_gb < 8.0 and 10.5 < four.total_gb < 11.5
    assert one.parts_gb["loss tiles"] < 0.3  # one 2,048 x 32,768 tile, not 2,048 x 128,256 float32 logits
    older_gpu = memory_estimate.estimate(config, batch_size=1, dtype="float16", **settings)
    # float16 (GPUs without bfloat16) upcasts the 1.05B embedding and head weights to float32: 2 bytes more each
    assert older_gpu.parts_gb["weights"] - one.parts_gb["weights"] == pytest.approx(1.05e9 * 2 / 1024 ** 3, rel=0.01)


def test_full_and_freeze_tuning_count_weights_gradients_and_optimizer_states(llama_8b):
    """Full fine-tuning of Llama 3 8B in bf16 keeps every weight in float32 with a gradient and AdamW's two moments:
    16 bytes a parameter, about 120 GiB before activations; freezing all but the last 2 of 32 layers trains 1/16
    of the layers."""
    config, model = llama_8b
    settings = dict(rank=16, target_modules="all-linear", batch_size=1, max_length=1024, dtype="bfloat16",
                    model=model)
    lora = memory_estimate.estimate(config, **settings)
    full = memory_estimate.estimate(config, tuning="full", **settings)
    assert full.trained_parameters == full.parameters
    assert full.parts_gb["weights"] + full.parts_gb["gradients + optimizer"] == pytest.approx(
        full.parameters * 16 / 2 ** 30, rel=1e-6)
    assert full.total_gb > 115 and "trained (full tuning)" in str(full.lines()[1])
    freeze = memory_estimate.estimate(config, tuning="freeze", trainable_layers=2, **settings)
    assert freeze.trained_parameters == 2 * 218_112_000  # one Llama 3 8B decoder layer: 218,112,000 weights
    assert lora.total_gb < freeze.total_gb < full.total_gb
    full.dtype = "bfloat16"  # for_config sets it from the machine
    assert memory_estimate.run_label(full, "none") == "8B bf16 full fine-tuning"
    dpo = memory_estimate.estimate(config, method="dpo", **settings)
    assert dpo.parts_gb["activations"] == pytest.approx(2 * lora.parts_gb["activations"])


def test_a_skeleton_built_meanwhile_leaves_other_threads_weights_real():
    """The model picker builds skeletons while the chat loads a model in another thread: the chat's weights must
    stay real (a process-wide meta patch gave "Tensor.item() cannot be called on meta tensors" in the chat)."""
    import threading

    import torch

    config = shapes.config_for("llama-8b")
    done = threading.Event()

    def build_skeletons():
        while not done.is_set():
            skeleton(config)

    builder = threading.Thread(target=build_skeletons)
    builder.start()
    try:
        on_meta = sum(torch.nn.Linear(4, 4).weight.is_meta for _ in range(20_000))
    finally:
        done.set()
        builder.join()
    assert on_meta == 0
