"""Each training method trains the real default model (SmolLM2-135M-Instruct, from the cache) a few steps on the
CPU, on the bundled demo data: what a user gets when they pick the method in the studio. The tiny-model tests
(test_methods.py) check the details; this one checks that the real model, tokenizer and template go through trl."""

import json
import threading

import pytest

from core.config import Config
from core.models import builtin
from core.runs import Run
from core.training import train as training

DATA = {"dpo": "assets/datasets/polite_pairs.jsonl", "orpo": "assets/datasets/polite_pairs.jsonl",
        "kto": "assets/datasets/polite_pairs.jsonl", "cpt": "assets/datasets/kessaly_articles.jsonl",
        "grpo": "assets/datasets/capitals.jsonl"}
EXTRA = {"grpo": {"num_generations": 2, "completion_length": 16}}  # 2 answers of 16 tokens: a few seconds a step


@pytest.fixture(scope="module")
def default_model():
    return builtin.ensure(progress=lambda _: None)


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(DATA))
def test_each_method_trains_the_default_model(default_model, tmp_path, method):
    config = Config.from_dict({
        "name": f"default-{method}",
        "model": {"source": "default"},
        "data": {"path": DATA[method], "replay": 0, "eval_fraction": 0.1},
        "train": {"method": method, "max_steps": 2, "batch_size": 2, "max_length": 128, "eval_every": 2,
                  **EXTRA.get(method, {})},
    })
    run = Run.create(tmp_path / "runs", config.name)
    config.save(run.config_file)
    assert training.train(config, run, threading.Event()) == "completed", run.log_file.read_text()
    log = run.log_file.read_text()
    assert "134.5M parameters" in log and f"Method {method}:" in log
    losses = [json.loads(line) for line in run.metrics_file.read_text().splitlines()]
    trained = [m for m in losses if "loss" in m]
    assert trained and all(m["loss"] == m["loss"] for m in trained)  # a number, not NaN
    if method in ("dpo", "orpo"):
        assert "rewards/accuracies" in trained[0]
    if method == "grpo":
        assert {"reward", "reward_std", "rewards/answer/mean", "rewards/format/mean"} <= set(trained[0])
    assert run.has_adapter()
