"""The studio's Blocks and handlers, without a browser (the browser test drives the real page)."""

import html
import re

import pytest

from core.catalogue.language import speaking
from core.config import Config
from core.runs import Run
from webui import tab_data, tab_train
from webui.app import build
from webui.serving import is_loopback
from webui.studio import Studio, safe_file_name


@pytest.fixture
def studio(tmp_path):
    return Studio(tmp_path / "runs")


@pytest.fixture
def demo(studio):
    return build(studio)


def test_every_option_has_a_widget_and_the_defaults_make_the_default_config(demo):
    form = demo.form
    expected = {"name"} | {f"{s}.{k}" for s, section in Config().to_dict().items() if isinstance(section, dict)
                           for k in section}
    assert expected <= set(form.fields)
    values = {widget: widget.value for widget in form.fields.values()}
    assert form.config_from(values) == Config()


def test_form_round_trips_a_loaded_config(demo):
    form = demo.form
    config = Config.from_dict({"name": "loaded", "lora": {"r": 32, "target_modules": ["q_proj", "v_proj"]},
                               "train": {"learning_rate": 5e-4, "epochs": 2},
                               "model": {"max_memory": {"0": "20GiB", "cpu": "64GiB"}}})
    updates = form.updates_from(config)
    values = {widget: widget.value for widget in form.fields.values()}
    values.update({widget: update["value"] for widget, update in updates.items()})
    assert form.config_from(values) == config


def test_bad_form_value_names_the_option(demo):
    from core.config import ConfigError

    form = demo.form
    values = {widget: widget.value for widget in form.fields.values()}
    values[form.fields["train.learning_rate"]] = "fast"
    with pytest.raises(ConfigError, match="'train.learning_rate' should be 'auto' or a number"):
        form.config_from(values)


def test_data_tab_shows_the_format_the_problems_and_the_example_as_trained(studio, tiny_model, tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"instruction": "Who are you?", "output": "I am Nova."}\n{"instruction": "x", "output": ""}\n')
    config = Config.from_dict({"model": {"source": str(tiny_model)}, "data": {"path": str(path)}})
    shown = tab_data.inspect_dataset(config, studio)
    assert "**alpaca** · 1 usable rows of 2 · **1 skipped**" in shown.summary
    assert shown.problems == [["line 2", shown.problems[0][1]]] and "output" in shown.problems[0][1]
    assert shown.preview["headers"] == ["user", "assistant", "assistant turns"]
    assert shown.preview["data"][0] == ["Who are you?", "I am Nova.", 1]
    seen = html.unescape(re.sub(r"<[^>]+>", "", shown.example))
    assert "<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\nI am Nova.<|im_end|>" in seen


