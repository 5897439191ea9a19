"""A real OpenAI-compatible endpoint on 127.0.0.1 that answers what a test scripts, and misbehaves on the requests a
test chooses: the fault server the making tests point the real `openai` client at (never a patched client).

Faults, by the request's number (1 is the first POST /v1/chat/completions):
  "429"     rate limited, with Retry-After: 0
  "500"     a server error
  "length"  400, the prompt plus max_tokens exceed the context (as vLLM and OpenAI say it)
  "slow"    the answer comes after `slow_s` seconds (past the client's timeout)
  "drop"    the connection is closed without an answer
  "bad"     200 with a body that is no chat completion
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


class TeacherServer:
    """`answer(messages) -> str` writes each reply; `faults` maps request numbers to a fault above."""

    def __init__(self, answer: Callable[[list[dict]], str], faults: dict[int, str] | None = None,
                 key: str | None = None, models: tuple[str, ...] = ("teacher",), delay_s: float = 0.0,
                 slow_s: float = 3.0):
        self.answer, self.faults, self.key, self.models = answer, faults or {}, key, models
        self.delay_s, self.slow_s = delay_s, slow_s
        self.requests: list[dict] = []  # every chat request's body, in order of arrival
        self.seen_keys: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "TeacherServer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        teacher = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path.rstrip("/") != "/v1/models":
                    return self._json(404, {"error": {"message": "no such route"}})
                if not self._authorized():
                    return
                self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in teacher.models]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not self._authorized():
                    return
                if body.get("model") not in teacher.models:
                    return self._json(404, {"error": {"message": f"The model {body.get('model')} does not exist.",
                                                      "code": "model_not_found"}})
                with teacher.lock:
                    teacher.requests.append(body)
                    number = len(teacher.requests)
                fault = teacher.faults.get(number)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "429":
                    return self._json(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0"})
                if fault == "500":
                    return self._json(500, {"error": {"message": "The server had an error"}})
                if fault == "length":
                    return self._json(400, {"error": {"message": "This model's maximum context length is 512 "
                                                      "tokens. However, you requested too many (max_tokens)."}})
                if fault == "bad":
                    return self._json(200, {"hello": "not a completion"})
                time.sleep(teacher.slow_s if fault == "slow" else teacher.delay_s)
                text = teacher.answer(body["messages"])
                self._json(200, {"id": f"c-{number}", "object": "chat.completion", "created": 0,
                                 "model": body["model"],
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                              "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()) + 1,
                                           "total_tokens": 11 + len(text.split())}})

            def _authorized(self) -> bool:
                given = self.headers.get("Authorization", "")
                with teacher.lock:
                    teacher.seen_keys.append(given)
                if teacher.key is not None and given != f"Bearer {teacher.key}":
                    self._json(401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}})
                    return False
                return True

            def _json(self, status: int, data: dict, headers: dict | None = None):
                raw = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        return Handler


def last_user_text(messages: list[dict]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")
