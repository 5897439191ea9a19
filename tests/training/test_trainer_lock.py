"""One trainer per runs folder (core/training/trainer_lock.py): while another live process trains there, a queue
takes nothing (the studio's poll, `launch.py queue run` waits and says for whom), Start says a run trains there,
and a lock left by a dead process is taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.config import Config
from core.jobs import BusyError, JobRunner
from core.training.queue import RunQueue
from core.runs import Run
from core.training.trainer_lock import LOCK_FILE, TrainerLock, other_trainer
from tests.conftest import ROOT, wait_for

HOLD = ("import sys, time; sys.path.insert(0, sys.argv[1]); from core.training.trainer_lock import TrainerLock; "
        "assert TrainerLock(sys.argv[2]).acquire('busy-run') is None; print('held', flush=True); time.sleep(600)")


@pytest.fixture
def holder(tmp_path):
    """Another process that trains in tmp_path/runs (it holds the lock, as `launch.py queue run` does)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(ROOT), str(tmp_path / "runs")],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.wait()


def failing(tmp_path, name: str = "waits") -> Config:
    """A queued run whose data is gone by the time it starts: it fails at once, so only who starts it matters."""
    return Config.from_dict({"name": name, "data": {"path": str(tmp_path / "gone.jsonl")}})


def test_while_another_process_trains_the_queue_waits_and_start_says_who_trains(tmp_path, holder):
    runs = tmp_path / "runs"
    queue = RunQueue(runs)
    queue.add(failing(tmp_path), check_data=False)
    runner = JobRunner(runs, queue=queue, in_process=True)
    assert TrainerLock(runs).holder().pid == holder.pid
    assert runner.start_next() is None and [e.name for e in queue.entries()] == ["waits"]  # left for the other
    with pytest.raises(BusyError) as refused:
        runner.start(failing(tmp_path, "explicit"))
    assert str(refused.value).startswith(f"Run busy-run is training in this runs folder, in another process (pid "
                                         f"{holder.pid}: launch.py queue run or another studio)")
    assert sorted(path.name for path in runs.iterdir() if path.is_dir()) == []  # no run folder was made

    holder.kill()
    holder.wait()  # died without giving the lock back: its file still names it
    assert json.loads((runs / LOCK_FILE).read_text())["pid"] == holder.pid
    run = runner.start_next()  # taken over
    assert run is not None and run.name == "waits"
    wait_for(lambda: not runner.busy)
    assert run.status()["state"] == "failed" and not (runs / LOCK_FILE).exists()  # given back when it ended


def test_the_lock_is_held_by_one_process_at_a_time_and_given_back(tmp_path):
    lock = TrainerLock(tmp_path)
    assert lock.acquire("first") is None and lock.acquire("renamed") is None  # this process: taken again
    assert json.loads((tmp_path / LOCK_FILE).read_text())["run"] == "renamed"
    assert lock.holder() is None  # this process's own lock is no other trainer
    lock.release()
    assert not (tmp_path / LOCK_FILE).exists()
    (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": os.getppid(), "run": "theirs", "since": 0,
                                                  "process_started": 1.0}))
    assert lock.holder() is None  # a live pid that started at another time is another program now


@pytest.mark.slow
def test_queue_run_waits_for_the_run_another_process_trains_then_goes_on(tmp_path, holder):
    runs = tmp_path / "runs"
    RunQueue(runs).add(failing(tmp_path), check_data=False)
    command = [sys.executable, str(ROOT / "launch.py"), "queue", "run", "--runs-dir", str(runs)]
    queue_run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = queue_run.stdout.readline()
        assert first.strip() == (f"Waiting for run busy-run, trained by process {holder.pid} in this runs folder: "
                                 "one process trains there at a time. The queue goes on here when it ends (Ctrl-C "
                                 "stops waiting and leaves the queue as it is).")
        assert [e.name for e in RunQueue(runs).entries()] == ["waits"]
        holder.kill()
        out, err = queue_run.communicate(timeout=300)
    finally:
        queue_run.kill()
    assert queue_run.returncode == 1 and "Queue run: waits (failed)" in out, out + err
    assert RunQueue(runs).entries() == [] and not (runs / LOCK_FILE).exists()


def test_a_run_of_launch_py_train_keeps_the_queue_waiting_too(tmp_path):
    """`launch.py train` takes no lock (two of them on two GPUs is a choice), but a queue does not join it."""
    runs = tmp_path / "runs"
    queue = RunQueue(runs)
    queue.add(failing(tmp_path), check_data=False)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        Run.create(runs, "by-hand").update_status(state="training", step=1, pid=other.pid)
        found = other_trainer(runs)
        assert (found.pid, found.run) == (other.pid, "by-hand")
        assert JobRunner(runs, queue=queue).start_next() is None and len(queue.entries()) == 1
    finally:
        other.kill()
        other.wait()
    assert other_trainer(runs) is None  # its process is gone: the run is no longer anyone's
