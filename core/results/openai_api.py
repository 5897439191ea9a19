"""An OpenAI-compatible chat API for a served model, so Open WebUI, LangChain or the official `openai` client can
use the tuned model: GET /v1/models and POST /v1/chat/completions, answered whole or streamed as server-sent events
ending in `data: [DONE]`.

Supported request fields: model, messages, temperature, top_p, max_tokens (or max_completion_tokens), stop, stream,
stream_options.include_usage, and n=1. Left out, temperature and top_p take the studio's chat defaults (0.7 and 0.9),
not OpenAI's 1.0. With --auth USER:PASS the API needs `Authorization: Bearer USER:PASS` (the openai client's
api_key="USER:PASS") or HTTP basic auth with the same pair.

A client that goes away ends its generation within a token (a closed stream, or a closed connection while waiting
for a whole answer), so the next request starts at once instead of waiting for max_tokens.

Requests that arrive together are answered together (core.results.batching): a second client's first token comes
after a step of the first one's answer, not after all of it.

One request cannot take the server down or hold it: the body must be JSON (415 otherwise, so a web page elsewhere
cannot send a "simple" cross-site POST) of at most MAX_BODY_BYTES (413, read no further) with at most MAX_MESSAGES
messages; the prompt (chat template applied) plus max_tokens must fit the model's context (400 naming both); and
when the batcher's rows and its queue are full (batching.MAX_RUNNING + MAX_WAITING answers), a request is answered
429 with a Retry-After at once, instead of waiting behind long answers for minutes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from core.catalogue.message import StudioError
from core.config import ChatSettings, ConfigError
from core.models.load import ModelError
from core.models.generate import without_empty_think
from core.results.batching import QueueFull, batcher_for
from core.results.chat import ChatError, ChatModel
from core.results.serving import Served

MAX_TOKENS = 8192  # the chat's own ceiling (ChatSettings.max_new_tokens)
MAX_STOPS = 4  # as OpenAI allows
MAX_BODY_BYTES = 1_000_000  # a full 8,192-token context is about 40 kB of text: room for that, not for a flood
MAX_MESSAGES = 1000
RETRY_AFTER = 5  # seconds, in the 429's Retry-After header
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # clients send fields this server has no use for (user, seed ...)

    model: str
    messages: list[dict[str, Any]]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: int = 1


class RequestError(StudioError, ValueError):
    """A request this server cannot answer; becomes an OpenAI-style error body, whose message is the English."""

    def __init__(self, key: str, /, *, param: str | None = None, status: int = 400, code: str | None = None,
                 **values):
        super().__init__(key, **values)
        self.param, self.status, self.code = param, status, code

    def response(self) -> JSONResponse:
        answer = _error(self.status, str(self), self.param, self.code)
        if self.status == 429:
            answer.headers["Retry-After"] = str(RETRY_AFTER)
        return answer


def router(served: Served, chat_model: Callable[[], ChatModel], login: tuple[str, str] | None = None) -> APIRouter:
    """The /v1 routes for `served`; `chat_model()` gives the loaded model (shared with the demo page)."""
    api = APIRouter(prefix="/v1")

    @api.get("/models")
    async def list_models(request: Request):
        if not authorized(request, login):
            return _unauthorized()
        created = int(served.folder.stat().st_mtime)
        return {"object": "list", "data": [{"id": name, "object": "model", "created": created,
                                            "owned_by": "finetune-studio"} for name in served.model_ids()]}

    @api.post("/chat/completions")
    async def chat_completions(request: Request):
        if not authorized(request, login):
            return _unauthorized()
        try:
            body = parse(await read_json(request))
            messages, settings, use_adapter, stops = read_request(body, served)
        except RequestError as err:
            return err.response()
        try:
            model = await anyio.to_thread.run_sync(chat_model)
        except (ChatError, ModelError, ConfigError) as err:
            return _error(500, str(err))
        try:  # counted in a thread: a long prompt takes a while to tokenize, and other requests go on meanwhile
            asked = (body.max_completion_tokens or body.max_tokens) is not None
            prompt_tokens = await anyio.to_thread.run_sync(fit_context, model, messages, settings, asked)
            answer = await anyio.to_thread.run_sync(batcher_for(model).submit, messages, settings, use_adapter)
        except QueueFull:
            return RequestError("results.api.busy", seconds=RETRY_AFTER, status=429, code="model_busy").response()
        except RequestError as err:
            return err.response()
        cancel, pieces = answer.cancel, without_empty_think(answer)
        reply = Reply(body.model, prompt_tokens, settings.max_new_tokens, model)
        if body.stream:
            include_usage = bool((body.stream_options or {}).get("include_usage"))
            return AnswerStream(cancel, _events(pieces, cancel, StopScanner(stops), reply, include_usage))
        scanner = StopScanner(stops)
        text = await _whole_answer(request, pieces, cancel, scanner)
        return reply.completion(text, scanner.hit)

    return api


def parse(raw) -> ChatRequest:
    try:
        return ChatRequest.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise RequestError("results.api.invalid_field", where=where, error=first["msg"], param=where) from None


def read_request(body: ChatRequest, served: Served) -> tuple[list[dict], ChatSettings, bool, list[str]]:
    """(messages, settings, use the adapter?, stop strings) from a request, or RequestError naming the field."""
    if body.model not in served.model_ids():
        raise RequestError("results.api.unknown_model", model=body.model, models=", ".join(served.model_ids()),
                           param="model", status=404, code="model_not_found")
    if body.n != 1:
        raise RequestError("results.api.one_answer", param="n")
    if len(body.messages) > MAX_MESSAGES:
        raise RequestError("results.api.too_many_messages", count=len(body.messages), limit=MAX_MESSAGES,
                           param="messages")
    messages = [_message(m, i) for i, m in enumerate(body.messages)]
    if not messages or messages[-1]["role"] != "user":
        raise RequestError("results.api.end_with_user", param="messages")
    settings = ChatSettings()
    if body.temperature is not None:
        if not 0 <= body.temperature <= 2:
            raise RequestError("results.api.temperature", param="temperature")
        settings.temperature = body.temperature
    if body.top_p is not None:
        if not 0 < body.top_p <= 1:
            raise RequestError("results.api.top_p", param="top_p")
        settings.top_p = body.top_p
    limit = body.max_completion_tokens or body.max_tokens
    if limit is not None:
        if not 1 <= limit <= MAX_TOKENS:
            raise RequestError("results.api.max_tokens", limit=MAX_TOKENS, param="max_tokens")
        settings.max_new_tokens = limit
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    if len(stops) > MAX_STOPS or not all(stops):
        raise RequestError("results.api.stops", limit=MAX_STOPS, param="stop")
    return messages, settings, body.model == served.name, stops


def fit_context(model: ChatModel, messages: list[dict], settings: ChatSettings, asked: bool) -> int:
    """The prompt's tokens, checked with the answer's room against the model's context; a max_tokens the client did
    not ask for shrinks to the room left."""
    prompt = _count_tokens(model, messages)
    limit = context_length(model)
    if limit is None:
        return prompt
    if prompt >= limit:
        raise RequestError("results.api.prompt_too_long", prompt=prompt, limit=limit, param="messages")
    room = limit - prompt
    if settings.max_new_tokens > room:
        if asked:
            raise RequestError("results.api.over_context", prompt=prompt, asked=settings.max_new_tokens, room=room,
                               total=prompt + settings.max_new_tokens, limit=limit, param="messages")
        settings.max_new_tokens = room
    return prompt


def context_length(model: ChatModel) -> int | None:
    """How many tokens the model can attend to: the smaller of its config's max_position_embeddings and the
    tokenizer's model_max_length, whichever of them is set (an unset model_max_length is a huge placeholder)."""
    config = getattr(model.model, "config", None)
    if config is not None and hasattr(config, "get_text_config"):
        config = config.get_text_config()
    known = [getattr(config, "max_position_embeddings", None), getattr(model.tokenizer, "model_max_length", None)]
    real = [n for n in known if isinstance(n, int) and 0 < n < 10_000_000]
    return min(real) if real else None


