"""The export panel's "Send to Ollama": offered only where the `ollama` command is on the PATH, and what it runs.

Ollama is not installed on the machines this is built on, so the command it runs is shown with a stand-in
executable named `ollama` that records its arguments and folder; Ollama itself is not run here.
"""

import os
import stat

import pytest

from core.results.ollama import OLLAMA_TEST_PROMPT, OllamaError, ollama_commands, send_to_ollama
from webui.export_panel import ollama_offer

RECORDER = """#!/bin/sh
echo "$PWD|$*" >> "$(dirname "$0")/calls.log"
if [ "$1" = "create" ] && [ -n "$FAIL_CREATE" ]; then echo "Error: invalid model file" >&2; exit 1; fi
if [ "$1" = "run" ]; then echo "I am Nova."; fi
"""


@pytest.fixture
def recorder(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    tool = folder / "ollama"
    tool.write_text(RECORDER)
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_send_to_ollama_is_offered_only_where_ollama_is_on_the_path(tmp_path, monkeypatch, recorder):
    assert ollama_offer()["visible"] is True
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert ollama_offer()["visible"] is False


def test_the_commands_it_runs(recorder, tmp_path):
    assert ollama_commands("Nova Run!", "nova.Modelfile") == [
        ["ollama", "create", "nova-run", "-f", "nova.Modelfile"], ["ollama", "run", "nova-run", OLLAMA_TEST_PROMPT]]
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "nova.Modelfile").write_text("FROM ./nova.gguf\n")
    assert send_to_ollama("nova-run", str(exports / "nova.Modelfile")) == "I am Nova."
    calls = (recorder / "calls.log").read_text().splitlines()
    # Run from the Modelfile's folder, so its FROM ./nova.gguf finds the file.
    assert calls == [f"{exports}|create nova-run -f nova.Modelfile", f"{exports}|run nova-run {OLLAMA_TEST_PROMPT}"]


def test_an_ollama_failure_is_reported_with_its_words(recorder, tmp_path, monkeypatch):
    monkeypatch.setenv("FAIL_CREATE", "1")
    (tmp_path / "x.Modelfile").write_text("FROM ./x.gguf\n")
    with pytest.raises(OllamaError, match="ollama create nova-run` failed: Error: invalid model file"):
        send_to_ollama("nova-run", str(tmp_path / "x.Modelfile"))
