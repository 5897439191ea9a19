"""`launch.py download`, run as a user runs it, against a hub on 127.0.0.1: the progress bar, the folder printed
last, Ctrl-C leaving a partial that the next run resumes, and then `launch.py train` on the id with no hub."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import wait_for
from tests.hub.mirror import Mirror
from tests.test_cli import ROOT


@pytest.fixture
def hub(tiny_model, tmp_path):
    mirror = Mirror().start()
    mirror.add("tiny/llama", tiny_model)
    yield mirror
    mirror.close()


def _env(tmp_path, **more) -> dict:
    """The studio's cache and the hub logins of the test's own (the user's are not touched)."""
    env = {name: value for name, value in os.environ.items() if name not in ("HF_ENDPOINT", "HF_TOKEN")}
    return {**env, "FINETUNE_STUDIO_CACHE": str(tmp_path / "cache"), "HF_HOME": str(tmp_path / "hf"),
            "MODELSCOPE_HOME": str(tmp_path / "modelscope"), **more}


def _download(*args, env):
    return subprocess.run([sys.executable, str(ROOT / "launch.py"), "download", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow
def test_download_shows_progress_and_prints_the_folder_last(hub, tmp_path):
    folder = tmp_path / "cache" / "downloads" / "huggingface" / "models" / "tiny" / "llama"
    result = _download("tiny/llama", env=_env(tmp_path, HF_ENDPOINT=hub.url))  # the usual variable is honoured

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"Downloading tiny/llama from {hub.url} ..."
    assert "406.8 KB of 406.8 KB (100%)" in lines[-2] and "/s, 0 s left" in lines[-2]
    assert lines[-1] == str(folder)
    assert (folder / "model.safetensors").is_file()

    again = _download("tiny/llama", "--endpoint", "http://127.0.0.1:9", env=_env(tmp_path))  # done: no hub needed
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == str(folder)


def test_a_bad_id_is_one_plain_line(hub, tmp_path):
    result = _download("tiny/nothing-here", "--endpoint", hub.url, env=_env(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {hub.url} has no tiny/nothing-here. Check the spelling")
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_ctrl_c_keeps_a_partial_that_the_next_download_resumes(hub, tiny_model, tmp_path):
    repo = tmp_path / "big"
    repo.mkdir()
    (repo / "config.json").write_bytes((tiny_model / "config.json").read_bytes())
    (repo / "big.bin").write_bytes(os.urandom(25 * 1024 * 1024))
    hub.add("tiny/big", repo)
    hub.bytes_per_s = 2 * 1024 * 1024  # 12 s for the whole file: Ctrl-C lands mid-file on a loaded machine too
    part = tmp_path / "cache" / "downloads" / "huggingface" / "models" / "tiny" / "big" / ".partial" / "big.bin.part"
    # Ctrl-C as in a terminal: a suite started in the background (`nohup ... &`) has SIGINT ignored, the child
    # inherits that, and Python then installs no KeyboardInterrupt at all (two CI runs downloaded the whole file).
    process = subprocess.Popen([sys.executable, str(ROOT / "launch.py"), "download", "tiny/big", "--endpoint",
                                hub.url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=_env(tmp_path), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_for(lambda: part.exists() and part.stat().st_size > 0, timeout=120)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    assert "Download stopped. What was downloaded is kept: start it again to resume" in err
    kept = part.stat().st_size
    assert 0 < kept < 25 * 1024 * 1024
    hub.bytes_per_s = None
    time.sleep(0.1)

    result = _download("tiny/big", "--endpoint", hub.url, env=_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert hub.ranges("big.bin")[-1] == f"bytes={kept}-"
    assert (tmp_path / "cache" / "downloads" / "huggingface" / "models" / "tiny" / "big" / "big.bin").stat().st_size \
        == 25 * 1024 * 1024


@pytest.mark.slow
def test_a_downloaded_id_trains_with_no_hub(hub, tiny_config, tmp_path):
    """launch.py download, then launch.py train with model.source the hub id, the hub gone and HF_HUB_OFFLINE=1."""
    assert _download("tiny/llama", "--endpoint", hub.url, env=_env(tmp_path)).returncode == 0
    hub.close()
    tiny_config.model.source = "tiny/llama"
    config_file = tmp_path / "run.yaml"
    tiny_config.save(config_file)

    result = subprocess.run([sys.executable, str(ROOT / "launch.py"), "train", str(config_file), "--runs-dir",
                             str(tmp_path / "runs")], cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env=_env(tmp_path, HF_HUB_OFFLINE="1"))

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (tmp_path / "runs" / "tiny-run" / "adapter" / "adapter_config.json").is_file()
