"""The queue in a real browser: while a run trains, Start reads "Add to queue" and the run is listed; the studio is
killed (SIGKILL, the studio and its run's process) and started again as a user starts it; the page and `launch.py
queue` say the queue waits for the interrupted run, nothing starts behind it, and Skip trains the queued one.

Screenshots go to test-artifacts/screenshots/queue-*.png.
"""

import os
import signal

import pytest

from core.runs import Run
from core.training.queue import RunQueue
from tests.conftest import wait_for
from tests.test_cli import launch
from tests.webui.browser import browser, page, screenshot, set_dropdown_text, set_number  # noqa: F401
from tests.webui.served import launched

TIMEOUT = 90_000  # ms; the first load of a page imports the engine
QUEUE_LISTS_AFTER = "document.querySelector('#queue-table').innerText.includes('after')"


def kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.slow
def test_add_to_queue_then_restart_then_skip(page, tmp_path, tiny_config, tiny_model):  # noqa: F811
    page.set_default_timeout(TIMEOUT)
    runs = tmp_path / "runs"
    tiny_config.name, tiny_config.train.max_steps = "long", 5000  # still training when the studio is killed
    RunQueue(runs).add(tiny_config)
    long = Run(runs / "long")
    try:
        with launched(tmp_path) as studio:  # it starts the queued run
            page.goto(studio.url)
            page.get_by_role("tab", name="2. Model and hardware").click()
            set_dropdown_text(page, "opt-model-source", tiny_model)
            page.get_by_role("tab", name="3. LoRA and training").click()
            set_number(page, "opt-train-max-steps", 2)
            box = page.locator("#opt-name input, #opt-name textarea").first
            box.fill("after")
            box.press("Tab")
            page.get_by_role("tab", name="4. Train").click()
            page.locator("#start-training").get_by_text("Add to queue").wait_for()
            page.locator("#start-training").click()
            page.locator("#train-notice").get_by_text("Added after to the queue (number 1)").wait_for()
            page.wait_for_function(QUEUE_LISTS_AFTER)
            screenshot(page, "queue-added")
            wait_for(lambda: long.status().get("step", 0) >= 1, timeout=240)
            kill(long.status()["worker_pid"])
            kill(studio.proc.pid)
            studio.proc.wait(30)

        with launched(tmp_path) as studio:
            page.goto(studio.url)
            page.get_by_role("tab", name="4. Train").click()
            held = page.locator("#queue-held")
            held.get_by_text("The queue waits.").wait_for()
            assert "long" in held.inner_text()
            page.wait_for_function(QUEUE_LISTS_AFTER)
            listed = launch("queue", "--runs-dir", runs).stdout  # the command line reads the same queue file
            assert listed.startswith("The queue waits for run long, interrupted when the studio stopped"), listed
            assert " after " in listed.splitlines()[2]
            assert not (runs / "after").exists()  # nothing started behind the interrupted run
            screenshot(page, "queue-held")
            page.locator("#queue-skip").click()
            page.locator("#train-notice").get_by_text("Skipped long").wait_for()
            page.locator("#run-status").get_by_text("after").wait_for()
            page.locator("#run-status .state-completed").wait_for(timeout=300_000)
            page.locator("#queue-panel").get_by_text("No run is queued").wait_for()
            assert not held.get_by_text("The queue waits.").is_visible()
            screenshot(page, "queue-done")
    except Exception:
        screenshot(page, "queue-failure")
        raise
    assert long.status()["state"] == "interrupted" and RunQueue(runs).entries() == []
