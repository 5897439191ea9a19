"""What training does with the data settings: bad rows refused unless skipped, mapping, placeholders, eval file."""

import json

import pytest

from core.jobs import JobRunner


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return str(path)


def run_to_end(config, tmp_path):
    runner = JobRunner(tmp_path / "runs", in_process=True)
    run = runner.start(config)
    runner.wait(300)
    return run


def test_bad_rows_stop_the_run_before_the_model_loads(tiny_config, tmp_path):
    rows = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(12)] + [{"instruction": "q", "output": 3}]
    tiny_config.data.path = write_jsonl(tmp_path / "mixed.jsonl", rows)
    run = run_to_end(tiny_config, tmp_path)
    status = run.status()
    assert status["state"] == "failed"
    assert "1 of 13 rows in" in status["message"] and "mixed.jsonl" in status["message"]
    assert 'line 13: field "output" should be text, found a number' in status["message"]
    assert "skip_bad_rows" in status["message"]
    assert "Loading the base model" not in run.log_file.read_text()


@pytest.mark.slow
def test_skipping_bad_rows_trains_on_the_rest_and_logs_the_count(tiny_config, tmp_path):
    rows = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(12)] + [{"instruction": "q", "output": ""}]
    tiny_config.data.path = write_jsonl(tmp_path / "mixed.jsonl", rows)
    tiny_config.data.skip_bad_rows = True
    tiny_config.train.max_steps = 1
    run = run_to_end(tiny_config, tmp_path)
    assert run.status()["state"] == "completed", run.status()
    log = run.log_file.read_text()
    assert "12 usable rows of 13" in log and 'Skipped line 13: field "output" is empty' in log
    assert "1 rows of" in log and "skipped in all" in log


@pytest.mark.slow
def test_column_mapping_placeholders_and_eval_file_reach_training(tiny_config, tmp_path):
    rows = [{"frage": f"Wer bist du {i}?", "antwort": "Ich bin {{name}}."} for i in range(8)]
    tiny_config.data.path = write_jsonl(tmp_path / "faq.jsonl", rows)
    tiny_config.data.eval_path = write_jsonl(tmp_path / "held.jsonl",
                                             [{"frage": "Wer?", "antwort": "{{name}}."}] * 3)
    tiny_config.data.columns = {"prompt": "frage", "completion": "antwort"}
    tiny_config.data.placeholders = {"name": "Nova"}
    tiny_config.train.max_steps = 1
    run = run_to_end(tiny_config, tmp_path)
    assert run.status()["state"] == "completed", run.status()
    log = run.log_file.read_text()
    assert "format prompt_completion, 8 usable rows of 8" in log
    assert "Held-out rows: 3 from" in log and "held.jsonl" in log


def test_unfilled_placeholders_are_refused(tiny_config, tmp_path):
    tiny_config.data.path = write_jsonl(tmp_path / "identity.jsonl",
                                        [{"instruction": "Who are you?", "output": "I am {{name}}."}] * 4)
    run = run_to_end(tiny_config, tmp_path)
    assert run.status()["state"] == "failed"
    assert "{{name}} without a value" in run.status()["message"]


def test_preference_data_is_refused_with_the_way_to_train_on_chosen_answers(tiny_config, tmp_path):
    tiny_config.data.path = write_jsonl(tmp_path / "pref.jsonl",
                                        [{"prompt": "q", "chosen": "good", "rejected": "bad"}] * 4)
    run = run_to_end(tiny_config, tmp_path)
    assert run.status()["state"] == "failed"
    assert "preference data" in run.status()["message"] and "{completion: chosen}" in run.status()["message"]


def test_every_row_too_long_is_refused_with_what_to_raise(tiny_config, tmp_path):
    tiny_config.data.path = write_jsonl(tmp_path / "long.jsonl",
                                        [{"instruction": "word " * 100, "output": "ok"}] * 6)
    tiny_config.train.max_length = 32
    run = run_to_end(tiny_config, tmp_path)
    assert run.status()["state"] == "failed"
    assert "after cutting to max_length 32" in run.status()["message"] and "raise max_length" in run.status()["message"]
    assert run.status()["message_key"] == {"key": "training.token_sets.no_training_rows", "values": {"max_length": 32}}
