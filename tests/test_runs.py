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


def test_duration_counts_every_part_of_a_resumed_run(tmp_path):
    """A run trained 46 minutes, was stopped, and resumed for 21: the page showed 21:27 (the clock restarted at
    Resume). carried_over() keeps the earlier parts' time as earlier_seconds, and elapsed_seconds adds it."""
    from core.runs import elapsed_seconds

    run = Run.create(tmp_path, "resumed")
    assert run.carried_over() == {"step": 0, "total_steps": 0, "earlier_seconds": 0.0}  # a new run: from nothing
    run.update_status(state="stopped", step=12, total_steps=40, started_at=1000.0, ended_at=1000.0 + 46 * 60)
    run.update_status(state="queued", **run.carried_over(), started_at=5000.0, ended_at=None)
    assert run.status()["earlier_seconds"] == 46 * 60
    assert elapsed_seconds(run.status(), now=5000.0 + 21 * 60 + 27) == 67 * 60 + 27  # 67:27, not 21:27
    run.update_status(state="completed", ended_at=5000.0 + 21 * 60)
    assert elapsed_seconds(run.status()) == 67 * 60
    assert elapsed_seconds({}) == 0.0  # no run yet


def test_a_resumed_run_starts_from_its_checkpoints_steps_not_from_0_of_0(tmp_path):
    """A run stopped at step 12 of 40 and resumed, then stopped again before its next step (while loading), showed
    '0/0 steps': the resume had reset the counts. An attempt now starts at its checkpoint's step and total."""
    import json

    run = Run.create(tmp_path, "resumed")
    checkpoint = run.checkpoints_dir / "checkpoint-12"
    checkpoint.mkdir(parents=True)
    (checkpoint / "adapter_model.safetensors").write_bytes(b"weights")
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": 12, "max_steps": 40}))
    run.update_status(state="stopped", step=12, total_steps=40, started_at=1.0, ended_at=2.0)
    carried = run.carried_over()
    assert (carried["step"], carried["total_steps"]) == (12, 40)


def test_a_run_stopped_before_its_first_step_can_be_resumed_in_place(tmp_path):
    """Stopped while the base model wrote its replay answers: no checkpoint, but nothing trained either, so Resume
    starts it over in its folder (and reuses the answers); a run that trained steps without a checkpoint cannot."""
    run = Run.create(tmp_path, "early-stop")
    run.update_status(state="stopped", step=0, total_steps=0)
    assert run.resumable()
    run.append_metric({"step": 1, "loss": 2.0})
    assert not run.resumable()
