"""The Train tab's queue, without a browser: Start while a run trains adds to the queue, the panel lists it in the
page's language, Up/Down/Remove change it, and after a restart the panel offers Resume or Skip."""

import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

from core.catalogue.language import speaking
from core.catalogue.message import StudioError
from core.config import Config
from core.runs import Run
from core.training.queue import RunQueue
from webui import queue_panel, tab_settings, tab_train
from webui.app import build
from webui.studio import Studio

NAMES = ["held", "held_row", "resume_held", "skip_held", "table", "pick", "up", "down", "remove", "seen"]


def panel(studio) -> queue_panel.QueueHandlers:
    """The panel's handlers with each component named by a string (the answers are {name: update})."""
    return queue_panel.QueueHandlers(SimpleNamespace(**{name: name for name in NAMES}), studio, "notice")


def queued(runs_dir, *names) -> RunQueue:
    queue = RunQueue(runs_dir)
    for name in names:
        queue.add(Config.from_dict({"name": name, "train": {"method": "dpo" if name == "pairs" else "sft"}}),
                  check_data=False)
    return queue


def test_the_panel_lists_the_queue_and_sends_it_only_when_it_changed(tmp_path):
    studio = Studio(tmp_path / "runs")  # before the entries: a studio starts what it finds queued
    queued(tmp_path / "runs", "first", "pairs")
    handlers = panel(studio)
    with speaking("zh"):
        shown = handlers.refresh(None)
    assert shown["table"]["headers"] == ["#", "运行", "训练链 · 阶段", "方法", "数据", "加入时间"]
    assert [row[:5] for row in shown["table"]["data"]] == [["1", "first", "", "sft", "identity.jsonl"],
                                                           ["2", "pairs", "", "dpo", "identity.jsonl"]]
    assert [label for label, _ in shown["pick"]["choices"]][0].startswith("1. first (")
    assert shown["held"] == "" and shown["held_row"]["visible"] is False
    assert handlers.refresh(shown["seen"]) == {}  # nothing changed: nothing sent
    RunQueue(tmp_path / "runs").remove("pairs")  # `launch.py queue remove` in a terminal
    assert [row[1] for row in handlers.refresh(shown["seen"])["table"]["data"]] == ["first"]


def test_up_down_and_remove(tmp_path):
    studio = Studio(tmp_path / "runs")
    queue = queued(tmp_path / "runs", "a", "b", "c")
    handlers = panel(studio)
    c = queue.find("c").id
    moved = handlers.move(c, -1)
    assert moved["notice"] == "c is now number 2 in the queue." and moved["pick"]["value"] == c
    assert [e.name for e in queue.entries()] == ["a", "c", "b"]
    handlers.move(queue.find("a").id, +1)
    assert [e.name for e in queue.entries()] == ["c", "a", "b"]
    assert handlers.remove(c)["notice"] == "Took c out of the queue."
    assert handlers.remove(None)["notice"] == "Pick a queued run first."
    gone = handlers.remove(c)  # removed meanwhile in another page
    assert gone["notice"].startswith("**No queued run is") and [row[1] for row in gone["table"]["data"]] == ["a", "b"]


