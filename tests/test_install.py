"""The one-command set-up (install.sh): it checks Python, disk and GPU, picks torch's build, installs the shortcut and
says what it did. Run with --skip-pip (it checks everything and says each pip command instead of running it) on the
project's own .venv, with a temporary XDG_DATA_HOME; a fake nvidia-smi stands for a GPU machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)  # the environment running the tests: what install.sh would have made


def fake_program(folder: Path, name: str, script: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    path.chmod(0o755)


def install(tmp_path: Path, *args: str, gpu: str | None = None, display: bool = False, **env: str):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    if gpu:  # stands for a workstation with an NVIDIA card and its driver
        fake_program(fake_bin, "nvidia-smi", f'echo "{gpu}"')
    # PATH without the machine's own nvidia-smi, if any: the fake decides
    path = os.pathsep.join([str(fake_bin), "/usr/local/bin", "/usr/bin", "/bin"])
    full_env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    full_env.update({"PATH": path, "XDG_DATA_HOME": str(tmp_path / "share"), "PYTHON": sys.executable, **env})
    if display:
        full_env["DISPLAY"] = ":99"
    return subprocess.run(["bash", str(ROOT / "install.sh"), "--skip-pip", "--venv", str(VENV), *args],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path, env=full_env)


def test_on_a_cpu_machine_it_takes_the_readmes_cpu_torch_and_installs_the_shortcut(tmp_path):
    done = install(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    said = done.stdout
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in said and ": good." in said
    assert "No NVIDIA GPU found: installing the CPU build of torch" in said
    assert f"Would run: {VENV}/bin/pip install torch==2.13.0 -r requirements.txt" in said
    assert "No desktop display here" in said and "requirements-desktop.txt" not in said
    assert (tmp_path / "share" / "applications" / "finetune-studio.desktop").exists()
    assert "Added Finetune Studio to the application menu" in said
    assert said.rstrip().endswith(f"To check this machine: cd {ROOT} && {VENV}/bin/python launch.py doctor")
    assert f"Start Finetune Studio from your application menu, or type:\n    cd {ROOT} && {VENV}/bin/python launch.py" \
        in said


def test_on_a_gpu_machine_pip_takes_torch_from_requirements_and_the_window_comes_along(tmp_path):
    done = install(tmp_path, gpu="NVIDIA H200", display=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "NVIDIA GPU found: NVIDIA H200. Installing torch with CUDA." in done.stdout
    assert f"Would run: {VENV}/bin/pip install -r requirements.txt" in done.stdout
    assert "torch==2.13.0" not in done.stdout
    assert f"Would run: {VENV}/bin/pip install -r requirements-desktop.txt" in done.stdout


def test_an_old_python_is_refused_with_what_to_do(tmp_path):
    fake_program(tmp_path / "old", "python3", 'case "$2" in *print*) echo 3.9 ;; *) exit 1 ;; esac')
    done = install(tmp_path, PYTHON=str(tmp_path / "old" / "python3"))
    assert done.returncode == 1
    assert "This Python is 3.9; the studio needs Python 3.10 or newer" in done.stderr
    assert not (tmp_path / "share").exists()  # nothing was installed


def test_too_little_disk_is_refused_before_anything_is_installed(tmp_path):
    done = install(tmp_path, FINETUNE_STUDIO_NEEDED_GB="1000000")
    assert done.returncode == 1
    assert "GB are free in" in done.stderr and "need about 1000000 GB" in done.stderr
    assert "Would run" not in done.stdout


def test_without_a_shortcut_it_still_says_how_to_start(tmp_path):
    done = install(tmp_path, "--no-shortcut", "--no-window")
    assert done.returncode == 0 and not (tmp_path / "share").exists()
    assert f"Start Finetune Studio by typing:\n    cd {ROOT} && {VENV}/bin/python launch.py" in done.stdout


def test_the_windows_script_takes_the_same_steps():
    """install.ps1 is not run here (no PowerShell on Linux CI): it must name the same checks and commands."""
    script = (ROOT / "install.ps1").read_text(encoding="utf-8")
    for step in ("3, 10", "torch==2.13.0", "\"requirements.txt\"", "requirements-desktop.txt", "nvidia-smi",
                 "install-shortcut", "launch.py doctor", "SkipPip"):
        assert step in script, step
