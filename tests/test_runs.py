import os

from core.runs import Run, list_runs, mark_interrupted, unique_name


def test_names_never_collide(tmp_path):
    first = Run.create(tmp_path, "demo")
    second = Run.create(tmp_path, "demo")
    third = Run.create(tmp_path, "demo")
    assert [first.name, second.name, third.name] == ["demo", "demo-2", "demo-3"]
    assert unique_name(tmp_path, "demo-2") == "demo-4"


def test_metrics_are_read_incrementally(tmp_path):
    run = Run.create(tmp_path, "m")
    run.append_metric({"step": 1, "loss": 2.0})
    records, offset = run.read_metrics()
    assert records == [{"step": 1, "loss": 2.0}]
    run.append_metric({"step": 2, "loss": 1.5})
    with open(run.metrics_file, "a") as f:
        f.write('{"step": 3, "lo')  # a line still being written is left for the next poll
    records, offset = run.read_metrics(offset)
    assert records == [{"step": 2, "loss": 1.5}]


def test_dead_active_runs_become_interrupted(tmp_path):
    dead = Run.create(tmp_path, "dead")
    dead.update_status(state="training", step=7, pid=2 ** 22 + 12345)
    alive = Run.create(tmp_path, "alive")
    alive.update_status(state="training", step=1, pid=os.getpid())
    finished = Run.create(tmp_path, "done")
    finished.update_status(state="completed")
    assert mark_interrupted(tmp_path) == ["dead"]
    assert dead.status()["state"] == "interrupted" and "at step 7" in dead.status()["message"]
    assert alive.status()["state"] == "training"
    assert {r.name for r in list_runs(tmp_path)} == {"dead", "alive", "done"}
