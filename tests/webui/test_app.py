"""The studio's Blocks and handlers, without a browser (the browser test drives the real page)."""

import html
import re

import pytest

from core.config import Config
from core.runs import Run
from webui import tab_data, tab_train
from webui.app import build, is_loopback
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
    rows, choices = tab_train.history(studio)
    assert rows == [["old", "completed", "4/4", "0.750", "1:05"]]


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
