"""The pre-flight check: the cheaper settings it walks down, the proposal it makes, and a real dry run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.config import Config
from core.measure import preflight


def test_cheaper_settings_keep_the_effective_batch_then_save_more():
    config = Config.from_dict({"train": {"batch_size": 8, "grad_accum": 1, "max_length": 2048}})
    ladder = preflight.cheaper_settings(config, quantization_works=True)
    assert ladder[0] == {"train.batch_size": 4, "train.grad_accum": 2}
    assert ladder[1] == {"train.batch_size": 2, "train.grad_accum": 4}
    assert ladder[2]["train.gradient_checkpointing"] == "on"
    assert ladder[3]["model.quantization"] == "4bit"
    assert ladder[4]["train.max_length"] == 1024
    for rung in ladder:  # accumulation makes up for the smaller batch
        assert rung["train.batch_size"] * rung["train.grad_accum"] == 8
    without_bnb = preflight.cheaper_settings(config, quantization_works=False)
    assert all("model.quantization" not in rung for rung in without_bnb)


def test_out_of_memory_leads_to_the_first_setting_that_fits(tiny_config):
    tiny_config.train.batch_size = 8
    tried = []

    def fake_steps(config, rows, work):  # a machine where more than 2 rows per step runs out of memory
        tried.append(config.train.batch_size)
        attempt = preflight.Attempt(config=config, changes={})
        if config.train.batch_size > 2:
            raise_or_report = "CUDA out of memory. Tried to allocate 2.00 GiB"
            attempt.error = raise_or_report
            return attempt
        attempt.fits, attempt.peak_gb, attempt.step_seconds = True, 1.5, [0.4, 0.2]
        return attempt

    report = preflight.check(tiny_config, progress=lambda _: None, try_steps=fake_steps)
    assert tried == [8, 4, 2]
    assert not report.fits_as_configured
    assert report.proposal == {"train.batch_size": 2, "train.grad_accum": 4}
    text = "\n".join(map(str, report.lines()))
    assert "Does not fit with your settings" in text
    assert "Proposed: train.batch_size = 2, train.grad_accum = 4." in text
    applied = preflight.apply(tiny_config, report.proposal)
    assert (applied.train.batch_size, applied.train.grad_accum) == (2, 4)


@pytest.mark.slow
def test_dry_run_measures_two_real_steps(tiny_config, tmp_path, capsys):
    import launch

    config_file = tmp_path / "run.yaml"
    tiny_config.save(config_file)
    assert launch.main(["train", str(config_file), "--dry-run", "--runs-dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "Estimated peak:" in out
    assert "Placement: cpu: the whole model." in out
    assert "Fits with your settings: peak" in out and "peak RSS of the process (CPU)" in out
    assert "s per step on the 8 longest rows" in out
    assert "Projected time for the whole run: about" in out and "its 4 steps take about" in out
    assert "model load" in out and "training" in out  # the trial measured its loading
    assert not (tmp_path / "runs").exists()  # a dry run leaves no run folder behind


def test_a_model_that_only_fits_with_layers_on_the_cpu_gets_4bit_proposed(tiny_config, monkeypatch):
    """Layers spilled to the CPU cannot train; the check skips the rungs that cannot shrink the weights."""
    from core.models import devices
    from core.models.devices import Gpu, Inventory

    monkeypatch.setattr(devices, "inventory", lambda: Inventory(gpus=[Gpu(0, "RTX 3060", 12.0, 11.0, True, (8, 6))],
                                                                ram_available_gb=20))
    tried = []

    def fake_steps(config, rows, work):  # a GPU on which the weights only fit in 4-bit
        tried.append(config.model.quantization)
        attempt = preflight.Attempt(config=config, changes={})
        if config.model.quantization != "4bit":
            attempt.error, attempt.placement = "The model does not fit on the chosen GPUs: ... the CPU ...", True
            return attempt
        attempt.fits, attempt.peak_gb, attempt.step_seconds = True, 6.0, [1.0, 0.9]
        return attempt

    report = preflight.check(tiny_config, progress=lambda _: None, try_steps=fake_steps)
    assert tried == ["none", "4bit"]  # no time spent on smaller batches: they cannot move layers off the CPU
    assert report.proposal["model.quantization"] == "4bit"
    assert str(report.verdict) == "Does not fit as configured; the proposed settings do."


@pytest.mark.slow
def test_estimate_and_verdict_agree_with_the_measured_peak(tmp_path):
    """'Fits as configured' once sat above 'Estimated peak: 30.89 GiB' on a 23.5 GiB machine (a worst case of
    every row at max length, with logits trl never builds). The estimate is now for the rows the two steps train
    on, and lands within 25% of the peak RSS they measure in their own process (the built-in model, on the CPU)."""
    import json

    words = "the model learns to answer questions about data training steps tokens memory speed".split()
    data = tmp_path / "long.jsonl"
    data.write_text("".join(json.dumps({"instruction": "Tell me a long story.",
                                        "output": " ".join(words[(i + n) % len(words)] for i in range(400))}) + "\n"
                            for n in range(4)))
    config = Config.from_dict({"model": {"source": "default"}, "data": {"path": str(data), "replay": 0,
                                                                        "eval_fraction": 0},
                               "train": {"batch_size": 1, "max_length": 256, "max_steps": 2}})
    report = preflight.check(config, progress=lambda _: None)
    measured = report.attempts[0].peak_gb
    assert report.fits_as_configured and report.longest_tokens == 256
    assert 0.75 <= report.estimate_gb / measured <= 1.25, (report.estimate_gb, measured)
    assert str(report.verdict) == (f"Fits as configured: measured peak {measured:.2f} GiB of {report.available_gb:.1f} "
                              f"GiB available (estimated {report.estimate_gb:.2f} GiB).")
    assert report.estimate_gb < report.available_gb
    assert "Assumes rows of up to 256 tokens (the longest in the data) at batch 1" in "\n".join(
        map(str, report.lines()))


def test_a_fit_above_an_estimate_larger_than_the_machine_says_why(tiny_config):
    attempt = preflight.Attempt(tiny_config, {}, fits=True, peak_gb=12.0, step_seconds=[2.0, 1.5])
    report = preflight.Report(["Estimated peak: 30.89 GiB (weights 1.00)."], "cuda:0: the whole model",
                              "CUDA max allocated", [attempt], 42, 0.5, 8, 256, estimate_gb=30.89, available_gb=23.5)
    assert str(report.verdict).startswith("Fits as configured: measured peak 12.00 GiB of 23.5 GiB available.")
    assert "The estimate below (30.89 GiB) is more than is available" in str(report.verdict)


def test_cpt_steps_are_counted_in_blocks_as_the_run_counts_them(tiny_model, tiny_tokenizer, tmp_path):
    """Continued pretraining trains blocks of max_length tokens, not documents: the fit check's step count (and with
    it its time projection) must be the run's."""
    import json
    import threading

    from core.runs import Run
    from core.training import train as training

    long_text = " ".join(f"The river number {i} flows north past the old mill." for i in range(40))
    data = tmp_path / "text.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in [long_text, "A short note."] * 3),
                    encoding="utf-8")
    config = Config.from_dict({"name": "cpt-steps", "model": {"source": str(tiny_model)},
                               "data": {"path": str(data), "replay": 0, "eval_fraction": 0.0},
                               "train": {"method": "cpt", "max_steps": -1, "epochs": 1, "batch_size": 2,
                                         "max_length": 64}})
    run = Run.create(tmp_path / "runs", config.name)
    config.save(run.config_file)
    assert training.train(config, run, threading.Event()) == "completed", run.log_file.read_text()
    import re

    planned = preflight._total_steps(config, tiny_tokenizer)
    trained = int(re.search(r"Training \d+ rows for (\d+) steps", run.log_file.read_text()).group(1))
    assert planned == trained and planned > 6 // 2  # the run's own count; more blocks than documents


