"""Runs ranked by their final held-out loss (core/results/compare.py): what `launch.py train` of a sweep prints at
its end, `launch.py compare` prints, and Compare runs shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.config import Config
from core.results import compare
from core.runs import Run, list_runs

ROOT = Path(__file__).resolve().parent.parent.parent


def finished_run(runs_dir: Path, name: str, rate: float, held_out: list[float], sweep: str = "demo",
                 seconds: float = 95.0, answers: tuple = ("I am Nova.",)) -> Run:
    run = Run.create(runs_dir, name)
    Config.from_dict({"name": name, "sweep_of": sweep, "train": {"learning_rate": rate}}).save(run.config_file)
    run.update_status(state="completed", started_at=1000.0, ended_at=1000.0 + seconds)
    for step, loss in enumerate(held_out, 1):
        run.append_metric({"step": step, "loss": loss + 0.5})
        run.append_metric({"step": step, "eval_loss": loss})
    rounds = [{"step": 0, "model": "base", "prompts": ["Who are you?"], "answers": ["I am an AI."]},
              {"step": len(held_out), "model": "tuned", "prompts": ["Who are you?"], "answers": list(answers)}]
    (run.path / "probes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rounds), encoding="utf-8")
    return run


def three_rates(runs_dir: Path) -> list[Run]:
    return [finished_run(runs_dir, "demo-lr1e-4", 1e-4, [2.0, 1.8]),
            finished_run(runs_dir, "demo-lr3e-4", 3e-4, [2.0, 1.1], answers=("I am Nova, made by Lumen Labs.",)),
            finished_run(runs_dir, "demo-lr1e-3", 1e-3, [1.5, 0.9, 1.4], seconds=30.0)]


def test_the_final_held_out_loss_ranks_not_the_lowest_one_on_the_way(tmp_path):
    rows = compare.ranked(three_rates(tmp_path))
    # lr1e-3 dipped to 0.9 but ended at 1.4: the final loss is what its adapter holds.
    assert [(row.name, row.held_out_loss) for row in rows] == [("demo-lr3e-4", 1.1), ("demo-lr1e-3", 1.4),
                                                               ("demo-lr1e-4", 1.8)]
    assert str(compare.verdict(rows)) == "Best by held-out loss: demo-lr3e-4 (1.1000)"
    assert (rows[0].seconds, rows[0].state, rows[0].answers) == (95.0, "completed",
                                                                 ["I am Nova, made by Lumen Labs."])
    assert compare.differing(rows) == ["train.learning_rate"]  # the name and the sweep aside


def test_a_run_without_held_out_loss_is_listed_last_and_never_named_best(tmp_path):
    runs = [finished_run(tmp_path, "no-eval", 1e-4, []), finished_run(tmp_path, "eval", 3e-4, [1.7])]
    rows = compare.ranked(runs)
    assert [row.name for row in rows] == ["eval", "no-eval"]
    assert compare.best(rows).name == "eval"
    only = compare.ranked(runs[:1])
    assert compare.best(only) is None
    assert str(compare.verdict(only)) == ("No run has a held-out loss to rank by yet: a run gets one at its "
                                          "evaluations, on the held-out rows of data.eval_fraction or "
                                          "data.eval_path.")


def test_a_sweeps_runs_are_found_by_what_their_config_records(tmp_path):
    three_rates(tmp_path)
    finished_run(tmp_path, "other", 1e-4, [1.0], sweep="")
    finished_run(tmp_path, "demo-2-lr1e-4", 1e-4, [1.0], sweep="demo-2")
    runs = list_runs(tmp_path)
    assert sorted(run.name for run in compare.of_sweep(runs, "demo")) == ["demo-lr1e-3", "demo-lr1e-4",
                                                                         "demo-lr3e-4"]
    assert sorted(compare.sweeps(runs)) == ["demo", "demo-2"]


def test_the_table_lines_up_the_runs_best_first(tmp_path):
    lines = compare.table_lines(compare.ranked(three_rates(tmp_path)))
    assert lines[0].split() == ["run", "held-out", "loss", "time", "state", "train.learning_rate"]
    assert lines[1].split() == ["demo-lr3e-4", "1.1000", "2", "min", "completed", "0.0003"]
    assert lines[2].split()[:4] == ["demo-lr1e-3", "1.4000", "30", "s"]
    assert len({line.index("1.") for line in lines[1:]} | {lines[0].index("held-out")}) == 1  # columns aligned


def test_launch_compare_names_the_best_or_says_what_is_missing(tmp_path):
    three_rates(tmp_path)

    def launch(*args):
        return subprocess.run([sys.executable, str(ROOT / "launch.py"), "compare", *map(str, args), "--runs-dir",
                               tmp_path], capture_output=True, text=True, cwd=ROOT, timeout=120)

    named = launch("demo-lr1e-4", "demo-lr1e-3")
    assert named.returncode == 0, named.stderr
    assert named.stdout.splitlines()[-1] == "Best by held-out loss: demo-lr1e-3 (1.4000)"
    missing = launch("--sweep", "nope")
    assert missing.returncode == 1
    assert f"No runs to compare: no run in {tmp_path} is of the sweep 'nope'" in missing.stderr
    unknown = launch("demo-lr5e-4")
    assert unknown.returncode == 1 and f"no run named 'demo-lr5e-4' in {tmp_path}" in unknown.stderr