def test_unusable_file_is_explained(studio, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    shown = tab_data.inspect_dataset(Config.from_dict({"data": {"path": str(empty)}}), studio)
    assert shown.summary.startswith("**Cannot use this file.**") and "empty" in shown.summary
    assert shown.preview is None and shown.example == ""


def test_uploads_are_kept_under_a_safe_name(studio, tmp_path):
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("C:\\Users\\me\\data set.jsonl") == "data_set.jsonl"
    assert safe_file_name("..") == "upload"
    source = tmp_path / "my data.jsonl"
    source.write_text('{"text": "a"}\n')
    kept = studio.keep_upload(str(source))
    assert kept == studio.uploads_dir / "my_data.jsonl" and kept.read_text() == '{"text": "a"}\n'
    source.write_text('{"text": "b"}\n')
    second = studio.keep_upload(str(source))
    assert second != kept and kept.read_text() == '{"text": "a"}\n'  # never overwrites what the user gave


def test_train_view_reads_only_new_metrics(studio):
    run = Run.create(studio.runs_dir, "watched")
    run.update_status(state="training", step=1, total_steps=10, started_at=1.0, message="Training")
    run.append_metric({"step": 1, "loss": 2.0, "time": 10.0, "tokens_per_second": 50.0})
    status, chart, log, view = tab_train.refresh(studio, {"run": "watched"}, force=True)
    assert "training" in status and "step 1/10" in status and "50 trained tokens/s" in status
    assert len(view["points"]) == 1 and chart is not None
    status, chart, log, view = tab_train.refresh(studio, view)
    assert chart.__class__.__name__ != "Figure"  # nothing new: the chart is left alone
    run.append_metric({"step": 2, "loss": 1.5, "time": 12.0})
    status, chart, log, view = tab_train.refresh(studio, view)
    assert [p["step"] for p in view["points"]] == [1, 2]
    assert list(chart.data[0].y) == [2.0, 1.5]


def test_run_history_lists_state_and_final_loss(studio):
    run = Run.create(studio.runs_dir, "old")
    run.update_status(state="completed", step=4, total_steps=4, started_at=100.0, ended_at=165.0)
    run.append_metric({"step": 4, "loss": 0.75})
    table, choices = tab_train.history(studio)
    assert table["data"] == [["old", "completed", "4/4", "0.750", "1:05"]]
    with speaking("zh"):
        table, _ = tab_train.history(studio)
    assert table["headers"][:2] == ["运行", "状态"] and table["data"][0][1] == "已完成"


def test_status_without_runs_invites_a_start():
    assert "No run yet" in tab_train.status_html(None)


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("0.0.0.0", False), ("192.168.1.5", False), ("example.com", False)])
def test_loopback_detection(host, loopback):
    assert is_loopback(host) is loopback


def test_public_host_without_auth_is_refused(capsys):
    from webui.app import serve

    assert serve(host="0.0.0.0", port=0, auth=None) == 2
    assert "--auth USER:PASS" in capsys.readouterr().err


def test_share_link_without_auth_is_refused(capsys):
    from webui.app import serve

    assert serve(host="127.0.0.1", port=0, share=True, auth=None) == 2
    assert "--share makes the studio reachable from the internet" in capsys.readouterr().err


def test_long_upload_names_keep_their_extension():
    name = safe_file_name("x" * 300 + ".jsonl")
    assert name.endswith(".jsonl") and len(name) == 120


# ---- GPUs: the picker, the plan line, per-GPU memory, the chat model making room -----------------------------------

def two_gpus():
    from core.models.devices import Gpu, Inventory

    return Inventory(gpus=[Gpu(0, "NVIDIA RTX 4090", 24.0, 23.1, True, (8, 9), "GPU-a"),
                           Gpu(1, "NVIDIA RTX 4090", 24.0, 22.5, True, (8, 9), "GPU-b")], cpu_cores=16,
                     ram_total_gb=128, ram_available_gb=100)


def test_gpu_picker_lists_each_gpu_and_the_plan_line_gives_the_reason(monkeypatch, tiny_model):
    from core.models import devices
    from webui import tab_model

    labels = dict((value, label) for label, value in tab_model.gpu_choices(two_gpus()))
    assert labels["1"] == "GPU 1: NVIDIA RTX 4090, 22.5 of 24.0 GiB free" and labels["none"].startswith("none")
    monkeypatch.setattr(devices, "inventory", two_gpus)
    config = Config.from_dict({"model": {"source": str(tiny_model)}})
    text = tab_model.plan_text(config)
    assert text.startswith("**Runs on: GPUs 0,1, ddp, 2 processes** (auto: 0.1M bf16 LoRA needs about ")
    assert text.endswith("GPUs with 23, 22 GiB free: a full copy on each GPU; 2 processes, one per GPU).")
    config.compute.gpus = "1"
    assert tab_model.plan_text(config).startswith("**Runs on: GPU 1, single** (auto: one GPU chosen")
    config.compute.strategy = "fsdp"
    assert "shares the work between two or more GPUs" in tab_model.plan_text(config)


