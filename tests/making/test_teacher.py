"""The teacher through the real `openai` client, against a loopback endpoint that misbehaves on chosen requests:
what is retried, what shortens the answer, what drops one request and what stops the batch, each said by key."""

from __future__ import annotations

import socket
import time

import pytest

from core.catalogue.language import speaking
from core.making.config import TeacherConfig
from core.making.teacher import EndpointTeacher, RequestFailed, TeacherError
from tests.making.teacher_server import TeacherServer

HELLO = [{"role": "user", "content": "Hello?"}]


def teacher_for(server: TeacherServer, key: str | None = None, **settings) -> EndpointTeacher:
    values = {"base_url": server.url, "model": "teacher", "api_key_env": "", "timeout_s": 1.0, "retries": 2,
              **settings}
    return EndpointTeacher(TeacherConfig(**values), key)


def test_test_connection_gives_the_reply_and_its_latency():
    with TeacherServer(lambda messages: "Hello there.", delay_s=0.2) as server:
        reply, seconds = teacher_for(server).test_connection()
    assert reply == "Hello there." and 0.2 <= seconds < 5


@pytest.mark.parametrize("fault", ["429", "500", "drop", "slow"])
def test_rate_limits_server_errors_dropped_connections_and_slow_replies_are_retried(fault):
    with TeacherServer(lambda messages: "fine", faults={1: fault}, slow_s=2.0) as server:
        answer = teacher_for(server).complete(HELLO)
        assert answer.text == "fine" and answer.tokens_out > 0
        assert len(server.requests) == 2  # the fault, then the retry that answered


def test_a_length_error_is_asked_again_with_half_the_max_tokens():
    with TeacherServer(lambda messages: "short", faults={1: "length"}) as server:
        teacher = teacher_for(server, max_tokens=400)
        assert teacher.complete(HELLO).text == "short"
        assert [body["max_tokens"] for body in server.requests] == [400, 200]
        assert teacher.shortened == 1


def test_retries_used_up_drop_the_request_not_the_batch():
    with TeacherServer(lambda messages: "never", faults={1: "500", 2: "500", 3: "500"}) as server:
        with pytest.raises(RequestFailed) as caught:
            teacher_for(server, retries=2).complete(HELLO)
    assert caught.value.reason == "failed" and "3 times" in str(caught.value)


def test_a_malformed_answer_drops_its_request():
    with TeacherServer(lambda messages: "unused", faults={1: "bad"}) as server:
        with pytest.raises(RequestFailed) as caught:
            teacher_for(server).complete(HELLO)
    assert caught.value.reason == "malformed"


def test_a_wrong_key_says_which_variable_to_check():
    with TeacherServer(lambda messages: "hi", key="right-key") as server:
        with pytest.raises(TeacherError) as caught:
            teacher_for(server, "wrong-key", api_key_env="MY_TEACHER_KEY").complete(HELLO)
        assert teacher_for(server, "right-key").complete(HELLO).text == "hi"
    assert caught.value.key == "making.teacher.wrong_key" and "MY_TEACHER_KEY" in str(caught.value)
    assert "401" in str(caught.value) and "wrong-key" not in str(caught.value)
    with speaking("zh"):
        assert "密钥" in caught.value.text()


def test_an_unknown_model_lists_the_models_the_endpoint_has():
    with TeacherServer(lambda messages: "hi", models=("qwen2.5:7b", "llama3")) as server:
        with pytest.raises(TeacherError) as caught:
            teacher_for(server).complete(HELLO)
    assert caught.value.key == "making.teacher.unknown_model"
    assert "qwen2.5:7b, llama3" in str(caught.value)


def test_an_unreachable_endpoint_stops_with_a_plain_message():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    teacher = EndpointTeacher(TeacherConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", retries=1))
    started = time.monotonic()
    with pytest.raises(TeacherError) as caught:
        teacher.complete(HELLO)
    assert caught.value.key == "making.teacher.unreachable" and f"127.0.0.1:{port}" in str(caught.value)
    assert time.monotonic() - started < 10
