"""Faults during a run never lose work: stop and resume, out of memory, a full disk, a killed process.

Faults that cannot happen for real on a CPU machine (CUDA out of memory, a full disk) are raised from inside the
trainer by monkeypatching; everything else is real: real runs of the tiny model, real files, a real kill -9.
"""

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from core.config import Config
from core.jobs import BusyError, JobRunner
from core.results.chat import ChatError, ChatModel
from core.runs import Run, mark_interrupted
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent


def train_steps(run: Run) -> list[int]:
    return [m["step"] for m in run.read_metrics()[0] if "loss" in m]


@pytest.mark.slow
def test_stop_after_a_checkpoint_then_resume_continues_the_curve(tiny_config, tmp_path):
    tiny_config.train.max_steps = 40
    tiny_config.train.save_every = 5
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    wait_for(lambda: run.status().get("step", 0) >= 12)
    runner.stop()
    runner.wait(300)
    status = run.status()
    stopped_at = status["step"]
    assert status["state"] == "stopped" and status["message"] == f"Stopped at step {stopped_at}; adapter saved."
    assert run.last_checkpoint().name == f"checkpoint-{stopped_at}"  # the stop itself saved a checkpoint

    runner.start(Config.from_yaml(run.config_file), resume=run)
    runner.wait(300)
    assert run.status()["state"] == "completed"
    steps = train_steps(run)
    assert steps == list(range(1, 41))  # one curve: the resumed part continues where the first stopped
    assert f"resumed from checkpoint-{stopped_at}" in run.log_file.read_text()


@pytest.mark.slow
def test_resume_is_refused_for_a_completed_run(tiny_config, tmp_path):
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(tiny_config)
    runner.wait(300)
    with pytest.raises(BusyError, match="only a stopped, failed or interrupted run resumes"):
        runner.start(tiny_config, resume=run)


def raise_out_of_memory_once(monkeypatch):
    import torch
    import transformers

    original = transformers.Trainer.training_step
    calls = {"n": 0}

    def step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # a step into the run, as when a long batch arrives
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "training_step", step)


@pytest.mark.slow
def test_out_of_memory_retry_frees_the_failed_attempt_and_keeps_the_effective_batch(tiny_config, tmp_path,
                                                                                     monkeypatch):
    """In the studio's own process (where a retry cannot lean on a fresh process), the failed attempt's model is
    gone before the retry loads the next one, and an odd batch keeps its effective size (3 -> 1 x 3)."""
    import weakref

    from core.models import load as models

    raise_out_of_memory_once(monkeypatch)
    loaded_models, alive_when_reloading = [], []
    real_load = models.load

    def load(*args, **kwargs):
        alive_when_reloading.extend(ref() is not None for ref in loaded_models)
        loaded = real_load(*args, **kwargs)
        loaded_models.append(weakref.ref(loaded.model))
        return loaded

    monkeypatch.setattr(models, "load", load)
    tiny_config.train.batch_size = 3
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(tiny_config)
    runner.wait(300)
    assert run.status()["state"] == "completed", run.status()
    assert len(loaded_models) == 2 and alive_when_reloading == [False]
    log = run.log_file.read_text()
    assert ("Out of memory. Retrying with batch size 1 and gradient accumulation 3 (the same effective batch of 3)"
            in log)
    saved = Config.from_yaml(run.config_file)
    assert (saved.train.batch_size, saved.train.grad_accum) == (1, 3)  # the replayable config says what ran


@pytest.mark.slow
def test_out_of_memory_without_retry_fails_with_advice(tiny_config, tmp_path, monkeypatch):
    raise_out_of_memory_once(monkeypatch)
    tiny_config.train.retry_on_oom = False
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(tiny_config)
    runner.wait(300)
    status = run.status()
    assert status["state"] == "failed"
    assert status["message"].startswith("The GPU ran out of memory. Try a smaller batch size")
    runner.start(tiny_config)  # the app is not stuck: the next run starts
    runner.wait(300)


