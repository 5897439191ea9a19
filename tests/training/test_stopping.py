"""Stop is heard at every phase of a run: while the model loads, while the probes are answered, before the first
step. (Knowledge replay: tests/training/test_replay.py; a whole run stopped during replay: test_worker.py.)"""

import copy
import threading
import time
from types import SimpleNamespace

import pytest
from transformers import TrainerControl, TrainerState

from core.runs import Run
from core.training import probes
from core.training.callbacks import ProbeCallback, RunCallback
from core.training.stopping import StopRequested, cut_short


def test_a_stop_while_the_model_loads_ends_the_loading_within_a_moment(tiny_model):
    """Stands for a large model loading for minutes: the tiny model loaded again and again for up to 60 s. Stop
    comes after 1 s; loading ends within a second of it."""
    from transformers import AutoModelForCausalLM

    stop, stopped_at = threading.Event(), []
    threading.Timer(1.0, lambda: stopped_at.append(time.time()) or stop.set()).start()
    started = time.time()
    with pytest.raises(StopRequested):
        with cut_short(stop):
            while time.time() - started < 60:
                AutoModelForCausalLM.from_pretrained(tiny_model)
    print(f"loading ended {time.time() - stopped_at[0]:.2f} s after Stop")
    assert time.time() - stopped_at[0] < 1.5


def test_a_stop_after_loading_is_left_to_the_later_phases():
    stop = threading.Event()
    with cut_short(stop, poll_seconds=0.01):
        pass
    stop.set()
    time.sleep(0.2)  # no StopRequested lands here: the watcher ended with the block


def test_a_stop_while_the_base_model_answers_the_probes_ends_before_the_first_step(tiny_model, tiny_tokenizer,
                                                                                   tmp_path):
    """The probes are answered before the first step (a minute with a large model on a CPU), and the trainer
    looks at Stop only after a step: the probe answers are cut and not written, and the run ends before step 1."""
    from transformers import AutoModelForCausalLM

    run = Run.create(tmp_path, "probed")
    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token  # as the run's loading sets it
    stop = threading.Event()
    stop.set()
    state, control = TrainerState(), TrainerControl()
    watcher = RunCallback(run, stop, SimpleNamespace(trained_tokens=0, all_tokens=0))
    prober = ProbeCallback(run, tokenizer, ["Who are you?"], stop=stop)
    watcher.on_train_begin(None, state, control)
    prober.on_train_begin(None, state, control, model=AutoModelForCausalLM.from_pretrained(tiny_model))
    assert not (run.path / probes.PROBES_FILE).exists()  # no half answers kept as the base model's
    with pytest.raises(StopRequested):
        watcher.on_step_begin(None, state, control)


def test_the_stop_step_saves_without_evaluating_first(tmp_path):
    """Stop at an evaluation step used to run the held-out pass and the probes before saving."""
    run = Run.create(tmp_path, "stopping")
    stop = threading.Event()
    state, control = TrainerState(global_step=5, max_steps=20), TrainerControl(should_evaluate=True)
    watcher = RunCallback(run, stop, SimpleNamespace(trained_tokens=0, all_tokens=0))
    stop.set()
    control = watcher.on_step_end(None, state, control)
    assert control.should_training_stop and control.should_save and not control.should_evaluate
    assert run.status()["state"] == "stopping"
