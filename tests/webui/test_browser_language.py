"""A Chinese browser gets a Chinese studio: every tab, a short training included, shows no English sentence outside
the log and code views; the header's switch turns the whole page to English and a reload keeps it (and the tab).

Screenshots of every tab in both languages go to test-artifacts/screenshots/ (zh-*.png, en-*.png).
"""

import contextlib

from tests.webui.browser import (browser, free_port, screenshot, set_dropdown_text, set_number,  # noqa: F401
                                 studio_server)

TIMEOUT = 90_000  # ms; the first load of a page imports the engine
TABS_ZH = ["1. 数据", "2. 模型与硬件", "3. LoRA 与训练", "4. 训练", "5. 对话", "6. 评估与导出"]
TABS_EN = ["1. Data", "2. Model and hardware", "3. LoRA and training", "4. Train", "5. Chat", "6. Evaluate and export"]

# Visible text that is not a sentence to translate: names of products, models, files, options and code.
ALLOWED = ["Finetune Studio", "Lumen Labs", "Hugging Face", "LM Studio", "Mistral-Nemo-Instruct",  # names
           # the licenses' own names, as the Model tab's table lists them (core/hub/curated.py)
           "Gemma Terms of Use", "Qwen Research License", "Llama 3.1 Community License", "Llama 3.2 Community License",
           # Gradio 6.31's own fixed labels, outside its i18n tables (nothing the studio can translate)
           "Click to upload or drop files", "Download plot as", "Copy table data"]

# Three or more English words in a row, in text the user sees: the log, code, inputs' own values and the example
# (the data as the model sees it) are left out. Option keys (data.eval_path) and file names have no spaces.
FIND_ENGLISH = """(allowed) => {
  const skip = '#train-log, pre, code, textarea, input, select, .token-text, #data-preview, #probe-answers, '
             + '#chat-tuned, #chat-base, #eval-rows, #eval-changed, #export-check, #command-line, details, '
             + '#demo-examples, #demo-chat, '
             + '.hide, [style*="display: none"]';
  const words = /[A-Za-z][A-Za-z'’]+(?:[ ,:;-]+[A-Za-z][A-Za-z'’]+){2,}/g;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest(skip) || !el.checkVisibility()) continue;
    let text = node.textContent;
    for (const name of allowed) text = text.split(name).join('');
    for (const hit of text.match(words) || []) found.push(hit.trim());
  }
  return [...new Set(found)];
}"""


# What a screen reader or a pointer finds besides the text: tooltips and labels of elements (the token view's
# included), the choice a dropdown shows, and Gradio's own untranslated keys ("common.complete"), in text or labels.
FIND_UNSAID = r"""(allowed) => {
  const skip = '#train-log, pre.code, code, textarea, #data-preview, #probe-answers, #chat-tuned, #chat-base, '
             + '#eval-rows, #eval-changed, #export-check, #command-line';
  const words = /[A-Za-z][A-Za-z'’]+(?:[ ,:;-]+[A-Za-z][A-Za-z'’]+){2,}/g;
  const key = /^(common|dataframe|chatbot|status|upload_text|errors|blocks|file|dropdown|audio|image)\.[a-z_]+$/;
  const found = [];
  const look = (text, where) => {
    text = (text || '').trim();
    for (const name of allowed) text = text.split(name).join('');
    if (key.test(text)) found.push(`${where}: ${text}`);
    for (const hit of text.match(words) || []) found.push(`${where}: ${hit.trim()}`);
  };
  for (const el of document.querySelectorAll('[title], [aria-label]')) {
    if (el.closest(skip) || !el.checkVisibility()) continue;
    look(el.getAttribute('title'), 'title');
    look(el.getAttribute('aria-label'), 'aria-label');
  }
  for (const input of document.querySelectorAll('[id] input[role="listbox"]')) {
    if (input.checkVisibility()) look(input.value, `#${input.closest('[id]').id}`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    if (key.test(text)) found.push(text);
  }
  return [...new Set(found)];
}"""


SELECTED_TAB_IS = """(name) => [...document.querySelectorAll('[role=tab]')]
    .some(tab => tab.getAttribute('aria-selected') === 'true' && tab.innerText.trim() === name)"""


def english_on_screen(page) -> list[str]:
    return page.evaluate(FIND_ENGLISH, ALLOWED) + page.evaluate(FIND_UNSAID, ALLOWED)


@contextlib.contextmanager
def chinese_page(browser):  # noqa: F811
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        yield page
    except Exception:
        screenshot(page, "zh-failure")
        raise
    finally:
        context.close()


