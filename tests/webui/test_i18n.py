"""The labels' table the browser gets: the catalogue's words, and Gradio's own that its tables lack."""

from webui.i18n import GRADIO_KEYS, build_i18n, sample_choices


def test_gradios_own_missing_words_are_given_in_both_languages():
    """Gradio 6.31 has no text for "common.complete" in any language (a screen reader read the key after each event)
    and its zh-CN table lacks a few more; the table the studio hands gr.I18n fills them."""
    table = build_i18n().translations_dict
    assert table["zh-CN"]["common.complete"] == "完成" and table["en"]["common.complete"] == "Complete"
    assert all(key in table["zh-CN"] and key in table["en"] for key in GRADIO_KEYS)


def test_the_bundled_sample_is_named_in_the_pages_language():
    from core.catalogue.language import speaking

    assert sample_choices()[0][0].startswith("Identity demo: Nova")
    with speaking("zh"):
        label, value = sample_choices()[0]
    assert label.startswith("身份演示") and value == "identity.jsonl"
