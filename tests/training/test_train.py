"""Real training runs of the tiny model through the background job, read back from the run folder.

Runs train in their own process as in the studio, except where a test injects a fault into the trainer or only
checks training itself (in_process=True: the same code without the process boundary, and faster)."""

import json
import time

import pytest

from core.config import Config
from core.jobs import BusyError, JobRunner
from core.runs import status_message
from core.training.failures import explain_failure


def wait_for(condition, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_run_completes_with_metrics_status_and_a_loadable_adapter(tiny_config, tmp_path):
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    assert runner.wait(300)
    status = run.status()
    assert status["state"] == "completed", status
    assert status["step"] == status["total_steps"] == 4
    assert status["message"] == "Completed 4 steps; adapter saved."
    assert status_message(status).text("zh") == "已完成 4 步；适配器已保存。"  # the key crossed from the run's process

    metrics = [json.loads(line) for line in run.metrics_file.read_text().splitlines()]
    train_points = [m for m in metrics if "loss" in m]
    assert [m["step"] for m in train_points] == [1, 2, 3, 4]
    assert all({"epoch", "learning_rate", "grad_norm", "tokens_per_second", "time"} <= set(m) for m in train_points)
    assert any("eval_loss" in m for m in metrics)

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_config.model.source)
    tuned = PeftModel.from_pretrained(base, run.adapter_dir)  # plain peft, nothing of ours
    assert tuned.peft_config["default"].r == 16
    assert (run.adapter_dir / "chat_template.jinja").exists()
    assert Config.from_yaml(run.config_file) == tiny_config  # the run replays headless
    assert "Learning rate 0.001 (auto)" in run.log_file.read_text()


@pytest.mark.slow
def test_loss_falls(tiny_config, tmp_path):
    tiny_config.train.max_steps = 30
    tiny_config.train.learning_rate = 1e-2
    tiny_config.data.eval_fraction = 0.0
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(tiny_config)
    runner.wait(300)
    losses = [m["loss"] for m in run.read_metrics()[0] if "loss" in m]
    assert run.status()["state"] == "completed"
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3, losses


@pytest.mark.slow
def test_stop_mid_run_saves_the_adapter(tiny_config, tmp_path):
    tiny_config.train.max_steps = 5000
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    wait_for(lambda: run.status().get("step", 0) >= 2)
    assert runner.stop()
    runner.wait(300)
    status = run.status()
    assert status["state"] == "stopped"
    assert status["message"].startswith("Stopped at step ") and status["message"].endswith("adapter saved.")
    assert status["step"] < 5000
    assert run.has_adapter()


@pytest.mark.slow
def test_stop_before_the_first_step_saves_nothing(tiny_config, tmp_path):
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    runner.stop()
    runner.wait(300)
    assert run.status()["state"] == "stopped"
    assert run.status()["message"] == "Stopped before the first step finished; nothing was saved."
    assert not run.has_adapter()


@pytest.mark.slow
def test_exception_inside_a_step_fails_the_run_with_its_message(tiny_config, tmp_path, monkeypatch):
    import transformers

    def broken_step(*args, **kwargs):
        raise RuntimeError("the step broke")

    monkeypatch.setattr(transformers.Trainer, "training_step", broken_step)
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(tiny_config)
    runner.wait(300)
    status = run.status()
    assert status["state"] == "failed"
    assert status["message"] == "RuntimeError: the step broke (details in train.log)"
    assert "Traceback" in run.log_file.read_text()
    runner2 = JobRunner(tmp_path / "runs", in_process=True)  # nothing is left locked: a new run starts
    monkeypatch.undo()
    assert runner2.start(tiny_config).name == "tiny-run-2"
    runner2.wait(300)


@pytest.mark.slow
def test_unusable_data_fails_with_a_message_naming_the_file(tiny_config, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "q", "output": ""}\n{"instruction": "q2", "output": "  "}\n')
    tiny_config.data.path = str(bad)
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    runner.wait(300)
    assert run.status()["state"] == "failed"
    assert "bad.jsonl" in run.status()["message"] and "line 1" in run.status()["message"]


@pytest.mark.slow
def test_second_start_is_refused_and_the_first_run_continues(tiny_config, tmp_path):
    tiny_config.train.max_steps = 8
    runner = JobRunner(tmp_path / "runs")
    first = runner.start(tiny_config)
    with pytest.raises(BusyError, match="A run is in progress \\(tiny-run\\)"):
        runner.start(tiny_config)
    runner.wait(300)
    assert first.status()["state"] == "completed"
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["tiny-run"]  # no hidden second run


@pytest.mark.slow
def test_qlora_four_bit_training_step(tiny_config, tmp_path):
    tiny_config.model.quantization = "4bit"
    tiny_config.train.max_steps = 2
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(tiny_config)
    runner.wait(300)
    assert run.status()["state"] == "completed", run.status()
    assert "quantization 4bit" in run.log_file.read_text()
    assert run.has_adapter()


def test_out_of_memory_gets_advice():
    import torch

    message = explain_failure(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert str(message).startswith("The GPU ran out of memory.")
    for advice in ("smaller batch size", "max length", "4-bit", "gradient checkpointing"):
        assert advice in str(message)
    assert message.text("zh").startswith("GPU 显存不足。")


def test_trainer_arguments_follow_where_the_model_sits():
    from core.training.steps import device_args

    from core.training.steps import on_gpu

    assert not on_gpu({"": "cpu"}) and on_gpu({"model.layers.0": 0, "lm_head": 1})
    cpu = device_args("float32", on_gpu({"": "cpu"}))
    assert cpu["use_cpu"] is True and not cpu["bf16"]  # device_map cpu on a GPU machine: the trainer stays on it
    gpu = device_args("bfloat16", on_gpu({"model.layers.0": 0, "lm_head": 1}))
    assert gpu["use_cpu"] is False and gpu["bf16"] and not gpu["fp16"]
    assert device_args("float16", True)["fp16"]


def test_steps_per_epoch_are_counted_as_the_trainer_counts_them():
    from core.training.steps import steps_per_epoch

    assert steps_per_epoch(19, 4, 1) == 5
    assert steps_per_epoch(16, 4, 1, processes=2) == 2  # each process takes half the rows
    assert steps_per_epoch(17, 4, 1, processes=2) == 3  # 9 rows each (the sampler pads the last share)
    assert steps_per_epoch(10, 1, 3) == 4


def test_float16_qlora_keeps_lora_weights_in_float32(tiny_config, tmp_path):
    """GPUs without bfloat16 train in float16; trl casts a quantized model's LoRA weights to bfloat16, which the
    float16 gradient scaler cannot unscale. The studio puts them back to float32 (checked here on the CPU)."""
    import threading

    from transformers import TrainerCallback

    from core.runs import Run
    from core.training import train as training

    seen = set()

    class Look(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            seen.update(str(p.dtype) for p in model.parameters() if p.requires_grad)

    tiny_config.model.quantization, tiny_config.model.dtype = "4bit", "float16"
    tiny_config.train.max_steps, tiny_config.data.eval_fraction = 1, 0.0
    run = Run.create(tmp_path / "runs", "fp16")
    assert training.train(tiny_config, run, threading.Event(), callbacks=[Look()]) == "completed"
    assert seen == {"torch.float32"}
    assert "LoRA weights kept in float32 (28 tensors)" in run.log_file.read_text()  # trl had cast all 28
