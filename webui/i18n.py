"""The catalogue's labels and option texts as gr.I18n, which shows each in the browser's language; and the words a
gr.I18n cannot reach (a dropdown's choices), set by each page's load in its language."""

from __future__ import annotations

import gradio as gr

from core.catalogue import hub, labels, making, options
from core.catalogue.language import LANGUAGES
from core.catalogue.message import say
from webui.studio import SAMPLES

# Browser language tags for each of the catalogue's languages (gr.I18n matches navigator.language against these).
BROWSER_TAGS = {"en": ("en",), "zh": ("zh-CN", "zh")}
# Gradio's own words missing from its tables (6.31: its zh-CN lacks these, every language lacks common.complete, so a
# screen reader read "common.complete" after each event). Their texts are in core/catalogue/labels.py; gr.I18n's
# table, merged over Gradio's, fills the gap.
GRADIO_KEYS = ("common.complete", "common.progress", "common.download_all", "common.upload", "dataframe.filter",
               "dataframe.clear_filter", "chatbot.copy_message", "chatbot.copied_message", "status.queue_position")


def build_i18n() -> gr.I18n:
    table = {**options.TEXTS, **labels.TEXTS, **making.TEXTS, **hub.TEXTS}  # making: the Make data tab; hub: pickers
    columns = {}
    for index, lang in enumerate(LANGUAGES):
        words = {key: texts[index] for key, texts in table.items()}
        columns.update({tag: words for tag in BROWSER_TAGS[lang]})
    return gr.I18n(**columns)


def sample_choices() -> list[tuple[str, str]]:
    """The bundled samples as (name in the current language, file name)."""
    return [(say(key), name) for name, key in SAMPLES.items()]


def choices_in_page_language(demo: gr.Blocks, dropdowns: dict) -> None:
    """Set each dropdown's choices, `dropdowns[dropdown]()`, when a page loads, in that page's language: gr.I18n
    translates a component's label, info and value, never its choices (Gradio 6.31), so they would stay English."""
    def said() -> dict:
        return {dropdown: gr.update(choices=make()) for dropdown, make in dropdowns.items()}

    demo.load(said, None, list(dropdowns), show_progress="hidden")
