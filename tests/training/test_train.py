"""Real training runs of the tiny model through the background job, read back from the run folder."""

import json
import time

import pytest

from core.config import Config
from core.jobs import BusyError, JobRunner, explain_failure


def wait_for(condition, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_run_completes_with_metrics_status_and_a_loadable_adapter(tiny_config, tmp_path):
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    assert runner.wait(300)
    status = run.status()
    assert status["state"] == "completed", status
    assert status["step"] == status["total_steps"] == 4
    assert status["message"] == "Completed 4 steps; adapter saved."

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


def test_loss_falls(tiny_config, tmp_path):
    tiny_config.train.max_steps = 30
    tiny_config.train.learning_rate = 1e-2
    tiny_config.data.eval_fraction = 0.0
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    runner.wait(300)
    losses = [m["loss"] for m in run.read_metrics()[0] if "loss" in m]
    assert run.status()["state"] == "completed"
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3, losses


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


def test_stop_before_the_first_step_saves_nothing(tiny_config, tmp_path):
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    runner.stop()
    runner.wait(300)
    assert run.status()["state"] == "stopped"
    assert run.status()["message"] == "Stopped before the first step finished; nothing was saved."
    assert not run.has_adapter()


def test_exception_inside_a_step_fails_the_run_with_its_message(tiny_config, tmp_path, monkeypatch):
    import transformers

    def broken_step(*args, **kwargs):
        raise RuntimeError("the step broke")

    monkeypatch.setattr(transformers.Trainer, "training_step", broken_step)
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    runner.wait(300)
    status = run.status()
    assert status["state"] == "failed"
    assert status["message"] == "RuntimeError: the step broke (details in train.log)"
    assert "Traceback" in run.log_file.read_text()
    runner2 = JobRunner(tmp_path / "runs")  # nothing is left locked: a new run starts
    monkeypatch.undo()
    assert runner2.start(tiny_config).name == "tiny-run-2"
    runner2.wait(300)


def test_unusable_data_fails_with_a_message_naming_the_file(tiny_config, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "q", "output": ""}\n{"instruction": "q2", "output": "  "}\n')
    tiny_config.data.path = str(bad)
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    runner.wait(300)
    assert run.status()["state"] == "failed"
    assert "bad.jsonl" in run.status()["message"] and "line 1" in run.status()["message"]


def test_second_start_is_refused_and_the_first_run_continues(tiny_config, tmp_path):
    tiny_config.train.max_steps = 40
    runner = JobRunner(tmp_path / "runs")
    first = runner.start(tiny_config)
    with pytest.raises(BusyError, match="A run is in progress \\(tiny-run\\)"):
        runner.start(tiny_config)
    runner.wait(300)
    assert first.status()["state"] == "completed"
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["tiny-run"]  # no hidden second run


def test_qlora_four_bit_training_step(tiny_config, tmp_path):
    tiny_config.model.quantization = "4bit"
    tiny_config.train.max_steps = 2
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    runner.wait(300)
    assert run.status()["state"] == "completed", run.status()
    assert "quantization 4bit" in run.log_file.read_text()
    assert run.has_adapter()


def test_out_of_memory_gets_advice():
    import torch

    message = explain_failure(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert "ran out of memory" in message
    for advice in ("smaller batch size", "max length", "4-bit", "gradient checkpointing"):
        assert advice in message
