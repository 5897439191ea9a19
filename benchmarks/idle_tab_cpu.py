"""What does an open studio tab cost the machine when nothing trains?

    python benchmarks/idle_tab_cpu.py                   one minute, after a 20 s warm-up
    python benchmarks/idle_tab_cpu.py --seconds 120     a longer window
    python benchmarks/idle_tab_cpu.py --tab train       with the Train tab shown instead of Quick start

Starts the studio (launch.py on 127.0.0.1, a free port, a temporary runs folder with no run in it), opens it in
headless Chromium (Debian's chromium, driven by Playwright, as the browser tests do), waits for the page to settle,
then counts the CPU seconds (user + system) that the studio's process and the browser's processes use over the
window. Prints each as CPU seconds per minute of wall time: 60 would be one core busy all the time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.webui.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, free_port, studio_server  # noqa: E402


def cpu_seconds(processes: dict[int, psutil.Process]) -> dict[int, float]:
    """user + system seconds of each process still alive."""
    out = {}
    for pid, process in processes.items():
        try:
            times = process.cpu_times()
            out[pid] = times.user + times.system
        except psutil.Error:  # ended in between: its last seconds are lost, a renderer rarely ends while idle
            pass
    return out


def tree(root: psutil.Process) -> dict[int, psutil.Process]:
    try:
        return {p.pid: p for p in [root, *root.children(recursive=True)]}
    except psutil.Error:
        return {}


def used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def measure(seconds: float, warm_up: float, tab: str) -> dict:
    from playwright.sync_api import sync_playwright

    me = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="idle-tab-") as tmp, \
            studio_server(Path(tmp) / "runs", free_port()) as url, sync_playwright() as playwright:
        server = next(p for p in me.children() if "launch.py" in " ".join(p.cmdline()))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT, locale="en-US")
        page.goto(url)
        page.locator("#studio-tabs").wait_for()
        if tab != "quick":
            page.get_by_role("tab").nth(("quick", "data", "model", "settings", "train").index(tab)).click()
        time.sleep(warm_up)
        others = lambda: {pid: p for pid, p in tree(me).items() if "chrom" in p.name()}  # noqa: E731 (not the driver)
        server_before, browser_before = cpu_seconds(tree(server)), cpu_seconds(others())
        started = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - started
        server_after, browser_after = cpu_seconds(tree(server)), cpu_seconds(others())
        browser.close()
    per_minute = 60.0 / wall
    return {"wall_s": wall, "studio_cpu_s_per_min": used(server_before, server_after) * per_minute,
            "browser_cpu_s_per_min": used(browser_before, browser_after) * per_minute}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warm-up", type=float, default=20.0)
    parser.add_argument("--tab", default="quick", choices=("quick", "data", "model", "settings", "train"))
    args = parser.parse_args()
    figures = measure(args.seconds, args.warm_up, args.tab)
    print(f"idle studio tab ({args.tab}), {figures['wall_s']:.0f} s: studio process "
          f"{figures['studio_cpu_s_per_min']:.1f} CPU s/min, browser {figures['browser_cpu_s_per_min']:.1f} CPU s/min "
          f"(load average {psutil.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
