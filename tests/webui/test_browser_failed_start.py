"""A start that fails is seen at once, in the page's language (zh-CN and English): a file with a bad row is refused
at Start, as the Data tab and the bad-rows option say, before any run folder exists; a run that fails seconds after
it started (a model folder whose weights are missing) is followed by the Train tab, which then shows that run and
its failure in words, not the previous run, and no traceback.

Screenshots go to test-artifacts/screenshots/failed-start-*.png.
"""

import shutil

import pytest

from core.config import Config
from core.runs import Run
from tests.webui.browser import (browser, free_port, screenshot, set_dropdown_text, studio_server)  # noqa: F401

TIMEOUT = 90_000  # ms; the first load of a page imports the engine
WORDS = {  # what each language's page says (core/catalogue), by locale
    "zh-CN": {"tabs": ("1. 数据", "2. 模型与硬件", "4. 训练"), "bad_rows": "有 1 行无法使用",
              "failed": "运行 my-run 失败", "state": "失败", "no_model": "无法从"},
    "en-US": {"tabs": ("1. Data", "2. Model and hardware", "4. Train"), "bad_rows": "1 of 5 rows in",
              "failed": "Run my-run failed", "state": "failed", "no_model": "Could not load the model from"},
}
LOG_VALUE = "document.querySelector('#train-log textarea').value"


def previous_run(runs_dir):
    """A finished run, as the one the Train tab showed while the new run failed."""
    run = Run.create(runs_dir, "previous-run")
    Config.from_dict({"name": "previous-run"}).save(run.config_file)
    run.update_status(state="completed", step=4, total_steps=4, started_at=100.0, ended_at=160.0)
    run.append_metric({"step": 4, "loss": 0.7, "time": 150.0, "tokens_per_second": 2.0})
    run.log("Run previous-run started.")


def weightless_copy(model, folder):
    """The tiny model without its weights: a half-copied model folder, which only loading the weights finds out."""
    shutil.copytree(model, folder, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    return folder


def type_path(page, elem_id, value):
    box = page.locator(f"#{elem_id} textarea, #{elem_id} input").first
    box.fill(str(value))
    box.press("Tab")


@pytest.mark.slow  # a run's process starts (and fails); about a minute on a quiet CPU, 2.5 min on a busy one
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_a_failed_start_shows_at_once_on_the_new_run(browser, tmp_path, tiny_model, locale):  # noqa: F811
    words = WORDS[locale]
    data_tab, model_tab, train_tab = words["tabs"]
    previous_run(tmp_path / "runs")
    lines = [f'{{"instruction": "Question {i}?", "output": "Answer {i}."}}' for i in range(4)]
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text("\n".join(lines) + "\n")
    bad.write_text("\n".join(lines + ['{"instruction": "q", "output": 3}']) + "\n")
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    name = f"failed-start-{locale[:2]}"
    try:
        with studio_server(tmp_path / "runs", free_port()) as url:
            page.goto(url)
            page.get_by_role("tab", name=model_tab).click()
            set_dropdown_text(page, "opt-model-source", tiny_model)
            # The Data tab says what Start will do with a bad row while the option is off: refuse the file.
            page.get_by_role("tab", name=data_tab).click()
            type_path(page, "opt-data-path", bad)
            page.locator("#data-warnings").get_by_text(words["bad_rows"]).wait_for()
            page.get_by_role("tab", name=train_tab).click()
            page.locator("#run-status").get_by_text("previous-run").wait_for()
            page.locator("#start-training").click()
            page.locator("#train-notice").get_by_text(words["bad_rows"]).wait_for()
            assert not (tmp_path / "runs" / "my-run").exists()  # refused before a run folder was made
            screenshot(page, f"{name}-refused")

            # A run that passes the check and fails in its process: the tab follows it and says so in words.
            page.get_by_role("tab", name=model_tab).click()
            set_dropdown_text(page, "opt-model-source", weightless_copy(tiny_model, tmp_path / "weightless"))
            page.get_by_role("tab", name=data_tab).click()
            type_path(page, "opt-data-path", good)
            page.locator("#data-stats").wait_for()
            page.get_by_role("tab", name=train_tab).click()
            page.locator("#start-training").click()
            page.locator("#run-status").get_by_text("my-run").wait_for()
            page.locator("#run-status .state-failed").wait_for(timeout=180_000)
            page.locator("#train-notice").get_by_text(words["failed"]).wait_for()
            status = page.locator("#run-status").inner_text()
            assert "previous-run" not in status and words["state"] in status and words["no_model"] in status
            page.wait_for_function(f"{LOG_VALUE}.includes('Failed:')")
            assert "Traceback" not in page.evaluate(LOG_VALUE)
            assert "Traceback" in (tmp_path / "runs" / "my-run" / "train.log").read_text()  # kept for debugging
            screenshot(page, f"{name}-failed")
    except Exception:
        screenshot(page, f"{name}-failure")
        raise
    finally:
        context.close()
