"""Knowledge replay stops within seconds, keeps the answers it finished, and a resume asks only the rest.

On a CPU the base model wrote the replay answers for 97-529 s; Stop waited for all of them, then saved nothing,
and Resume wrote them all again. Everything here is real: the tiny model answers, a real stop flag (the run's Stop)
cuts it short; a base whose answers never end (no end-of-sequence id, its end-of-turn suppressed) makes every
answer as long as the test wants.
"""

import json
import threading
import time
from types import SimpleNamespace

import pytest

from core.config import Config
from core.models import generate
from core.runs import Run
from core.training import replay
from tests.endless_model import never_ending_base


def loaded_model(source):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token  # as the run's loading sets it
    return SimpleNamespace(model=AutoModelForCausalLM.from_pretrained(source), tokenizer=tokenizer)


def counting_prompts(monkeypatch) -> list[str]:
    """The prompts the base model is asked, in order (the real answer_batch, watched)."""
    asked, real = [], generate.answer_batch

    def answer_batch(model, tokenizer, prompts, *args, **kwargs):
        asked.extend(prompts)
        return real(model, tokenizer, prompts, *args, **kwargs)

    monkeypatch.setattr(generate, "answer_batch", answer_batch)
    return asked


@pytest.fixture
def replay_run(tmp_path):
    run = Run.create(tmp_path / "runs", "replay-run")
    config = Config()
    config.data.replay = 3
    return run, config


def test_stop_cuts_a_long_batch_of_replay_answers_within_seconds(tiny_model, tmp_path, replay_run, monkeypatch):
    """Stands for a CPU writing 20 answers of 128 tokens with a 135M model: here one batch of never-ending answers
    of 8192 tokens (about 90 s). Stop comes 1 s in; the replay ends within a few seconds, keeps no cut answer,
    writes no replay.jsonl, and the run is left to stop (empty rows)."""
    run, config = replay_run
    loaded = loaded_model(never_ending_base(tiny_model, tmp_path))
    monkeypatch.setattr(replay, "ANSWER_TOKENS", 8192)
    stop, stopped_at = threading.Event(), []

    def press_stop():
        stopped_at.append(time.time())
        stop.set()

    threading.Timer(1.0, press_stop).start()
    rows = replay.rows_for_run(run, loaded, config, lambda line: None, stop=stop)
    waited = time.time() - stopped_at[0]
    print(f"replay returned {waited:.2f} s after Stop")
    assert waited < 5, waited
    assert rows == []
    assert not (run.path / replay.REPLAY_FILE).exists()
    assert replay.finished_answers(run, replay.pick_prompts(3, config.train.seed)) == []  # cut answers are asked again


def test_finished_answers_are_kept_and_a_resume_asks_only_the_rest(tiny_model, replay_run, monkeypatch):
    """The first answer is finished when Stop comes; the second is cut at its first token. The stopped run keeps
    the first in replay.partial.jsonl, the status says 1 of 3, and the resume asks the other two only."""
    run, config = replay_run
    loaded = loaded_model(tiny_model)
    monkeypatch.setattr(replay, "ANSWER_TOKENS", 16)
    monkeypatch.setattr(replay, "BATCH_SIZE", 1)
    asked = counting_prompts(monkeypatch)
    stop, status = threading.Event(), {}

    def update(**changes):  # the run's status.json; Stop comes once the first answer is written
        status.update(changes)
        if changes.get("replay_done") == 1:
            stop.set()

    assert replay.rows_for_run(run, loaded, config, lambda line: None, update, stop) == []
    prompts = replay.pick_prompts(3, config.train.seed)
    chat = [replay.replay_prompt(loaded.tokenizer, prompt) for prompt in prompts]  # as the model is asked
    assert [a["prompt"] for a in replay.finished_answers(run, prompts)] == prompts[:1]
    assert (status["replay_done"], status["replay_asked"]) == (1, 3)
    assert asked == chat[:2]  # the second was begun, and cut

    asked.clear()
    said = []
    rows = replay.rows_for_run(run, loaded, config, said.append, update, threading.Event())
    assert asked == chat[1:]  # the finished answer is not asked again
    assert any("reusing 1 answers written before the run was stopped" in line for line in said)
    written = [json.loads(line) for line in (run.path / replay.REPLAY_FILE).read_text().splitlines()]
    assert rows == written and len(rows) == status["replay_kept"]
    assert not (run.path / replay.PARTIAL_FILE).exists()  # replay.jsonl holds them all now
    assert (status["replay_done"], status["replay_asked"]) == (3, 3)

    asked.clear()
    assert replay.rows_for_run(run, loaded, config, lambda line: None, stop=threading.Event()) == rows
    assert asked == []  # a later resume or retry reads replay.jsonl


