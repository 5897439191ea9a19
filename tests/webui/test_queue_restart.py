"""The queue survives the studio: a run queued while another trains is still queued after the studio is killed and
started again, the queue waits for the run the kill interrupted, and once that is skipped the queued run trains.
The studio runs as a user starts it (launch.py, a process of its own), killed with SIGKILL."""

import os
import signal
import time

import pytest

from core.runs import Run
from core.training.queue import RunQueue
from tests.conftest import wait_for
from tests.test_cli import launch
from tests.webui.served import launched


def kill(pid: int) -> None:
    """SIGKILL a process group (the studio and the run's process each lead their own)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.slow
def test_a_queued_run_survives_a_killed_studio_and_runs_after_skip(tiny_config, tmp_path):
    runs = tmp_path / "runs"
    tiny_config.name, tiny_config.train.max_steps = "long", 5000  # still training when the studio is killed
    RunQueue(runs).add(tiny_config)
    later = tmp_path / "later.yaml"
    tiny_config.name, tiny_config.train.max_steps = "later", 2
    tiny_config.save(later)

    with launched(tmp_path) as studio:  # it starts what it finds queued
        long = Run(runs / "long")
        wait_for(lambda: long.status_file.exists() and long.status().get("step", 0) >= 1, timeout=240)
        added = launch("queue", "add", later, "--runs-dir", runs)
        assert added.returncode == 0, added.stderr
        kill(long.status()["worker_pid"])
        kill(studio.proc.pid)
        studio.proc.wait(30)

    assert [e.name for e in RunQueue(runs).entries()] == ["later"]
    with launched(tmp_path):
        assert long.status()["state"] == "interrupted"
        listed = launch("queue", "--runs-dir", runs).stdout
        assert listed.startswith("The queue waits for run long, interrupted when the studio stopped")
        assert " later " in listed.splitlines()[2]
        time.sleep(2)
        assert not (runs / "later").exists()  # the queue waits: nothing started behind the interrupted run

    assert launch("queue", "skip", "--runs-dir", runs).stdout.startswith("Skipped long: the queue goes on")
    ran = launch("queue", "run", "--runs-dir", runs)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert Run(runs / "later").status()["state"] == "completed" and RunQueue(runs).entries() == []
    assert long.status()["state"] == "interrupted"  # skipped, not changed: Resume still continues it
