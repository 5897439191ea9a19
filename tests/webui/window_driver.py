"""Drives the studio's real window under a display (Xvfb in tests/webui/test_window.py), in a process of its own
(Qt starts once per process): `python -m tests.webui.window_driver SCENARIO PORT RUNS_DIR OUT_DIR [CONFIG.yaml]`.

It starts the studio exactly as `launch.py --window` does (webui.app.serve), with a thread that acts as the user
once the window is up, and writes what it saw to OUT_DIR/observed.json (screenshots beside it).

- idle: the page loads in a window titled "Finetune Studio"; closing it quits the studio.
- training: starts a run with the studio's own runner, closes the window and answers the dialog: Cancel (stays),
  Keep training (the window hides, the run goes on; a second `launch.py` start shows it again), Stop and save
  (the run stops at the end of its step, the adapter is saved, the studio quits).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from webui import window as desktop  # noqa: E402

DIALOG = f"#{desktop.DIALOG_ID}"


def wait_until(check, timeout: float = 120.0, every: float = 0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"waited {timeout} s for {check}")


def screenshot(out: Path, name: str) -> str:
    path = out / f"{name}.png"
    subprocess.run(["import", "-window", "root", str(path)], check=True, capture_output=True)
    return str(path)


def x_window_titles() -> list[str]:
    """The titles of the mapped top-level X windows (what a window manager would draw in the title bars)."""
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True).stdout
    return [line.split('"')[1] for line in tree.splitlines() if line.count('"') >= 2]


def shown(title: str = "Finetune Studio") -> bool:
    """Whether the X window of that title is on screen (mapped), as X itself says."""
    info = subprocess.run(["xwininfo", "-name", title], capture_output=True, text=True).stdout
    return "Map State: IsViewable" in info


def page_ready(window) -> bool:
    return bool(window.evaluate_js("!!document.querySelector('#studio-tabs')"))


def dialog_buttons(window) -> list[str]:
    found = window.evaluate_js(f"Array.from(document.querySelectorAll('{DIALOG} button')).map(b => b.dataset.choice "
                               "+ '=' + b.textContent)")
    return list(found or [])


def press(window, choice: str) -> None:
    """What a click on the dialog's button does (the page calls the window's choose() through the JS bridge)."""
    window.evaluate_js(f"document.querySelector('{DIALOG} button[data-choice={choice}]').click()")


def close_and_wait_for_dialog(studio_window) -> list[str]:
    studio_window.window.destroy()  # the same Qt close event as a click on the title bar's close button
    return wait_until(lambda: dialog_buttons(studio_window.window), timeout=30)


def idle(studio_window, out: Path, seen: dict, _config) -> None:
    wait_until(lambda: page_ready(studio_window.window))
    wait_until(lambda: studio_window.window.evaluate_js("!document.querySelector('.eta-bar, .progress-text')"),
               timeout=60)  # the Quick start's first summary has been worked out
    time.sleep(3)  # let the page paint before the picture
    seen["titles"] = x_window_titles()
    seen["on_screen"] = shown()
    seen["screenshot"] = screenshot(out, "desktop-window-idle")
    studio_window.window.destroy()  # idle: the close quits without a question


def training(studio_window, out: Path, seen: dict, config_path: str) -> None:
    from core.config import Config

    window, runner = studio_window.window, studio_window.runner
    wait_until(lambda: page_ready(window))
    run = runner.start(Config.from_yaml(config_path))
    wait_until(lambda: run.status().get("state") == "training" and run.status().get("step", 0) >= 1, timeout=240)
    seen["buttons"] = close_and_wait_for_dialog(studio_window)
    seen["dialog_screenshot"] = screenshot(out, "desktop-window-close-dialog")
    press(window, desktop.CANCEL)
    wait_until(lambda: not dialog_buttons(window), timeout=15)
    seen["after_cancel"] = {"hidden": studio_window.hidden, "training": runner.busy, "on_screen": shown()}

    window.evaluate_js("document.cookie='finetune-studio-lang=zh-CN;path=/'")  # the page switched to Chinese
    seen["buttons_zh"] = close_and_wait_for_dialog(studio_window)
    seen["dialog_zh_screenshot"] = screenshot(out, "desktop-window-close-dialog-zh")
    window.evaluate_js("document.cookie='finetune-studio-lang=en;path=/'")
    press(window, desktop.KEEP)
    wait_until(lambda: studio_window.hidden, timeout=15)
    time.sleep(1)
    seen["after_keep"] = {"hidden": studio_window.hidden, "training": runner.busy, "on_screen": shown(),
                          "step": run.status().get("step")}
    second = subprocess.run([sys.executable, str(ROOT / "launch.py"), "--window", "--port", str(seen["port"]),
                             "--runs-dir", seen["runs_dir"]], capture_output=True, text=True, timeout=120, cwd=ROOT)
    seen["second_start"] = {"code": second.returncode, "output": second.stdout + second.stderr}
    wait_until(lambda: not studio_window.hidden, timeout=15)
    seen["after_second_start"] = {"hidden": studio_window.hidden, "on_screen": shown(),
                                  "step": run.status().get("step"), "training": runner.busy}

    close_and_wait_for_dialog(studio_window)
    press(window, desktop.STOP)
    time.sleep(1)
    seen["stopping_screenshot"] = screenshot(out, "desktop-window-stopping")
    seen["run"] = str(run.path)


SCENARIOS = {"idle": idle, "training": training}


def start_window_manager() -> subprocess.Popen | None:
    """Openbox, where installed, draws the title bar (title and icon) into the screenshots; the tests need none."""
    if shutil.which("openbox") is None:
        return None
    return subprocess.Popen(["openbox", "--sm-disable"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(scenario: str, port: int, runs_dir: str, out_dir: str, config_path: str | None = None) -> int:
    from webui import app

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seen = {"port": port, "runs_dir": runs_dir}

    def act(studio_window):
        try:
            SCENARIOS[scenario](studio_window, out, seen, config_path)
        except BaseException as err:  # say what failed, then let the window go so the test sees the failure
            seen["error"] = repr(err)
            studio_window.quit()
        finally:
            (out / "observed.json").write_text(json.dumps(seen, indent=1, default=str), encoding="utf-8")

    window_manager = start_window_manager()
    opened = desktop.StudioWindow.open
    desktop.StudioWindow.open = lambda self, after=None: opened(self, act)  # the user, acting once the window is up
    code = app.serve(port=port, runs_dir=runs_dir, window=True)
    seen["exit_code"] = code
    if window_manager is not None:
        window_manager.terminate()
    (out / "observed.json").write_text(json.dumps(seen, indent=1, default=str), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], *sys.argv[5:]))
