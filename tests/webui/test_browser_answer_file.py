"""'Answer a test file' in a real browser: the section on the Evaluate tab answers every row, shows the first rows
and offers the submission file for download.

Uses the shared tiny "I am Nova." run, copied into the studio's runs folder.
"""

import json
import shutil
from urllib.request import urlopen

from tests.webui.browser import browser, free_port, page, screenshot, studio_server  # noqa: F401

TIMEOUT = 60_000  # ms
# The answering has ended, well or not, once the notice says something that is no progress line (those start with ⏳).
# Waiting for that rather than for the success line shows a failure's own words at once: CI once waited out the 60 s
# while the notice said "It stopped unexpectedly".
ENDED = """() => { const shown = document.querySelector('#answers-notice [data-testid="markdown"]');
  const text = shown ? shown.innerText.trim() : ''; return text !== '' && !text.startsWith('⏳'); }"""


def test_answer_a_test_file_in_the_browser(page, tmp_path, nova_run):
    runs = tmp_path / "runs"
    shutil.copytree(nova_run.path, runs / "nova-run")
    test_file = tmp_path / "contest.jsonl"
    test_file.write_text("".join(json.dumps({"id": f"q{i}", "question": "Who are you?"}) + "\n" for i in (1, 2)),
                         encoding="utf-8")

    page.set_default_timeout(TIMEOUT)
    with studio_server(runs, free_port()) as url:
        try:
            page.goto(url)
            page.get_by_role("tab", name="6. Evaluate and export").click()
            page.wait_for_function("document.querySelector('#eval-run input').value === 'nova-run'")
            page.get_by_text("Answer a test file (no reference answers needed)").click()
            page.locator("#answers-file input[type=file]").set_input_files(str(test_file))
            page.wait_for_function("document.querySelector('#answers-file').textContent.replace(/\\s/g, '')"
                                   ".includes('contest.jsonl')")
            for elem, value in (("answers-pattern", r"I am (\w+)"), ("answers-max-new-tokens", "16")):
                box = page.locator(f"#{elem} textarea, #{elem} input").first
                box.fill(value)
                box.press("Tab")
            page.locator("#answers-start").click()

            page.wait_for_function(ENDED)
            notice = page.locator("#answers-notice").inner_text()
            assert "Every row got an answer." in notice, notice
            page.wait_for_function("document.querySelector('#answers-rows').innerText.includes('Nova: 1')")
            screenshot(page, "6-answer-file")
            href = page.locator("#answers-csv a[href*='file=']").first.get_attribute("href")
        except Exception:
            screenshot(page, "answer-file-failure")
            raise
        with urlopen(href if href.startswith("http") else url.rstrip("/") + href, timeout=60) as response:
            assert response.read().decode("utf-8").splitlines() == ["id,answer", "q1,Nova", "q2,Nova"]
    assert (runs / "nova-run" / "answers" / "contest.csv").exists()
