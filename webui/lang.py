"""Which language a page speaks, and the words the studio computes (status lines, summaries, table headers) in it.

Labels and help lines are translated in the browser by gr.I18n (webui/i18n.py); everything a handler computes is
translated here, on the server, with the same choice of language:

- the browser's language, unless the user picked one with the switch in the header;
- the pick is kept in the browser (localStorage) and sent to the server as a cookie, so a reload keeps it and
  every handler of that page answers in it.

A small script, put at the top of every page's <head> by LanguageScript (before Gradio's own scripts read
navigator.language to choose the labels' language), makes the two agree.
"""

from __future__ import annotations

import functools
import inspect
import re
from http.cookies import SimpleCookie

import gradio as gr

from core.catalogue import message as catalogue
from core.catalogue.language import speaking
from webui.texts import CORE_ZH, NOTE_PATTERNS_ZH

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


def normalise(tag: str | None) -> str:
    """'zh-CN', 'zh', 'zh-Hans-CN' -> 'zh'; anything else -> 'en' (the two languages the studio speaks)."""
    return "zh" if (tag or "").strip().lower().startswith("zh") else "en"


def lang_of(request) -> str:
    """'en' or 'zh' for the page that sent `request` (a gr.Request, or None in tests and on the command line)."""
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


def say(lang: str, key: str, /, **values) -> str:
    """The text `key` in `lang` ('en' or 'zh'), with `values` filled in (str.format fields)."""
    return catalogue.say(key, lang=lang, **values)


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


def from_core(lang: str, english: str, key: str, values: dict | None = None) -> str:
    """A text core/ wrote in English, in `lang`: its Chinese comes from CORE_ZH[key] with the same figures
    (English, as core wrote it, when no Chinese is known for the key or the figures are missing)."""
    if lang != "zh" or key not in CORE_ZH:
        return english
    try:
        return CORE_ZH[key].format(**(values or {}))
    except (KeyError, IndexError, ValueError):
        return english


def note_text(lang: str, note: str) -> str:
    """A note core/data wrote about a file, in `lang` (matched by its English wording)."""
    if lang == "zh":
        for pattern, chinese in NOTE_PATTERNS_ZH:
            found = re.match(pattern, note)
            if found:
                return chinese.format(**found.groupdict())
    return note


def where_text(lang: str, where: str) -> str:
    """'line 7', 'item 3', 'row 12' (core/data's place of a row in its file; a folder's file name first) in `lang`."""
    if lang != "zh":
        return where
    found = re.match(r"^(?P<label>.*?)(?P<unit>line|item|row) (?P<number>\d+)$", where)
    if not found:
        return where
    unit = {"line": "第 {n} 行", "item": "第 {n} 项", "row": "第 {n} 行"}[found["unit"]]
    return found["label"] + unit.format(n=found["number"])


def duration_words(seconds: float, lang: str) -> str:
    """core.runs.duration_text ('45 s', '12 min', '2.5 h') in `lang`."""
    from core.runs import duration_text

    text = duration_text(seconds)
    if lang != "zh":
        return text
    number, unit = text.split(" ")
    return f"{number} " + {"s": "秒", "min": "分钟", "h": "小时"}[unit]


def sayer(lang: str):
    """say() with the language fixed: t = sayer(lang); t("data.rows", shown=3)."""
    return lambda key, /, **values: say(lang, key, **values)


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
