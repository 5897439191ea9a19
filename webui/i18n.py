"""The catalogue's labels and option texts as gr.I18n, which shows each in the browser's language."""

from __future__ import annotations

import gradio as gr

from core.catalogue import labels, options
from core.catalogue.language import LANGUAGES

# Browser language tags for each of the catalogue's languages (gr.I18n matches navigator.language against these).
BROWSER_TAGS = {"en": ("en",), "zh": ("zh-CN", "zh")}


def build_i18n() -> gr.I18n:
    table = {**options.TEXTS, **labels.TEXTS}
    columns = {}
    for index, lang in enumerate(LANGUAGES):
        words = {key: texts[index] for key, texts in table.items()}
        columns.update({tag: words for tag in BROWSER_TAGS[lang]})
    return gr.I18n(**columns)