def test_gpu_picker_value_becomes_compute_gpus(demo):
    from webui.form import gpus_value

    assert gpus_value(["auto", "1"]) == "1"  # picking a GPU after 'auto' means that GPU
    assert gpus_value(["1", "0"]) == "0,1" and gpus_value(["0", "none"]) == "none" and gpus_value([]) == "auto"
    form = demo.form
    values = {widget: widget.value for widget in form.fields.values()}
    values[form.fields["compute.gpus"]] = ["0", "1"]
    values[form.fields["compute.processes"]] = "2"
    config = form.config_from(values)
    assert (config.compute.gpus, config.compute.processes) == ("0,1", 2)
    updates = form.updates_from(config)
    assert updates[form.fields["compute.gpus"]]["value"] == ["0", "1"]


def test_train_tab_shows_each_gpus_memory_in_the_status_and_the_chart(studio):
    run = Run.create(studio.runs_dir, "on-gpus")
    run.update_status(state="training", step=2, total_steps=10, started_at=1.0)
    for step, memory in ((1, {"0": 10.24, "1": 9.5}), (2, {"0": 10.5, "1": 9.75})):
        run.append_metric({"step": step, "loss": 2.0 / step, "time": 10.0 + step, "gpu_memory_gb": sum(memory.values()),
                           "gpu_memory_per_gpu": memory})
    status, chart, log, view = tab_train.refresh(studio, {"run": "on-gpus"}, force=True)
    assert "GPU 0 10.5 GiB, GPU 1 9.8 GiB allocated" in status
    memory_traces = {trace.name: list(trace.y) for trace in chart.data if "memory" in trace.name}
    assert memory_traces == {"GPU 0 memory (GiB)": [10.24, 10.5], "GPU 1 memory (GiB)": [9.5, 9.75]}


@pytest.mark.slow
def test_the_chat_model_is_let_go_before_a_run_starts(studio, tiny_config):
    import weakref

    from core.config import ModelConfig
    from core.results.chat import ChatModel

    chat = studio.chat_model("base", lambda: ChatModel.base(ModelConfig(source=tiny_config.model.source),
                                                            progress=lambda _: None))
    held = weakref.ref(chat.model)
    del chat
    tiny_config.train.max_steps = 1
    studio.runner.in_process = True  # what is checked happens before any process starts; this keeps it quick
    studio.runner.start(tiny_config)
    assert held() is None  # gone before the run's process asks for the memory
    studio.runner.wait(120)


def test_model_tab_shows_the_machine_check_as_doctor_prints_it(monkeypatch):
    from core.measure import doctor
    from webui import tab_model

    found = [doctor.Check("CUDA", "skipped", "no NVIDIA GPU or driver found", "training runs on the CPU"),
             doctor.Check("LoRA steps on the CPU", "ok", "3 steps in 9 s")]
    monkeypatch.setattr(doctor, "each_check", lambda training=True: iter(found))  # the checks: test_doctor
    assert list(tab_model.doctor_steps())[-1] == (
        "- [skip] CUDA: no NVIDIA GPU or driver found -> training runs on the CPU\n"
        "- [ok]   LoRA steps on the CPU: 3 steps in 9 s\n**2 checks, 0 failed.**")


def test_buttons_that_cannot_act_are_greyed_out(studio):
    assert tab_train.button_states(studio, {}) == (True, False, False)  # no run: Start only
    run = Run.create(studio.runs_dir, "old")
    run.update_status(state="completed")
    assert tab_train.button_states(studio, {"run": "old"}) == (True, False, False)
    run.update_status(state="stopped")
    assert tab_train.button_states(studio, {"run": "old"}) == (True, False, True)  # a stopped run can resume


def test_compare_runs_draws_the_curves_together_and_lists_the_settings_that_differ(studio):
    from core.config import Config
    from webui import compare_runs

    for name, rate, losses in (("slow", 1e-4, [2.0, 1.9]), ("fast", 1e-3, [2.0, 1.2])):
        run = Run.create(studio.runs_dir, name)
        Config.from_dict({"name": name, "train": {"learning_rate": rate}}).save(run.config_file)
        run.update_status(state="completed")
        for step, loss in enumerate(losses, 1):
            run.append_metric({"step": step, "loss": loss})
    runs = [studio.run_named("slow"), studio.run_named("fast")]
    figure = compare_runs.loss_curves(runs)
    assert [trace.name for trace in figure.data] == ["slow: train loss", "fast: train loss"]
    assert list(figure.data[1].y) == [2.0, 1.2]
    with speaking("zh"):
        table = compare_runs.settings_table(runs)
    assert table["headers"] == ["设置", "slow", "fast"]
    assert table["data"] == [["train.learning_rate", "0.0001", "0.001"]]  # only what differs (not the name)