def test_after_a_restart_the_panel_says_the_queue_waits_and_skip_starts_the_next(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    cut = Run.create(runs, "cut-short")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cut.update_status(state="training", step=3, total_steps=9, pid=dead.pid)
    queued(runs, "next")
    studio = Studio(runs)  # the studio starting again
    assert studio.interrupted == ["cut-short"] and studio.queue.held_by() == "cut-short" and not studio.runner.busy
    handlers = panel(studio)
    with speaking("zh"):
        shown = handlers.refresh(None)
    assert "队列正在等待" in shown["held"] and "cut-short" in shown["held"] and shown["held_row"]["visible"] is True
    started = []
    monkeypatch.setattr(studio.runner, "_begin", lambda config, resume, entry=None: started.append(config.name) or
                        SimpleNamespace(name=config.name))
    skipped = handlers.skip_held()
    assert skipped["notice"].startswith("Skipped cut-short: the queue goes on") and "Started run **next**" in \
        skipped["notice"]
    assert started == ["next"] and studio.queue.held_by() is None and skipped["held_row"]["visible"] is False


@pytest.fixture
def busy_studio(tmp_path):
    """A studio whose runner says a run trains (nothing trains: only the Train tab's answers are looked at)."""
    studio = Studio(tmp_path / "runs")
    studio.runner._done = threading.Event()
    studio.runner.run = Run.create(studio.runs_dir, "training-now")
    return studio


def test_start_while_a_run_trains_reads_add_to_queue_and_queues_the_form(busy_studio, tmp_path):
    demo = build(busy_studio)
    form = demo.form
    values = {widget: widget.value for widget in form.fields.values()}
    values[form.fields["name"]] = "next-run"
    names = ["start", "stop", "resume", "notice", "status", "chart", "log", "view", "runs_table", "pick", "probes",
             "best_banner", "use_best", "probes_seen", "buttons_seen", "history_read"]
    ui = SimpleNamespace(**{name: name for name in names}, compare=SimpleNamespace(picked="compare"))
    handlers = tab_train.TrainHandlers(ui, form, busy_studio)
    with speaking("zh"):
        assert handlers.button_updates({}, None)["start"] == {"__type__": "update", "interactive": True,
                                                              "value": "加入队列"}
    refused = handlers.start(values)  # the page still showed Start: the second click of a double click
    assert refused == {"notice": "**A run is in progress (training-now); stop it or wait for it to finish.**"}
    values["buttons_seen"] = [True, True, False]  # the page shows Add to queue
    shown = handlers.start(values)
    assert shown == {"notice": "Added **next-run** to the queue (number 1); it starts when the runs before it end."}
    assert [e.name for e in busy_studio.queue.entries()] == ["next-run"]
    values[form.fields["train.learning_rate"]] = "fast"
    refused = handlers.start(values)
    assert "train.learning_rate" in refused["notice"] and len(busy_studio.queue.entries()) == 1
    busy_studio.runner._done.set()
    assert handlers.button_updates({}, None)["start"]["value"] == "Start training"


def test_loading_a_chain_file_says_its_stages_and_queues_them_in_order(busy_studio, tmp_path):
    from tests.test_chain import chain_file

    path = chain_file(tmp_path, "default")
    ui = SimpleNamespace(message="message", queue_chain="queue_chain", chain_file="chain_file")
    form = SimpleNamespace(updates_from=lambda config: {"form": config.name})  # the form's side is not looked at
    settings = tab_settings.SettingsHandlers(ui, form, busy_studio)
    with speaking("zh"):
        loaded = settings.load(str(path))
    assert loaded["message"].startswith("**chain.yaml** 是一条含 2 个阶段的训练链")
    assert "1. **sft**（c-sft）：sft，数据 sft.jsonl\n2. **dpo**（c-dpo）：dpo，数据 pairs.jsonl" in loaded["message"]
    assert loaded["queue_chain"] == {"__type__": "update", "visible": True, "value": "将训练链加入队列（2 次运行）"}
    path.unlink()  # the studio kept a copy of the upload
    queued = settings.queue_chain(loaded["chain_file"])
    assert queued["message"] == ("Queued chain **c**: c-sft, c-dpo; its first stage starts when the runs before it "
                                 "end.")
    shown = panel(busy_studio).refresh(None)
    assert [row[1:4] for row in shown["table"]["data"]] == [["c-sft", "c 1/2 sft", "sft"],
                                                            ["c-dpo", "c 2/2 dpo", "dpo"]]
    plain = tmp_path / "plain.yaml"
    plain.write_text("name: one-run\n")
    loaded = settings.load(str(plain))  # one run's config goes into the form, as before
    assert loaded["form"] == "one-run" and loaded["queue_chain"] == {"__type__": "update", "visible": False}


def test_a_chain_queued_while_nothing_trains_starts_at_once(tmp_path, monkeypatch):
    from tests.test_chain import chain_file

    studio = Studio(tmp_path / "runs")

    def begin(config, resume, entry=None):  # the run is not trained here: only what the page says is looked at
        studio.runner._done, studio.runner.run = threading.Event(), Run.create(studio.runs_dir, config.name)
        return studio.runner.run

    monkeypatch.setattr(studio.runner, "_begin", begin)
    ui = SimpleNamespace(message="message", queue_chain="queue_chain", chain_file="chain_file")
    settings = tab_settings.SettingsHandlers(ui, None, studio)
    loaded = settings.load(str(chain_file(tmp_path, "default")))
    assert loaded["queue_chain"]["value"] == "Start the chain (2 runs)"
    assert settings.queue_chain(loaded["chain_file"])["message"] == (
        "Started **c-sft**, the chain's first stage; the later stages (c-dpo) wait in the queue, each starting when "
        "the one before it completed.")
    assert [e.name for e in studio.queue.entries()] == ["c-dpo"]


def test_start_says_a_run_trains_in_this_runs_folder_in_another_process(tmp_path):
    from tests.training.test_trainer_lock import HOLD
    from tests.conftest import ROOT

    studio = Studio(tmp_path / "runs")
    other = subprocess.Popen([sys.executable, "-c", HOLD, str(ROOT), str(studio.runs_dir)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        with pytest.raises(StudioError) as refused:
            studio.start_run(Config.from_dict({"name": "mine"}))
        studio.queue.add(Config.from_dict({"name": "queued"}), check_data=False)
        studio.start_queued_if_idle()  # the page's poll leaves it for the other process
    finally:
        other.kill()
        other.wait()
    assert refused.value.key == "jobs.other_process" and f"pid {other.pid}" in str(refused.value)
    assert not studio.runner.busy and [e.name for e in studio.queue.entries()] == ["queued"]
