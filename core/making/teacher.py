"""The teacher: the stronger model that writes rows. An OpenAI-compatible endpoint through the official `openai`
package (a cloud model, a local Ollama / vLLM / LM Studio server, this studio's own demo), or a model loaded in this
process (a local folder, a built-in model, a finished run as run:NAME) through the chat's ChatModel.

Both answer `complete(messages)` with a Completion. What goes wrong is said by key: a fault that concerns every
request (unreachable, a wrong key, a model the endpoint lacks) is a TeacherError, which stops the batch; a fault of
one request (a malformed answer, retries used up) is a RequestFailed, which drops that request's rows only.
Rate limits (429), server errors (5xx), timeouts and dropped connections are retried with a growing wait; an
answer the endpoint refuses as too long is asked again with half the max_tokens.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from core.catalogue.message import StudioError
from core.config import ChatSettings, ModelConfig
from core.data import templates
from core.making.config import TeacherConfig

TEST_PROMPT = "Say hello in one short sentence."
TEST_MAX_TOKENS = 32
MIN_MAX_TOKENS = 16  # halving max_tokens on a length error stops here
MAX_WAIT_S = 30.0  # the longest wait between two tries, whatever Retry-After asks
FIRST_WAIT_S = 0.5  # then 1, 2, 4 ... seconds, with some jitter so parallel requests do not retry in step
# How endpoints say the prompt plus max_tokens exceed the context (OpenAI, vLLM, this studio's server, llama.cpp).
LENGTH_ERROR = re.compile(r"context|max_tokens|max_completion_tokens|too long|maximum .*length", re.IGNORECASE)
NO_KEY = "not-needed"  # the openai client insists on some key; local servers ignore it


class TeacherError(StudioError, RuntimeError):
    """The teacher cannot answer any request as configured (unreachable, wrong key, unknown model): the batch
    stops and says why."""


class RequestFailed(StudioError, RuntimeError):
    """One request gave no usable answer (malformed, or retries used up): its rows are dropped, the batch goes on.
    `reason` is the drop reason it is counted under."""

    def __init__(self, key: str, /, reason: str = "failed", **values):
        super().__init__(key, **values)
        self.reason = reason


@dataclass
class Completion:
    text: str
    finish_reason: str  # "stop", or "length" when cut off at max_tokens
    tokens_in: int
    tokens_out: int


def open_teacher(config: TeacherConfig, api_key: str | None = None, runs_dir: str | Path = "runs",
                 stop: threading.Event | None = None):
    """The teacher `config` names: an EndpointTeacher for base_url, else a LocalTeacher for model_source."""
    if config.base_url.strip():
        return EndpointTeacher(config, api_key, stop)
    if config.model_source.strip():
        return LocalTeacher(config, runs_dir)
    raise TeacherError("making.teacher.none")


class EndpointTeacher:
    """An OpenAI-compatible /v1 endpoint. The key is held by the client only, never written anywhere."""

    def __init__(self, config: TeacherConfig, api_key: str | None = None, stop: threading.Event | None = None):
        from openai import OpenAI

        self.config, self.stop = config, stop or threading.Event()
        self.name = config.model
        # Retries are ours (max_retries=0), so they follow the config, count, and end at once on Stop.
        self.client = OpenAI(base_url=config.base_url.rstrip("/"), api_key=api_key or NO_KEY, max_retries=0,
                             timeout=config.timeout_s)
        self.shortened = 0  # requests asked again with a smaller max_tokens

    def test_connection(self) -> tuple[str, float]:
        """One short prompt: (the reply, seconds it took)."""
        started = time.monotonic()
        answer = self.complete([{"role": "user", "content": TEST_PROMPT}], TEST_MAX_TOKENS, retries=0)
        return answer.text, time.monotonic() - started

    def complete(self, messages: list[dict], max_tokens: int | None = None, retries: int | None = None) -> Completion:
        import openai

        max_tokens = max_tokens or self.config.max_tokens
        retries = self.config.retries if retries is None else retries
        attempt = 0
        while True:
            try:
                reply = self.client.chat.completions.create(model=self.config.model, messages=messages,
                                                            max_tokens=max_tokens,
                                                            temperature=self.config.temperature)
                return read_reply(reply)
            except openai.AuthenticationError:
                raise TeacherError("making.teacher.wrong_key", url=self.config.base_url,
                                   variable=self.config.api_key_env or "-") from None
            except openai.NotFoundError:
                raise self._unknown_model() from None
            except openai.BadRequestError as err:
                if LENGTH_ERROR.search(str(err)) and max_tokens > MIN_MAX_TOKENS:
                    max_tokens = max(MIN_MAX_TOKENS, max_tokens // 2)
                    self.shortened += 1
                    continue
                raise RequestFailed("making.teacher.refused", reason="refused", error=_short(err)) from None
            except openai.APIResponseValidationError as err:
                raise RequestFailed("making.teacher.malformed", reason="malformed", error=_short(err)) from None
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as err:
                if self.stop.is_set():  # Stop: no more tries; the request is asked again on resume
                    raise RequestFailed("making.teacher.gave_up", reason="failed", tries=attempt + 1,
                                        error=_short(err)) from None
                if attempt >= retries:
                    raise self._gave_up(err, attempt) from None
                self.stop.wait(wait_before_retry(attempt, err))
                attempt += 1

    def _gave_up(self, err, attempt: int) -> StudioError:
        import openai

        if isinstance(err, openai.APIConnectionError) and not isinstance(err, openai.APITimeoutError):
            return TeacherError("making.teacher.unreachable", url=self.config.base_url, tries=attempt + 1,
                                error=_short(err))
        if isinstance(err, openai.APITimeoutError):
            return RequestFailed("making.teacher.timed_out", reason="failed", seconds=self.config.timeout_s,
                                 tries=attempt + 1)
        return RequestFailed("making.teacher.gave_up", reason="failed", tries=attempt + 1, error=_short(err))

    def _unknown_model(self) -> TeacherError:
        try:
            known = ", ".join(m.id for m in self.client.models.list()) or "-"
        except Exception:  # noqa: BLE001 - the list is a courtesy; the endpoint may not have one
            known = "-"
        return TeacherError("making.teacher.unknown_model", url=self.config.base_url, model=self.config.model,
                            known=known)


class LocalTeacher:
    """A model loaded in this process (folder, built-in, run:NAME); it answers one request at a time."""

    def __init__(self, config: TeacherConfig, runs_dir: str | Path = "runs"):
        from core.results.chat import ChatModel

        self.config, self.name = config, config.model_source.strip()
        self.shortened = 0
        if self.name.startswith("run:"):
            folder = Path(runs_dir) / self.name[4:]
            if not folder.is_dir():
                raise TeacherError("making.teacher.no_run", name=self.name[4:], folder=str(runs_dir))
            self.model = ChatModel.from_run(folder, progress=lambda *_: None)
        else:
            self.model = ChatModel.base(ModelConfig(source=self.name), progress=lambda *_: None)

    def test_connection(self) -> tuple[str, float]:
        started = time.monotonic()
        answer = self.complete([{"role": "user", "content": TEST_PROMPT}], TEST_MAX_TOKENS)
        return answer.text, time.monotonic() - started

    def complete(self, messages: list[dict], max_tokens: int | None = None, retries: int | None = None) -> Completion:
        max_tokens = max_tokens or self.config.max_tokens
        settings = ChatSettings(temperature=self.config.temperature, max_new_tokens=max_tokens)
        text = self.model.reply(messages, settings)
        tokenizer = self.model.tokenizer
        # Counted as the chat counts them: the prompt with the chat template applied, as the model read it.
        prompt = templates.prompt_for_chat(tokenizer, messages)
        tokens_in = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        tokens_out = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        return Completion(text, "length" if tokens_out >= max_tokens else "stop", tokens_in, tokens_out)


def read_reply(reply) -> Completion:
    """The text, finish reason and token counts of a chat completion; anything else is a malformed answer."""
    try:
        choice = reply.choices[0]
        text = choice.message.content
        if not isinstance(text, str):
            raise TypeError(type(text).__name__)
        usage = reply.usage
        return Completion(text, choice.finish_reason or "stop", int(getattr(usage, "prompt_tokens", 0) or 0),
                          int(getattr(usage, "completion_tokens", 0) or 0))
    except (AttributeError, IndexError, TypeError, ValueError) as err:
        raise RequestFailed("making.teacher.malformed", reason="malformed", error=_short(err)) from None


def wait_before_retry(attempt: int, err) -> float:
    """Retry-After when the endpoint gives one (capped), else 0.5, 1, 2 ... seconds with jitter."""
    response = getattr(err, "response", None)
    asked = response.headers.get("retry-after") if response is not None else None
    try:
        if asked is not None:
            return min(MAX_WAIT_S, max(0.0, float(asked)))
    except ValueError:
        pass
    return min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** attempt) * random.uniform(0.75, 1.25)


def _short(err) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 300 else text[:297] + "..."
