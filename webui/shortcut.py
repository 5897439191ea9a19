"""The studio in the desktop's application menu: `launch.py install-shortcut` and `launch.py remove-shortcut`.

Linux: a freedesktop `.desktop` entry in $XDG_DATA_HOME/applications (~/.local/share by default) and the icon beside
it in the hicolor theme. Windows: a Start-menu shortcut (.lnk) made by PowerShell's WScript.Shell. Both start the
studio with the Python that installed them (the project's own .venv), so the menu needs no activated environment.
Nothing here imports gradio: the verbs run before and without the studio.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from core.catalogue.message import say

APP_ROOT = Path(__file__).resolve().parent.parent
APP_ID = "finetune-studio"
APP_NAME = "Finetune Studio"
ICON_PNG = APP_ROOT / "assets" / "icon.png"
ICON_ICO = APP_ROOT / "assets" / "icon.ico"
LAUNCHER = APP_ROOT / "launch.py"
# Characters that make the Desktop Entry spec want an argument of Exec in double quotes.
RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def add_shortcut_arguments(verbs) -> None:
    """The two verbs, registered in launch.py's build_parser."""
    install = verbs.add_parser("install-shortcut", help="add the studio to the desktop's application menu (Linux: a "
                               ".desktop entry; Windows: a Start-menu shortcut)")
    install.set_defaults(run=lambda args, usage_error: install_shortcut())
    remove = verbs.add_parser("remove-shortcut", help="take the studio's shortcut out of the application menu")
    remove.set_defaults(run=lambda args, usage_error: remove_shortcut())


def install_shortcut(system: str | None = None) -> int:
    system = system or platform.system()
    if system == "Linux":
        path = install_desktop_entry()
    elif system == "Windows":
        try:
            path = install_start_menu_link()
        except (OSError, subprocess.CalledProcessError) as err:
            print(say("desktop.shortcut.failed", reason=err), file=sys.stderr)
            return 1
    else:
        print(say("desktop.shortcut.unsupported", system=system, command=start_command()))
        return 1
    print(say("desktop.shortcut.installed", path=path, python=sys.executable, launcher=LAUNCHER))
    return 0


def remove_shortcut(system: str | None = None) -> int:
    system = system or platform.system()
    if system == "Linux":
        paths = [applications_dir() / f"{APP_ID}.desktop", icon_path()]
    elif system == "Windows":
        paths = [start_menu_link()]
    else:
        print(say("desktop.shortcut.unsupported", system=system, command=start_command()))
        return 1
    removed = [path for path in paths if path.exists()]
    for path in removed:
        path.unlink()
    if system == "Linux":
        refresh_menu()
    print(say("desktop.shortcut.removed", path=paths[0]) if removed else say("desktop.shortcut.none", path=paths[0]))
    return 0


def start_command() -> str:
    return f"{sys.executable} {LAUNCHER}"


# ---- Linux: a freedesktop .desktop entry -----------------------------------------------------------------------

def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def applications_dir() -> Path:
    return data_home() / "applications"


def icon_path() -> Path:
    return data_home() / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png"


def install_desktop_entry() -> Path:
    entry = applications_dir() / f"{APP_ID}.desktop"
    entry.parent.mkdir(parents=True, exist_ok=True)
    icon_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ICON_PNG, icon_path())
    entry.write_text(desktop_entry(sys.executable, LAUNCHER), encoding="utf-8")
    entry.chmod(0o755)  # some desktops (GNOME's Files) only start an entry marked executable
    refresh_menu()
    return entry


def desktop_entry(python: str | Path, launcher: str | Path) -> str:
    """The entry's text. Icon names the theme icon installed beside it; Path makes `runs/` the project's own."""
    english, chinese = say("desktop.shortcut.comment", lang="en"), say("desktop.shortcut.comment", lang="zh")
    command = " ".join(exec_argument(str(part)) for part in (python, launcher))
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        f"Name={APP_NAME}",
        f"Comment={english}",
        f"Comment[zh_CN]={chinese}",
        f"Exec={command}",
        f"Path={str(Path(launcher).parent).replace(chr(92), chr(92) * 2)}",  # a string value: backslashes doubled
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Development;",
        "Keywords=LoRA;fine-tune;LLM;training;",
        "StartupNotify=true",
        f"StartupWMClass={APP_NAME}",
        "",
    ])


def exec_argument(argument: str) -> str:
    """One argument of Exec as the Desktop Entry spec wants it: quoted when it holds a reserved character, with `"`,
    `` ` ``, `$` and `\\` escaped inside the quotes, then every backslash doubled again for the key file itself, and
    `%` doubled (a lone % starts a field code). A project folder named 'My Models' must still start."""
    argument = argument.replace("%", "%%")
    if RESERVED & set(argument):
        for char in ("\\", '"', "`", "$"):
            argument = argument.replace(char, "\\" + char)
        argument = f'"{argument}"'
    return argument.replace("\\", "\\\\")


def refresh_menu() -> None:
    """Tell the desktop its menu changed, where the tool for it exists (most desktops also notice by themselves)."""
    tool = shutil.which("update-desktop-database")
    if tool:
        subprocess.run([tool, str(applications_dir())], check=False, capture_output=True)


# ---- Windows: a Start-menu shortcut --------------------------------------------------------------------------

def start_menu_link() -> Path:
    return Path(os.environ.get("APPDATA", Path.home())) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / \
        f"{APP_NAME}.lnk"


def windowless_python(python: str | Path) -> Path:
    """pythonw.exe beside python.exe starts without a console window; keep python.exe if there is none."""
    python = Path(python)
    quiet = python.with_name("pythonw.exe")
    return quiet if quiet.exists() else python


def link_script(link: Path, python: Path, launcher: Path, icon: Path) -> str:
    """The PowerShell that makes the .lnk (no Python package needed); single quotes doubled for PowerShell."""
    def quoted(value) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    return "; ".join([
        "$shell = New-Object -ComObject WScript.Shell",
        f"$link = $shell.CreateShortcut({quoted(link)})",
        f"$link.TargetPath = {quoted(python)}",
        f"$link.Arguments = {quoted(chr(34) + str(launcher) + chr(34))}",
        f"$link.WorkingDirectory = {quoted(launcher.parent)}",
        f"$link.IconLocation = {quoted(icon)}",
        f"$link.Description = {quoted(say('desktop.shortcut.comment'))}",
        "$link.Save()",
    ])


def install_start_menu_link() -> Path:
    link = start_menu_link()
    link.parent.mkdir(parents=True, exist_ok=True)
    script = link_script(link, windowless_python(sys.executable), LAUNCHER, ICON_ICO)
    subprocess.run(["powershell", "-NoProfile", "-ExecutionPolicy", "Bypass", "-Command", script], check=True,
                   capture_output=True, text=True)
    return link
