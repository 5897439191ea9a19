"""The run queue (core/training/queue.py) and its hand-over in core.jobs: the file, add/remove/move, two writers at
once, bad configs refused when added, runs started one after another, and the wait for an interrupted run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.catalogue.language import speaking
from core.config import Config, ConfigError
from core.data.errors import DataError
from core.jobs import JobRunner
from core.runs import Run
from core.training import chain
from core.training.queue import QueueError, RunQueue
from tests.conftest import ROOT, wait_for


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


# ---- a chain file's stages in the queue ----------------------------------------------------------------------------


def chain_stages(folder, model: str = "default", first_steps: int = 2):
    from tests.test_chain import chain_file

    return chain.read(chain_file(folder, model, sft_steps=first_steps))


def test_a_chain_is_queued_as_its_stages_and_a_stage_waits_for_the_one_before(tmp_path):
    queue = RunQueue(tmp_path / "runs")
    queue.add(named("alone"))
    entries = queue.add_chain(chain_stages(tmp_path))
    assert [(e.name, e.stage_text, e.waiting) for e in entries] == [("c-sft", "c 1/2 sft", False),
                                                                    ("c-dpo", "c 2/2 dpo", True)]
    queue.move("c-dpo", 0)  # moved before the stage it starts from: it waits, the others go first
    assert [queue.take_next().name for _ in range(2)] == ["alone", "c-sft"]
    # c-sft was taken and never completed (its run skipped, say): c-dpo cannot start, and leaves saying why
    assert queue.take_next() is None and queue.entries() == []
    [note] = queue.notes()
    assert str(note["message"]) == ("c-dpo not started (chain c, taken out of the queue): the stage before it, sft, "
                                    "did not finish (skipped, or taken out of the queue)")
    with speaking("zh"):
        assert note["message"].text().startswith("c-dpo 未开始（训练链 c，已移出队列）：它之前的阶段 sft 没有完成")


def test_a_stage_that_failed_takes_the_later_stages_out_with_its_reason(tmp_path):
    runs = tmp_path / "runs"
    queue = RunQueue(runs)
    queue.add_chain(chain_stages(tmp_path))
    after = named("after")
    after.data.path = str(tmp_path / "gone.jsonl")  # fails at once too: only the order is looked at
    queue.add(after, check_data=False)
    (tmp_path / "sft.jsonl").unlink()  # gone by the time the stage trains
    runner = JobRunner(runs, queue=queue, in_process=True)
    run = runner.start_next()
    wait_for(lambda: not runner.busy)  # the hand-over went on with the run queued after the chain
    assert run.name == "c-sft" and run.status()["state"] == "failed" and run.status()["chain"]["stage"] == "sft"
    assert queue.entries() == [] and Run(runs / "after").status()["state"] == "failed"
    said = str(queue.notes()[0]["message"])
    assert said.startswith("c-dpo not started (chain c, taken out of the queue): c-sft failed (No file at ")
    assert "sft.jsonl" in said and not (runs / "c-dpo").exists() and not (runs / "trainer.lock").exists()


@pytest.mark.slow
def test_a_queued_chain_trains_each_stage_from_the_one_before_and_skips_what_is_done(tmp_path, tiny_model):
    runs = tmp_path / "runs"
    queue = RunQueue(runs)
    stages = chain_stages(tmp_path, str(tiny_model))
    queue.add_chain(stages)
    runner = JobRunner(runs, queue=queue, in_process=True)
    assert runner.start_next().name == "c-sft"
    while runner.busy:
        runner.wait(300)
    sft, dpo = Run(runs / "c-sft"), Run(runs / "c-dpo")
    assert sft.status()["state"] == dpo.status()["state"] == "completed", dpo.status()
    recorded = Config.from_yaml(dpo.config_file)  # the second stage names the first as its parent
    assert (recorded.model.source, recorded.model.start) == (f"run:{sft.path.resolve()}", "build_on")
    assert dpo.status()["chain"]["stage"] == "dpo" and queue.entries() == [] and not (runs / "trainer.lock").exists()

    queue.add_chain(stages)  # queued again, nothing changed: both stages are done already, none trains twice
    assert runner.start_next() is None and queue.entries() == []
    assert [str(note["message"]) for note in queue.notes()] == [
        "Stage sft (1 of 2): already finished as c-sft, with the same settings and data; skipped (delete that run "
        "folder to train the stage again)",
        "Stage dpo (2 of 2): already finished as c-dpo, with the same settings and data; skipped (delete that run "
        "folder to train the stage again)"]
    assert sorted(path.name for path in runs.iterdir() if path.is_dir()) == ["c-dpo", "c-sft"]