def test_a_chinese_user_sees_chinese_everywhere_and_can_switch(browser, tmp_path, tiny_model):  # noqa: F811
    with studio_server(tmp_path / "runs", free_port()) as url, chinese_page(browser) as page:
        page.goto(url)
        # A first visit opens on Quick start: three choices, and what the run will do (computed, in Chinese).
        page.locator("#quick-expected").get_by_text("划分").wait_for()
        # Dropdowns show their choices in the page's language too (gr.I18n does not reach choices): names, not
        # "default".
        page.wait_for_function("document.querySelector('#quick-model input').value === 'SmolLM2-135M-Instruct（内置）'")
        assert page.locator("#quick-sample input").first.input_value().startswith("身份演示")
        seen = {"quick": english_on_screen(page)}
        screenshot(page, "zh-0-quick")

        # Every tab before training, the tiny model chosen and a short run set up on the way.
        page.get_by_role("tab", name=TABS_ZH[1]).click()
        set_dropdown_text(page, "opt-model-source", tiny_model)
        page.locator("#hardware-panel").get_by_text("内存").wait_for()
        page.locator("#compute-plan").get_by_text("运行在：CPU，单进程").wait_for()
        seen["model"] = english_on_screen(page)
        screenshot(page, "zh-2-model")

        page.get_by_role("tab", name=TABS_ZH[0]).click()
        set_number(page, "opt-data-replay", 0)  # the tiny model's answers would take minutes
        page.locator("#data-stats").get_by_text("划分").wait_for()
        tips = page.locator("#data-example .token-text span[title]").evaluate_all("spans => spans.map(s => s.title)")
        assert tips and all("：id " in tip for tip in tips), tips[:3]  # the token tooltips, in Chinese
        seen["data"] = english_on_screen(page)
        screenshot(page, "zh-1-data")

        page.get_by_role("tab", name=TABS_ZH[2]).click()
        set_number(page, "opt-train-max-steps", 6)
        seen["settings"] = english_on_screen(page)
        screenshot(page, "zh-3-settings")

        # Go from Quick start: it starts the run as configured on the tabs and moves to the Train tab.
        page.get_by_role("tab", name="快速开始").click()
        page.locator("#quick-go").click()
        page.wait_for_function(SELECTED_TAB_IS, arg=TABS_ZH[3])
        page.locator("#run-status .state-completed").wait_for(timeout=240_000)
        page.locator("#loss-chart .js-plotly-plot").wait_for()
        assert "第 6/6 步" in page.locator("#run-status").inner_text()
        seen["train"] = english_on_screen(page)
        screenshot(page, "zh-4-train")

        page.get_by_role("tab", name=TABS_ZH[4]).click()
        page.wait_for_function("document.querySelector('#chat-run input').value === 'my-run'")
        page.locator("#chat-tuned").get_by_text("微调后：my-run").wait_for()  # the label says who answers
        seen["chat"] = english_on_screen(page)
        screenshot(page, "zh-5-chat")

        page.get_by_role("tab", name=TABS_ZH[5]).click()
        page.wait_for_function("document.querySelector('#eval-run input').value === 'my-run'")
        # An empty table says so.
        page.wait_for_function("document.querySelector('#eval-summary').innerText.includes('（暂无）')")
        # What a screen reader hears when an event ends: Gradio's "common.complete", now a word.
        page.locator("#eval-refresh").click()
        page.wait_for_function("[...document.querySelectorAll('[aria-live]')]"
                               ".some(e => e.textContent.includes('完成'))")
        seen["evaluate"] = english_on_screen(page)
        screenshot(page, "zh-6-evaluate")

        # The demo page (the Chat tab's "Open demo") describes the run in the page's language until edited.
        demo = page.context.new_page()
        demo.goto(url.rstrip("/") + "/demo?run=my-run")
        demo.locator("#demo-description").get_by_text("微调").wait_for()
        seen["demo"] = english_on_screen(demo)
        screenshot(demo, "zh-7-demo")
        demo.close()

        assert not {tab: hits for tab, hits in seen.items() if hits}, seen

        # The header's switch: the whole page turns English at once, and stays so (and on this tab) after a reload.
        page.locator("#language-switch").get_by_text("English").click()
        page.get_by_role("tab", name=TABS_EN[0]).wait_for()
        page.wait_for_function(SELECTED_TAB_IS, arg=TABS_EN[5])  # the reload kept the tab the user was on
        page.reload()
        page.get_by_role("tab", name=TABS_EN[0]).wait_for()
        page.wait_for_function(SELECTED_TAB_IS, arg=TABS_EN[5])
        page.get_by_role("tab", name="Quick start").click()
        page.locator("#quick-expected").get_by_text("Split").wait_for()
        assert page.locator("#quick-sample input").first.input_value().startswith("Identity demo: Nova")
        screenshot(page, "en-0-quick")
        for number, name in enumerate(TABS_EN):
            page.get_by_role("tab", name=name).click()
            if number == 0:
                page.locator("#data-summary").get_by_text("usable rows").wait_for()
            if number == 1:
                page.locator("#compute-plan").get_by_text("Runs on: CPU, single").wait_for()
            if number == 3:
                page.locator("#run-status .state-completed").get_by_text("completed").wait_for()
            if number == 5:
                page.wait_for_function("document.querySelector('#eval-summary').innerText.includes('(none yet)')")
            page.wait_for_timeout(300)
            screenshot(page, f"en-{number + 1}-{name.split(' ', 1)[1].split()[0].lower()}")


def test_a_file_with_a_bad_row_is_reported_in_chinese(browser, tmp_path, tiny_model):  # noqa: F811
    """The table of rows that cannot be used, its headers and its words, on a Chinese page."""
    data = tmp_path / "bad.jsonl"
    rows = [f'{{"instruction": "Question {n}?", "output": "Answer {n}."}}\n' for n in range(4)]
    data.write_text("".join(rows[:2]) + '{"instruction": "broken\n' + "".join(rows[2:]), encoding="utf-8")
    with studio_server(tmp_path / "runs", free_port()) as url, chinese_page(browser) as page:
        page.goto(url)
        page.get_by_role("tab", name=TABS_ZH[1]).click()
        set_dropdown_text(page, "opt-model-source", tiny_model)
        page.get_by_role("tab", name=TABS_ZH[0]).click()
        page.locator("#data-upload input[type=file]").set_input_files(str(data))
        page.wait_for_function("(document.querySelector('#data-problems') || {}).innerText?.includes('第 3 行')")
        assert "位置" in page.locator("#data-problems").inner_text()
        screenshot(page, "zh-1-data-bad-row")
        found = [hit for hit in english_on_screen(page) if "pytest-of" not in hit]  # the file's path is a name
        assert not found, found
