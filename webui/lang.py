"""Which language a page speaks, and the words the studio computes (status lines, summaries, table headers) in it.

Labels and help lines are translated in the browser by gr.I18n (webui/i18n.py); everything a handler computes is
said on the server (core.catalogue), in the language every handler runs in (speak_the_page_language), chosen the
same way:

- the browser's language, unless the user picked one with the switch in the header;
- the pick is kept in the browser (localStorage) and sent to the server as a cookie, so a reload keeps it and
  every handler of that page answers in it.

A small script, put at the top of every page's <head> by LanguageScript (before Gradio's own scripts read
navigator.language to choose the labels' language), makes the two agree.
"""

from __future__ import annotations

import functools
import inspect
from http.cookies import SimpleCookie

import gradio as gr

from core.catalogue import message as catalogue
from core.catalogue.language import normalise, speaking

STORAGE_KEY = "finetune-studio-lang"
CHOICES = [("English", "en"), ("简体中文", "zh-CN")]

# Runs before Gradio's scripts: the stored choice becomes navigator.language (which Gradio's i18n reads), and the
# cookie tells the server which language this page speaks.
HEAD_SCRIPT = ("<script>(function(){try{var k='" + STORAGE_KEY + "',l=localStorage.getItem(k);"
               "if(l){Object.defineProperty(Navigator.prototype,'language',{get:function(){return l},"
               "configurable:true});Object.defineProperty(Navigator.prototype,'languages',"
               "{get:function(){return [l]},configurable:true});}"
               "document.cookie=k+'='+encodeURIComponent(l||navigator.language||'en')+';path=/;SameSite=Strict';"
               "}catch(e){}})();</script>")

# The header's switch: keep the choice, then reload so the whole page (labels included) changes at once.
SWITCH_JS = ("(choice) => { localStorage.setItem('" + STORAGE_KEY + "', choice); document.cookie = '" + STORAGE_KEY
             + "=' + encodeURIComponent(choice) + ';path=/;SameSite=Strict'; location.reload(); return choice; }")


def lang_of(request) -> str:
    """The language of the page that sent `request` (a gr.Request, or None in tests and on the command line)."""
    if request is None:
        return "en"
    headers = getattr(request, "headers", None) or {}
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", "") or "")
    except Exception:  # noqa: BLE001 - a malformed cookie header: fall back to the browser's language
        pass
    if STORAGE_KEY in cookie:
        from urllib.parse import unquote
        return normalise(unquote(cookie[STORAGE_KEY].value))
    accepted = (headers.get("accept-language", "") or "").split(",")[0].split(";")[0]
    return normalise(accepted)


def switch_value(request) -> str:
    return "zh-CN" if lang_of(request) == "zh" else "en"


def speak_the_page_language(blocks: gr.Blocks) -> None:
    """Every event handler of `blocks` runs in the language of the page that sent the event (core.catalogue's
    context), so no handler needs a language parameter. Call once, after every event is connected."""
    for block_fn in blocks.fns.values():
        if block_fn.fn is not None and not getattr(block_fn.fn, "_speaks_page_language", False):
            block_fn.fn = in_page_language(block_fn.fn)


def in_page_language(fn):
    """`fn` with the page's request added as its first parameter (Gradio fills a parameter typed gr.Request); the
    call, and each step of a generator, runs inside speaking(the page's language)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapped(page_request, *args, **kwargs):
            lang = lang_of(page_request)
            with speaking(lang):
                steps = fn(*args, **kwargs)
            while True:
                with speaking(lang):  # a generator's steps may run on different worker threads
                    try:
                        item = next(steps)
                    except StopIteration:
                        return
                yield item
    elif inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapped(page_request, *args, **kwargs):
            with speaking(lang_of(page_request)):
                return await fn(*args, **kwargs)
    else:
        @functools.wraps(fn)
        def wrapped(page_request, *args, **kwargs):
            with speaking(lang_of(page_request)):
                return fn(*args, **kwargs)
    signature = inspect.signature(fn)
    first = inspect.Parameter("page_request", inspect.Parameter.POSITIONAL_ONLY, annotation=gr.Request)
    wrapped.__signature__ = signature.replace(parameters=[first, *signature.parameters.values()])
    wrapped.__annotations__ = {**getattr(fn, "__annotations__", {}), "page_request": gr.Request}
    wrapped._speaks_page_language = True
    return wrapped


def duration_words(seconds: float) -> str:
    """A duration as people say it, in the page's language: '45 s', '12 min', '2.5 h' (core.runs.duration_text's
    units and thresholds, which the command line prints)."""
    if seconds < 90:
        return catalogue.say("duration.seconds", seconds=seconds)
    if seconds < 5400:
        return catalogue.say("duration.minutes", minutes=seconds / 60)
    return catalogue.say("duration.hours", hours=seconds / 3600)


class LanguageScript:
    """ASGI middleware: HEAD_SCRIPT at the top of every HTML page's <head>; everything else passes untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        state = {"start": None, "html": False, "chunks": []}

        async def capture(message):
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                state["html"] = content_type.startswith(b"text/html")
                if not state["html"]:
                    await send(message)
                else:
                    state["start"] = message
                return
            if message["type"] != "http.response.body" or not state["html"]:
                await send(message)
                return
            state["chunks"].append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(state["chunks"]).replace(b"<head>", b"<head>" + HEAD_SCRIPT.encode(), 1)
            start = state["start"]
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
