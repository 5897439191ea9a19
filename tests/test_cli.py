"""The command line, run as a user runs it: a subprocess, reading what it prints and its exit code."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def launch(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "launch.py"), *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def test_train_then_chat(tiny_config, tmp_path):
    config_file = tmp_path / "run.yaml"
    tiny_config.save(config_file)
    result = launch("train", config_file, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4/4" in result.stdout and "loss" in result.stdout
    assert "Done: Completed 4 steps; adapter saved." in result.stdout

    run_dir = tmp_path / "runs" / "tiny-run"
    chat = launch("chat", run_dir, "--prompt", "Who are you?", "--temperature", "0", "--max-new-tokens", "8")
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout and "Loading" not in chat.stdout  # only the reply goes to stdout
    again = launch("chat", run_dir, "--prompt", "Who are you?", "--temperature", "0", "--max-new-tokens", "8")
    assert again.stdout == chat.stdout


def test_train_with_a_bad_config_exits_with_one_line(tmp_path):
    config_file = tmp_path / "bad.yaml"
    config_file.write_text("name: x\ntrain:\n  epochs: lots\n")
    result = launch("train", config_file, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: {config_file} line 3: 'train.epochs' should be a number, "
                                                  "found 'lots'"]


def test_data_command_shows_format_count_problems_and_rendered_example(tmp_path, tiny_model):
    data = tmp_path / "chat.jsonl"
    data.write_text('{"instruction": "Who are you?", "input": "", "output": "I am Nova."}\n'
                    '{"instruction": "broken\n'
                    '{"instruction": "Hi", "output": "Hello!"}\n')
    result = launch("data", data, "--model", tiny_model)
    assert result.returncode == 0, result.stderr
    assert "alpaca" in result.stdout
    assert "line 2" in result.stdout
    assert "<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\nI am Nova.<|im_end|>" in result.stdout


def test_data_command_on_a_missing_file(tmp_path):
    result = launch("data", tmp_path / "none.jsonl")
    assert result.returncode == 1 and "No file at" in result.stderr


def test_chat_with_a_folder_that_is_not_a_run(tmp_path):
    result = launch("chat", tmp_path, "--prompt", "hi")
    assert result.returncode == 1 and "is not a run folder" in result.stderr
