"""`launch.py data`, run as a user runs it: the format by name, problems, warnings, statistics, one example."""

import json

import pytest

from tests.test_cli import launch


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.slow
def test_data_shows_warnings_statistics_and_what_is_trained(tmp_path, tiny_model):
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"instruction": "Who are you?", "output": "I am Nova."},
        {"instruction": "Who are you?", "output": "I am Nova."},
        {"instruction": "Tell a story", "output": "word " * 100},
    ])
    result = launch("data", path, "--model", tiny_model, "--max-length", "64", "--runs-dir", tmp_path / "runs")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Format: alpaca" in out and "Rows used: 3 of 3" in out
    assert "Split: 2 training rows, 1 held-out; plus up to 20 knowledge-replay rows." in out
    assert "1 row is longer than max length 64 tokens" in out and "Rows: line 3." in out
    assert "1 row repeats an earlier row exactly" in out and "Rows: line 2." in out
    assert "Example 1 (line 1) as the model sees it" in out
    assert "Trained (the loss is computed on these tokens only):\n  'I am Nova.<|im_end|>\\n'" in out


@pytest.mark.slow
def test_data_with_a_config_replays_its_mapping_and_placeholders(tmp_path, tiny_model):
    path = tmp_path / "faq.csv"
    path.write_text("frage,antwort\nWer bist du?,Ich bin {{name}}.\n", encoding="utf-8")
    unmapped = launch("data", path, "--model", tiny_model)
    assert unmapped.returncode == 1
    assert "Columns found: frage, antwort; map them with --map OURS=THEIRS." in unmapped.stderr
    config = tmp_path / "run.yaml"
    config.write_text(f"model: {{source: {tiny_model}}}\n"
                      f"data:\n  path: {path}\n  columns: {{prompt: frage, completion: antwort}}\n"
                      "  placeholders: {name: Nova}\n", encoding="utf-8")
    result = launch("data", config)
    assert result.returncode == 0, result.stderr
    assert "Format: prompt_completion" in result.stdout and "'Ich bin Nova.<|im_end|>'" in result.stdout
    flags = launch("data", path, "--model", tiny_model, "--map", "prompt=frage", "--map", "completion=antwort")
    assert flags.returncode == 0 and "{{name}} in 1 rows" in flags.stdout and "with no value given" in flags.stdout


@pytest.mark.slow
def test_data_names_preference_format_and_shows_the_rejected_answer(tmp_path, tiny_model):
    path = write_jsonl(tmp_path / "pref.jsonl", [{"prompt": "Sky colour?", "chosen": "Blue.", "rejected": "Green."}])
    result = launch("data", path, "--model", tiny_model)
    assert result.returncode == 0, result.stderr
    assert "Format: preference" in result.stdout
    assert "Rejected answer (for preference training): 'Green.'" in result.stdout


def test_data_map_flag_needs_key_and_value(tmp_path):
    result = launch("data", tmp_path / "x.jsonl", "--map", "completion")
    assert result.returncode == 1 and "--map 'completion': write it as KEY=VALUE" in result.stderr


@pytest.mark.slow
def test_a_template_that_cannot_be_masked_ends_in_one_sentence_not_a_traceback(tmp_path):
    from core.models import tiny

    model = tiny.build(tmp_path / "model", spec=tiny.Spec(tiny.CHATML.special, bos=None, eos="<|im_end|>",
                                                          chat_template="{% for m in messages %}[turn]{% endfor %}"))
    path = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "Who are you?", "output": "I am Nova."}])
    result = launch("data", path, "--model", model)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: The chat template of model cannot be split into turns for training")
    assert "prompt/completion" in result.stderr and len(result.stderr.strip().splitlines()) == 1