def test_the_report_speaks_the_page_language_and_prints_english(tiny_config):
    fits = preflight.Attempt(tiny_config, {"train.batch_size": 2}, fits=True, peak_gb=1.5, step_seconds=[0.4, 0.2])
    too_big = preflight.Attempt(tiny_config, {}, error="The GPU ran out of memory.")
    on_cpu = preflight._memory_kind(SimpleNamespace(uses_gpu=False))
    report = preflight.Report(["Estimated peak: 2.00 GiB."], "cpu: the whole model", on_cpu, [too_big, fits],
                              10, 1.0, 8, 256)
    english = [str(line) for line in report.lines()]
    assert english[3] == ("Fits with train.batch_size = 2: peak 1.50 GiB (peak RSS of the process (CPU)), 0.20 s per "
                          "step on the 8 longest rows (256 tokens at most).")
    assert english[-1] == "Proposed: train.batch_size = 2."
    with speaking("zh"):
        assert text_of(report.verdict) == "按当前设置装不下；建议的设置可以。"
        assert text_of(report.lines()[2]) == "使用你的设置装不下：The GPU ran out of memory."
        assert text_of(report.lines()[-1]) == "建议：train.batch_size = 2。"


def test_a_sharded_plan_is_not_measured_as_one_whole_copy(tiny_config, monkeypatch):
    """Stands for fsdp on two 24 GB GPUs with a model that fits only sharded: the trial is one process on one GPU,
    so it measured a whole copy there and reported 'does not fit' with a 4-bit proposal. Now the check says it
    does not measure such a plan, and why, with the estimate per GPU."""
    from core.models import devices
    from core.models.devices import Gpu, Inventory

    monkeypatch.setattr(devices, "inventory", lambda: Inventory(
        gpus=[Gpu(i, "RTX 4090", 24.0, 23.0, True, (8, 9), f"GPU-{i}") for i in range(2)], ram_available_gb=64))
    tiny_config.compute.strategy = "fsdp"
    tried = []

    def whole_copy_on_one_gpu(config, rows, work):  # what the one-process trial found: the whole copy spills
        tried.append(config.model.quantization)
        attempt = preflight.Attempt(config=config, changes={})
        attempt.error, attempt.placement = "The model does not fit on the chosen GPUs: ... the CPU ...", True
        return attempt

    report = preflight.check(tiny_config, progress=lambda _: None, try_steps=whole_copy_on_one_gpu)
    assert tried == [] and report.proposal == {}
    assert str(report.verdict).startswith("Not measured with fsdp: by the estimate about ")
    assert str(report.verdict).endswith("GB on each GPU, 23.0 GB free on the smallest.")
    text = "\n".join(map(str, report.lines()))
    assert "Compute: GPUs 0,1, fsdp, 2 processes." in text
    assert "Check fit runs no trial for fsdp: the 2 GPUs hold one copy of the model between them" in text
    assert "Nothing tried fits" not in text
    with speaking("zh"):
        assert text_of(report.verdict).startswith("fsdp 下不做实测")
