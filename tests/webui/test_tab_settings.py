"""The Settings tab's fit check: its progress while it measures, what it shows, and the proposal it applies."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import gradio as gr

from core.catalogue.language import speaking
from core.catalogue.message import message
from core.config import Config
from core.measure import preflight
from webui import fit_panel
from webui import tab_settings


def _report(fits_first: bool) -> preflight.Report:
    failed = preflight.Attempt(config=Config(), changes={}, error="The GPU ran out of memory.")
    fitting = preflight.Attempt(config=Config(), changes={"train.batch_size": 4, "train.grad_accum": 2}, fits=True,
                                peak_gb=7.5, step_seconds=[1.2, 0.9])
    attempts = [fitting] if fits_first else [failed, fitting]
    if fits_first:
        fitting.changes = {}
    return preflight.Report(["Estimated peak: 8.00 GiB."], "cuda:0: the whole model", "CUDA max allocated",
                            attempts, total_steps=100, length_ratio=0.5, measured_rows=16, longest_tokens=1024,
                            estimate_gb=8.0, available_gb=23.4)


def _studio(busy=False):
    return SimpleNamespace(runner=SimpleNamespace(busy=busy), release_chat=lambda: None)


def _last(lang="en", busy=False):
    with speaking(lang):
        return list(fit_panel.check_fit_stream(Config(), _studio(busy)))[-1]


def test_fit_check_shows_the_proposal(monkeypatch):
    monkeypatch.setattr(preflight, "check", lambda config, progress: _report(fits_first=False))
    text, proposal, _ = _last()
    assert text.startswith("**Does not fit as configured; the proposed settings do.**")
    assert "Fits with train.batch_size = 4, train.grad_accum = 2: peak 7.50 GiB (CUDA max allocated)" in text
    # The whole run: loading and the probe answers beside the 100 steps (no replay in this report).
    assert "Projected time for the whole run: about 66 s (model load 15 s, probe answers 6 s, training 45 s)" in text
    assert "its 100 steps take about 45 s" in text
    assert proposal == {"train.batch_size": 4, "train.grad_accum": 2}
    text, _, _ = _last("zh")
    assert text.startswith("**按当前设置装不下；建议的设置可以。**")
    assert "其中 100 步训练约 45 秒" in text and "建议：train.batch_size = 4" in text


def test_fit_check_when_it_fits_and_while_a_run_trains(monkeypatch):
    monkeypatch.setattr(preflight, "check", lambda config, progress: _report(fits_first=True))
    text, proposal, _ = _last()
    # One verdict, with the figures it rests on: it cannot sit above an estimate that says otherwise.
    assert text.startswith("**Fits as configured: measured peak 7.50 GiB of 23.4 GiB available (estimated 8.00 "
                           "GiB).**") and proposal == {}
    text, proposal, _ = _last(busy=True)
    assert "A run is in progress" in text and proposal == {}


def test_settings_show_only_what_the_method_and_tuning_use():
    sft = tab_settings.shown("sft", "lora")
    assert sft["train.packing"] and sft["lora.r"] and not sft["train.beta"] and not sft["train.dpo_loss"]
    dpo = tab_settings.shown("dpo", "lora")
    assert dpo["train.beta"] and dpo["train.dpo_loss"] and dpo["train.sft_weight"] and not dpo["train.packing"]
    assert not dpo["train.desirable_weight"] and tab_settings.shown("kto", "lora")["train.desirable_weight"]
    assert not tab_settings.shown("kto", "lora")["train.group_by_length"]  # kto keeps its batches in order
    full = tab_settings.shown("cpt", "full")
    assert not full["lora.r"] and not full["train.freeze_trainable_layers"] and full["train.learning_rate"]
    assert tab_settings.shown("sft", "freeze")["train.freeze_trainable_layers"]
    grpo = tab_settings.shown("grpo", "lora")
    assert all(grpo[key] for key in tab_settings.GRPO_KEYS) and grpo["train.beta"] and not grpo["train.packing"]
    assert not any(dpo[key] for key in tab_settings.GRPO_KEYS)


def test_grpo_rewards_are_ticked_on_the_form_and_reach_the_config():
    from webui.form import Form

    with gr.Blocks():
        form = Form(lambda key: key)
        method, rewards = form.add("train.method"), form.add("train.rewards")
    assert isinstance(rewards, gr.CheckboxGroup) and rewards.value == ["answer", "format"]
    config = form.config_from({method: "grpo", rewards: ["answer", "length"]})
    assert config.train.method == "grpo" and config.train.rewards == ["answer", "length"]

def test_fit_check_shows_each_phase_while_it_measures(monkeypatch):
    go_on = threading.Event()

    def slow_check(config, progress):
        progress(message("measure.preflight.estimating"))  # as preflight.check says it
        go_on.wait(5)
        return _report(fits_first=True)

    monkeypatch.setattr(preflight, "check", slow_check)
    shown = []
    with speaking("zh"):
        for text, _, _ in fit_panel.check_fit_stream(Config(), _studio()):
            shown.append(text)
            if len(shown) == 3:
                go_on.set()
    assert any(text.startswith("⏳ 正在根据模型配置估算内存……") for text in shown), shown
    assert shown[-1].startswith("**按当前设置可以装下")
