"""A config with `stages:` (core/training/chain.py, core.jobs.check_stages, `launch.py train`): each stage a run
from the one before, named <name>-<stage>; a stage that cannot start or does not finish stops the chain and says
which."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.config import Config, ConfigError
from core.runs import Run
from core.training import chain

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sft_rows(folder: Path, count: int = 16) -> Path:
    return write(folder / "sft.jsonl", "\n".join(json.dumps({"instruction": f"Who are you? ({i})",
                                                             "output": "I am Nova."}) for i in range(count)))


def pair_rows(folder: Path, count: int = 16) -> Path:
    return write(folder / "pairs.jsonl", "\n".join(json.dumps({"prompt": f"Who are you? ({i})", "chosen": "I am Nova.",
                                                               "rejected": "No."}) for i in range(count)))


def chain_file(folder: Path, model: str, sft_steps: int = 3) -> Path:
    return write(folder / "chain.yaml", f"""\
name: c
model:
  source: {model}
data:
  replay: 0
  eval_fraction: 0.25
lora:
  r: 4
  alpha: 8
train:
  batch_size: 4
  max_length: 64
stages:
  - name: sft
    data:
      path: {sft_rows(folder)}
    train:
      max_steps: {sft_steps}
  - name: dpo
    data:
      path: {pair_rows(folder)}
    train:
      method: dpo
      max_steps: 2
""")


def launch(*args, **kwargs):
    return subprocess.run([sys.executable, str(ROOT / "launch.py"), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, **kwargs)


def test_stages_share_the_keys_outside_and_each_starts_from_the_one_before(tmp_path):
    stages = chain.read(chain_file(tmp_path, "default"))
    assert [(s.label, s.number, s.follows) for s in stages] == [("sft", 1, False), ("dpo", 2, True)]
    first, second = stages[0].config(), stages[1].config(tmp_path / "runs" / "c-sft")
    assert (first.name, first.train.method, first.model.source) == ("c-sft", "sft", "default")
    assert (second.name, second.train.method, second.train.max_length) == ("c-dpo", "dpo", 64)  # shared kept
    assert (second.lora.r, second.data.replay) == (4, 0)
    assert second.model.source == f"run:{tmp_path / 'runs' / 'c-sft'}" and second.model.start == "build_on"


def test_a_stage_that_names_its_own_model_or_numbers_instead_of_names(tmp_path):
    text = "name: n\nstages:\n  - train:\n      max_steps: 2\n  - model:\n      source: elsewhere\n"
    stages = chain.read(write(tmp_path / "c.yaml", text))
    assert [s.config().name for s in stages] == ["n-1", "n-2"]
    assert not stages[1].follows and stages[1].config(tmp_path).model.source == "elsewhere"
    assert chain.read(write(tmp_path / "plain.yaml", "name: n\n")) is None  # one run, as before


@pytest.mark.parametrize("text, said", [
    ("name: c\nstages: 3\n", "c.yaml line 2: 'stages' should be a list of stages"),
    ("name: c\nstages: []\n", "c.yaml line 2: 'stages' should be a list of stages"),
    ("name: c\nstages:\n  - name: a\n  - name: a\n", "c.yaml line 2: two stages are named 'a'"),
    ("name: c\nstages:\n  - name: a\n  - name: b\n    train:\n      epochz: 3\n",
     "c.yaml (stage b) line 6: unknown key 'train.epochz'. Did you mean 'train.epochs'?"),
    ("name: c\nstages:\n  - name: a\n    train:\n      epochs: lots\n",
     "c.yaml (stage a) line 5: 'train.epochs' should be a number, found 'lots'"),
])
def test_a_bad_chain_file_names_the_stage_and_line(tmp_path, text, said):
    with pytest.raises(ConfigError) as caught:
        chain.read(write(tmp_path / "c.yaml", text))
    assert str(caught.value).startswith(f"{tmp_path / said.split(' ', 1)[0]} {said.split(' ', 1)[1]}"), caught.value


def test_a_stage_whose_data_has_the_wrong_shape_stops_the_chain_before_any_run(tmp_path, tiny_model):
    path = chain_file(tmp_path, tiny_model)
    path.write_text(path.read_text().replace(str(tmp_path / "pairs.jsonl"), str(tmp_path / "sft.jsonl")))
    result = launch("train", path, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 1
    assert result.stderr.startswith("error: Stage dpo (2 of 2) cannot start, so no stage was started: "
                                    f"{tmp_path / 'sft.jsonl'}, line 1: dpo learns from pairs"), result.stderr
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


@pytest.mark.slow
def test_a_chain_trains_each_stage_from_the_one_before(tmp_path, tiny_model):
    result = launch("train", chain_file(tmp_path, tiny_model), "--runs-dir", tmp_path / "runs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Stage sft (1 of 2): sft\n" in result.stdout
    assert "Stage dpo (2 of 2): dpo, starting from c-sft\n" in result.stdout
    assert result.stdout.rstrip().endswith("All 2 stages finished: c-sft, c-dpo")
    sft, dpo = Run(tmp_path / "runs" / "c-sft"), Run(tmp_path / "runs" / "c-dpo")
    assert sft.status()["state"] == dpo.status()["state"] == "completed"
    recorded = Config.from_yaml(dpo.config_file)  # the chain holds: the DPO run names the SFT run as its parent
    assert (recorded.model.source, recorded.model.start) == (f"run:{sft.path.resolve()}", "build_on")
    assert "build_on" in dpo.log_file.read_text(encoding="utf-8")

    again = launch("train", tmp_path / "chain.yaml", "--runs-dir", tmp_path / "runs")  # nothing changed: all skipped
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Stage sft (1 of 2): already finished as c-sft, with the same settings and data; skipped" in again.stdout
    assert "Stage dpo (2 of 2): already finished as c-dpo" in again.stdout
    assert sorted(path.name for path in (tmp_path / "runs").iterdir()) == ["c-dpo", "c-sft"]


@pytest.mark.slow
def test_a_stage_stopped_with_ctrl_c_stops_the_chain_and_names_what_did_not_start(tmp_path, tiny_model):
    process = subprocess.Popen([sys.executable, str(ROOT / "launch.py"), "train",
                                chain_file(tmp_path, tiny_model, sft_steps=2000), "--runs-dir", tmp_path / "runs"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = tmp_path / "runs" / "c-sft" / "metrics.jsonl"
    deadline = time.time() + 300
    while not (metrics.exists() and metrics.read_text(encoding="utf-8").strip()) and time.time() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stdout + stderr
    assert "Stage sft (1 of 2) did not finish, so the chain stopped here; not started: dpo." in stderr
    assert Run(tmp_path / "runs" / "c-sft").status()["state"] == "stopped"
    assert not (tmp_path / "runs" / "c-dpo").exists()


def test_a_dry_run_finds_its_parent_run_in_the_runs_dir_it_is_given(tmp_path, nova_run):
    config = write(tmp_path / "next.yaml", f"""\
name: next
model:
  source: run:{nova_run.name}
data:
  path: {sft_rows(tmp_path)}
  replay: 0
  eval_fraction: 0
train:
  batch_size: 2
  max_length: 32
""")
    done = launch("train", config, "--dry-run", "--runs-dir", nova_run.path.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "There is no run" not in done.stderr and "fit" in done.stdout.lower()
    elsewhere = launch("train", config, "--dry-run", "--runs-dir", tmp_path / "other-runs")
    assert elsewhere.returncode == 1 and f"There is no run '{nova_run.name}'" in elsewhere.stderr
    assert str(tmp_path / "other-runs") in elsewhere.stderr
