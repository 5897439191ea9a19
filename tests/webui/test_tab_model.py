"""The Model tab's words: the machine check (doctor) line by line in the page's language, the compute plan's
strategy and the base-model choices named, not "default"."""

from core.catalogue.language import speaking
from core.config import Config
from webui import tab_model


def test_the_doctor_report_grows_line_by_line_in_the_pages_language():
    """A Chinese page showed the whole doctor report in English (each line in a code span, said by str()), and
    nothing at all until every check had run. Each step now adds the lines found so far, in Chinese, and says it is
    still checking until the last, which counts the checks. (training=False: the quick checks only, the same path.)"""
    with speaking("zh"):
        steps = list(tab_model.doctor_steps(training=False))
    assert steps[0].startswith("⏳ 正在检查") and steps[1].startswith("- [ok]   torch：2.")
    assert all(step.endswith("需要一分钟或更久）") for step in steps[:-1])
    assert [step.count("\n- ") for step in steps[1:-1]] == list(range(len(steps) - 2))  # one more line each step
    report = steps[-1]
    assert "仅 CPU 版本" in report and "项检查，0 项失败" in report and "`" not in report.split("\n")[0]
    assert "CPU-only build" not in report and "no NVIDIA GPU" not in report


def test_the_plan_says_its_strategy_in_the_pages_language(tiny_model):
    """'Runs on: CPU, single' stayed English on the Chinese page."""
    config = Config.from_dict({"model": {"source": str(tiny_model)}, "compute": {"gpus": "none"}})
    assert tab_model.plan_text(config).startswith("**Runs on: CPU, single**")
    with speaking("zh"):
        assert tab_model.plan_text(config).startswith("**运行在：CPU，单进程**")


def test_the_built_in_models_are_offered_by_name_in_the_pages_language():
    """The base-model list offered "default" and "gemma-3-270m"; it names the models (the value stays the
    model.source the config takes)."""
    assert tab_model.local_model_folders()[:2] == [("SmolLM2-135M-Instruct (built-in)", "default"),
                                                   ("gemma-3-270m (built-in)", "gemma-3-270m")]
    with speaking("zh"):
        assert tab_model.local_model_folders()[0] == ("SmolLM2-135M-Instruct（内置）", "default")


def finished_run(runs_dir, name: str, state: str = "completed", method: str = "sft", eval_loss: float | None = 0.4123):
    from core.runs import Run

    run = Run.create(runs_dir, name)
    Config.from_dict({"name": name, "data": {"path": "/data/identity.jsonl"}, "train": {"method": method}}).save(
        run.config_file)
    run.adapter_dir.mkdir()
    (run.adapter_dir / "adapter_config.json").write_text("{}")
    run.append_metric({"step": 2, "loss": 1.5})
    if eval_loss is not None:
        run.append_metric({"step": 4, "loss": 1.0, "eval_loss": eval_loss})
    run.update_status(state=state)
    return run


def test_finished_runs_are_offered_first_to_start_from_with_method_data_and_held_out_loss(tmp_path):
    """model.source run:NAME had no place on the page: a user had to know to type it."""
    runs = tmp_path / "runs"
    sft = finished_run(runs, "sft-run")
    finished_run(runs, "broken", state="failed")
    dpo = finished_run(runs, "dpo-run", method="dpo", eval_loss=None)
    choices = tab_model.source_choices(runs)
    assert choices[:2] == [("Run dpo-run: dpo on identity.jsonl", f"run:{dpo.path}"),
                           ("Run sft-run: sft on identity.jsonl, held-out loss 0.412", f"run:{sft.path}")]
    assert choices[2:] == tab_model.local_model_folders()  # then the models, as before; the failed run is not offered
    with speaking("zh"):
        assert tab_model.run_choices(runs)[1][0] == "运行 sft-run：sft，数据 identity.jsonl，留出集损失 0.412"


def test_a_run_finished_since_the_page_opened_is_offered_when_the_model_tab_is_opened(tmp_path):
    import gradio as gr

    from webui.app import build
    from webui.studio import Studio

    runs = tmp_path / "runs"
    demo = build(Studio(runs))
    source = demo.form.fields["model.source"]
    on_select = [fn for fn in demo.fns.values() if any(event == "select" for _, event in fn.targets)
                 and source in fn.outputs and isinstance(demo.blocks[fn.targets[0][0]], gr.Tab)]
    assert len(on_select) == 1
    sft = finished_run(runs, "sft-run")  # finished while the page was open
    offered = on_select[0].fn(None)  # no request: the page speaks English
    assert ("Run sft-run: sft on identity.jsonl, held-out loss 0.412", f"run:{sft.path}") in offered["choices"]
