"""GPU defects of issue 20 that the CPU can show: vision-language checkpoints under ddp (LoRA kept to the language
model), and the order DeepSpeed ZeRO-3 needs before a model is loaded."""

from __future__ import annotations

import json

import pytest

from core.config import Config


def tiny_gemma3_vlm(folder, tokenizer_folder):
    """A tiny random Gemma 3 vision-language checkpoint (model_type gemma3, a SigLIP vision tower), as Gemma 3
    4B/12B/27B ship, with the tiny model's tokenizer: AutoModelForCausalLM loads it as
    Gemma3ForConditionalGeneration."""
    from transformers import (AutoTokenizer, Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig,
                              SiglipVisionConfig)

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder)
    vocab = len(tokenizer) + 3  # the image tokens after the text ones
    text = Gemma3TextConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, head_dim=16, sliding_window=64)
    vision = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                image_size=28, patch_size=14)
    config = Gemma3Config(text_config=text.to_dict(), vision_config=vision.to_dict(), mm_tokens_per_image=4,
                          boi_token_index=vocab - 3, eoi_token_index=vocab - 2, image_token_index=vocab - 1)
    Gemma3ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_lora_on_a_vision_language_model_stays_in_its_language_model(tiny_model, tmp_path):
    from transformers import AutoModelForCausalLM

    from core.training import tuning

    folder = tiny_gemma3_vlm(tmp_path / "gemma3-vlm", tiny_model)
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert type(model).__name__ == "Gemma3ForConditionalGeneration"  # what the studio gets for Gemma 3 4B-27B
    config = Config.from_dict({"model": {"source": str(folder)}, "lora": {"target_modules": "all-linear"}})
    lines = []
    wrapped, _ = tuning.prepare(model, config, gradient_checkpointing=False, say=lines.append)
    adapted = {name.split(".lora_A")[0] for name, _ in wrapped.named_parameters() if ".lora_A" in name}
    assert adapted and all(".language_model.layers." in name for name in adapted)
    assert len(adapted) == 2 * 7  # q, k, v, o, gate, up, down in each of the 2 decoder layers
    assert lines[0] == ("LoRA is kept to the language model; left out: model.vision_tower (9 linear layers). A text "
                        "run's loss never reaches them, so their adapters would stay untrained (and ddp stops on "
                        "weights without a gradient).")
    plain = AutoModelForCausalLM.from_pretrained(tiny_model)  # a text-only model: nothing is left out
    assert tuning.outside_language_model(plain) == {}


@pytest.mark.slow
def test_a_vision_language_model_trains_under_ddp(tiny_model, tmp_path):
    """The issue's reproduction: a tiny random Gemma 3 with compute {strategy: ddp, processes: 2} on the CPU (gloo),
    as on GPUs with nccl. With adapters in the vision tower, DDP stopped at step 2 ('Expected to have finished
    reduction in the prior iteration'): those weights get no gradient and ddp_find_unused_parameters is off."""
    from core.jobs import JobRunner
    from tests.conftest import wait_for

    folder = tiny_gemma3_vlm(tmp_path / "gemma3-vlm", tiny_model)
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Question {i}?", "output": f"I am Nova, answer {i}."}) + "\n"
                            for i in range(16)))
    config = Config.from_dict({
        "name": "vlm-ddp", "model": {"source": str(folder)},
        "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
        "train": {"max_steps": 3, "batch_size": 2, "learning_rate": 1e-3},
        "lora": {"target_modules": "all-linear"},
        "compute": {"strategy": "ddp", "processes": 2}})
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(config)
    assert runner.wait(300)
    wait_for(lambda: run.status().get("state") in ("completed", "failed"))
    status = run.status()
    log = run.log_file.read_text()
    assert status["state"] == "completed", (status, log[-3000:])
    assert status["step"] == 3
    assert "left out: model.vision_tower (9 linear layers)" in log


class _WeightsLoading(Exception):
    """Raised where a GPU machine would enter from_pretrained (and deepspeed.zero.Init, with ZeRO-3 on)."""


def _installed_hf_deepspeed_config(config):
    """transformers' HfDeepSpeedConfig as it is where deepspeed is installed (it subclasses accelerate's then, and
    an empty object here), registered as the config from_pretrained asks about."""
    from accelerate.utils.deepspeed import HfDeepSpeedConfig
    from transformers.integrations import deepspeed as hf_deepspeed

    made = HfDeepSpeedConfig(config)
    hf_deepspeed.set_hf_deepspeed_config(made)
    return made


def test_zero3_is_on_before_the_weights_load(tiny_config, tmp_path, monkeypatch):
    """Stands for a DeepSpeed ZeRO-3 run under accelerate launch on several GPUs. The model used to load before any
    TrainingArguments existed, with zero3_init_flag off, so is_deepspeed_zero3_enabled() was False in
    from_pretrained and every rank held a whole copy in host RAM. deepspeed is not installed here: transformers'
    DeepSpeed config is stood in for by accelerate's, registered the same way, and the load stops where
    from_pretrained would start. The environment is what accelerate launch gives each process from the config the
    studio writes (accelerate.utils.launch.prepare_deepspeed_cmd_env)."""
    import threading

    import transformers.integrations
    import transformers.integrations.deepspeed as hf_deepspeed
    from transformers import AutoModelForCausalLM

    from core.models.compute import ComputePlan
    from core.runs import Run
    from core.training import launch, steps

    settings = launch.accelerate_config(ComputePlan([0, 1], "deepspeed_zero3", 2, "test"), tiny_config, 29500)
    deepspeed = settings["deepspeed_config"]
    assert deepspeed["zero3_init_flag"] is True
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO_STAGE", str(deepspeed["zero_stage"]))
    monkeypatch.setenv("ACCELERATE_GRADIENT_ACCUMULATION_STEPS", str(deepspeed["gradient_accumulation_steps"]))
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO3_INIT", str(deepspeed["zero3_init_flag"]).lower())
    monkeypatch.setattr(transformers.integrations, "HfDeepSpeedConfig", _installed_hf_deepspeed_config)
    seen = {}

    def from_pretrained(source, **kwargs):
        seen["zero3"] = hf_deepspeed.is_deepspeed_zero3_enabled()
        raise _WeightsLoading

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", from_pretrained)
    session = steps.Session(tiny_config, Run.create(tmp_path, "zero3"), threading.Event(), strategy="deepspeed_zero3")
    try:
        assert not hf_deepspeed.is_deepspeed_zero3_enabled()
        with pytest.raises(_WeightsLoading):
            steps.load_model(session)
        assert seen == {"zero3": True}
    finally:
        session.zero3_arguments = None
        hf_deepspeed.unset_hf_deepspeed_config()  # the rest of the suite runs without DeepSpeed
    assert launch.accelerate_config(ComputePlan([0, 1], "deepspeed_zero2", 2, "test"), tiny_config, 29500)[
        "deepspeed_config"]["zero3_init_flag"] is False
