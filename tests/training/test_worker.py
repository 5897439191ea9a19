"""Each run in its own process: hard deaths, out of memory in a fresh process, several processes (ddp on the CPU,
gloo), and what the process is shown (its GPUs, accelerate's config, the command for several machines).

Everything here is real: real processes of the tiny model, a real SIGKILL and SIGSEGV, two real CPU processes
of `accelerate launch`. The out-of-memory fault is injected into the run's process the way Python loads site
customisations (a sitecustomize.py on PYTHONPATH), since a CPU cannot run out of CUDA memory.
"""

import json
import math
import os
import signal
import textwrap
import time

import pytest

from core.config import Config
from core.jobs import JobRunner
from core.models.compute import ComputePlan
from core.runs import Run, status_message
from core.training import launch
from core.training.steps import steps_per_epoch
from tests.conftest import wait_for


@pytest.mark.parametrize("signum, said", [(signal.SIGKILL, "was killed (SIGKILL)"),
                                          (signal.SIGSEGV, "crashed (SIGSEGV)")])
@pytest.mark.slow
def test_a_run_process_that_dies_hard_leaves_the_run_failed_and_the_runner_working(tiny_config, tmp_path, signum,
                                                                                   said):
    tiny_config.train.max_steps = 2000
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    wait_for(lambda: run.status().get("step", 0) >= 1)
    os.kill(run.status()["worker_pid"], signum)  # what the OOM killer, or a fault in a CUDA library, does
    assert runner.wait(60)
    status = run.status()
    assert status["state"] == "failed"
    assert status["message"].startswith(f"The training process {said}")
    assert "Last lines of train.log:" in status["message"]
    assert status["message_key"]["key"] == "training.failures.process_death"  # the page says it in its language
    assert status_message(status).text("zh").startswith("训练进程")
    if signum == signal.SIGSEGV:  # the crash's Python stack is in the log (faulthandler)
        assert "Fatal Python error: Segmentation fault" in run.log_file.read_text()
    if signum == signal.SIGKILL:
        tiny_config.train.max_steps = 1
        again = runner.start(tiny_config)  # the runner goes on: the next run starts and completes
        runner.wait(120)
        assert again.status()["state"] == "completed"


OUT_OF_MEMORY_ONCE = '''
    """Test fault: CUDA out of memory at the second training step of the first run process (marker file)."""
    import importlib.abc, importlib.machinery, os, sys

    MARKER = os.environ["FAULT_MARKER"]

    class Patch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "transformers.trainer" or os.path.exists(MARKER):
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            run_module = spec.loader.exec_module

            def exec_module(module):
                run_module(module)
                original, calls = module.Trainer.training_step, []

                def step(self, *args, **kwargs):
                    calls.append(1)
                    if len(calls) == 2:
                        open(MARKER, "w").write(str(os.getpid()))
                        import torch
                        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
                    return original(self, *args, **kwargs)

                module.Trainer.training_step = step

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Patch())
'''


@pytest.mark.slow
def test_out_of_memory_is_retried_in_a_fresh_process(tiny_config, tmp_path, monkeypatch):
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "sitecustomize.py").write_text(textwrap.dedent(OUT_OF_MEMORY_ONCE))
    marker = tmp_path / "out-of-memory-happened"
    monkeypatch.setenv("PYTHONPATH", str(faults))
    monkeypatch.setenv("FAULT_MARKER", str(marker))
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(tiny_config)
    runner.wait(300)
    assert run.status()["state"] == "completed", run.status()
    log = run.log_file.read_text()
    assert ("Out of memory. Retrying with batch size 2 and gradient accumulation 2 (the same effective batch of 4), "
            "in a fresh process.") in log
    first_process = int(marker.read_text())
    assert f"Training process {first_process} " in log and f"Training process {run.status()['pid']} " in log
    assert run.status()["pid"] != first_process  # the retry ran in another process, with nothing of the first
    saved = Config.from_yaml(run.config_file)
    assert (saved.train.batch_size, saved.train.grad_accum, saved.train.retry_on_oom) == (2, 2, False)