class AnswerStream(StreamingResponse):
    """The SSE answer, whose row in the batch is freed however the stream ends: finished, or cut off by a client
    that left at any point (even before the first event, when the events' own cleanup never runs)."""

    def __init__(self, cancel: threading.Event, events):
        super().__init__(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        self.cancel = cancel

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.cancel.set()
            with anyio.CancelScope(shield=True):
                await self.body_iterator.aclose()


def authorized(request: Request, login: tuple[str, str] | None) -> bool:
    if login is None:
        return True
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            value = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
    elif scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), f"{login[0]}:{login[1]}".encode())


class StopScanner:
    """Cuts the answer at the first stop string, holding back text that may be the start of one, so a streamed
    answer never shows part of a stop string that the end of the answer then completes."""

    def __init__(self, stops: list[str]):
        self.stops = stops
        self.pending = ""
        self.hit = False

    def feed(self, piece: str) -> str:
        """The text that can be shown now; after a stop string, nothing more."""
        if self.hit:
            return ""
        self.pending += piece
        cuts = [i for i in (self.pending.find(s) for s in self.stops) if i >= 0]
        if cuts:
            self.hit = True
            shown, self.pending = self.pending[:min(cuts)], ""
            return shown
        keep = max((k for s in self.stops for k in range(1, len(s)) if self.pending.endswith(s[:k])), default=0)
        shown, self.pending = self.pending[:len(self.pending) - keep], self.pending[len(self.pending) - keep:]
        return shown

    def flush(self) -> str:
        shown, self.pending = ("" if self.hit else self.pending), ""
        return shown


