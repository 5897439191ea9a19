import shutil

import pytest

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.config import ChatSettings
from core.results.chat import ChatError, ChatModel


GREEDY = ChatSettings(temperature=0, max_new_tokens=8)


def test_streams_an_answer_with_and_without_the_adapter(nova_run):
    model = ChatModel.from_run(nova_run.path, progress=lambda _: None)
    pieces = list(model.stream([{"role": "user", "content": "Who are you?"}], GREEDY))
    assert len(pieces) > 1  # streamed, not one block at the end
    tuned = model.reply([{"role": "user", "content": "Who are you?"}], GREEDY)
    assert tuned == "".join(pieces).strip() == "I am Nova."  # it learned the one answer it was taught
    base = model.reply([{"role": "user", "content": "Who are you?"}], GREEDY, use_adapter=False)
    assert tuned == model.reply([{"role": "user", "content": "Who are you?"}], GREEDY)  # greedy is repeatable
    assert base != tuned  # the adapter changes the answer; switching it off gives the base model back


def test_run_without_adapter_is_explained(nova_run, tmp_path):
    broken = tmp_path / "run"
    shutil.copytree(nova_run.path, broken)
    (broken / "adapter" / "adapter_config.json").unlink()
    with pytest.raises(ChatError, match="has no adapter_config.json"):
        ChatModel.from_run(broken)


def test_pickle_adapter_is_refused(nova_run, tmp_path):
    broken = tmp_path / "run"
    shutil.copytree(nova_run.path, broken)
    (broken / "adapter" / "adapter_model.safetensors").rename(broken / "adapter" / "adapter_model.bin")
    with pytest.raises(ChatError, match="pickle"):
        ChatModel.from_run(broken)


def test_truncated_adapter_is_explained(nova_run, tmp_path):
    broken = tmp_path / "run"
    shutil.copytree(nova_run.path, broken)
    weights = broken / "adapter" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ChatError, match="damaged or incomplete"):
        ChatModel.from_run(broken)


def test_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(ChatError, match="is not a run folder") as caught:
        ChatModel.from_run(tmp_path)
    with speaking("zh"):  # the page says it in its language; str() stays the English of the log
        assert text_of(caught.value) == f"{tmp_path} 不是运行文件夹（其中没有 config.yaml）。"
    assert caught.value.key == "results.chat.not_a_run" and isinstance(caught.value, RuntimeError)


def test_a_closed_or_cancelled_stream_stops_generating_at_once(endless_run):
    """endless_run's answers never end by themselves (8192 tokens take about 90 s here)."""
    import threading
    import time

    model = ChatModel.from_run(endless_run.path, progress=lambda _: None)
    long = ChatSettings(temperature=0, max_new_tokens=8192)
    pieces = model.stream([{"role": "user", "content": "Who are you?"}], long)
    started = [next(pieces) for _ in range(3)]
    assert "".join(started).startswith("I")
    before = time.monotonic()
    pieces.close()  # the reader left: a closed tab, a client gone, Stop
    assert time.monotonic() - before < 2 and model._lock.acquire(timeout=0.1)  # the next chat can start
    model._lock.release()

    cancel = threading.Event()  # the caller's own way to say the same (the API sets it when its client leaves)
    pieces = []
    for piece in model.stream([{"role": "user", "content": "Who are you?"}], long, cancel=cancel):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert 3 <= len(pieces) <= 6  # at most the text of a token or two already made
