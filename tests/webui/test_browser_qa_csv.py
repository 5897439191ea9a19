"""A question/answer CSV on the Data tab, in a real browser, in Chinese and in English (issue 29, items 1 and 7).

The page says which columns became the user's turn and the assistant's answer, and the example shows the rows as
the chat template writes them (turns and end-of-turn tokens, only the answer trained), where before it showed
"What is the capital of France?Paris.<|im_end|>". Chinese rows on a model whose vocabulary spells Chinese in bytes
(the tiny test model's, as SmolLM2's does) get a warning that proposes a model that fits. Screenshots:
test-artifacts/screenshots/qa-csv-zh.png and qa-csv-en.png.
"""


from tests.webui.browser import (browser, free_port, page_errors, page_in, screenshot, set_dropdown_text,  # noqa: F401
                                 studio_server)

TIMEOUT = 90_000  # ms; the first load of a page imports the engine


def wait_text(page, selector, text):
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)", arg=[selector, text])


def text_of(page, selector) -> str:
    return page.locator(selector).inner_text()


def open_data_tab_with(page, url, model, data, tabs):
    """The tiny model picked on the Model tab (its tokenizer: nothing downloads), then `data` uploaded."""
    page.goto(url)
    page.get_by_role("tab", name=tabs[1]).click()
    set_dropdown_text(page, "opt-model-source", model)
    page.get_by_role("tab", name=tabs[0]).click()
    page.locator("#data-upload input[type=file]").set_input_files(str(data))


def test_a_question_answer_csv_shows_its_mapping_and_the_template_in_both_languages(browser, tmp_path,  # noqa: F811
                                                                                     tiny_model):
    chinese = tmp_path / "wenda.csv"
    chinese.write_text("问题,答案\n今天天气怎么样？,今天天气很好，我们去公园散步吧。\n你叫什么名字？,我叫小明，是一名学生。\n"
                       "中国的首都是哪里？,北京是中国的首都。\n", encoding="utf-8")
    english = tmp_path / "faq.csv"
    english.write_text("question,answer\nWhat is the capital of France?,Paris.\nWho are you?,I am Nova.\n",
                       encoding="utf-8")
    with studio_server(tmp_path / "runs", free_port()) as url:
        with page_in(browser, "zh-CN", "qa-csv-zh-failure", TIMEOUT) as page:
            errors = page_errors(page)
            open_data_tab_with(page, url, tiny_model, chinese, ["1. 数据", "2. 模型与硬件"])
            wait_text(page, "#data-summary", "问题 是用户的一轮")
            summary = text_of(page, "#data-summary")
            assert "按对话读取：问题 是用户的一轮，答案 是助手的回答，用模型的对话模板写出" in summary, summary
            wait_text(page, "#data-warnings", "这份数据中 100% 是中文、日文或韩文")
            warnings = text_of(page, "#data-warnings")
            assert "内置的多语言模型 Gemma 3 270M" in warnings and "gemma-3-270m" in warnings, warnings
            wait_text(page, "#data-example", "<|im_start|>assistant")
            example = text_of(page, "#data-example .token-text")
            # The turns as the template writes them. (A byte token shared by two characters, as this English
            # vocabulary makes of 气, still shows as two halves: the token view's to fix, not this file's.)
            assert example.startswith("<|im_start|>user\n今天天"), example
            assert "怎么样？<|im_end|>\n<|im_start|>assistant\n今天天" in example, example
            trained = "".join(page.locator("#data-example .token-text .tok-trained").all_inner_texts())
            assert trained.strip().endswith("很好，我们去公园散步吧。<|im_end|>"), trained
            assert "怎么样" not in trained
            screenshot(page, "qa-csv-zh")
            assert not [e for e in errors if e.startswith("pageerror")], errors

        with page_in(browser, "en-US", "qa-csv-en-failure", TIMEOUT) as page:
            open_data_tab_with(page, url, tiny_model, english, ["1. Data", "2. Model and hardware"])
            wait_text(page, "#data-summary", "question is the user's turn")
            summary = text_of(page, "#data-summary")
            assert ("Read as a conversation: question is the user's turn and answer the assistant's answer, written "
                    "with the model's chat template, as the Chat tab asks.") in summary, summary
            wait_text(page, "#data-example", "<|im_start|>assistant")
            example = text_of(page, "#data-example .token-text")
            assert example.startswith("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                                      "<|im_start|>assistant\nParis.<|im_end|>"), example
            assert "France?Paris." not in example  # the old plain text, without turns
            trained = "".join(page.locator("#data-example .token-text .tok-trained").all_inner_texts())
            assert trained.strip() == "Paris.<|im_end|>"
            masked = "".join(page.locator("#data-example .token-text .tok-masked").all_inner_texts())
            assert "What is the capital of France?" in masked
            wait_text(page, "#data-stats", "training rows")
            assert "Chinese" not in text_of(page, "#data-warnings")
            screenshot(page, "qa-csv-en")
