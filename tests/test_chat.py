import shutil

import pytest

from core.chat import ChatError, ChatModel
from core.config import ChatSettings
from core.jobs import JobRunner


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_model):
    from core.config import Config

    folder = tmp_path_factory.mktemp("chat")
    data = folder / "data.jsonl"
    data.write_text("\n".join('{"instruction": "Who are you?", "output": "I am Nova."}' for _ in range(16)))
    config = Config.from_dict({"name": "chat-run", "model": {"source": str(tiny_model)},
                               "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                               "train": {"max_steps": 40, "batch_size": 8, "learning_rate": 1e-2}})
    runner = JobRunner(folder / "runs")
    run = runner.start(config)
    runner.wait(120)
    assert run.status()["state"] == "completed"
    return run


GREEDY = ChatSettings(temperature=0, max_new_tokens=8)


def test_streams_an_answer_with_and_without_the_adapter(trained_run):
    model = ChatModel.from_run(trained_run.path, progress=lambda _: None)
    pieces = list(model.stream([{"role": "user", "content": "Who are you?"}], GREEDY))
    assert len(pieces) > 1  # streamed, not one block at the end
    tuned = model.reply([{"role": "user", "content": "Who are you?"}], GREEDY)
    assert tuned == "".join(pieces).strip() == "I am Nova."  # it learned the one answer it was taught
    base = model.reply([{"role": "user", "content": "Who are you?"}], GREEDY, use_adapter=False)
    assert tuned == model.reply([{"role": "user", "content": "Who are you?"}], GREEDY)  # greedy is repeatable
    assert base != tuned  # the adapter changes the answer; switching it off gives the base model back


def test_run_without_adapter_is_explained(trained_run, tmp_path):
    broken = tmp_path / "run"
    shutil.copytree(trained_run.path, broken)
    (broken / "adapter" / "adapter_config.json").unlink()
    with pytest.raises(ChatError, match="has no adapter_config.json"):
        ChatModel.from_run(broken)


def test_pickle_adapter_is_refused(trained_run, tmp_path):
    broken = tmp_path / "run"
    shutil.copytree(trained_run.path, broken)
    (broken / "adapter" / "adapter_model.safetensors").rename(broken / "adapter" / "adapter_model.bin")
    with pytest.raises(ChatError, match="pickle"):
        ChatModel.from_run(broken)


def test_truncated_adapter_is_explained(trained_run, tmp_path):
    broken = tmp_path / "run"
    shutil.copytree(trained_run.path, broken)
    weights = broken / "adapter" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ChatError, match="damaged or incomplete"):
        ChatModel.from_run(broken)


def test_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(ChatError, match="is not a run folder"):
        ChatModel.from_run(tmp_path)
