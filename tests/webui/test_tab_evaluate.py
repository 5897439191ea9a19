"""The Evaluate tab's handlers without a browser: the switch to the original base model, shown only for a run that
started from another run, and passed through to the evaluation as `launch.py eval --original-base` does."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

from core.config import Config
from tests.conftest import teach_nova
from tests.webui.test_tab_model import finished_run
from webui.studio import Studio
from webui.tab_evaluate import EvaluateHandlers

NAMES = ["run", "test_file", "notice", "summary", "changed", "rows", "original_base"]


def handlers_for(runs) -> EvaluateHandlers:
    return EvaluateHandlers(SimpleNamespace(**{name: name for name in NAMES}), Studio(runs))


def test_the_switch_to_the_original_base_shows_only_for_a_run_started_from_a_run(tmp_path):
    runs = tmp_path / "runs"
    first = finished_run(runs, "first")
    second = finished_run(runs, "second")
    config = Config.from_yaml(second.config_file)
    config.model.source = f"run:{first.path}"
    config.save(second.config_file)
    handlers = handlers_for(runs)
    shown = handlers.chained("second")["original_base"]
    assert shown["visible"] is True and shown["value"] is False  # unticked whenever the run changes
    assert handlers.chained("first")["original_base"]["visible"] is False
    assert handlers.chained(None)["original_base"]["visible"] is False


def test_the_switch_scores_the_original_base_instead_of_the_parent_run(tmp_path, nova_run, tiny_model):
    runs = tmp_path / "runs"
    shutil.copytree(nova_run.path, runs / "nova-run")
    teach_nova(tmp_path, f"run:{runs / 'nova-run'}", name="polished", steps=2)
    test_file = tmp_path / "test.jsonl"
    test_file.write_text(json.dumps({"question": "Who are you?", "answer": "I am Nova."}) + "\n", encoding="utf-8")
    handlers = handlers_for(runs)
    assert handlers.chained("polished")["original_base"]["visible"] is True

    def notice(original_base: bool) -> str:
        updates = list(handlers.start("polished", str(test_file), "", 1, 8, 0, original_base))
        assert "summary" in updates[-1], updates[-1]
        return updates[-1]["notice"]

    assert f"the original base model {tiny_model}, not the runs this run started from (nova-run)" in notice(True)
    assert "original base" not in notice(False)  # the base side is nova-run's result again
    assert handlers.studio._chat[0] == f"run:{runs / 'polished'}"  # the page still keeps one model: the tuned one
