"""The demo page's computed texts follow the visitor's language; the code sample stays code."""

from types import SimpleNamespace

from core.catalogue.language import speaking
from core.results.serving import open_served
from webui.demo import api_text


def test_the_api_hint_speaks_the_visitors_language(nova_run):
    served = open_served(nova_run.path)
    request = SimpleNamespace(headers={"host": "127.0.0.1:7861"})
    with speaking("zh"):
        chinese = api_text(served, request)
    english = api_text(served, request)
    assert chinese.startswith("**在代码中使用。** 本服务器同时提供 OpenAI 聊天接口，地址 `http://127.0.0.1:7861/v1`")
    assert english.startswith("**Use it from code.**")
    for text in (chinese, english):
        assert 'base_url="http://127.0.0.1:7861/v1"' in text and 'model="nova-run"' in text