def test_a_refused_setting_crosses_the_process_boundary_with_its_key(tiny_model, tmp_path):
    """A run's process reports its failure in .failure-<rank>.json; the job thread reads back the key and values,
    so the page can say it in its own language (here: kto refuses batch size 1 before the model loads)."""
    import threading

    from core.training import worker

    data = tmp_path / "kto.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"Question {i}?", "completion": "Fine.", "label": i % 2 == 0})
                            + "\n" for i in range(8)))
    config = Config.from_dict({"name": "kto-run", "model": {"source": str(tiny_model)},
                               "data": {"path": str(data), "replay": 0},
                               "train": {"method": "kto", "batch_size": 1}})
    run = Run.create(tmp_path / "runs", config.name)
    config.save(run.config_file)
    outcome = worker.execute(run, threading.Event())
    assert outcome.state == "failed" and outcome.message.key == "training.kto.batch_too_small"
    read_back = worker.read_failure(run)
    assert read_back.message == outcome.message
    assert str(read_back.message).startswith("train.method kto needs train.batch_size 2 or more")
    assert "至少为 2" in read_back.message.text("zh")


@pytest.mark.slow
def test_ddp_with_two_cpu_processes_stops_resumes_and_halves_the_steps(tiny_model, tmp_path):
    """The suite's multi-process run: gloo on the CPU, through accelerate launch, as on GPUs with nccl."""
    rows = 16
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Question {i}?", "output": f"I am Nova, answer {i}."}) + "\n"
                            for i in range(rows)))
    config = Config.from_dict({
        "name": "ddp-run", "model": {"source": str(tiny_model)},
        "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
        "train": {"epochs": 8, "batch_size": 4, "save_every": 2, "learning_rate": 1e-2},
        "compute": {"strategy": "ddp", "processes": 2}})
    one_process_steps = math.ceil(steps_per_epoch(rows, 4, 1) * 8)
    runner = JobRunner(tmp_path / "runs")
    run = runner.start(config)
    wait_for(lambda: run.status().get("step", 0) >= 3)
    runner.stop()  # a file in the run folder; the processes agree on it at the end of a step
    assert runner.wait(180)
    stopped = run.status()
    assert stopped["state"] == "stopped" and stopped["message"].endswith("adapter saved."), stopped
    assert run.last_checkpoint().name == f"checkpoint-{stopped['step']}"

    runner.start(Config.from_yaml(run.config_file), resume=run)
    assert runner.wait(180)
    status = run.status()
    assert status["state"] == "completed", status
    assert status["total_steps"] == one_process_steps // 2 == 16  # each process trains on half of every batch
    steps = [m["step"] for m in run.read_metrics()[0] if "loss" in m]
    assert steps == list(range(1, 17))  # one metrics stream: no step logged twice, the resume continues the curve
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["ddp-run"]  # no rank made a folder of its own
    log = run.log_file.read_text()
    assert "Compute: CPU, ddp, 2 processes" in log and "x 2 processes)" in log
    assert log.count("Data: ") == 2  # once per start (and resume): only rank 0 writes the log
    settings = run.accelerate_file.read_text()
    assert "num_processes: 2" in settings and "--num_machines N" in settings

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), run.adapter_dir)  # plain peft


def test_the_run_process_sees_exactly_its_gpus(tmp_path):
    run = Run.create(tmp_path, "gpu-run")
    two = ComputePlan([1, 3], "ddp", 2, "test", ["GPU-b", "GPU-d"])
    env = launch.environment(two)
    assert env["CUDA_VISIBLE_DEVICES"] == "GPU-b,GPU-d" and env["FINETUNE_STUDIO_GPUS"] == "1,3"
    assert env["FINETUNE_STUDIO_PARENT"] == str(os.getpid())
    assert launch.environment(ComputePlan([], "single", 1, "test"))["CUDA_VISIBLE_DEVICES"] == ""  # no GPU at all
    command = launch.command(run, two)
    assert command[1:5] == ["-m", "core.training.launch", "--config_file", str(run.accelerate_file)]
    assert command[5:] == ["-m", "core.training.worker", str(run.path), "--strategy", "ddp"]


