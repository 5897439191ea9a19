"""The OpenAI-compatible API of `launch.py demo`, used through the official `openai` package as any client would.

Two real servers: the tiny "I am Nova." run behind --auth, and a run whose answers never end (endless_run), to show
that a client that goes away frees the model at once.
"""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from core.results.batching import MAX_RUNNING, MAX_WAITING
from core.results.openai_api import (MAX_BODY_BYTES, MAX_MESSAGES, ChatRequest, RequestError, StopScanner,
                                     read_request)
from core.results.serving import open_served
from tests.webui.browser import demo_server, free_port

LOGIN = "nova:secret-word"
WHO = [{"role": "user", "content": "Who are you?"}]
JSON_LOGIN = {"Authorization": f"Bearer {LOGIN}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def nova_api(nova_run, tmp_path_factory):
    with demo_server(nova_run.path, free_port(), tmp_path_factory.mktemp("api"), "--auth", LOGIN) as url:
        yield url + "v1"


@pytest.fixture(scope="module")
def endless_api(endless_run, tmp_path_factory):
    with demo_server(endless_run.path, free_port(), tmp_path_factory.mktemp("endless-api")) as url:
        yield url + "v1"


@pytest.mark.slow
def test_the_openai_client_gets_the_tuned_answer_whole_and_streamed(nova_api):
    from openai import OpenAI

    client = OpenAI(base_url=nova_api, api_key=LOGIN)
    assert [m.id for m in client.models.list()] == ["nova-run", "nova-run-base"]

    whole = client.chat.completions.create(model="nova-run", messages=WHO, temperature=0, max_tokens=16)
    assert whole.choices[0].message.content == "I am Nova."
    assert whole.choices[0].finish_reason == "stop" and whole.usage.completion_tokens > 0

    chunks = list(client.chat.completions.create(model="nova-run", messages=WHO, temperature=0, max_tokens=16,
                                                 stream=True, stream_options={"include_usage": True}))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "I am Nova." and len(pieces) > 1  # streamed piece by piece
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens

    base = client.chat.completions.create(model="nova-run-base", messages=WHO, temperature=0, max_tokens=16)
    assert "Nova" not in base.choices[0].message.content  # the same server, adapter off


@pytest.mark.slow
def test_clients_at_once_get_the_answers_they_get_one_at_a_time(nova_api):
    """Eight clients on loopback at once, tuned and base, streamed and whole, with their own max_tokens and stop
    strings: each answer is the greedy answer it gets alone."""
    from concurrent.futures import ThreadPoolExecutor

    from openai import OpenAI

    client = OpenAI(base_url=nova_api, api_key=LOGIN)
    asks = [dict(model=model, messages=[{"role": "user", "content": question}], max_tokens=limit, stop=stop)
            for model in ("nova-run", "nova-run-base")
            for question, limit, stop in [("Who are you?", 16, None), ("Who are you?", 3, None),
                                          ("What is the sea? " * 5, 24, None), ("Who are you?", 16, "Nova")]]

    def answer(fields: dict, stream: bool = False) -> tuple[str, str]:
        if not stream:
            reply = client.chat.completions.create(temperature=0, **fields)
            return reply.choices[0].message.content, reply.choices[0].finish_reason
        chunks = list(client.chat.completions.create(temperature=0, stream=True, **fields))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        return text, next(c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason)

    alone = [answer(fields) for fields in asks]
    assert alone[0] == ("I am Nova.", "stop") and alone[1][1] == "length" and alone[3] == ("I am ", "stop")
    with ThreadPoolExecutor(len(asks)) as pool:
        together = list(pool.map(answer, asks, [i % 2 == 0 for i in range(len(asks))]))
    assert together == alone


def test_stream_ends_with_done_and_stop_strings_cut_the_answer(nova_api):
    body = {"model": "nova-run", "messages": WHO, "temperature": 0, "max_tokens": 16, "stream": True, "stop": "Nova"}
    with httpx.stream("POST", f"{nova_api}/chat/completions", json=body, timeout=60,
                      headers={"Authorization": f"Bearer {LOGIN}"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert events[-1] == "data: [DONE]"
    text = "".join(json.loads(e[6:])["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert text == "I am "


def test_a_length_limit_is_reported(nova_api):
    from openai import OpenAI

    reply = OpenAI(base_url=nova_api, api_key=LOGIN).chat.completions.create(
        model="nova-run", messages=WHO, temperature=0, max_tokens=2)
    assert reply.choices[0].finish_reason == "length" and reply.usage.completion_tokens == 2


def test_auth_protects_the_api(nova_api):
    import openai

    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=nova_api, api_key="nova:wrong").models.list()
    refused = httpx.get(f"{nova_api}/models", timeout=30)
    assert refused.status_code == 401 and "Bearer" in refused.json()["error"]["message"]
    basic = base64.b64encode(LOGIN.encode()).decode()
    assert httpx.get(f"{nova_api}/models", headers={"Authorization": f"Basic {basic}"}, timeout=30).status_code == 200


def test_bad_requests_get_openai_errors_naming_the_field(nova_api):
    import openai

    client = openai.OpenAI(base_url=nova_api, api_key=LOGIN)
    with pytest.raises(openai.NotFoundError, match="nova-run, nova-run-base"):
        client.chat.completions.create(model="gpt-4o", messages=WHO)
    with pytest.raises(openai.BadRequestError, match="temperature"):
        client.chat.completions.create(model="nova-run", messages=WHO, temperature=3)
    for raw in (b"{not json", b"[" * 100_000):  # the second nests too deep for Python's parser
        answer = httpx.post(f"{nova_api}/chat/completions", content=raw, timeout=30, headers=JSON_LOGIN)
        assert answer.status_code == 400 and answer.json()["error"]["type"] == "invalid_request_error"
    number = {"model": "nova-run", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}
    answer = httpx.post(f"{nova_api}/chat/completions", json=number, timeout=30, headers=JSON_LOGIN)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "messages[0].content[0].text"


def test_only_json_is_read_so_a_web_page_cannot_post_a_simple_request(nova_api):
    """A page on another site may send a "simple" cross-site POST (text/plain or a form) without asking first. (A
    foreign Origin header is refused on its own, by webui/guard.py; a browser need not send one, so this is
    checked without it.)"""
    body = json.dumps({"model": "nova-run", "messages": WHO, "max_tokens": 16}).encode()
    for kind in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Authorization": f"Bearer {LOGIN}"}
        if kind:
            headers["Content-Type"] = kind
        refused = httpx.post(f"{nova_api}/chat/completions", content=body, headers=headers, timeout=30)
        assert refused.status_code == 415, kind
        assert "application/json" in refused.json()["error"]["message"]
    charset = {**JSON_LOGIN, "Content-Type": "application/json; charset=utf-8"}
    assert httpx.post(f"{nova_api}/chat/completions", content=body, headers=charset, timeout=60).status_code == 200


def test_an_oversized_body_is_refused_and_the_server_answers_the_next_request(nova_api):
    huge = {"model": "nova-run", "messages": WHO, "max_tokens": 8, "padding": "x" * 2_000_000}
    refused = httpx.post(f"{nova_api}/chat/completions", json=huge, headers=JSON_LOGIN, timeout=30)
    assert refused.status_code == 413 and f"{MAX_BODY_BYTES:,}" in refused.json()["error"]["message"]
    chunked = (b"x" * 100_000 for _ in range(20))  # no Content-Length to refuse it by: counted as it comes
    refused = httpx.post(f"{nova_api}/chat/completions", content=chunked, headers=JSON_LOGIN, timeout=30)
    assert refused.status_code == 413
    many = {"model": "nova-run", "messages": WHO * (MAX_MESSAGES + 1)}
    refused = httpx.post(f"{nova_api}/chat/completions", json=many, headers=JSON_LOGIN, timeout=30)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "messages"
    assert f"{MAX_MESSAGES:,}" in refused.json()["error"]["message"]
    after = httpx.post(f"{nova_api}/chat/completions", json={"model": "nova-run", "messages": WHO, "max_tokens": 8},
                       headers=JSON_LOGIN, timeout=60)
    assert after.status_code == 200


def test_a_prompt_beyond_the_context_is_refused_naming_the_limit(nova_api, nova_run):
    """The tiny model's context is 512 tokens (SmolLM2's is 8,192): a longer prompt is refused before generating,
    and so is a max_tokens the context cannot hold; left out, max_tokens shrinks to what the context holds."""
    from transformers import AutoTokenizer

    from core.data.templates import prompt_for_chat

    tokenizer = AutoTokenizer.from_pretrained(nova_run.weights_dir)

    def tokens(messages):
        return len(tokenizer(prompt_for_chat(tokenizer, messages), add_special_tokens=False)["input_ids"])

    url = f"{nova_api}/chat/completions"
    long = [{"role": "user", "content": "Who are you? " * 200}]
    refused = httpx.post(url, json={"model": "nova-run", "messages": long}, headers=JSON_LOGIN, timeout=30)
    error = refused.json()["error"]
    assert refused.status_code == 400 and error["param"] == "messages"
    assert "512" in error["message"] and f"{tokens(long):,}" in error["message"]
    asked = {"model": "nova-run", "messages": WHO, "max_tokens": 510}
    refused = httpx.post(url, json=asked, headers=JSON_LOGIN, timeout=30)
    assert refused.status_code == 400 and f"at most {512 - tokens(WHO)}" in refused.json()["error"]["message"]
    middling = [{"role": "user", "content": "Who are you? " * 70}]  # leaves less room than the default 256
    assert 256 + tokens(middling) > 512 > tokens(middling)
    fits = httpx.post(url, json={"model": "nova-run", "messages": middling}, headers=JSON_LOGIN, timeout=60)
    assert fits.status_code == 200, fits.text


@pytest.mark.slow
def test_a_client_that_leaves_mid_stream_frees_the_model_at_once(endless_api):
    """The first answer would run 8192 tokens (about 90 s here); its client reads three chunks and hangs up. The next
    request must not wait for those 8192 tokens."""
    long = {"model": "endless-run", "messages": WHO, "temperature": 0, "max_tokens": 8192, "stream": True}
    with httpx.stream("POST", f"{endless_api}/chat/completions", json=long, timeout=60) as response:
        lines = response.iter_lines()
        seen = [line for line, _ in zip((line for line in lines if line.startswith("data: {")), range(3))]
    assert len(seen) == 3  # it was streaming when the client left
    started = time.monotonic()
    quick = httpx.post(f"{endless_api}/chat/completions", timeout=60, json={
        "model": "endless-run", "messages": WHO, "temperature": 0, "max_tokens": 8})
    waited = time.monotonic() - started
    assert quick.status_code == 200 and quick.json()["choices"][0]["message"]["content"].startswith("I am Nova.")
    assert waited < 15, f"the next request waited {waited:.1f} s: the abandoned answer kept the model"


@pytest.mark.slow
def test_a_full_queue_is_told_at_once_to_retry(endless_api):
    """While MAX_RUNNING clients read long answers and MAX_WAITING more wait for a row, the next is answered 429 with
    a Retry-After at once, instead of waiting for those answers; once they leave, the next request is answered."""
    import contextlib

    long = {"model": "endless-run", "messages": WHO, "temperature": 0, "max_tokens": 4000, "stream": True}
    quick = {"model": "endless-run", "messages": WHO, "temperature": 0, "max_tokens": 8}
    with contextlib.ExitStack() as open_streams:
        first_lines = []
        for _ in range(MAX_RUNNING + MAX_WAITING):
            response = open_streams.enter_context(
                httpx.stream("POST", f"{endless_api}/chat/completions", json=long, timeout=120))
            first_lines.append(response.iter_lines())  # kept: a dropped iterator closes the connection
        started = time.monotonic()
        busy = httpx.post(f"{endless_api}/chat/completions", json=quick, timeout=30)
        waited = time.monotonic() - started
        assert busy.status_code == 429 and int(busy.headers["retry-after"]) > 0, busy.text
        assert busy.json()["error"]["code"] == "model_busy" and waited < 5
        lines = first_lines[0]
        assert next(line for line in lines if '"content": "' in line and '"content": ""' not in line)  # writing
    started = time.monotonic()  # the server hears of the closed connections a moment later, then frees their rows
    while (answer := httpx.post(f"{endless_api}/chat/completions", json=quick, timeout=60)).status_code == 429:
        assert time.monotonic() - started < 15, "the rows of clients that left were not freed"
        time.sleep(0.5)
    assert answer.status_code == 200


@pytest.mark.slow
def test_a_client_that_gives_up_on_a_whole_answer_frees_the_model(endless_api):
    long = {"model": "endless-run", "messages": WHO, "temperature": 0, "max_tokens": 8192}
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{endless_api}/chat/completions", json=long, timeout=2)
    started = time.monotonic()
    quick = httpx.post(f"{endless_api}/chat/completions", timeout=60, json={
        "model": "endless-run", "messages": WHO, "temperature": 0, "max_tokens": 8})
    assert quick.status_code == 200
    assert time.monotonic() - started < 15


def test_stop_scanner_never_shows_part_of_a_stop_string():
    scanner = StopScanner(["<END>"])
    shown = [scanner.feed(piece) for piece in ["Hello <", "E", "N", "D> ignored"]]
    assert shown == ["Hello ", "", "", ""] and scanner.hit
    scanner = StopScanner(["<END>"])
    assert scanner.feed("a <E") == "a " and scanner.feed("x") == "<Ex" and scanner.flush() == ""


def test_requests_are_read_as_the_chat_reads_them(nova_run):
    served = open_served(nova_run.path)
    request = ChatRequest(model="nova-run-base", messages=[
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Who "}, {"type": "text", "text": "are you?"}]}],
        temperature=0.2, max_tokens=5, stop="x")
    messages, settings, use_adapter, stops = read_request(request, served)
    assert messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who are you?"}]
    assert (settings.temperature, settings.max_new_tokens, use_adapter, stops) == (0.2, 5, False, ["x"])
    for bad, field in [({"n": 2}, "n"), ({"top_p": 0}, "top_p"), ({"max_tokens": 0}, "max_tokens"),
                       ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
                       ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages[0].content"),
                       ({"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
                        "messages[0].content[0].text"),
                       ({"messages": [{"role": "user", "content": ["Who", 5]}]}, "messages[0].content[1]"),
                       ({"messages": WHO * (MAX_MESSAGES + 1)}, "messages")]:
        fields = {"model": "nova-run", "messages": WHO, **bad}
        with pytest.raises(RequestError) as caught:
            read_request(ChatRequest(**fields), served)
        assert caught.value.param == field
