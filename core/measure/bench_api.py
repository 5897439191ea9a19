"""The demo API's figures for `bench --generate`: how much more 8 clients at once get than one, and how long a
client that arrives during another's long answer waits for its first token.

Measured as a user would meet them: the real API (core.results.openai_api) served on 127.0.0.1 by uvicorn, asked
by the official `openai` client, streaming. Same prompts and max_tokens on both sides, greedy (so both sides write
the same tokens); medians of `rounds`, compared as ratios within the run.
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import threading
import time
from pathlib import Path

CLIENTS = 8
LONG_TOKENS = 256  # the answer being written when the others arrive
LATE_CLIENTS = 3  # arriving one after another during it; the worst of their first tokens counts


@contextlib.contextmanager
def api_server(model, tokenizer, folder: str):
    """The API for `model` (a PeftModel: `bench` with the adapter, `bench-base` without) at a loopback URL."""
    import uvicorn
    from fastapi import FastAPI

    from core.results import openai_api
    from core.results.chat import ChatModel
    from core.results.serving import Served, Showcase

    served = Served(Path(folder), "run", "bench", Showcase("bench", ""))
    chat_model = ChatModel(model, tokenizer, has_adapter=True, label="bench")
    app = FastAPI()
    app.include_router(openai_api.router(served, lambda: chat_model))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # log_config=None: uvicorn's own logging setup (dictConfig) would close the handlers of the process that runs
    # the benchmark (pytest's among them) and bind new ones to whatever sys.stderr is at that moment.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the benchmark's API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def ask(client, question: str, max_tokens: int, enough: threading.Event | None = None,
        writing: threading.Event | None = None) -> dict:
    """One streamed answer: its completion tokens, seconds to its first token and to its end; read until the end
    or until `enough` is set (then the stream is closed, which frees its row). `writing` is set at its first
    token."""
    started = time.perf_counter()
    first, tokens, text = None, 0, ""
    stream = client.chat.completions.create(model="bench", messages=[{"role": "user", "content": question}],
                                            temperature=0, max_tokens=max_tokens, stream=True,
                                            stream_options={"include_usage": True})
    for chunk in stream:
        if enough is not None and enough.is_set():
            stream.close()
            break
        if chunk.choices and chunk.choices[0].delta.content:
            if first is None:
                first = time.perf_counter() - started
                if writing is not None:
                    writing.set()
            text += chunk.choices[0].delta.content
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    return {"tokens": tokens, "first_token_s": first, "seconds": time.perf_counter() - started, "text": text}


def together(client, questions: list[str], max_tokens: int) -> tuple[float, list[dict]]:
    """(total completion tokens per second, the answers) of one client per question, all at once."""
    answers: list[dict] = [{}] * len(questions)
    started = time.perf_counter()

    def one(i: int):
        answers[i] = ask(client, questions[i], max_tokens)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(questions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(a["tokens"] for a in answers) / (time.perf_counter() - started), answers


def one_by_one(client, questions: list[str], max_tokens: int) -> tuple[float, list[dict]]:
    """(total completion tokens per second, the answers) of one client asking the questions in turn."""
    started = time.perf_counter()
    answers = [ask(client, q, max_tokens) for q in questions]
    return sum(a["tokens"] for a in answers) / (time.perf_counter() - started), answers


def first_token(client, question: str) -> float:
    """Seconds to the first token of an answer (read no further: the stream is closed, freeing its row)."""
    seen = threading.Event()
    return ask(client, question, LONG_TOKENS, enough=seen, writing=seen)["first_token_s"]


def late_first_tokens(client, long_question: str, question: str) -> tuple[float, bool]:
    """(the worst first-token time of LATE_CLIENTS clients arriving one after another while another client's long
    answer is written, whether that answer was still being written when the last of them got its first token)."""
    enough, writing = threading.Event(), threading.Event()
    thread = threading.Thread(target=ask, args=(client, long_question, LONG_TOKENS, enough, writing))
    thread.start()
    writing.wait(timeout=600)  # the others arrive while it is being written
    waits = [first_token(client, question) for _ in range(LATE_CLIENTS)]
    still_writing = thread.is_alive()
    enough.set()  # its tokens are not counted: no need to wait for the rest
    thread.join()
    return max(w for w in waits if w is not None), still_writing


def measure_api(model, tokenizer, folder: str, rounds: int, max_tokens: int, progress=print) -> dict:
    from openai import OpenAI

    from core.training.replay import pick_prompts

    questions = pick_prompts(CLIENTS, seed=7)
    long_question = "Write a long, detailed story about a lighthouse keeper and the sea, in many paragraphs."
    speeds = {"one": [], "eight": []}
    lone, late, overlapped, texts = [], [], [], {"one": [], "eight": []}
    with api_server(model, tokenizer, folder) as url:
        client = OpenAI(base_url=url, api_key="none", max_retries=0, timeout=3600)
        ask(client, questions[0], 2)  # warm up: the first forward pass pays one-off costs
        for round_ in range(rounds):
            order = ("one", "eight") if round_ % 2 == 0 else ("eight", "one")
            for side in order:
                per_s, answers = (one_by_one if side == "one" else together)(client, questions, max_tokens)
                speeds[side].append(per_s)
                texts[side].append([a["text"] for a in answers])
                progress(f"API round {round_ + 1}/{rounds}: {'1 client' if side == 'one' else '8 clients'} "
                         f"{per_s:.1f} tokens/s")
            lone.append(first_token(client, questions[1]))
            worst, still = late_first_tokens(client, long_question, questions[1])
            late.append(worst)
            overlapped.append(still)
            progress(f"API round {round_ + 1}/{rounds}: first token alone {lone[-1]:.2f} s, behind a long answer "
                     f"at worst {worst:.2f} s")
    one, eight = statistics.median(speeds["one"]), statistics.median(speeds["eight"])
    return {"api_clients": CLIENTS, "api_max_tokens": max_tokens, "api_rounds": rounds,
            "api_tokens_per_s_1_client": one, "api_tokens_per_s_8_clients": eight,
            "api_concurrency_speedup": eight / one, "api_answers_identical": texts["one"] == texts["eight"],
            "api_first_token_s_alone": statistics.median(lone),
            "api_first_token_s_behind_long": statistics.median(late),
            "api_first_token_ratio": statistics.median(late) / statistics.median(lone),
            "api_long_answer_overlapped": all(overlapped)}


def format_api(report: dict) -> str:
    identical = "identical" if report["api_answers_identical"] else "DIFFERENT"
    overlap = "" if report["api_long_answer_overlapped"] else " (the long answer ended before them: not a test)"
    return "\n".join([
        f"API ({report['api_max_tokens']} tokens per answer, median of {report['api_rounds']}): 1 client "
        f"{report['api_tokens_per_s_1_client']:.1f} tokens/s, {report['api_clients']} clients at once "
        f"{report['api_tokens_per_s_8_clients']:.1f} tokens/s: {report['api_concurrency_speedup']:.2f}x, answers "
        f"{identical}",
        f"API first token: alone {report['api_first_token_s_alone']:.2f} s, behind another's long answer at worst "
        f"{report['api_first_token_s_behind_long']:.2f} s: {report['api_first_token_ratio']:.2f}x{overlap}"])
