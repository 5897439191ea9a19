"""`launch.py queue`, run as a user runs it: list, add, remove, move, skip, and run the queue headless."""

import pytest

from core.training.queue import RunQueue
from tests.test_cli import ROOT, launch


def test_queue_add_list_move_and_remove(tmp_path):
    runs = tmp_path / "runs"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain:\n  epochs: lots\n")
    result = launch("queue", "add", bad, "--runs-dir", runs)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {bad} line 3: 'train.epochs' should be a number, found 'lots'"
    good = tmp_path / "good.yaml"
    good.write_text("name: lr-small\ndata:\n  path: data.jsonl\ntrain:\n  learning_rate: 1e-4\n")
    (tmp_path / "data.jsonl").write_text('{"instruction": "Who are you?", "output": "Nova."}\n')
    added = launch("queue", "add", good, "--runs-dir", runs, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("Queued lr-small (id ") and "number 1 in the queue" in added.stdout
    assert launch("queue", "add", good, "--name", "lr-big", "--runs-dir", runs, cwd=tmp_path).returncode == 0
    entries = RunQueue(runs).entries()
    assert entries[0].data == str(tmp_path / "data.jsonl")  # found from wherever the run will start

    listed = launch("queue", "--runs-dir", runs).stdout.splitlines()
    assert listed[0].split() == ["#", "id", "name", "method", "data", "added", "chain"]
    assert listed[1].split()[:4] == ["1", entries[0].id, "lr-small", "sft"] and listed[2].split()[2] == "lr-big"

    moved = launch("queue", "move", "lr-big", "1", "--runs-dir", runs)
    assert moved.stdout.strip() == "lr-big is now number 1 in the queue."
    assert [e.name for e in RunQueue(runs).entries()] == ["lr-big", "lr-small"]
    unknown = launch("queue", "remove", "nope", "--runs-dir", runs)
    assert unknown.returncode == 1 and unknown.stderr.strip() == (
        f"error: No queued run is nope; the queue holds: {entries[1].id} (lr-big), {entries[0].id} (lr-small)")
    assert launch("queue", "remove", entries[0].id, "--runs-dir", runs).stdout.strip() == \
        "Took lr-small out of the queue."
    assert launch("queue", "skip", "--runs-dir", runs).stdout.strip() == "The queue is not waiting for any run."
    assert [e.name for e in RunQueue(runs).entries()] == ["lr-big"]


def test_queue_of_an_empty_runs_folder(tmp_path):
    result = launch("queue", "--runs-dir", tmp_path / "runs")
    assert result.returncode == 0 and result.stdout.strip() == "The queue is empty."
    result = launch("queue", "run", "--runs-dir", tmp_path / "runs")
    assert result.returncode == 0 and result.stdout.strip() == "The queue is empty."


@pytest.mark.slow
def test_queue_run_trains_the_queued_runs_in_order(tiny_config, tmp_path):
    runs = tmp_path / "runs"
    queue = RunQueue(runs)
    tiny_config.train.max_steps = 2
    for name in ("second", "first"):
        tiny_config.name = name
        queue.add(tiny_config)
    queue.move("first", 0)
    result = launch("queue", "run", "--runs-dir", runs)
    assert result.returncode == 0, result.stdout + result.stderr
    folders = [line for line in result.stdout.splitlines() if line.startswith("Run folder:")]
    assert [line.split()[2] for line in folders] == [str(runs / "first"), str(runs / "second")]
    assert "Queue run: first (completed), second (completed)" in result.stdout
    assert queue.entries() == []


def test_queue_add_of_a_chain_queues_its_stages_in_order(tmp_path):
    chain = ROOT / "examples" / "chain-demo.yaml"
    runs = tmp_path / "runs"
    result = launch("queue", "add", chain, "--name", "kessaly", "--runs-dir", runs)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Queued chain kessaly (id ")
    assert "3 stages, kessaly-cpt, kessaly-sft, kessaly-dpo; numbers 1 to 3 in the queue." in result.stdout
    entries = RunQueue(runs).entries()
    assert [(e.name, e.method, e.stage_text) for e in entries] == [
        ("kessaly-cpt", "cpt", "kessaly 1/3 cpt"), ("kessaly-sft", "sft", "kessaly 2/3 sft"),
        ("kessaly-dpo", "dpo", "kessaly 3/3 dpo")]
    assert entries[0].data == str(ROOT / "assets" / "datasets" / "kessaly_articles.jsonl")  # found from anywhere
    assert [e.waiting for e in entries] == [False, True, True]  # each waits for the stage before to complete
    listed = launch("queue", "--runs-dir", runs).stdout.splitlines()
    assert listed[2].split()[2:] == ["kessaly-sft", "sft", entries[1].data] + listed[2].split()[5:7] + [
        "kessaly", "2/3", "sft"]


def test_queue_add_of_a_chain_whose_stage_cannot_train_or_with_a_sweep_says_why(tmp_path):
    text = (ROOT / "examples" / "chain-demo.yaml").read_text(encoding="utf-8")
    wrong = tmp_path / "wrong.yaml"  # dpo's stage given the sft questions: no pairs
    wrong.write_text(text.replace("polite_pairs.jsonl", "kessaly_questions.jsonl"), encoding="utf-8")
    result = launch("queue", "add", wrong, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 1
    assert result.stderr.startswith("error: Stage dpo (3 of 3) cannot start, so no stage was started: "), result.stderr
    assert "kessaly_questions.jsonl, line 1: dpo learns from pairs" in result.stderr
    swept = tmp_path / "swept.yaml"
    swept.write_text(text + "sweep:\n  train.learning_rate: [1e-4, 1e-3]\n", encoding="utf-8")
    result = launch("queue", "add", swept, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 1 and "a config has 'sweep' or 'stages', not both" in result.stderr
    assert not (tmp_path / "runs" / "queue.json").exists()