def test_train_tick_sends_only_what_changed_and_the_past_runs_every_ten_seconds(studio):
    import time
    from types import SimpleNamespace

    names = ["start", "stop", "resume", "notice", "status", "chart", "log", "view", "runs_table", "pick", "probes",
             "best_banner", "use_best", "probes_seen", "buttons_seen", "history_read"]
    ui = SimpleNamespace(**{name: name for name in names}, compare=SimpleNamespace(picked="compare"))
    handlers = tab_train.TrainHandlers(ui, SimpleNamespace(fields={}), studio)
    run = Run.create(studio.runs_dir, "old")
    run.update_status(state="stopped", step=2, total_steps=4, started_at=1.0, ended_at=5.0)
    run.append_metric({"step": 2, "loss": 1.5, "time": 3.0})
    first = handlers.attach()
    assert first["resume"]["interactive"] is True and first["stop"]["interactive"] is False
    assert first["runs_table"]["data"][0][:2] == ["old", "stopped"] and "compare" in first
    again = handlers.tick(first["view"], first["buttons_seen"], first["probes_seen"], first["history_read"])
    assert set(again) == {"status", "log", "view"}  # no new metrics, same buttons and probes, history not due
    later = handlers.tick(again["view"], first["buttons_seen"], first["probes_seen"], time.monotonic() - 10)
    assert {"runs_table", "pick", "compare", "history_read"} <= set(later)


def train_handlers(studio, form=None):
    """The Train tab's handlers with each component named by a string (the answers are {name: update})."""
    from types import SimpleNamespace

    names = ["start", "stop", "resume", "notice", "status", "chart", "log", "view", "runs_table", "pick", "probes",
             "best_banner", "use_best", "probes_seen", "buttons_seen", "history_read"]
    ui = SimpleNamespace(**{name: name for name in names}, compare=SimpleNamespace(picked="compare"))
    return tab_train.TrainHandlers(ui, form or SimpleNamespace(fields={}), studio)


def bad_rows_file(tmp_path):
    """Five rows, the last one unusable (its answer is a number): refused while data.skip_bad_rows is off."""
    lines = [f'{{"instruction": "Question {i}?", "output": "Answer {i}."}}' for i in range(4)]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines + ['{"instruction": "q", "output": 3}']) + "\n")
    return path


def test_the_data_tab_says_what_the_bad_rows_option_will_do_with_a_file_with_bad_rows(studio, tiny_model, tmp_path):
    config = Config.from_dict({"model": {"source": str(tiny_model)}, "data": {"path": str(bad_rows_file(tmp_path))}})
    shown = tab_data.inspect_dataset(config, studio)
    assert "4 usable rows of 5" in shown.summary
    assert "1 of 5 rows in" in shown.warnings and "turn on data.skip_bad_rows" in shown.warnings  # as Start says
    with speaking("zh"):
        assert "有 1 行无法使用" in tab_data.inspect_dataset(config, studio).warnings
    config.data.skip_bad_rows = True  # then the run trains on the other four, and the check no longer refuses
    assert "skip_bad_rows" not in tab_data.inspect_dataset(config, studio).warnings


def test_start_refuses_a_file_with_bad_rows_before_any_run_folder_exists(demo, studio, tiny_model, tmp_path):
    form = demo.form
    values = {widget: widget.value for widget in form.fields.values()}
    values[form.fields["model.source"]] = str(tiny_model)
    values[form.fields["data.path"]] = str(bad_rows_file(tmp_path))
    handlers = train_handlers(studio, form)
    with speaking("zh"):
        shown = handlers.start(values)
    assert set(shown) == {"notice"} and "有 1 行无法使用" in shown["notice"] and "已开始" not in shown["notice"]
    shown = handlers.start(values)
    assert "1 of 5 rows in" in shown["notice"] and "Started" not in shown["notice"]
    assert studio.runs() == [] and not studio.runner.busy  # no run folder, no process


