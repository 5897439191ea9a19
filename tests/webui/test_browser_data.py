"""The Data tab in a real browser: upload a file with a too-long row and duplicates, see the warnings, step through
the warned rows, and see which tokens are trained. Saves test-artifacts/screenshots/data-tab.png.
"""

import contextlib
import json

from tests.webui.browser import browser, free_port, page, page_errors, screenshot, studio_server  # noqa: F401

TIMEOUT = 60_000  # ms; the first load of a page imports the engine


@contextlib.contextmanager
def screenshot_on_failure(page):
    try:
        yield
    except Exception:
        screenshot(page, "data-tab-failure")
        raise


def text_of(page, selector):
    return page.locator(selector).inner_text()


def wait_text(page, selector, text):
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)", arg=[selector, text])


def test_warned_rows_are_one_click_away(page, tmp_path, tiny_model):
    data = tmp_path / "support.jsonl"
    rows = [{"instruction": f"Question number {i}?", "output": f"Answer number {i}."} for i in range(5)]
    rows.insert(2, rows[0])  # line 3 repeats line 1
    rows.insert(4, rows[1])  # line 5 repeats line 2
    rows.append({"instruction": "Tell me everything. " * 350, "output": "Everything."})  # line 8: too long
    rows.append({"instruction": "Unanswered?", "output": ""})  # line 9 cannot be used
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    german = tmp_path / "fragen.jsonl"
    german.write_text('{"frage": "Wer bist du?", "antwort": "Ich bin {{name}}."}\n'
                      '{"frage": "Wie heisst du?", "antwort": "{{name}}."}\n', encoding="utf-8")

    page.set_default_timeout(TIMEOUT)
    with studio_server(tmp_path / "runs", free_port()) as url, screenshot_on_failure(page):
        errors = page_errors(page)
        page.goto(url)
        page.get_by_role("tab", name="1. Data").click()  # the page opens on Quick start
        page.locator("#data-summary").get_by_text("104 usable rows of 104").wait_for()
        page.get_by_role("tab", name="2. Model and hardware").click()  # the tiny model's tokenizer: nothing downloads
        box = page.locator("#opt-model-source input").first
        box.click()
        box.fill(str(tiny_model))
        box.press("Enter")
        page.get_by_role("tab", name="1. Data").click()

        page.locator("#data-upload input[type=file]").set_input_files(str(data))
        wait_text(page, "#data-summary", "8 usable rows of 9")
        assert "alpaca" in text_of(page, "#data-summary")
        wait_text(page, "#data-warnings", "longer than max length 1024")
        warnings = text_of(page, "#data-warnings")
        assert "line 8" in warnings and "line 3, line 5" in warnings
        wait_text(page, "#data-stats", "training rows")
        page.locator("#data-lengths .js-plotly-plot").wait_for()
        page.locator("#data-problems [role=gridcell]", has_text="line 9").click()  # the skipped row as in the file
        page.wait_for_function("document.querySelector('#data-raw textarea').value.includes('Unanswered?')")

        # One click shows the too-long row, its end struck out as cut.
        page.locator("#data-filter").get_by_text("Too long: 1 row").click()
        wait_text(page, "#data-position", "line 8")
        wait_text(page, "#data-example", "cut (beyond max length 1,024")
        assert page.locator("#data-example .tok-cut").count() > 0

        # The duplicates, stepped through with Next.
        page.locator("#data-filter").get_by_text("Duplicates: 2 rows").click()
        wait_text(page, "#data-position", "line 3")
        assert "1 of 2 rows with this warning" in text_of(page, "#data-position")
        page.locator("#data-next").click()
        wait_text(page, "#data-position", "line 5")
        wait_text(page, "#data-example", "Answer number 1.")
        trained = page.locator("#data-example .token-text .tok-trained")
        assert trained.count() > 0
        assert "Answer" in "".join(trained.all_inner_texts())  # the answer carries loss ...
        masked = "".join(page.locator("#data-example .token-text .tok-masked").all_inner_texts())
        assert "Question number 1?" in masked  # ... the question does not
        counts = text_of(page, "#data-example .token-counts")
        assert "tokens," in counts and "trained" in counts
        screenshot(page, "data-tab")

        # A file whose columns have other names: the mapping opens, two picks make it usable, and its
        # placeholder gets a field whose value reaches the example.
        page.locator("#data-upload button[aria-label='Clear']").first.click()
        page.locator("#data-upload input[type=file]").set_input_files(str(german))
        wait_text(page, "#data-summary", "Cannot use this file.")
        assert "frage, antwort" in text_of(page, "#data-summary")
        pick(page, "data-map-prompt", "frage")
        pick(page, "data-map-completion", "antwort")
        wait_text(page, "#data-summary", "prompt_completion · 2 usable rows of 2")
        assert "{prompt: frage, completion: antwort}" in page.locator("#opt-data-columns textarea").input_value()
        slot = page.locator("#data-placeholder-0")
        slot.get_by_text("{{name}} (in 2 rows)").wait_for()
        slot.locator("textarea").fill("Nova")
        slot.locator("textarea").press("Enter")
        wait_text(page, "#data-example", "Ich bin Nova.")
        assert "{name: Nova}" in page.locator("#opt-data-placeholders textarea").input_value()
        screenshot(page, "data-tab-mapping")
        print("\n".join(errors))
        assert not [e for e in errors if e.startswith("pageerror")], errors


def pick(page, elem_id, option):
    page.locator(f"#{elem_id} input").first.click()
    page.get_by_role("option", name=option, exact=True).click()
