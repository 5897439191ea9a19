"""The sweep in a real browser: the Sweep panel lists the runs three typed learning rates would queue, and Compare
runs, opened on a finished sweep, selects its runs, ranks them and names the best by held-out loss.

Screenshots go to test-artifacts/screenshots/sweep-*.png.
"""

from tests.results.test_compare import three_rates
from tests.webui.browser import browser, page, screenshot  # noqa: F401
from tests.webui.served import launched

TIMEOUT = 90_000  # ms; the first load of a page imports the engine


def test_the_sweep_panel_plans_and_compare_runs_names_the_best(page, tmp_path):  # noqa: F811
    page.set_default_timeout(TIMEOUT)
    three_rates(tmp_path / "runs")
    try:
        with launched(tmp_path) as studio:
            page.goto(studio.url)
            page.get_by_role("tab", name="4. Train").click()
            page.locator("#sweep-box").get_by_text("Sweep: one run per value").click()
            box = page.locator("#sweep-values textarea, #sweep-values input").first
            box.fill("1e-4, 3e-4, 1e-3")
            box.press("Enter")
            plan = page.locator("#sweep-plan")
            plan.get_by_text("3 runs, the settings of the form with train.learning_rate = 1e-4, 3e-4, "
                             "1e-3").wait_for()
            assert "my-run-lr1e-4, my-run-lr3e-4, my-run-lr1e-3" in plan.inner_text()
            page.locator("#sweep-queue").get_by_text("Queue 3 runs").wait_for()
            screenshot(page, "sweep-panel")

            page.locator("#compare-box").get_by_text("Compare runs").first.click()
            page.locator("#compare-sweep input").first.click()
            page.get_by_role("option", name="demo").click()
            page.locator("#compare-best").get_by_text("Best by held-out loss: demo-lr3e-4 (1.1000)").wait_for()
            results = page.locator("#compare-results")
            page.wait_for_function("document.querySelector('#compare-results').innerText"
                                   ".includes('I am Nova, made by Lumen Labs.')")  # the best run's probe answer
            assert results.inner_text().index("demo-lr3e-4") < results.inner_text().index("demo-lr1e-4")
            screenshot(page, "sweep-compared")
    except Exception:
        screenshot(page, "sweep-failure")
        raise
