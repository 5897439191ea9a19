"""The Data tab's token view of a reasoning model's row: the thinking its chat template leaves out is shown as
trained, and a line above the tokens says how many answers' thinking that is (core.data.templates.thinking_kept)."""

import html
import re

from core.catalogue.language import speaking
from core.models.tiny import build_tokenizer
from tests.data.test_thinking import INLINE, PLAIN
from tests.families import FAMILIES
from webui import data_viewer


def seen(example_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", example_html))


def test_the_token_view_says_whose_thinking_the_template_leaves_out():
    r1 = build_tokenizer(spec=FAMILIES["deepseek-r1-distill"])
    example = data_viewer.example_for(r1, [PLAIN, INLINE], 1, 4096, "sft")
    assert "leaves out the thinking of 2 of this row's answers" in seen(example)
    trained = "".join(html.unescape(text) for text in re.findall(r'tok-trained[^"]*"[^>]*>([^<]*)<', example))
    assert "<think>\nAdd three.\n</think>\n\n6" in trained and "<think>\nAdd two.\n</think>\n\n4" in trained
    with speaking("zh"):
        assert "省略了本行 2 个回答的思考部分" in seen(data_viewer.example_for(r1, [PLAIN, INLINE], 1, 4096, "sft"))
    assert "thinking" not in seen(data_viewer.example_for(r1, [PLAIN, INLINE], 0, 4096, "sft"))


def test_a_grpo_row_says_its_answer_is_the_reference_not_what_is_trained():
    tokenizer = build_tokenizer(spec=FAMILIES["qwen2.5"])
    row = {"messages": [{"role": "user", "content": "What is 2 + 2?"},
                        {"role": "assistant", "content": "The answer is 4."}]}
    shown = seen(data_viewer.example_for(tokenizer, [row], 0, 256, "grpo"))
    assert "checks each against this one (the reference)" in shown and "The answer is 4." in shown
    assert "reference" not in seen(data_viewer.example_for(tokenizer, [row], 0, 256, "sft"))