def test_a_line_cut_by_a_killed_process_is_asked_again(replay_run):
    run, config = replay_run
    prompts = replay.pick_prompts(3, config.train.seed)
    (run.path / replay.PARTIAL_FILE).write_text(
        json.dumps({"prompt": prompts[0], "answer": "Fine.", "kept": True}) + "\n" + '{"prompt": "' + prompts[1][:5])
    assert [a["prompt"] for a in replay.finished_answers(run, prompts)] == [prompts[0]]


def test_replay_asks_for_short_answers_in_the_models_own_template(tiny_tokenizer):
    """Half the replay answers ran past ANSWER_TOKENS and were dropped: the questions now come after a system turn
    asking for one or two sentences (SmolLM2-135M then kept 18 of 20 instead of 13). A template that refuses a
    system turn (Gemma 2) gets the request in front of the question instead of failing the run."""
    from core.models import tiny
    from tests.families import FAMILIES

    asked = replay.replay_prompt(tiny_tokenizer, "How many legs does a spider have?")
    assert replay.SHORT_ANSWERS in asked and asked.index(replay.SHORT_ANSWERS) < asked.index("spider")
    assert asked.endswith(generate.chat_prompt(tiny_tokenizer, "How many legs does a spider have?")[-30:])
    gemma2 = tiny.build_tokenizer(spec=FAMILIES["gemma-2"])
    folded = replay.replay_prompt(gemma2, "How many legs does a spider have?")
    assert f"{replay.SHORT_ANSWERS}\n\nHow many legs" in folded and folded.count("<start_of_turn>user") == 1


def test_a_run_alike_in_the_runs_folder_copies_the_answers_instead_of_asking_again(tiny_model, tmp_path,
                                                                                   monkeypatch):
    """A sweep's runs share the base model and the questions: the second learning rate copies the first run's
    answers (the identity demo spent 4.5 of its 6.3 min writing them), a run with other questions asks its own."""
    monkeypatch.setattr(replay, "ANSWER_TOKENS", 16)
    loaded = loaded_model(tiny_model)
    asked = counting_prompts(monkeypatch)

    def config_for(**train) -> Config:
        config = Config.from_dict({"model": {"source": str(tiny_model)}, "data": {"replay": 3}, "train": train})
        return config

    first = Run.create(tmp_path / "runs", "sweep-lr1e-4")
    rows = replay.rows_for_run(first, loaded, config_for(learning_rate=1e-4), lambda line: None)
    assert len(asked) == 3 and (first.path / replay.KEY_FILE).exists()

    asked.clear()
    said, status = [], {}
    second = Run.create(tmp_path / "runs", "sweep-lr1e-3")
    copied = replay.rows_for_run(second, loaded, config_for(learning_rate=1e-3), said.append, status.update)
    assert asked == [] and copied == rows
    assert said == [f"Knowledge replay: reusing the {len(rows)} answers the same base model wrote for run "
                    "sweep-lr1e-4 (same model, questions and settings)."]
    assert (status["replay_done"], status["replay_asked"], status["replay_kept"]) == (3, 3, len(rows))

    other = Run.create(tmp_path / "runs", "other-seed")
    replay.rows_for_run(other, loaded, config_for(seed=7), lambda line: None)
    assert len(asked) == 3  # other questions: the base model is asked
