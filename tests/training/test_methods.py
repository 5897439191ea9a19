"""Every train.method trains the tiny model a few steps on the CPU through trl's trainers, and writes what a user
sees: its metrics (trl's reward names for the preference methods), its log and its adapter or model."""

import json
import threading

import pytest

from core.config import Config
from core.runs import Run
from core.training import train as training

pytestmark = pytest.mark.slow  # every test here trains a method a few steps

QUESTIONS = [f"Question number {i}?" for i in range(12)]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def pairs_file(folder):
    return write_jsonl(folder / "pairs.jsonl", [
        {"prompt": q, "chosen": f"A kind and careful answer {i}.", "rejected": "NO."} for i, q in enumerate(QUESTIONS)])


def config_for(tiny_model, data, method, tuning="lora", **train):
    return Config.from_dict({
        "name": f"{method}-{tuning}",
        "model": {"source": str(tiny_model)},
        "data": {"path": str(data), "replay": 0, "eval_fraction": 0.25},
        "train": {"method": method, "tuning": tuning, "max_steps": 2, "batch_size": 4, "eval_every": 2,
                  "max_length": 64, **train},
    })


def run_method(tmp_path, config):
    run = Run.create(tmp_path / "runs", config.name)
    config.save(run.config_file)
    assert training.train(config, run, threading.Event()) == "completed", run.log_file.read_text()
    metrics = [json.loads(line) for line in run.metrics_file.read_text().splitlines()]
    return run, metrics, run.log_file.read_text()


@pytest.mark.parametrize("method", ["dpo", "orpo"])
def test_pair_methods_train_and_chart_trls_reward_metrics(tiny_model, tmp_path, method):
    run, metrics, log = run_method(tmp_path, config_for(tiny_model, pairs_file(tmp_path), method))
    assert run.has_adapter()
    trained = [m for m in metrics if "loss" in m]
    assert trained and all(key in trained[0] for key in ("rewards/chosen", "rewards/rejected", "rewards/margins",
                                                         "rewards/accuracies"))
    assert any("eval_rewards/accuracies" in m for m in metrics)
    assert f"Method {method}:" in log
    if method == "dpo":
        assert "reference: the base model, the adapter switched off." in log
    assert "Learning rate" in log and f"{method} with lora tuning" in log


def test_kto_trains_on_labelled_answers(tiny_model, tmp_path):
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": f"Good answer {i}."}],
             "label": i % 3 != 0} for i, q in enumerate(QUESTIONS * 2)]
    data = write_jsonl(tmp_path / "kto.jsonl", rows)
    run, metrics, log = run_method(tmp_path, config_for(tiny_model, data, "kto"))
    assert run.has_adapter()
    assert any("rewards/chosen" in m or "kl" in m for m in metrics if "loss" in m)
    assert "desirable and" in log


def test_cpt_trains_on_blocks_of_text(tiny_model, tmp_path):
    text = " ".join(f"The river number {i} flows north past the old mill." for i in range(60))
    data = write_jsonl(tmp_path / "text.jsonl", [{"text": text}, {"text": "Short note."}] * 4)
    run, metrics, log = run_method(tmp_path, config_for(tiny_model, data, "cpt"))
    assert run.has_adapter()
    assert "nothing is cut off" in log
    assert any("eval_loss" in m for m in metrics)


@pytest.mark.parametrize("tuning", ["full", "freeze"])
def test_full_and_freeze_save_a_whole_model(tiny_model, tmp_path, tuning):
    config = config_for(tiny_model, pairs_file(tmp_path), "dpo", tuning=tuning, freeze_trainable_layers=1)
    run, metrics, log = run_method(tmp_path, config)
    assert run.has_model() and not run.has_adapter()
    assert run.weights_dir == run.model_dir
    assert (run.model_dir / "tokenizer_config.json").exists()
    assert f"Tuning {tuning}" in log and "log-probabilities computed once" in log