@pytest.mark.parametrize("strategy, expected", [
    ("ddp", {"distributed_type": "MULTI_GPU"}),
    ("fsdp", {"distributed_type": "FSDP"}),
    ("deepspeed_zero3", {"distributed_type": "DEEPSPEED"}),
])
def test_accelerate_config_for_each_strategy(strategy, expected):
    import yaml

    config = Config.from_dict({"train": {"grad_accum": 4}})
    settings = launch.accelerate_config(ComputePlan([0, 1], strategy, 2, "test"), config, 29555)
    assert expected.items() <= settings.items()
    assert settings["num_processes"] == 2 and settings["use_cpu"] is False and settings["main_process_port"] == 29555
    if strategy == "fsdp":  # peft's FSDP recipe: frozen and trainable weights apart, no original params
        assert settings["fsdp_config"]["fsdp_use_orig_params"] is False
    if strategy.startswith("deepspeed"):
        assert settings["deepspeed_config"]["zero_stage"] == 3
        assert settings["deepspeed_config"]["gradient_accumulation_steps"] == 4
    yaml.safe_dump(settings)


@pytest.mark.slow
def test_stop_during_knowledge_replay_ends_in_seconds_and_resume_asks_only_the_rest(tiny_model, tiny_config, tmp_path,
                                                                                    monkeypatch):
    """On a CPU the base model wrote its replay answers for minutes; Stop waited for all of them and kept nothing,
    and Resume wrote them again. Here each answer runs about a second (a base that never ends its answers, 64
    tokens, one per batch); Stop comes after two. The run ends 'stopped' within seconds with a plain line, keeps
    the two, and Resume asks the other six only, trains, and counts both parts' time."""
    from core.models import generate
    from core.runs import elapsed_seconds
    from core.training import replay
    from tests.endless_model import never_ending_base

    tiny_config.model.source = str(never_ending_base(tiny_model, tmp_path))
    tiny_config.data.replay = 8
    monkeypatch.setattr(replay, "ANSWER_TOKENS", 64)
    monkeypatch.setattr(replay, "BATCH_SIZE", 1)
    asked, real = [], generate.answer_batch
    monkeypatch.setattr(generate, "answer_batch", lambda model, tokenizer, prompts, *a, **k: asked.extend(prompts)
                        or real(model, tokenizer, prompts, *a, **k))
    runner = JobRunner(tmp_path / "runs", in_process=True)  # in this process, so the patches above apply
    run = runner.start(tiny_config)
    wait_for(lambda: (run.status().get("replay_done") or 0) >= 2)
    pressed = time.time()
    runner.stop()
    assert runner.wait(60)
    print(f"stopped {time.time() - pressed:.2f} s after Stop, during replay")
    assert time.time() - pressed < 5
    status = run.status()
    done = status["replay_done"]
    assert status["state"] == "stopped" and status["message_key"]["key"] == "training.worker.stopped_during_replay"
    assert status["message"] == (f"Stopped before the first step, while the base model wrote its knowledge-replay "
                                 f"answers: the {done} of 8 it finished are kept, and Resume asks only the rest.")
    assert "已保留" in status_message(status).text("zh")
    first_part = elapsed_seconds(status)

    asked.clear()
    runner.start(Config.from_yaml(run.config_file), resume=run)  # no checkpoint, nothing trained: resumed in place
    assert runner.wait(300)
    status = run.status()
    assert status["state"] == "completed", status
    prompts = replay.pick_prompts(8, tiny_config.train.seed)
    asked_again = [prompt for prompt in prompts if any(prompt in text for text in asked)]  # (probes ask too)
    assert asked_again == prompts[done:]  # only the answers not finished before
    assert (status["step"], status["total_steps"]) == (4, 4)
    assert status["earlier_seconds"] == pytest.approx(first_part, abs=0.2)
    assert elapsed_seconds(status) == pytest.approx(first_part + status["ended_at"] - status["started_at"], abs=0.2)
