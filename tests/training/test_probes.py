"""Probe answers recorded at each evaluation of a real tiny run, and the best-step banner and switch."""

import json

import pytest

from core.runs import Run
from core.training import probes


@pytest.fixture(scope="module")
def probed_run(tmp_path_factory, tiny_model):
    from core.config import Config
    from core.jobs import JobRunner

    folder = tmp_path_factory.mktemp("probed")
    data = folder / "data.jsonl"
    data.write_text("\n".join(json.dumps({"instruction": f"Question {i}?", "output": f"I am Nova, answer {i}."})
                              for i in range(24)), encoding="utf-8")
    config = Config.from_dict({"name": "probed", "model": {"source": str(tiny_model)},
                               "data": {"path": str(data), "replay": 0, "eval_fraction": 0.2},
                               "train": {"max_steps": 4, "batch_size": 4, "eval_every": 2, "learning_rate": 1e-2,
                                         "probes": ["Who are you?", "Question 1?"]}})
    runner = JobRunner(folder / "runs", in_process=True)
    run = runner.start(config)
    runner.wait(300)
    assert run.status()["state"] == "completed", run.log_tail()
    return run


@pytest.mark.slow
def test_probes_are_answered_by_the_base_model_then_at_each_evaluation(probed_run):
    records = probes.read_probes(probed_run)
    assert [(r["model"], r["step"]) for r in records] == [("base", 0), ("tuned", 2), ("tuned", 4)]
    assert all(r["prompts"] == ["Who are you?", "Question 1?"] and len(r["answers"]) == 2 for r in records)
    evals = [m for m in probed_run.read_metrics()[0] if "eval_loss" in m]
    assert [r["eval_loss"] for r in records[1:]] == pytest.approx([m["eval_loss"] for m in evals])
    assert records[0]["answers"] != records[-1]["answers"]  # the adapter changed what it says

    headers, rows = probes.probe_table(probed_run)
    assert headers == ["prompt", "base", "step 2", "step 4"]
    assert rows[0][0] == "Who are you?" and rows[0][1:] == [r["answers"][0] for r in records]

    # The adapter at the lowest held-out loss is kept aside.
    best = json.loads((probed_run.path / probes.BEST_DIR / "best.json").read_text())
    assert best["eval_loss"] == min(m["eval_loss"] for m in evals)
    assert (probed_run.path / probes.BEST_DIR / "adapter_model.safetensors").exists()


def test_held_out_questions_are_the_default_probes():
    from core.config import Config

    rows = [{"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]},
            {"prompt": "2+2=", "completion": "4"}, {"prompt": "2+2=", "completion": "4"}, {"text": "plain"}]
    assert probes.probe_prompts(Config(), rows) == ["Hi?", "2+2="]
    assert probes.probe_prompts(Config.from_dict({"train": {"probes": ["Mine?"]}}), rows) == ["Mine?"]


def test_banner_names_the_best_step_and_the_switch_makes_it_the_adapter(probed_run, tmp_path):
    import shutil

    from core.results.chat import ChatModel

    copy = Run(tmp_path / "probed")
    shutil.copytree(probed_run.path, copy.path)
    assert probes.best_step(copy) is None  # held-out loss still falling: no banner
    best = json.loads((copy.path / probes.BEST_DIR / "best.json").read_text())
    # Two later evaluations above the best, as a longer run that starts to memorise would log them.
    for step in (6, 8):
        copy.append_metric({"step": step, "eval_loss": best["eval_loss"] + step})
    banner = probes.best_step(copy)
    assert banner == {"step": best["step"], "eval_loss": best["eval_loss"], "rises": 2, "available": True,
                      "in_use": False}

    message = probes.use_best(copy)
    assert str(message) == f"The run now uses the adapter from step {best['step']} (held-out loss " \
                           f"{best['eval_loss']:.4f})."
    assert f"第 {best['step']} 步" in message.text("zh")
    weights = (copy.adapter_dir / "adapter_model.safetensors").read_bytes()
    assert weights == (copy.path / probes.BEST_DIR / "adapter_model.safetensors").read_bytes()
    assert (copy.path / probes.FINAL_DIR / "adapter_model.safetensors").exists()  # the last step's, kept
    assert probes.best_step(copy)["in_use"]
    ChatModel.from_run(copy.path, progress=lambda _: None)  # the switched adapter loads like any other


def test_use_best_without_a_saved_best_is_explained(nova_run, tmp_path):
    import shutil

    copy = Run(tmp_path / "nova")
    shutil.copytree(nova_run.path, copy.path)
    with pytest.raises(FileNotFoundError, match="holds no adapter"):
        probes.use_best(copy)


def test_train_tab_shows_the_probe_table_and_the_banner(probed_run, tmp_path):
    import shutil

    from core.catalogue.language import speaking
    from webui.studio import Studio
    from webui.tab_train import probe_panel

    shutil.copytree(probed_run.path, tmp_path / "runs" / "probed")
    studio = Studio(tmp_path / "runs")
    table, banner, button, shown = probe_panel(studio, {"run": "probed"}, None)
    # Latest and base side by side, the latest first so that it is never pushed off-screen; every step stays in
    # probes.jsonl.
    assert table["value"]["headers"] == ["prompt", "latest (step 4)", "base"] and banner == ""
    assert len(table["value"]["data"][0]) == 3
    with speaking("zh"):
        zh, _, _, _ = probe_panel(studio, {"run": "probed"}, None)
    assert zh["value"]["headers"] == ["提示", "最新（第 4 步）", "基础模型"]
    assert button["visible"] is False
    import gradio as gr

    assert probe_panel(studio, {"run": "probed"}, shown)[0] == gr.skip()  # unchanged: nothing redrawn
    run = studio.run_named("probed")
    best = json.loads((run.path / probes.BEST_DIR / "best.json").read_text())
    for step in (6, 8):
        run.append_metric({"step": step, "eval_loss": best["eval_loss"] + step})
    _, banner, button, _ = probe_panel(studio, {"run": "probed"}, shown)
    assert f"since step {best['step']}" in banner and button["visible"] is True


def test_a_resumed_run_keeps_its_best_adapter_until_a_better_step(tiny_model, tmp_path):
    """After a resume the best held-out loss so far is read back: a worse evaluation must not replace it."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerControl, TrainerState, TrainingArguments

    from core.training.callbacks import ProbeCallback

    run = Run.create(tmp_path, "resumed")
    best = run.path / probes.BEST_DIR
    best.mkdir()
    (best / "best.json").write_text(json.dumps({"step": 4, "eval_loss": 0.5}))
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model), LoraConfig(task_type="CAUSAL_LM"))
    callback = ProbeCallback(run, AutoTokenizer.from_pretrained(tiny_model), [])
    args, control = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True), TrainerControl()
    callback.on_evaluate(args, TrainerState(global_step=6), control, metrics={"eval_loss": 0.9}, model=model)
    assert json.loads((best / "best.json").read_text()) == {"step": 4, "eval_loss": 0.5}
    callback.on_evaluate(args, TrainerState(global_step=8), control, metrics={"eval_loss": 0.3}, model=model)
    assert json.loads((best / "best.json").read_text()) == {"step": 8, "eval_loss": 0.3}
    assert (best / "adapter_model.safetensors").exists()
