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
    assert listed[0].split() == ["#", "id", "name", "method", "data", "added"]
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


def test_queue_add_of_a_chain_says_to_train_it(tmp_path):
    chain = ROOT / "examples" / "chain-demo.yaml"
    result = launch("queue", "add", chain, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 1 and result.stderr.strip() == (
        f"error: {chain} lists stages, each a run started from the one before: train it with launch.py train "
        f"{chain}; the queue takes one run per entry")
    assert not (tmp_path / "runs" / "queue.json").exists()
