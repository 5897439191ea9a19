"""The Evaluate tab in a real browser: score base vs tuned on a test file, then export and check the result.

Uses the shared tiny "I am Nova." run, copied into the studio's runs folder. Screenshots go to
test-artifacts/screenshots/.
"""

import contextlib
import io
import json
import shutil
import zipfile
from urllib.parse import unquote
from urllib.request import urlopen

from tests.webui.browser import browser, free_port, page, screenshot, studio_server  # noqa: F401

TIMEOUT = 60_000  # ms


@contextlib.contextmanager
def screenshot_on_failure(page):
    try:
        yield
    except Exception:
        screenshot(page, "evaluate-failure")
        raise


def test_evaluate_and_export_in_the_browser(page, tmp_path, nova_run):
    runs = tmp_path / "runs"
    shutil.copytree(nova_run.path, runs / "nova-run")
    test_file = tmp_path / "test.jsonl"
    rows = [("Who are you?", "I am Nova."), ("What is 2+2?", "The answer is: 4")]
    test_file.write_text("\n".join(json.dumps({"instruction": q, "output": a}) for q, a in rows), encoding="utf-8")

    page.set_default_timeout(TIMEOUT)
    with studio_server(runs, free_port()) as url, screenshot_on_failure(page):
        page.goto(url)
        page.get_by_role("tab", name="6. Evaluate and export").click()
        page.wait_for_function("document.querySelector('#eval-run input').value === 'nova-run'")
        page.locator("#eval-file input[type=file]").set_input_files(str(test_file))
        # Gradio shows a file's name as two spans, "test" and ".jsonl", sometimes with a space between them: the name
        # is looked for with spaces ignored (get_by_text("test.jsonl") missed it in 2 of 21 uploads under load).
        page.wait_for_function("document.querySelector('#eval-file').textContent.replace(/\\s/g, '')"
                               ".includes('test.jsonl')")
        box = page.locator("#eval-max-new-tokens input").first
        box.fill("16")
        box.press("Tab")
        page.locator("#eval-start").click()

        page.locator("#eval-notice").get_by_text("base 0/2, tuned 1/2 (1 fixed, 0 broken)").wait_for()
        assert "key words" in page.locator("#eval-notice").inner_text()  # the plain-words headline comes first
        page.wait_for_function("document.querySelector('#eval-summary').innerText.includes('50.0% (1/2)')")
        assert "perplexity" in page.locator("#eval-summary").inner_text()
        page.wait_for_function("document.querySelector('#eval-changed').innerText.includes('fixed')")
        assert "I am Nova" in page.locator("#eval-changed").inner_text()
        screenshot(page, "6-evaluate")

        page.locator("#export-merged").click()
        page.locator("#export-notice").get_by_text("Export check passed").wait_for()
        page.wait_for_function("document.querySelector('#export-check').innerText.includes('I am Nova.')")
        assert "NO" not in page.locator("#export-check").inner_text()
        page.locator("#export-zip").click()
        page.locator("#export-zip-file").get_by_text(".zip").first.wait_for()
        page.locator("#export-merged-zip").get_by_text(".zip").first.wait_for()
        screenshot(page, "6-export")
        downloads = {elem: page.locator(f"#{elem} a[href*='file=']").first.get_attribute("href")
                     for elem in ("export-zip-file", "export-merged-zip")}

        # llama.cpp's converter refuses the tiny model's home-made tokenizer: said plainly, nothing offered
        page.locator("#export-gguf").click()
        page.locator("#export-notice").get_by_text("does not recognise this model's tokenizer").wait_for()
        assert not page.locator("#export-send-ollama").is_visible()

        # The links download the files from the exports folder itself (not a copy in Gradio's cache).
        for elem, href in downloads.items():
            link = href if href.startswith("http") else url.rstrip("/") + href
            assert str(tmp_path / "exports") in unquote(link), link
            with urlopen(link, timeout=60) as response:
                served = response.read()
            pattern = "*-adapter-*.zip" if elem == "export-zip-file" else "*-merged-*.zip"
            kept = next((tmp_path / "exports").glob(pattern))
            assert served == kept.read_bytes() and zipfile.ZipFile(io.BytesIO(served)).testzip() is None

    # The merged model is kept once, as the zip offered (its folder goes once packed: not 2 x the model's size).
    assert not [p for p in (tmp_path / "exports").glob("nova-run-merged-*") if p.is_dir()]
    packed = zipfile.ZipFile(next((tmp_path / "exports").glob("nova-run-merged-*.zip")))
    folder = packed.namelist()[0].split("/")[0]
    assert {f"{folder}/README.md", f"{folder}/Modelfile"} <= set(packed.namelist())
    card = packed.read(f"{folder}/README.md").decode("utf-8")
    assert "| exact match | 0.000 | 0.500 |" in card  # the evaluation just run is in the card
