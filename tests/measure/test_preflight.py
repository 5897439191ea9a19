"""The pre-flight check: the cheaper settings it walks down, the proposal it makes, and a real dry run."""

from __future__ import annotations

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
    text = "\n".join(report.lines())
    assert "Does not fit with your settings" in text
    assert "Proposed: train.batch_size = 2, train.grad_accum = 4." in text
    applied = preflight.apply(tiny_config, report.proposal)
    assert (applied.train.batch_size, applied.train.grad_accum) == (2, 4)


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
    assert "Projected training time for 4 steps" in out
    assert not (tmp_path / "runs").exists()  # a dry run leaves no run folder behind
