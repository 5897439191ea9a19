"""`launch.py make-data CONFIG.yaml` as a user runs it: progress, the last line with the counts, the key read from
the environment and written nowhere, and a process killed mid-batch resumed with no row lost and none repeated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT, wait_for
from tests.making.teacher_server import TeacherServer, last_user_text

KEY = "sk-cli-secret-4242-never-written"


def answer(messages: list[dict]) -> str:
    left, right = last_user_text(messages).removeprefix("What is ").rstrip("?").split("+")
    return f"The answer is: {int(left) + int(right)}"


def write_batch(tmp_path, server: TeacherServer, questions: int, wrong: set[int] = frozenset()):
    (tmp_path / "questions.jsonl").write_text("".join(
        json.dumps({"question": f"What is {n}+1?", "answer": str(n + 1 + (n in wrong))}) + "\n"
        for n in range(questions)), encoding="utf-8")
    config = tmp_path / "make.yaml"
    config.write_text(f"""teacher:
  base_url: {server.url}
  model: teacher
  api_key_env: CLI_TEACHER_KEY
  concurrency: 2
recipe:
  kind: answer
  input: {tmp_path / "questions.jsonl"}
output: {tmp_path / "made.jsonl"}
""", encoding="utf-8")
    return config


def make_data(config, **popen) -> subprocess.Popen:
    env = {**os.environ, "CLI_TEACHER_KEY": KEY, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, str(ROOT / "launch.py"), "make-data", str(config)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def rows_in(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


@pytest.mark.slow
def test_make_data_prints_progress_and_ends_with_the_counts(tmp_path):
    with TeacherServer(answer, key=KEY) as server:
        config = write_batch(tmp_path, server, 5, wrong={3})
        out, _ = make_data(config).communicate(timeout=120)
    lines = out.strip().splitlines()
    assert lines[0].startswith("Making data: recipe answer, teacher teacher @ http://127.0.0.1:")
    assert any("5/5 requests" in line for line in lines)
    assert lines[-1] == "kept 4 rows, dropped 1 (disagrees with the known answer: 1)"
    assert not [p for p in tmp_path.iterdir() if KEY.encode() in p.read_bytes()]
    assert KEY not in out


@pytest.mark.slow
def test_a_killed_batch_resumes_with_no_row_lost_and_none_repeated(tmp_path):
    with TeacherServer(answer, key=KEY, delay_s=0.3) as server:
        config = write_batch(tmp_path, server, 24)
        first = make_data(config, start_new_session=True)
        try:
            wait_for(lambda: len(rows_in(tmp_path / "made.jsonl")) >= 6 or first.poll() is not None, timeout=120)
        finally:
            os.killpg(first.pid, signal.SIGKILL)  # no chance to tidy up: as a crash or a power cut
            first.communicate()
        before = rows_in(tmp_path / "made.jsonl")
        out, _ = make_data(config).communicate(timeout=120)
    after = rows_in(tmp_path / "made.jsonl")
    assert 6 <= len(before) < 24, "the kill came mid-batch"
    assert after[:len(before)] == before  # nothing lost or rewritten
    items = [row["made_by"]["item"] for row in after]
    assert sorted(items) == sorted(f"q:{n}" for n in range(24)) and len(items) == len(set(items))  # none repeated
    assert f"Resuming: {len(before)} requests already done, {len(before)} rows kept." in out
    assert out.strip().splitlines()[-1] == "kept 24 rows, dropped 0 (-)"
