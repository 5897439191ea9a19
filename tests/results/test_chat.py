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


def test_chat_keeps_off_the_gpus_a_training_run_holds(tiny_model, monkeypatch):
    """Stands for chatting in the studio while a run trains on GPUs 0 and 1 of a 4-GPU machine (and on the only GPU
    of a 1-GPU one): the chat model was loaded with device_map 'auto' over every GPU, took the run's memory, and
    the run's out-of-memory retry halved its batch for good. It now goes to a GPU the run does not use, else to the
    CPU, and the chat panel says which."""
    from types import SimpleNamespace

    import torch

    from core.config import ModelConfig
    from core.results.chat import away_from
    from webui.tab_chat import sharing_notice

    config = ModelConfig(source=str(tiny_model))
    assert away_from(config, (0,)) == (config, None)  # no GPU here: nothing to keep off
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    placed, note = away_from(config, (0, 1))
    assert placed.device_map == "cuda:2" and config.device_map == "auto"
    assert str(note) == ("A run is training on GPU 0, 1; this chat model was loaded on GPU 2 so that the run keeps "
                         "its memory.")
    assert away_from(config, ()) == (config, None)  # no run: as configured
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    chat = ChatModel.base(config, progress=lambda _: None, held_gpus=(0,))  # loads for real, on the CPU
    assert next(chat.model.parameters()).device.type == "cpu"
    studio = SimpleNamespace(runner=SimpleNamespace(busy=True))
    assert "loaded on the CPU so that the run keeps its memory" in sharing_notice(studio, chat)
    with speaking("zh"):
        assert "加载在 CPU 上" in text_of(chat.placement_note)


def test_a_vote_comes_in_steps_that_say_how_many_samples_are_in(nova_run):
    """Five votes took 111 s on a CPU in one generate call, with nothing to show; sampled a few at a time, the chat
    can say "k of N" after each batch, and the last step holds the vote."""
    from core.data.answers import PatternError

    model = ChatModel.from_run(nova_run.path, progress=lambda _: None)
    asked = [{"role": "user", "content": "Who are you?"}]
    settings = ChatSettings(temperature=1.0, max_new_tokens=8, votes=5, answer_pattern="")
    steps = list(model.vote_in_steps(asked, settings, seed=7))
    assert [(step.done, step.total) for step in steps] == [(2, 5), (4, 5), (5, 5)]
    assert [step.vote is None for step in steps] == [True, True, False]
    assert sum(steps[-1].vote.counts.values()) == 5 and len(steps[-1].vote.samples) == 5
    assert [(step.done, step.total) for step in model.vote_in_steps(asked, settings, seed=7, batch=1)] == [
        (k, 5) for k in range(1, 6)]
    with pytest.raises(PatternError):  # a bad pattern is refused before anything is sampled
        next(model.vote_in_steps(asked, ChatSettings(temperature=1.0, votes=3, answer_pattern="(unclosed")))
