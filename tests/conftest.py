"""Shared fixtures: a tiny Llama model and tokenizer built offline once per test session."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

# As launch.py sets it for the studio (core/training/launch.py says why), before anything imports torch: the suite
# runs the studio, its runs and the test itself as processes sharing the CPU, where spinning threads starve each other.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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


def teach_nova(folder: Path, model_source: str, name: str = "nova-run", model: dict | None = None,
               steps: int = 40, batch_size: int = 8):
    """Train a tiny run taught one answer, "Who are you?" -> "I am Nova.", into folder/runs; the finished Run."""
    from core.config import Config
    from core.jobs import JobRunner

    data = folder / "data.jsonl"
    data.write_text("\n".join('{"instruction": "Who are you?", "output": "I am Nova."}' for _ in range(16)))
    config = Config.from_dict({"name": name, "model": {"source": model_source, **(model or {})},
                               "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                               "train": {"max_steps": steps, "batch_size": batch_size, "learning_rate": 1e-2}})
    runner = JobRunner(folder / "runs", in_process=True)
    run = runner.start(config)
    runner.wait(600)
    assert run.status()["state"] == "completed", run.status()
    return run


@pytest.fixture(scope="session")
def nova_run(tmp_path_factory, tiny_model):
    """A finished tiny run taught one answer: "Who are you?" -> "I am Nova." (greedy)."""
    return teach_nova(tmp_path_factory.mktemp("nova"), str(tiny_model))


@pytest.fixture(scope="session")
def endless_run(tmp_path_factory, nova_run, tiny_model):
    """nova_run on a base whose answers never end (no end-of-sequence token), so an answer runs to max_new_tokens:
    about 90 s for 8192 tokens here. For tests that a stopped or abandoned answer frees the model."""
    import shutil

    from core.config import Config
    from core.runs import Run
    from tests.endless_model import never_ending_base

    folder = tmp_path_factory.mktemp("endless")
    base = never_ending_base(tiny_model, folder)
    run = Run(folder / "runs" / "endless-run")
    shutil.copytree(nova_run.path, run.path)
    config = Config.from_yaml(run.config_file)
    config.model.source = str(base)
    config.save(run.config_file)
    return run


# ---- markers: `pytest -m "not slow and not browser"` is the fast loop; CI runs everything -------------------------

# A test that asks for one of these fixtures loads a real model, trains, or starts a server, whatever else it does.
SLOW_FIXTURES = {"nova_run", "endless_run"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "browser" in names:
            item.add_marker(pytest.mark.browser)
        if names & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
