"""A config with `sweep:` (core/training/sweep.py, `launch.py train`): one run per combination of values, named
<name>-<short key><value>, each recording the sweep; bad sweeps are refused naming the file, line, key and value; a
sweep of more than 12 runs asks to be confirmed with its total time; and a sweep of 3 learning rates runs on the tiny
model, each run's held-out loss printed and the best named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import Config, ConfigError
from core.results import compare
from core.runs import Run, list_runs
from core.training import sweep

ROOT = Path(__file__).resolve().parent.parent.parent


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sweep_file(folder: Path, swept: str, model: str = "default", steps: int = 3) -> Path:
    data = write(folder / "sft.jsonl", "\n".join(json.dumps({"instruction": f"Who are you? ({i})",
                                                             "output": "I am Nova."}) for i in range(16)))
    return write(folder / "sweep.yaml", f"""\
name: demo
model:
  source: {model}
data:
  path: {data}
  replay: 0
  eval_fraction: 0.25
train:
  batch_size: 4
  max_length: 64
  max_steps: {steps}
sweep:
{swept}""")


def launch(*args):
    return subprocess.run([sys.executable, str(ROOT / "launch.py"), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


def test_one_run_per_value_named_after_the_short_key_and_the_value(tmp_path):
    found = sweep.read(sweep_file(tmp_path, "  train.learning_rate: [1e-4, 3e-4, 1.0e-3]\n"))
    configs = found.configs()
    assert [c.name for c in configs] == ["demo-lr1e-4", "demo-lr3e-4", "demo-lr1e-3"]
    assert [c.train.learning_rate for c in configs] == [1e-4, 3e-4, 1e-3]
    assert {c.sweep_of for c in configs} == {"demo"}
    assert {(c.train.max_steps, c.data.replay) for c in configs} == {(3, 0)}  # the shared keys kept
    assert sweep.read(write(tmp_path / "plain.yaml", "name: n\n")) is None  # one run, as before


def test_two_options_give_every_combination_and_other_options_their_own_name(tmp_path):
    found = sweep.read(sweep_file(tmp_path, "  lora.r: [8, 32]\n  train.epochs: [1, 2.5]\n"))
    assert found.count == 4
    assert [c.name for c in found.configs()] == ["demo-r8-epochs1", "demo-r8-epochs2.5", "demo-r32-epochs1",
                                                 "demo-r32-epochs2.5"]
    assert [(c.lora.r, c.train.epochs) for c in found.configs()][1] == (8, 2.5)


def test_a_sweep_run_again_takes_a_new_name_for_all_its_runs(tmp_path):
    found = sweep.read(sweep_file(tmp_path, "  train.learning_rate: [1e-4, 3e-4]\n"))
    assert found.fresh_name(tmp_path / "runs") == "demo"
    Run.create(tmp_path / "runs", "demo-lr3e-4")  # runs.unique_name alone would make it demo-lr3e-2
    assert found.fresh_name(tmp_path / "runs") == "demo-2"
    assert [c.name for c in found.configs("demo-2")] == ["demo-2-lr1e-4", "demo-2-lr3e-4"]
    assert found.fresh_name(tmp_path / "runs", taken={"demo-2-lr1e-4"}) == "demo-3"  # a queued run's name


@pytest.mark.parametrize("swept, said", [
    ("  lora.rank: [8, 32]\n", "line 13: 'sweep' names an unknown option 'lora.rank'. Did you mean 'lora.r'?"),
    ("  train.lr: [1e-4]\n", "line 13: 'sweep' names an unknown option 'train.lr'. Did you mean "
                             "'train.learning_rate'?"),
    ("  train.scheduler: [cosine, linear]\n", "line 13: only numeric options can be swept, and 'train.scheduler' "
                                              "is not one"),
    ("  train.learning_rate: []\n", "line 13: 'sweep' should give 'train.learning_rate' a list of values"),
    ("  train.learning_rate: 1e-4\n", "line 13: 'sweep' should give 'train.learning_rate' a list of values"),
    ("  train.learning_rate: [1e-4, 0.0001]\n", "line 13: 'sweep' lists 1e-4 twice for 'train.learning_rate'"),
    ("  train.learning_rate: [1e-4, 2]\n", "(sweep, train.learning_rate: 2) line 13: 'train.learning_rate' is "
                                           "2.0; it must be at most 1.0"),
    ("  lora.r: [8, lots]\n", "(sweep, lora.r: lots) line 13: 'lora.r' should be a whole number, found 'lots'"),
    ("  []\n", "line 12: 'sweep' should map options to lists of values"),
    ("  train.learning_rate: [1e-4]\nstages:\n  - name: a\n", "line 12: a config has 'sweep' or 'stages', not both"),
])
def test_a_bad_sweep_names_the_file_line_key_and_value(tmp_path, swept, said):
    path = sweep_file(tmp_path, swept)
    with pytest.raises(ConfigError) as caught:
        sweep.read(path)
    assert str(caught.value).startswith(f"{path} {said}"), caught.value


def test_more_than_twelve_runs_ask_to_be_confirmed_with_the_total_time(tmp_path, tiny_model):
    rates = ", ".join(f"{n}e-4" for n in range(1, 8))
    path = sweep_file(tmp_path, f"  train.learning_rate: [{rates}]\n  lora.r: [4, 8]\n", model=tiny_model)
    result = launch("train", path, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 1
    # The tiny model is neither built in nor measured here: the message says its time is not known yet.
    assert result.stderr.strip().splitlines()[-1] == (
        "error: This sweep is 14 runs (more than 12), one after another: its time is not known until a run of this "
        "model has been measured here. Run it again with --yes to start them all, or list fewer values.")
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_the_total_time_of_a_sweep_adds_up_its_runs(tmp_path, monkeypatch):
    from core.measure import sweep_time

    monkeypatch.setattr(sweep_time.devices, "inventory", lambda: type("NoGpu", (), {"gpus": []})())
    one = sweep.read(sweep_file(tmp_path, "  train.learning_rate: [1e-4]\n", steps=10)).configs()
    four = sweep.read(sweep_file(tmp_path, "  train.learning_rate: [1e-4, 2e-4]\n  train.max_steps: [10, 20]\n"))
    single, rough = sweep_time.sweep_seconds(one)
    total, _ = sweep_time.sweep_seconds(four.configs())
    assert rough and single > 0
    assert total > 4 * single  # two of the four train twice the steps
    assert str(sweep_time.said(one)).startswith("roughly ")


@pytest.mark.slow
def test_a_sweep_of_three_learning_rates_runs_and_names_the_best(tmp_path, tiny_model):
    path = sweep_file(tmp_path, "  train.learning_rate: [1e-5, 1e-3, 3e-2]\n", model=tiny_model, steps=4)
    result = launch("train", path, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 0, result.stdout + result.stderr
    print(result.stdout)  # shown with -s: the figures of the closing note
    names = ["demo-lr1e-5", "demo-lr1e-3", "demo-lr0.03"]
    for number, (name, rate) in enumerate(zip(names, ["1e-5", "1e-3", "0.03"]), start=1):
        assert f"Sweep run {number} of 3: {name} (train.learning_rate {rate})\n" in result.stdout
        assert f"{name}: final held-out loss " in result.stdout
    runs = list_runs(tmp_path / "runs")
    assert sorted(run.name for run in runs) == sorted(names)
    assert {Config.from_yaml(run.config_file).sweep_of for run in runs} == {"demo"}
    rows = compare.ranked(runs)
    assert [row.held_out_loss for row in rows] == sorted(row.held_out_loss for row in rows)
    assert f"Best by held-out loss: {rows[0].name} ({rows[0].held_out_loss:.4f})\n" in result.stdout
    assert result.stdout.rstrip().endswith("Compare them: python launch.py compare --sweep demo  (or in the studio: "
                                           "Train tab, Compare runs, sweep demo)")
    again = launch("compare", "--sweep", "demo", "--runs-dir", tmp_path / "runs")
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert lines[0].split() == ["run", "held-out", "loss", "time", "state", "train.learning_rate"]
    assert [line.split()[0] for line in lines[1:4]] == [row.name for row in rows]
    assert lines[-1] == f"Best by held-out loss: {rows[0].name} ({rows[0].held_out_loss:.4f})"


def test_the_base_models_replay_answers_are_counted_once_in_a_sweeps_time(tmp_path, monkeypatch):
    """The runs after the first copy its replay answers (core.training.replay), so they add only their training."""
    from core.measure import duration, sweep_time

    monkeypatch.setattr(sweep_time.devices, "inventory", lambda: type("NoGpu", (), {"gpus": []})())
    path = sweep_file(tmp_path, "  train.learning_rate: [1e-4, 2e-4]\n", steps=10)
    path.write_text(path.read_text().replace("replay: 0", "replay: 20"))
    configs = sweep.read(path).configs()
    single, _ = sweep_time.sweep_seconds(configs[:1])
    both, _ = sweep_time.sweep_seconds(configs)
    writing_answers = duration.whole_run(0, 20, 0, rough=True).replay
    assert writing_answers > 0 and both == pytest.approx(2 * single - writing_answers)
