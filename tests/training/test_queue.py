"""The run queue (core/training/queue.py) and its hand-over in core.jobs: the file, add/remove/move, two writers at
once, bad configs refused when added, runs started one after another, and the wait for an interrupted run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.config import Config, ConfigError
from core.data.errors import DataError
from core.jobs import JobRunner
from core.runs import Run
from core.training.queue import QueueError, RunQueue
from tests.conftest import ROOT


def named(name: str, **train) -> Config:
    return Config.from_dict({"name": name, "train": train})


def test_entries_are_kept_in_the_runs_folder_in_order_and_read_by_a_new_queue(tmp_path):
    queue = RunQueue(tmp_path / "runs")
    first = queue.add(named("lr-1e-4", learning_rate=1e-4))
    second = queue.add(named("lr-1e-3", learning_rate=1e-3))
    again = RunQueue(tmp_path / "runs")  # another process, or the studio after a restart
    assert [e.name for e in again.entries()] == ["lr-1e-4", "lr-1e-3"]
    saved = json.loads((tmp_path / "runs" / "queue.json").read_text())
    assert [e["id"] for e in saved["entries"]] == [first.id, second.id]
    assert saved["entries"][1]["config"]["train"]["learning_rate"] == 1e-3  # the config as Config saves it
    assert again.entries()[0].to_config().train.learning_rate == 1e-4
    assert again.entries()[0].method == "sft" and again.entries()[0].data.endswith("identity.jsonl")
    assert first.added_at <= second.added_at <= time.time()


def test_move_remove_and_take_next(tmp_path):
    queue = RunQueue(tmp_path)
    ids = [queue.add(named(name)).id for name in ("a", "b", "c")]
    queue.move("c", 0)  # by name
    assert [e.name for e in queue.entries()] == ["c", "a", "b"]
    queue.move(ids[0], 99)  # past the end: last
    assert [e.name for e in queue.entries()] == ["c", "b", "a"]
    assert queue.remove("b").id == ids[1]
    assert queue.take_next().name == "c"
    assert [e.name for e in queue.entries()] == ["a"]
    queue.take_next()
    assert queue.take_next() is None


def test_an_unknown_or_ambiguous_entry_is_named_with_what_the_queue_holds(tmp_path):
    queue = RunQueue(tmp_path)
    one, two = queue.add(named("same")), queue.add(named("same"))
    with pytest.raises(QueueError) as err:
        queue.remove("nope")
    assert str(err.value) == f"No queued run is nope; the queue holds: {one.id} (same), {two.id} (same)"
    with pytest.raises(QueueError, match=f"Several queued runs are named same; name one by its id: {one.id}, "
                                         f"{two.id}"):
        queue.move("same", 0)
    queue.remove(two.id)
    assert [e.id for e in queue.entries()] == [one.id]


def test_a_bad_config_or_bad_data_is_refused_when_added(tmp_path):
    queue = RunQueue(tmp_path / "runs")
    config = named("bad")
    config.train.epochs = "lots"  # set by code (a sweep), not read from a file: checked all the same
    with pytest.raises(ConfigError) as err:
        queue.add(config)
    assert err.value.key == "config.not_number" and "'train.epochs'" in str(err.value) and "'lots'" in str(err.value)
    missing = named("missing")
    missing.data.path = str(tmp_path / "none.jsonl")
    with pytest.raises(DataError, match="No file at .*none.jsonl"):
        queue.add(missing)
    assert queue.entries() == []


def test_two_processes_and_many_threads_adding_at_once_lose_nothing(tmp_path):
    runs = tmp_path / "runs"
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from core.config import Config; "
            "from core.training.queue import RunQueue; q = RunQueue(sys.argv[2]); "
            "[q.add(Config.from_dict({'name': f'p{sys.argv[3]}-{i}'}), check_data=False) for i in range(15)]")
    others = [subprocess.Popen([sys.executable, "-c", code, str(ROOT), str(runs), str(n)]) for n in range(2)]
    queue = RunQueue(runs)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: queue.add(named(f"t-{i}"), check_data=False), range(20)))
    assert [p.wait(60) for p in others] == [0, 0]
    names = [e.name for e in queue.entries()]
    assert len(names) == 50 and len(set(names)) == 50


def test_an_unreadable_queue_file_says_which_file(tmp_path):
    (tmp_path / "queue.json").write_text("{not json")
    with pytest.raises(QueueError, match="The queue file .*queue.json is unreadable"):
        RunQueue(tmp_path).entries()


def test_a_held_queue_starts_nothing_until_released(tmp_path):
    queue = RunQueue(tmp_path)
    queue.add(named("next"))
    queue.hold("cut-short")
    assert queue.take_next() is None and queue.held_by() == "cut-short"
    queue.release()
    assert queue.take_next().name == "next"


def interrupted_run(runs_dir, name="cut-short") -> Run:
    """A run whose studio died while it trained: its status names a process that no longer exists."""
    run = Run.create(runs_dir, name)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run.update_status(state="training", step=2, total_steps=4, pid=dead.pid)
    return run


def test_after_a_restart_the_queue_waits_for_the_interrupted_run_and_skip_goes_on(tmp_path, tiny_config):
    runs = tmp_path / "runs"
    interrupted_run(runs)
    queue = RunQueue(runs)
    tiny_config.data.path = str(tmp_path / "gone.jsonl")  # deleted after queueing: the run fails at once
    queue.add(tiny_config, check_data=False)
    runner = JobRunner(runs, queue=queue, in_process=True)
    assert runner.after_restart() == ["cut-short"]
    assert not runner.busy and queue.held_by() == "cut-short" and len(queue.entries()) == 1
    run = runner.skip_held()
    assert run is not None and runner.wait(120)
    assert queue.entries() == [] and queue.held_by() is None
    assert run.status()["state"] == "failed" and "gone.jsonl" in run.status()["message"]


def test_resuming_the_interrupted_run_releases_the_queue(tmp_path, tiny_config):
    runs = tmp_path / "runs"
    held = interrupted_run(runs)
    queue = RunQueue(runs)
    queue.add(named("later"))
    runner = JobRunner(runs, queue=queue)
    runner.after_restart()
    runner.hand_over = False  # only the release is looked at here; the run itself is not trained
    runner._work = lambda config, run, done: done.set()
    runner.start(tiny_config, resume=held)
    assert queue.held_by() is None and [e.name for e in queue.entries()] == ["later"]


def test_a_config_that_no_longer_reads_becomes_a_failed_run_and_the_queue_goes_on(tmp_path):
    runs = tmp_path / "runs"
    queue = RunQueue(runs)
    queue.add(named("old"))
    state = json.loads(queue.path.read_text())
    state["entries"][0]["config"]["train"]["removed_option"] = 1  # written by another version
    queue.path.write_text(json.dumps(state))
    runner = JobRunner(runs, queue=queue)
    assert runner.start_next() is None
    status = Run(runs / "old").status()
    assert status["state"] == "failed" and "removed_option" in status["message"] and queue.entries() == []


@pytest.mark.slow
def test_queued_runs_start_one_after_another_whatever_the_one_before_did(tmp_path, tiny_config):
    """A run that fails hands over like one that completes: the queue is work left for the studio to do unattended."""
    runs = tmp_path / "runs"
    queue = RunQueue(runs)
    tiny_config.train.max_steps = 2
    broken = Config.from_dict(tiny_config.to_dict())
    broken.name, broken.data.path = "broken", str(tmp_path / "gone.jsonl")
    queue.add(broken, check_data=False)
    tiny_config.name = "second"
    queue.add(tiny_config)
    runner = JobRunner(runs, queue=queue, in_process=True)
    tiny_config.name = "first"
    runner.start(tiny_config)
    seen = []
    deadline = time.time() + 300
    while runner.busy and time.time() < deadline:  # never idle between two runs of the queue
        seen.append(runner.run.name) if runner.run.name not in seen else None
        runner.wait(0.2)
    assert not runner.busy
    states = {name: Run(runs / name).status()["state"] for name in ("first", "broken", "second")}
    assert states == {"first": "completed", "broken": "failed", "second": "completed"}
    order = sorted(states, key=lambda name: Run(runs / name).status()["started_at"])
    assert order == ["first", "broken", "second"] and queue.entries() == []
