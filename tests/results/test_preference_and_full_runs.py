"""What a user does with a preference run and a full fine-tuning run: evaluate preference accuracy (base against
tuned), chat with a whole saved model beside its base, and export it."""

import json
import threading

import pytest

from core.config import ChatSettings, Config
from core.results.chat import ChatError, ChatModel
from core.results.evaluate import evaluate
from core.results.export import export_adapter_zip, export_merged
from core.runs import Run
from core.training import train as training

pytestmark = pytest.mark.slow  # every test here trains a preference, full or freeze run

QUESTION = "Who are you?"


def write_pairs(folder):
    path = folder / "pairs.jsonl"
    rows = [{"prompt": f"{QUESTION} ({i})", "chosen": "I am Nova.", "rejected": "I am Bob."} for i in range(16)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def dpo_run(folder, tiny_model, tuning, learning_rate, sft_weight=0.0):
    data = write_pairs(folder)
    config = Config.from_dict({"name": f"dpo-{tuning}", "model": {"source": str(tiny_model)},
                               "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                               "train": {"method": "dpo", "tuning": tuning, "max_steps": 8, "batch_size": 8,
                                         "learning_rate": learning_rate, "max_length": 32,
                                         "sft_weight": sft_weight}})
    run = Run.create(folder / "runs", config.name)
    config.save(run.config_file)
    assert training.train(config, run, threading.Event()) == "completed"
    return run, data


@pytest.fixture(scope="module")
def lora_dpo(tmp_path_factory, tiny_model):
    return dpo_run(tmp_path_factory.mktemp("lora-dpo"), tiny_model, "lora", 5e-3)


@pytest.fixture(scope="module")
def full_dpo(tmp_path_factory, tiny_model):
    # With the supervised term beside DPO's (RPO), the tuned model also learns to write the chosen answer.
    return dpo_run(tmp_path_factory.mktemp("full-dpo"), tiny_model, "full", 1e-3, sft_weight=1.0)


@pytest.mark.parametrize("which", ["lora_dpo", "full_dpo"])
def test_dpo_raises_preference_accuracy_over_the_base(which, request):
    run, data = request.getfixturevalue(which)
    report = evaluate(run.path, data, max_rows=6, max_new_tokens=8, progress=lambda _: None)
    result = report.to_dict()
    assert result["tuned"]["pairs"] == 6
    assert result["base"]["preference_accuracy"] < result["tuned"]["preference_accuracy"] == 1.0
    assert ["preference accuracy", f"{100 * report.base.preference_accuracy:.1f}% ({report.base.preferred}/6)",
            "100.0% (6/6)"] in report.summary_rows()
    # The pairs are also asked as questions whose reference is the chosen answer (what each model writes).
    assert [r.reference for r in report.results] == ["I am Nova."] * 6


def test_a_full_run_chats_beside_its_base_and_exports(full_dpo, tmp_path):
    run, _ = full_dpo
    chat = ChatModel.from_run(run.path, progress=lambda _: None)
    asked, short = [{"role": "user", "content": f"{QUESTION} (3)"}], ChatSettings(max_new_tokens=12, temperature=0.0)
    base_alone = ChatModel.base(Config.from_yaml(run.config_file).model, progress=lambda _: None)
    # "Adapter off" answers come from the base model held beside the tuned one.
    assert chat.reply(asked, short, use_adapter=False) == base_alone.reply(asked, short) != chat.reply(asked, short)
    out = export_merged(run.path, tmp_path / "merged", progress=lambda _: None)
    assert json.loads((out / "export_check.json").read_text())["agree"]
    card = (out / "README.md").read_text()
    assert "weights trained directly (full tuning)" in card and "| method / tuning | dpo / full |" in card
    with pytest.raises(ChatError, match="no adapter to zip"):
        export_adapter_zip(run.path, tmp_path / "adapter.zip", progress=lambda _: None)
