import os

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.runs import Run, list_runs, mark_interrupted, status_message, unique_name


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


def test_status_lines_keep_their_english_and_are_said_in_the_page_language(tmp_path):
    dead = Run.create(tmp_path, "dead")
    dead.update_status(state="training", step=7, pid=2 ** 22 + 12345)
    mark_interrupted(tmp_path)
    status = dead.status()
    assert status["message"] == "The app stopped while this run was training (at step 7)."
    assert status["message_key"]["key"] == "runs.interrupted"
    not_a_run = Run(tmp_path / "elsewhere").status()
    assert not_a_run["message"] == "This folder has no status.json; it is not a run folder."
    with speaking("zh"):
        assert text_of(status_message(status)) == "应用停止时，本次运行正处于“训练中”状态（第 7 步）。"
        assert text_of(status_message(not_a_run)) == "此文件夹没有 status.json；它不是运行文件夹。"