def test_the_train_tab_follows_a_run_started_meanwhile_and_says_at_once_that_it_failed(studio, tiny_config,
                                                                                        tmp_path):
    """A poll under way while Start answered hands back the previous run's view (the page then showed the previous
    run under the new run's chart): the next poll follows the new run, and its failure is said at once, by key in
    the page's language, with no traceback in the log shown (train.log keeps it)."""
    earlier = Run.create(studio.runs_dir, "earlier")
    earlier.update_status(state="completed", step=4, total_steps=4, started_at=1.0, ended_at=5.0)
    earlier.append_metric({"step": 4, "loss": 0.7, "time": 4.0, "tokens_per_second": 2.0})
    handlers = train_handlers(studio)
    page = handlers.attach()
    assert page["view"]["run"] == "earlier"
    # A failure only the run's process finds stands for any such: the runner is started without the inputs check.
    tiny_config.name, tiny_config.data.path = "my-run", str(bad_rows_file(tmp_path))
    studio.runner.in_process = True
    run = studio.runner.start(tiny_config)
    assert studio.runner.wait(120) and run.status()["state"] == "failed"
    with speaking("zh"):
        shown = handlers.tick(page["view"], page["buttons_seen"], page["probes_seen"], page["history_read"])
    assert shown["view"]["run"] == "my-run" and "<b>my-run</b>" in shown["status"] and "earlier" not in shown["status"]
    assert "state-failed" in shown["status"] and "有 1 行无法使用" in shown["status"]
    assert shown["notice"].startswith("**运行 my-run 失败。**") and "有 1 行无法使用" in shown["notice"]
    assert "Traceback" in run.log_file.read_text() and "Traceback" not in shown["log"] and "Failed:" in shown["log"]
    again = handlers.tick(shown["view"], shown["buttons_seen"], shown["probes_seen"], page["history_read"])
    assert "notice" not in again and again["view"]["run"] == "my-run"  # said once; the page stays on the run


def test_the_probe_table_shows_the_latest_answers_first():
    """The latest answers were the last of three wide columns, off-screen on the right."""
    headers, rows = tab_train.readable_probes(["prompt", "base", "step 2", "step 4"], [["Who?", "A bot", "N", "Nova"]])
    assert headers == ["prompt", "latest (step 4)", "base"] and rows == [["Who?", "Nova", "A bot"]]
    with speaking("zh"):
        assert tab_train.readable_probes(["prompt", "base", "step 2"], [["a", "b", "c"]])[0] == [
            "提示", "最新（第 2 步）", "基础模型"]
    assert tab_train.readable_probes(["prompt", "base"], [["a", "b"]]) == (["prompt", "base"], [["a", "b"]])


def test_quick_start_says_it_is_working_out_what_the_run_will_do(demo):
    """The first inspection takes ~10 s (tokenizer, data); the panel was blank meanwhile."""
    expected = next(block for block in demo.blocks.values() if getattr(block, "elem_id", "") == "quick-expected")
    assert "quick.working_out" in str(expected.value)


def test_chat_errors_speak_the_pages_language(studio):
    from types import SimpleNamespace

    from webui import tab_chat

    names = ["prompt", "tuned", "base", "run", "adapter_on", "side_by_side", "notice", "asked"]
    ui = SimpleNamespace(**{name: name for name in names})
    handlers = tab_chat.ChatHandlers(ui, SimpleNamespace(fields={}), studio)
    values = {"prompt": "Who are you?", "tuned": [], "base": [], "run": "gone", "adapter_on": True,
              "side_by_side": False}
    with speaking("zh"):
        values.update(handlers.ask(values))  # Send shows the question at once, then the answer step explains
        shown = list(handlers.respond(values))
    assert [update["notice"] for update in shown] == ["**没有名为 gone 的运行。**"]
