"""The studio's own model as the teacher, for real: the tiny "I am Nova." run served by `launch.py demo` (its
OpenAI-compatible /v1 API) answering `launch.py make-data`, and the same run loaded in-process as run:NAME.

The tiny model only knows one answer, so here the answer recipe keeps rows, and the explain and JSON recipes show
that answers which miss the known answer or hold no JSON are dropped, counted, while the batch goes on. (Rows from
the JSON recipes need a teacher that writes JSON: tests/making/test_batch.py scripts one on loopback.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.making.batch import MakeDataJob, preview
from core.making.config import MakeDataConfig
from core.making.teacher import open_teacher
from tests.conftest import ROOT
from tests.webui.browser import demo_server, free_port

QUESTIONS = ['{"question": "Who are you?", "answer": "I am Nova."}', '{"question": "Who are you?", "answer": "Bob"}',
             '{"question": "Who are you?"}']


@pytest.fixture(scope="module")
def nova_api(nova_run, tmp_path_factory):
    with demo_server(nova_run.path, free_port(), tmp_path_factory.mktemp("teacher-api")) as url:
        yield url + "v1"


def batch_config(tmp_path, teacher: dict, kind: str, input_path, **recipe) -> dict:
    # One request at a time: the demo server answers one at a time, and a busy CPU makes a second one wait.
    return {"teacher": {"temperature": 0, "max_tokens": 16, "concurrency": 1, **teacher},
            "recipe": {"kind": kind, "input": str(input_path), **recipe}, "output": str(tmp_path / f"{kind}.jsonl")}


@pytest.mark.slow
def test_launch_make_data_with_the_studio_demo_as_teacher(nova_api, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    config = tmp_path / "make.yaml"
    config.write_text(json.dumps(batch_config(tmp_path, {"base_url": nova_api, "model": "nova-run"}, "answer",
                                              questions)), encoding="utf-8")  # JSON is YAML too
    done = subprocess.run([sys.executable, str(ROOT / "launch.py"), "make-data", str(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "kept 2 rows, dropped 1 (disagrees with the known answer: 1)"
    rows = [json.loads(line) for line in (tmp_path / "answer.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["output"] for r in rows] == ["I am Nova.", "I am Nova."]
    assert rows[0]["made_by"]["teacher"] == f"nova-run @ {nova_api}"


@pytest.mark.slow
def test_explain_and_test_connection_against_the_demo(nova_api, tmp_path):
    config = MakeDataConfig.from_dict(batch_config(tmp_path, {"base_url": nova_api, "model": "nova-run"}, "explain",
                                                   _file(tmp_path, "q.jsonl", QUESTIONS[:2])))
    reply, seconds = open_teacher(config.teacher).test_connection()
    assert reply and seconds < 60
    progress = MakeDataJob(config, api_key="").run()
    # The tiny model answers only "Who are you?"; the explain prompt is another question, so its explanation never
    # ends in the known answer (or is cut off at max_tokens), and such rows are dropped, counted, never kept.
    assert (progress.done, progress.kept, progress.dropped) == (2, 0, 2)
    assert set(progress.dropped_by_reason) <= {"disagrees", "cut_off"}
    # The JSON recipes: the tiny model writes no JSON (it ends at once), so each answer is dropped as malformed and
    # the batch asks a few times, then ends. (Before core/models/generate.py's fix, that empty answer hung.)
    seeds = MakeDataConfig.from_dict(batch_config(tmp_path, {"base_url": nova_api, "model": "nova-run"},
                                                  "self_instruct", _file(tmp_path, "s.txt", ["Name a colour."]),
                                                  count=1))
    progress = MakeDataJob(seeds, api_key="").run()
    assert progress.finished and progress.kept == 0 and progress.dropped_by_reason == {"malformed": progress.done}


@pytest.mark.slow
def test_a_finished_run_loaded_in_process_is_a_teacher(nova_run, tmp_path):
    config = MakeDataConfig.from_dict(batch_config(tmp_path, {"model_source": f"run:{nova_run.path.name}"}, "answer",
                                                   _file(tmp_path, "q.txt", ["Who are you?"] * 7)))
    seen = []
    rows = preview(config, runs_dir=nova_run.path.parent, progress=seen.append)
    assert [r["output"] for r in rows] == ["I am Nova."] * 5
    assert seen[-1].tokens_in > 5 * len("Who are you?".split()) and 5 <= seen[-1].tokens_out < 5 * 16
    assert rows[0]["made_by"]["teacher"] == f"run:{nova_run.path.name}"


def _file(folder, name: str, lines: list[str]):
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
