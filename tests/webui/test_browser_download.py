"""Picking a listed model and watching it download, in a real browser: a loopback hub (tests/hub/mirror.py) serves
the tiny test model under a curated model's id, the studio is told to use it as a Hugging Face mirror (its kept
settings, as the Settings tab writes them), and the user clicks the model's row, then Download, watches the bar,
finds the model in the base-model list, and trains it with the hub gone (the download is all the run needs)."""

from __future__ import annotations

import pytest

from tests.hub.mirror import Mirror
from tests.webui.browser import browser, free_port, page, screenshot, set_number, studio_server  # noqa: F401

TIMEOUT = 90_000  # ms; the first load imports the engine and sizes the curated models
PICKED = "Qwen/Qwen2.5-0.5B-Instruct"  # near the top: the table draws only the rows in view


@pytest.fixture
def studio_cache(tmp_path):
    """A studio cache of the test's own, holding the built-in models (linked from the user's cache, so nothing is
    fetched) and the hub settings pointing at the loopback hub."""
    from core.models import builtin

    cache = tmp_path / "cache"
    cache.mkdir()
    for entry in builtin.cache_dir().iterdir() if builtin.cache_dir().is_dir() else ():
        if entry.name not in ("downloads", "settings.json"):
            (cache / entry.name).symlink_to(entry)
    return cache


@pytest.mark.slow
@pytest.mark.browser
def test_a_listed_model_downloads_with_a_progress_bar_and_is_then_listed(page, tmp_path, tiny_model,  # noqa: F811
                                                                       studio_cache, monkeypatch):
    mirror = Mirror().start()
    mirror.add(PICKED, tiny_model)
    mirror.bytes_per_s = 40_000  # a slow link (about 10 s for the tiny model): the bar is seen part-way
    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(studio_cache))
    from core.hub import settings

    settings.save_settings(settings.HubSettings("huggingface", mirror.url))
    env = {"FINETUNE_STUDIO_CACHE": str(studio_cache), "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": ""}
    page.set_default_timeout(TIMEOUT)
    try:
        with studio_server(tmp_path / "runs", free_port(), extra_env=env) as url:
            page.goto(url)
            page.get_by_role("tab", name="2. Model and hardware").click()
            table = page.locator("#model-picker")
            table.get_by_text("Qwen/Qwen2.5-7B-Instruct").first.wait_for()
            assert "on this machine" in table.inner_text()
            page.locator("#picker-assumes").get_by_text("Estimated at batch 8 × 1024 tokens").wait_for()

            table.get_by_text(PICKED, exact=True).first.click()
            picked = page.locator("#picked-model")
            picked.get_by_text(f"Not downloaded yet: it comes from {mirror.url}").wait_for()
            assert page.locator("#opt-model-source input").first.input_value().startswith(PICKED)
            screenshot(page, "download-1-picked")

            page.locator("#download-model").click()
            page.wait_for_function("(() => { const bar = document.querySelector('#download-bar');"
                                   " return bar && bar.value > 0 && bar.value < 1; })()")
            line = page.locator("#download-line").inner_text()
            assert " of " in line and "/s" in line and "left" in line
            screenshot(page, "download-2-progress")

            page.locator("#download-status").get_by_text(f"{PICKED} downloaded:").wait_for()
            picked.get_by_text("Downloaded:").wait_for()
            source = page.locator("#opt-model-source input").first
            source.click()
            page.get_by_role("option", name=f"{PICKED} (downloaded)").click()
            screenshot(page, "download-3-listed")

            mirror.close()  # the run trains from the download alone
            page.get_by_role("tab", name="3. LoRA and training").click()
            set_number(page, "opt-train-max-steps", 3)
            page.get_by_role("tab", name="4. Train").click()
            page.locator("#start-training").click()
            page.wait_for_function("document.querySelector('#run-status').innerText.includes('completed')",
                                   timeout=300_000)
            screenshot(page, "download-4-trained")
    except Exception:
        screenshot(page, "download-failure")
        raise
    finally:
        mirror.close()
    assert (studio_cache / "downloads" / "huggingface" / "models" / PICKED / "config.json").is_file()
    trained = [run for run in (tmp_path / "runs").iterdir() if (run / "adapter").is_dir()]
    assert len(trained) == 1 and PICKED in (trained[0] / "config.yaml").read_text(encoding="utf-8")
