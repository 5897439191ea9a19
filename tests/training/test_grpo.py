"""grpo trains the tiny model a few steps through trl's GRPOTrainer and writes what a user watches: trl's reward
metrics under trl's names, the shares of right and well-formed answers, the sampled answers with their rewards
(the Train tab's table), and the adapter. Questions with the contest's shape (problem, question, options) are asked
whole."""

import json
import threading

import pytest

from core.config import Config
from core.runs import Run
from core.training import probes
from core.training import train as training

pytestmark = pytest.mark.slow  # trains the tiny model


def test_grpo_trains_and_shows_its_rewards_and_samples(tiny_model, tmp_path):
    data = tmp_path / "contest.jsonl"
    data.write_text("".join(json.dumps({"id": i, "problem": "Three friends sit in a row.",
                                        "question": f"Who sits in seat {i % 3 + 1}?",
                                        "options": ["Ann", "Bo", "Cy"], "answer": "The answer is " + "ABC"[i % 3]})
                            + "\n" for i in range(12)), encoding="utf-8")
    config = Config.from_dict({
        "name": "grpo-tiny", "model": {"source": str(tiny_model)},
        "data": {"path": str(data), "replay": 0, "eval_fraction": 0.25},
        "train": {"method": "grpo", "max_steps": 2, "batch_size": 4, "num_generations": 2, "completion_length": 12,
                  "eval_every": 2, "rewards": ["answer", "format", "length"], "length_limit": 6}})
    run = Run.create(tmp_path / "runs", config.name)
    config.save(run.config_file)
    assert training.train(config, run, threading.Event()) == "completed", run.log_file.read_text()
    assert run.has_adapter()
    metrics = [json.loads(line) for line in run.metrics_file.read_text().splitlines()]
    trained = [m for m in metrics if "loss" in m]
    assert len(trained) == 2
    for key in ("reward", "reward_std", "rewards/answer/mean", "rewards/format/mean", "rewards/length/mean",
                "share/correct", "share/well_formed", "share/correct_and_formed", "completions/mean_length", "kl"):
        assert key in trained[-1], key
    assert any("eval_share/correct_and_formed" in m for m in metrics)  # the held-out questions, sampled and checked
    log = run.log_file.read_text()
    assert "GRPO: 2 answers per question, up to 12 tokens each" in log
    assert "Training 16 rows for 2 steps" in log  # 9 questions in whole groups of 2, each asked twice

    headers, rows = probes.sample_table(run)
    assert headers[:3] == ["probes.sample_step", "probes.prompt", "probes.sample_answer"]
    assert rows and {row[0] for row in rows} <= {1, 2} and rows[0][0] == 2  # newest first
    assert all("Three friends sit in a row." in row[1] and "A. Ann\nB. Bo\nC. Cy" in row[1] for row in rows)
    assert all(row[4] in "✓✗" for row in rows)

    from core.catalogue.language import speaking
    from webui.studio import Studio
    from webui.tab_train import probe_panel

    studio = Studio(tmp_path / "runs")
    table, banner, _, _ = probe_panel(studio, {"run": "grpo-tiny"}, None)  # the Train tab's table during the run
    assert table["value"]["headers"] == ["step", "prompt", "sampled answer", "reward", "right", "format"]
    assert banner == "" and not (run.path / probes.BEST_DIR).exists()  # grpo's held-out loss picks no "best" step
    with speaking("zh"):
        zh, _, _, _ = probe_panel(studio, {"run": "grpo-tiny"}, None)
    assert zh["value"]["headers"] == ["步", "提示", "采样的回答", "奖励", "正确", "格式"]
