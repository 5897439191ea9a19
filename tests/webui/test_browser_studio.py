"""The studio in a real browser: upload data, train the tiny model live, reload mid-run, chat with the result.

Drives Debian's chromium through Playwright against `python launch.py` on 127.0.0.1, as a user clicks.
Screenshots of each tab go to test-artifacts/screenshots/.
"""

import contextlib
import json
import re

import pytest

from tests.webui.browser import (browser, free_port, page, screenshot, set_dropdown_text,  # noqa: F401
                                 set_number, studio_server)

TIMEOUT = 60_000  # ms; the first load of a page imports the engine


@pytest.fixture
def identity_file(tmp_path):
    path = tmp_path / "my identity.jsonl"
    rows = [{"instruction": "Who are you?", "input": "", "output": "I am Nova."}] * 24
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def screenshot_on_failure(page):
    try:
        yield
    except Exception:
        screenshot(page, "failure")
        raise


def open_tab(page, name):
    page.get_by_role("tab", name=name).click()


def status_text(page):
    return page.locator("#run-status").inner_text()


def test_first_fine_tune_in_the_browser(page, tmp_path, tiny_model, identity_file):
    page.set_default_timeout(TIMEOUT)
    with studio_server(tmp_path / "runs", free_port()) as url, screenshot_on_failure(page):
        page.goto(url)
        page.get_by_text("Finetune Studio").first.wait_for()
        open_tab(page, "1. Data")  # the page opens on Quick start

        # 1. Data: the bundled dataset shows first; upload a file, see its format and the example as trained.
        page.locator("#data-summary").get_by_text("104 usable rows of 104").wait_for()
        page.locator("#data-upload input[type=file]").set_input_files(str(identity_file))
        summary = page.locator("#data-summary")
        summary.get_by_text("24 usable rows of 24").wait_for()
        assert "alpaca" in summary.inner_text()
        page.wait_for_function("document.querySelector('#data-example').innerText.includes('I am Nova.')")
        screenshot(page, "1-data")

        # 2. Model: the tiny test model, from its folder.
        open_tab(page, "2. Model and hardware")
        set_dropdown_text(page, "opt-model-source", tiny_model)
        page.locator("#hardware-panel").get_by_text("RAM").wait_for()
        page.locator("#check-placement").click()
        page.locator("#placement-summary").get_by_text("cpu: the whole model").wait_for()
        # The GPU picker offers the CPU here, and the plan line says where the run will train and why.
        page.locator("#compute-plan").get_by_text("Runs on: CPU, single").wait_for()
        assert "no GPU chosen" in page.locator("#compute-plan").inner_text()
        screenshot(page, "2-model")

        # 3. LoRA and training: enough steps to watch it live, a rate that learns the one answer.
        open_tab(page, "3. LoRA and training")
        set_number(page, "opt-train-max-steps", 150)
        set_number(page, "opt-train-batch-size", 4)
        set_dropdown_text(page, "opt-train-learning-rate", "1e-2")
        page.locator("#save-settings").click()
        page.locator("#command-line textarea").first.wait_for()
        page.wait_for_function("document.querySelector('#command-line textarea').value.includes('launch.py train')")
        screenshot(page, "3-settings")

        # 4. Train: start, see the chart gain points, reload mid-run, see it continue to completion.
        open_tab(page, "4. Train")
        page.locator("#start-training").click()
        page.wait_for_function("document.querySelector('#run-status').innerText.includes('training')")
        page.wait_for_function(
            "(() => { const m = document.querySelector('#run-status').innerText.match(/step (\\d+)\\//);"
            " return m && Number(m[1]) >= 5; })()")
        page.locator("#loss-chart .js-plotly-plot").wait_for()
        step_before = int(re.search(r"step (\d+)/", status_text(page)).group(1))
        screenshot(page, "4-train-live")

        page.reload()
        open_tab(page, "4. Train")
        page.wait_for_function("document.querySelector('#run-status').innerText.includes('my-run')")
        page.locator("#loss-chart .js-plotly-plot").wait_for()
        assert int(re.search(r"step (\d+)/", status_text(page)).group(1)) >= step_before
        # The rest of the run is training speed, not the page: on a busy 2-core machine it takes minutes.
        page.wait_for_function("document.querySelector('#run-status').innerText.includes('completed')",
                               timeout=300_000)
        points = page.evaluate("document.querySelector('#loss-chart .js-plotly-plot').data[0].x.length")
        assert points >= 100  # the whole history, drawn after the reload
        assert "150/150" in status_text(page)
        screenshot(page, "4-train-completed")

        # 5. Chat: pick the run, ask greedily, see the streamed answer it was taught.
        open_tab(page, "5. Chat")
        page.locator("#chat-refresh").click()
        page.locator("#chat-run input").first.click()
        page.get_by_role("option", name="my-run").click()  # waits until the refreshed list offers the run
        page.wait_for_function("document.querySelector('#chat-run input').value === 'my-run'")
        set_number(page, "opt-chat-temperature", 0)
        page.locator("#chat-input textarea").fill("Who are you?")
        page.locator("#chat-send").click()
        page.locator("#chat-tuned").get_by_text("I am Nova.").wait_for()
        screenshot(page, "5-chat")


def test_settings_survive_a_reload(page, tmp_path):
    page.set_default_timeout(TIMEOUT)
    with studio_server(tmp_path / "runs", free_port()) as url, screenshot_on_failure(page):
        page.goto(url)
        open_tab(page, "3. LoRA and training")
        stored = "() => localStorage.getItem('finetune-studio-form')"
        before = page.evaluate(stored)
        set_number(page, "opt-lora-r", 32)
        # The change reaches the browser's storage (through the server, so it takes a moment on a loaded machine).
        page.wait_for_function(f"([before]) => ({stored})() !== before", arg=[before])
        page.reload()
        open_tab(page, "3. LoRA and training")
        page.wait_for_function("document.querySelector('#opt-lora-r input').value === '32'")
        # The training method shows its own options and its one-line explanation, and hides the others.
        assert page.locator("#method-text-sft").is_visible() and not page.locator("#opt-train-beta").is_visible()
        set_dropdown_text(page, "opt-train-method", "dpo")
        page.locator("#opt-train-beta").wait_for(state="visible")
        page.locator("#method-text-dpo").get_by_text("Direct preference optimization").wait_for()
        assert not page.locator("#method-text-sft").is_visible()
        assert not page.locator("#opt-train-desirable-weight").is_visible()  # kto's
        set_dropdown_text(page, "opt-train-tuning", "full")
        page.locator("#opt-lora-r").wait_for(state="hidden")
        screenshot(page, "3-settings-dpo-full")
