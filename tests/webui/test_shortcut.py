"""The studio in the desktop's menu (webui/shortcut.py, `launch.py install-shortcut` / `remove-shortcut`): the Linux
entry is made in a temporary XDG_DATA_HOME (never the real one), checked with desktop-file-validate where it is
installed (else read as a key file), and its Exec line really starts launch.py with the project's Python."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from webui import shortcut

ROOT = Path(__file__).resolve().parents[2]


def launch(*args: str, data_home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_DATA_HOME=str(data_home))
    return subprocess.run([sys.executable, str(ROOT / "launch.py"), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive in a desktop entry
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def validate(path: Path) -> None:
    """desktop-file-validate when present (CI installs desktop-file-utils); the keys the menu needs otherwise."""
    tool = shutil.which("desktop-file-validate")
    if tool:
        checked = subprocess.run([tool, str(path)], capture_output=True, text=True)
        assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr
    entry = read_entry(path)
    for key in ("Type", "Name", "Exec", "Icon", "Categories"):
        assert entry.get(key), f"{key} missing from {path}"


def exec_arguments(line: str) -> list[str]:
    """Exec's arguments as a desktop reads them: the key file's escapes first (\\\\ is one backslash), then the
    spec's quoting (inside double quotes a backslash escapes the next character), then %% as %."""
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r"}
    text = re.sub(r"\\(.)", lambda found: escapes.get(found.group(1), found.group(1)), line)
    arguments, current, quoted, at = [], "", False, 0
    while at < len(text):
        char = text[at]
        if quoted and char == "\\":
            current, at = current + text[at + 1], at + 2
            continue
        if char == '"':
            quoted = not quoted
        elif char == " " and not quoted:
            arguments, current = arguments + [current], ""
        else:
            current += char
        at += 1
    return [argument.replace("%%", "%") for argument in arguments + [current]]


def test_install_validates_starts_the_projects_python_and_remove_takes_it_away(tmp_path):
    done = launch("install-shortcut", data_home=tmp_path)
    assert done.returncode == 0, done.stderr
    entry_path = tmp_path / "applications" / "finetune-studio.desktop"
    assert f"Added Finetune Studio to the application menu: {entry_path}" in done.stdout
    validate(entry_path)
    entry = read_entry(entry_path)
    assert entry["Name"] == "Finetune Studio" and entry["Icon"] == "finetune-studio" and entry["Terminal"] == "false"
    assert entry["Comment[zh_CN]"] == "在自己的电脑上微调语言模型"
    icon = tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "finetune-studio.png"
    assert icon.read_bytes() == (ROOT / "assets" / "icon.png").read_bytes()
    python, launcher = exec_arguments(entry["Exec"])
    assert (python, launcher) == (sys.executable, str(ROOT / "launch.py"))
    started = subprocess.run([python, launcher, "--help"], capture_output=True, text=True, timeout=120,
                             cwd=entry["Path"])
    assert started.returncode == 0 and "install-shortcut" in started.stdout  # the menu's command really starts it

    removed = launch("remove-shortcut", data_home=tmp_path)
    assert removed.returncode == 0 and f"Removed the shortcut: {entry_path}" in removed.stdout
    assert not entry_path.exists() and not icon.exists()
    again = launch("remove-shortcut", data_home=tmp_path)
    assert again.returncode == 0 and "There was no shortcut to remove" in again.stdout


@pytest.mark.parametrize("folder", ["My Models", "a$b`c\\d\"e", "100% done"])
def test_a_project_folder_with_spaces_or_quotes_still_starts(folder, tmp_path):
    python = tmp_path / folder / ".venv" / "bin" / "python"
    launcher = tmp_path / folder / "launch.py"
    entry_path = tmp_path / "finetune-studio.desktop"
    entry_path.write_text(shortcut.desktop_entry(python, launcher), encoding="utf-8")
    validate(entry_path)
    assert exec_arguments(read_entry(entry_path)["Exec"]) == [str(python), str(launcher)]


def test_the_windows_shortcut_script_quotes_paths_for_powershell(tmp_path):
    """Windows itself is not tested here: the PowerShell text is, with a path holding a single quote."""
    link = Path("C:/Users/O'Brien/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Finetune Studio.lnk")
    script = shortcut.link_script(link, Path("C:/Studio/.venv/Scripts/pythonw.exe"), Path("C:/Studio/launch.py"),
                                  Path("C:/Studio/assets/icon.ico"))
    assert "CreateShortcut('C:/Users/O''Brien/" in script
    assert "$link.TargetPath = 'C:/Studio/.venv/Scripts/pythonw.exe'" in script
    assert "$link.Arguments = '\"C:/Studio/launch.py\"'" in script and script.endswith("$link.Save()")
    assert (ROOT / "assets" / "icon.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"  # an .ico, for IconLocation


def test_elsewhere_the_verb_says_how_to_start_the_studio(capsys):
    assert shortcut.install_shortcut(system="Darwin") == 1
    said = capsys.readouterr().out
    assert "on Darwin, start the studio with:" in said and "launch.py" in said
