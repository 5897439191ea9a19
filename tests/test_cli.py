"""The command line, run as a user runs it: a subprocess, reading what it prints and its exit code."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def launch(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "launch.py"), *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


@pytest.mark.slow
def test_train_then_chat(tiny_config, tmp_path):
    config_file = tmp_path / "run.yaml"
    tiny_config.save(config_file)
    result = launch("train", config_file, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4/4" in result.stdout and "loss" in result.stdout
    assert "Done: Completed 4 steps; adapter saved." in result.stdout
    assert "{'loss'" not in result.stdout  # the progress bar, not the library's raw log dicts

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


def _one_line_long(path):
    from core.data.files import MAX_ROW_BYTES

    path.write_text('{"instruction": "q", "output": "' + "x" * MAX_ROW_BYTES + '"}\n', encoding="utf-8")


@pytest.mark.parametrize("model, data, expected", [
    ("made-up-org/no-such-model", "identity", "Cannot reach {hub} (Cannot reach "
     "{hub}/api/models/made-up-org/no-such-model"),
    ("{tmp}/no-folder", "identity", "No model folder at {tmp}/no-folder."),
    ("{tmp}", "identity", "The folder {tmp} has no config.json"),
    ("default", "{tmp}/none.jsonl", "No file at {tmp}/none.jsonl."),
    ("default", "{tmp}/empty.jsonl", "{tmp}/empty.jsonl is empty."),
    ("default", "{tmp}/long.jsonl", "no usable rows in {tmp}/long.jsonl: line 1: this line is 4.2 MB, over the 4 MB"),
])
def test_train_refuses_a_missing_model_or_unusable_data_before_making_a_run(tmp_path, model, data, expected):
    """These failed 30-60 s later in the run's process, printed three times under a bare 'Traceback' line, and
    left a failed run folder. HF_HUB_OFFLINE=1 stands for a machine without network (the hub id is made up)."""
    import os

    (tmp_path / "empty.jsonl").write_text("")
    _one_line_long(tmp_path / "long.jsonl")
    identity = ROOT / "assets" / "datasets" / "identity.jsonl"
    from core.hub.settings import official_address

    model, data, expected = (text.replace("{tmp}", str(tmp_path)).replace("{hub}", official_address("huggingface"))
                             for text in (model, data, expected))
    config_file = tmp_path / "run.yaml"
    config_file.write_text(f"name: x\nmodel:\n  source: {model}\ndata:\n  path: "
                           f"{identity if data == 'identity' else data}\n")
    result = subprocess.run([sys.executable, str(ROOT / "launch.py"), "train", str(config_file), "--runs-dir",
                             str(tmp_path / "runs")], capture_output=True, text=True, cwd=ROOT, timeout=120,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 1
    said = result.stdout + result.stderr
    assert said.count(expected) == 1, said
    assert result.stderr.startswith("error: ") and "Traceback" not in said
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
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


@pytest.mark.slow
def test_data_command_on_a_missing_file(tmp_path):
    result = launch("data", tmp_path / "none.jsonl")
    assert result.returncode == 1 and "No file at" in result.stderr


def test_chat_with_a_folder_that_is_not_a_run(tmp_path):
    result = launch("chat", tmp_path, "--prompt", "hi")
    assert result.returncode == 1 and "is not a run folder" in result.stderr


@pytest.mark.slow
def test_ctrl_c_stops_at_the_end_of_a_step_and_saves(tiny_config, tmp_path):
    import signal
    import time

    from core.runs import Run

    tiny_config.train.max_steps = 5000
    config_file = tmp_path / "run.yaml"
    tiny_config.save(config_file)
    # Started with SIGINT ignored, as a shell starts a background job: Ctrl-C must still reach the command.
    process = subprocess.Popen([sys.executable, str(ROOT / "launch.py"), "train", str(config_file), "--runs-dir",
                                str(tmp_path / "runs")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    run = Run(tmp_path / "runs" / "tiny-run")
    deadline = time.time() + 120
    while time.time() < deadline and (not run.status_file.exists() or run.status().get("step", 0) < 3):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=300)  # generous: the suite shares two cores with other work
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"still running 300 s after Ctrl-C; status {run.status()}; log tail:\n{run.log_tail(30)}\n"
                    f"stdout tail: {out[-2000:]}")
    assert process.returncode == 1  # not completed
    assert "Stopping at the end of this step" in out
    status = run.status()
    assert status["state"] == "stopped" and status["message"].endswith("adapter saved.")
    assert run.has_adapter() and run.last_checkpoint() is not None
    assert err.strip().splitlines()[-1].startswith("error: stopped: Stopped at step")


def test_upload_limit_must_be_positive():
    result = launch("--max-upload-mb", "0")
    assert result.returncode == 2 and "must be a positive number of MB" in result.stderr


@pytest.mark.slow
def test_data_accepts_every_format_the_config_knows(tmp_path):
    """The choice lists of the command line are core.config's: a format added there is accepted here."""
    result = launch("data", tmp_path / "none.jsonl", "--format", "unpaired_preference")
    assert result.returncode == 1 and "invalid choice" not in result.stderr  # refused for the missing file only
    import launch as entry
    from core.config import DATA_FORMATS, GGUF_TYPES, QUANTIZATIONS

    parser = entry.build_parser()
    for fmt in DATA_FORMATS:
        assert parser.parse_args(["data", "x.jsonl", "--format", fmt]).format == fmt
    assert parser.parse_args(["bench", "--quantization", QUANTIZATIONS[-1]]).quantization == QUANTIZATIONS[-1]
    assert parser.parse_args(["export", "r", "--gguf-type", GGUF_TYPES[-1]]).gguf_type == GGUF_TYPES[-1]


def test_help_lists_every_verb():
    result = launch("--help")
    assert result.returncode == 0
    listed = [line.split()[0] for line in result.stdout.split("VERB\n", 2)[-1].split("\n\n")[0].splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert listed[:8] == ["train", "chat", "data", "eval", "export", "demo", "bench", "doctor"]
    assert {"install-shortcut", "remove-shortcut"} <= set(listed)  # the desktop's verbs (docs/desktop.md)


def test_usage_errors_print_once_with_the_usage():
    result = launch("export", "runs/x")
    assert result.returncode == 2
    assert result.stderr.count("error:") == 1
    assert "launch.py: error: export needs --merged OUT_DIR, --adapter-zip OUT_ZIP or --gguf OUT.gguf" in result.stderr