class Reply:
    """The response bodies for one request: whole, or as stream chunks."""

    def __init__(self, model_id: str, prompt_tokens: int, max_tokens: int, model: ChatModel):
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model_id, self.prompt_tokens, self.max_tokens, self.model = model_id, prompt_tokens, max_tokens, model

    def usage(self, text: str) -> dict:
        completion = len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
                "total_tokens": self.prompt_tokens + completion}

    def finish_reason(self, text: str, stopped: bool) -> str:
        # Counted again from the text: the chat's streamer hands out text, not token ids.
        if not stopped and self.usage(text)["completion_tokens"] >= self.max_tokens:
            return "length"
        return "stop"

    def completion(self, text: str, stopped: bool = False) -> dict:
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model_id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": self.finish_reason(text, stopped)}],
                "usage": self.usage(text)}

    def chunk(self, delta: dict, finish_reason: str | None = None) -> str:
        data = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model_id,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        return _sse(data)

    def usage_chunk(self, text: str) -> str:
        return _sse({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                     "model": self.model_id, "choices": [], "usage": self.usage(text)})


async def _events(pieces, cancel: threading.Event, scanner: StopScanner, reply: Reply, include_usage: bool):
    """The SSE stream. Whatever ends it (the answer, a stop string, the client closing the connection, which
    cancels this task), the generation is ended and its thread joined before the stream is done."""
    answer = ""
    try:
        yield reply.chunk({"role": "assistant", "content": ""})
        while not scanner.hit:
            piece = await anyio.to_thread.run_sync(next, pieces, None)
            if piece is None:
                break
            shown = scanner.feed(piece)
            if shown:
                answer += shown
                yield reply.chunk({"content": shown})
        rest = scanner.flush()
        if rest:
            answer += rest
            yield reply.chunk({"content": rest})
        yield reply.chunk({}, reply.finish_reason(answer, scanner.hit))
        if include_usage:
            yield reply.usage_chunk(answer)
        yield "data: [DONE]\n\n"
    finally:
        await _end(pieces, cancel)


async def _whole_answer(request: Request, pieces, cancel: threading.Event, scanner: StopScanner) -> str:
    """Collect the answer in a thread while watching the connection: a client that hangs up stops generation."""
    parts: list[str] = []

    def collect():
        for piece in pieces:
            parts.append(scanner.feed(piece))
            if scanner.hit:
                break
        parts.append(scanner.flush())

    async with anyio.create_task_group() as group:
        async def watch():
            while not await request.is_disconnected():
                await anyio.sleep(0.25)
            cancel.set()

        group.start_soon(watch)
        try:
            await anyio.to_thread.run_sync(collect)
        finally:
            group.cancel_scope.cancel()
            await _end(pieces, cancel)
    return "".join(parts)


async def _end(pieces, cancel: threading.Event) -> None:
    """Drop the answer's row (the batcher frees it before its next step), even inside a cancelled task (hence the
    shield)."""
    cancel.set()
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(pieces.close)


def _message(message: dict, index: int) -> dict:
    role = ROLES.get(str(message.get("role")))
    if role is None:
        raise RequestError("results.api.role", index=index, role=message.get("role"), param=f"messages[{index}].role")
    content = message.get("content")
    if isinstance(content, list):  # content parts: only text can be answered here
        if any(isinstance(p, dict) and p.get("type") not in ("text", None) for p in content):
            raise RequestError("results.api.not_text", index=index, param=f"messages[{index}].content")
        content = "".join(_part_text(p, f"messages[{index}].content[{j}]") for j, p in enumerate(content))
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise RequestError("results.api.content_text", index=index, param=f"messages[{index}].content")
    return {"role": role, "content": content}


def _part_text(part, where: str) -> str:
    text = part.get("text", "") if isinstance(part, dict) else part
    if not isinstance(text, str):
        where = f"{where}.text" if isinstance(part, dict) else where
        raise RequestError("results.api.part_text", where=where, param=where)
    return text


def _count_tokens(model: ChatModel, messages: list[dict]) -> int:
    from core.data import templates

    prompt = templates.prompt_for_chat(model.tokenizer, messages)
    return len(model.tokenizer(prompt, add_special_tokens=False)["input_ids"])


async def read_json(request: Request):
    """The body as JSON: only when it says it is JSON, and read no further than MAX_BODY_BYTES."""
    kind = request.headers.get("content-type", "")
    if kind.split(";")[0].strip().lower() != "application/json":
        raise RequestError("results.api.content_type", got=kind[:100], status=415)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestError("results.api.too_large", limit=MAX_BODY_BYTES, status=413)
    raw = bytearray()
    async for chunk in request.stream():  # a chunked body has no length to check up front
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise RequestError("results.api.too_large", limit=MAX_BODY_BYTES, status=413)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep to parse
        raise RequestError("results.api.bad_json") from None


def _sse(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _error(status: int, message: str, param: str | None = None, code: str | None = None) -> JSONResponse:
    kind = "server_error" if status >= 500 else "rate_limit_error" if status == 429 else "invalid_request_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}},
                        status_code=status)


def _unauthorized() -> JSONResponse:
    response = _error(401, "This server needs a login: send 'Authorization: Bearer USER:PASS' (the openai "
                           "client's api_key='USER:PASS'), the pair given to --auth.", code="invalid_api_key")
    response.headers["WWW-Authenticate"] = 'Basic realm="finetune-studio"'
    return response