@pytest.mark.slow
def test_full_disk_while_saving_keeps_the_previous_checkpoint(tiny_config, tmp_path, monkeypatch):
    import transformers

    original = transformers.Trainer._save_checkpoint

    def save(self, model, trial):
        if self.state.global_step >= 4:  # the second checkpoint: half written, then the disk is full
            folder = Path(self.args.output_dir) / f"checkpoint-{self.state.global_step}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "adapter_model.safetensors").write_bytes(b"\0" * 64)
            raise OSError(errno.ENOSPC, "No space left on device", str(folder / "optimizer.pt"))
        return original(self, model, trial)

    monkeypatch.setattr(transformers.Trainer, "_save_checkpoint", save)
    tiny_config.train.max_steps = 8
    tiny_config.train.save_every = 2
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(tiny_config)
    runner.wait(300)
    status = run.status()
    assert status["state"] == "failed"
    assert status["message"].startswith("The disk is full while writing") and "resume" in status["message"]
    assert run.last_checkpoint().name == "checkpoint-2"  # the half-written checkpoint-4 is never offered

    monkeypatch.undo()
    runner.start(Config.from_yaml(run.config_file), resume=run)
    runner.wait(300)
    assert run.status()["state"] == "completed"
    assert "resumed from checkpoint-2" in run.log_file.read_text()


@pytest.mark.slow
def test_killed_process_shows_interrupted_and_resumes_from_the_command_line(tiny_config, tmp_path):
    tiny_config.train.max_steps = 100
    tiny_config.train.save_every = 10
    config_file = tmp_path / "run.yaml"
    tiny_config.save(config_file)
    runs = tmp_path / "runs"
    command = [sys.executable, str(ROOT / "launch.py"), "train"]
    process = subprocess.Popen(command + [str(config_file), "--runs-dir", str(runs)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=ROOT)
    run = Run(runs / "tiny-run")
    try:
        wait_for(lambda: run.last_checkpoint() is not None)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    worker = run.status()["pid"]  # the run's own process: the kernel kills it when the command line dies
    wait_for(lambda: not psutil.pid_exists(worker) or psutil.Process(worker).status() == psutil.STATUS_ZOMBIE, 30)
    assert run.status()["state"] == "training"  # what a crash leaves behind ...
    assert mark_interrupted(runs) == ["tiny-run"]  # ... until the app starts again
    assert run.status()["state"] == "interrupted"

    resumed = subprocess.run(command + ["--resume", str(run.path)], capture_output=True, text=True, cwd=ROOT,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert run.status()["state"] == "completed"
    steps = train_steps(run)
    assert steps[-1] == 100 and len(set(steps)) == 100  # every step on the curve; some redone after the kill


@pytest.mark.slow
def test_adapter_for_a_different_base_model_is_explained(tiny_config, tmp_path):
    from core.models import tiny

    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(tiny_config)
    runner.wait(300)
    other = tiny.build(tmp_path / "wider-model", hidden_size=96)
    config = Config.from_yaml(run.config_file)
    config.model.source = str(other)
    config.save(run.config_file)
    with pytest.raises(ChatError, match="does not fit the base model"):
        ChatModel.from_run(run.path, progress=lambda _: None)


def test_model_needing_remote_code_is_refused_unless_allowed(tiny_model, tmp_path):
    import shutil

    from core.config import ModelConfig
    from core.models import load as models

    folder = tmp_path / "custom"
    shutil.copytree(tiny_model, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="custom-thing", auto_map={"AutoConfig": "configuration_custom.CustomConfig",
                                                       "AutoModelForCausalLM": "modeling_custom.CustomModel"})
    (folder / "config.json").write_text(json.dumps(config))
    marker = tmp_path / "ran.txt"
    for name in ("configuration_custom.py", "modeling_custom.py"):
        (folder / name).write_text(f"open({str(marker)!r}, 'w').write('remote code ran')\n")
    with pytest.raises(models.ModelError, match="needs its own Python code to run"):
        models.load(ModelConfig(source=str(folder)), progress=lambda _: None)
    assert not marker.exists()
