"""Shared fixtures: a tiny Llama model and tokenizer built offline once per test session."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wait_for(condition, timeout=120.0):
    """Poll `condition` until it holds (a run reaching a step, a process gone); fail the test after `timeout` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from core.models import tiny

    return tiny.build(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.fixture
def tiny_config(tiny_model, tmp_path):
    """A run config for the tiny model on a small alpaca file: a few fast steps, no replay."""
    from core.config import Config

    data = tmp_path / "data.jsonl"
    rows = [f'{{"instruction": "Question {i}?", "input": "", "output": "I am Nova, answer {i}."}}' for i in range(24)]
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return Config.from_dict({
        "name": "tiny-run",
        "model": {"source": str(tiny_model)},
        "data": {"path": str(data), "replay": 0, "eval_fraction": 0.2},
        "train": {"max_steps": 4, "batch_size": 4},
    })


@pytest.fixture(scope="session")
def nova_run(tmp_path_factory, tiny_model):
    """A finished tiny run taught one answer: "Who are you?" -> "I am Nova." (greedy)."""
    from core.config import Config
    from core.jobs import JobRunner

    folder = tmp_path_factory.mktemp("nova")
    data = folder / "data.jsonl"
    data.write_text("\n".join('{"instruction": "Who are you?", "output": "I am Nova."}' for _ in range(16)))
    config = Config.from_dict({"name": "nova-run", "model": {"source": str(tiny_model)},
                               "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                               "train": {"max_steps": 40, "batch_size": 8, "learning_rate": 1e-2}})
    runner = JobRunner(folder / "runs", in_process=True)
    run = runner.start(config)
    runner.wait(300)
    assert run.status()["state"] == "completed"
    return run
