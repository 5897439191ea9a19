"""The demo page: show a fine-tuned model to others. Its title and description (editable), example prompts from
the rows it never trained on, answers streamed as they are written with a Stop button, and for a run a switch to
the base model, so the difference the fine-tune made is one click away. Its answers are written by the model's
batcher beside every other visitor's and the API's (core.results.serving.demo_answer): a visitor waits for no one
else's answer, Stop frees only their own, and when the batcher is full they are told to try again in a few seconds.

`launch.py demo RUN_OR_EXPORT` serves it alone, with the OpenAI-compatible API (core.results.openai_api) on the
same port; the studio serves it at /demo?run=NAME (the Chat tab's "Open demo"), sharing the studio's loaded model.
Either way the same security rules hold (webui.serving.login_for / launch_safely).
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import StudioError, say, text_of
from core.config import ChatSettings, ConfigError
from core.models.load import ModelError
from core.results.batching import GenerationFailed, QueueFull
from core.results.chat import ChatError, ChatModel
from core.results.serving import Served, demo_answer, description_said, open_served
from webui.lang import speak_the_page_language
from webui.serving import ExposureError, launch_safely, login_for
from webui.tab_chat import chat_turns


class NothingToShow(StudioError, LookupError):
    """The address names no finished run (the studio's /demo?run=NAME)."""


FAILURES = (ChatError, ModelError, ConfigError, NothingToShow, OSError)
ANSWER_FAILURES = FAILURES + (QueueFull, GenerationFailed)
TUNED, BASE = "tuned", "base"


class FixedShowroom:
    """`launch.py demo`: one model, loaded before the server starts."""

    def __init__(self, served: Served, model: ChatModel):
        self._served, self._model = served, model

    def served(self, key: str) -> Served:
        return self._served

    def chat_model(self, served: Served) -> ChatModel:
        return self._model


class StudioShowroom:
    """The studio's /demo page: the run named in the address, loaded through the studio's one-model cache."""

    def __init__(self, studio):
        self.studio = studio

    def served(self, key: str) -> Served:
        run = self.studio.run_named(key)
        if run is None or not run.has_weights():
            raise NothingToShow("demo.no_run", name=key)
        return open_served(run.path)

    def chat_model(self, served: Served) -> ChatModel:
        return self.studio.chat_model(f"run:{served.folder}", lambda: served.load(progress=lambda _: None))


def build(showroom, i18n, page: gr.Blocks, api_hint: bool = False) -> SimpleNamespace:
    """The page's components, inside the current Blocks (or page) context; `page` is the Blocks whose load opens
    it. `api_hint` adds how to call the OpenAI-compatible API (only where it is served)."""
    key = gr.State("")
    gr.Navbar(visible="hidden")  # a page to show others: no menu into the studio (see webui.app for "hidden")
    with gr.Column(elem_id="demo-page"):
        title = gr.Markdown(elem_id="demo-title")
        description = gr.Markdown(elem_id="demo-description")
        which = gr.Radio([(i18n("demo.tuned"), TUNED), (i18n("demo.base"), BASE)], value=TUNED,
                         label=i18n("demo.which"), visible=False, elem_id="demo-which")
        chatbot = gr.Chatbot(height=440, show_label=False, elem_id="demo-chat")
        with gr.Row():
            prompt = gr.Textbox(placeholder=i18n("chat.placeholder"), show_label=False, scale=6,
                                elem_id="demo-input")
            send = gr.Button(i18n("chat.send"), variant="primary", scale=1, elem_id="demo-send")
            stop = gr.Button(i18n("demo.stop"), variant="stop", scale=1, elem_id="demo-stop")
        examples = gr.Dataset(components=[gr.Textbox(visible=False)], samples=[], label=i18n("demo.examples"),
                              type="values", elem_id="demo-examples")
        with gr.Accordion(i18n("demo.settings"), open=False):
            temperature = gr.Slider(0, 2, value=ChatSettings().temperature, step=0.05,
                                    label=i18n("chat.temperature.label"), info=i18n("chat.temperature.help"),
                                    elem_id="demo-temperature")
            max_new_tokens = gr.Slider(16, 8192, value=ChatSettings().max_new_tokens, step=16,
                                       label=i18n("chat.max_new_tokens.label"), elem_id="demo-max-new-tokens")
        with gr.Accordion(i18n("demo.edit"), open=False):
            title_box = gr.Textbox(label=i18n("demo.title"), elem_id="demo-title-box")
            description_box = gr.Textbox(label=i18n("demo.description"), lines=3, elem_id="demo-description-box")
            save = gr.Button(i18n("demo.save"), size="sm", elem_id="demo-save")
        api = gr.Markdown(visible=False, elem_id="demo-api")
    ui = SimpleNamespace(key=key, title=title, description=description, which=which, chatbot=chatbot,
                         prompt=prompt, send=send, stop=stop, examples=examples, temperature=temperature,
                         max_new_tokens=max_new_tokens, title_box=title_box, description_box=description_box,
                         save=save, api=api)
    _connect(ui, showroom, page, api_hint)
    return ui


class DemoHandlers:
    """The demo page's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, showroom, api_hint: bool):
        self.ui, self.showroom, self.api_hint = ui, showroom, api_hint

    def open_page(self, request: gr.Request) -> dict:
        """The model named in the address (?run=NAME), its showcase, and how to call the API where it is served."""
        ui = self.ui
        key = (request.query_params or {}).get("run", "") if request else ""
        try:
            served = self.showroom.served(key)
        except FAILURES as err:
            return {ui.key: key, ui.title: say("demo.nothing"), ui.description: f"**{text_of(err)}**",
                    ui.which: gr.update(visible=False), ui.examples: gr.update(samples=[]), ui.title_box: "",
                    ui.description_box: "", ui.api: gr.update(visible=False)}
        shown = served.showcase
        hint = gr.update(visible=True, value=api_text(served, request)) if self.api_hint else gr.update(visible=False)
        description = description_said(served)  # the run's own words in the page's language, until edited
        return {ui.key: key, ui.title: f"# {shown.title}", ui.description: description,
                ui.which: gr.update(visible=served.has_base, value=TUNED),
                ui.examples: gr.update(samples=[[e] for e in shown.examples]), ui.title_box: shown.title,
                ui.description_box: description, ui.api: hint}

    def respond(self, message, history, key, which, temperature, max_new_tokens):
        """The answer, streamed into the conversation as it is written; the prompt box empties once it is sent."""
        ui = self.ui
        message = (message or "").strip()
        history = list(history or [])
        if not message:
            yield {ui.chatbot: history}
            return
        history += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        yield {ui.chatbot: history, ui.prompt: ""}
        try:
            served = self.showroom.served(key)
            model = self.showroom.chat_model(served)
            settings = ChatSettings(temperature=float(temperature), max_new_tokens=int(max_new_tokens))
            # Stop, or a closed tab, closes this generator (also while it waits for a row: it yields "" then), and
            # closing it frees the answer's row in the batcher.
            for piece in demo_answer(model, chat_turns(history[:-1]), settings,
                                     use_adapter=which != BASE or not served.has_base):
                history[-1]["content"] += piece
                yield {ui.chatbot: history}
        except ANSWER_FAILURES as err:
            history[-1]["content"] = f"⚠ {text_of(err)}"
            yield {ui.chatbot: history}

    def save(self, key, title, description) -> dict:
        try:
            shown = self.showroom.served(key).save_showcase(title or "", description or "")
        except FAILURES as err:
            return {self.ui.description: f"**{text_of(err)}**"}
        return {self.ui.title: f"# {shown.title}", self.ui.description: shown.description}


def first_of(sample):
    return sample[0]


def new_conversation() -> list:
    return []


def _connect(ui, showroom, page: gr.Blocks, api_hint: bool) -> None:
    handlers = DemoHandlers(ui, showroom, api_hint)
    page.load(handlers.open_page, None, [ui.key, ui.title, ui.description, ui.which, ui.examples, ui.title_box,
                                         ui.description_box, ui.api])
    # No limit here: the model's batcher answers visitors together and tells them at once when it is full, where a
    # queue here would keep them waiting behind one another (and behind the studio's Chat tab, its "chat" group).
    answer = dict(fn=handlers.respond, inputs=[ui.prompt, ui.chatbot, ui.key, ui.which, ui.temperature,
                                               ui.max_new_tokens],
                  outputs=[ui.chatbot, ui.prompt], concurrency_id="demo-chat", concurrency_limit=None)
    answers = [trigger(**answer) for trigger in (ui.send.click, ui.prompt.submit)]
    picked = ui.examples.click(first_of, ui.examples, ui.prompt, queue=False)
    answers.append(picked.then(**answer))
    ui.stop.click(None, None, None, cancels=answers)
    ui.which.change(new_conversation, None, ui.chatbot)  # a new conversation for the other model
    ui.save.click(handlers.save, [ui.key, ui.title_box, ui.description_box], [ui.title, ui.description])


def api_text(served: Served, request: gr.Request | None) -> str:
    host = (request.headers.get("host") if request else None) or "127.0.0.1:7860"
    models = ", ".join(f"`{name}`" for name in served.model_ids())
    return (say("demo.api", url=f"http://{host}/v1", models=models)
            + "\n\n```python\nfrom openai import OpenAI\n"
            f"client = OpenAI(base_url=\"http://{host}/v1\", api_key=\"none\")  # with --auth: \"USER:PASS\"\n"
            f"reply = client.chat.completions.create(model=\"{served.name}\", "
            "messages=[{\"role\": \"user\", \"content\": \"Who are you?\"}])\n"
            "print(reply.choices[0].message.content)\n```")


def serve(path: str, host: str = "127.0.0.1", port: int = 7860, share: bool = False, auth: str | None = None,
          open_browser: bool = True) -> int:
    """`launch.py demo`: check the address and login, load the model, then serve the page and the API."""
    from core.results import openai_api
    from webui.i18n import build_i18n

    try:
        login = login_for(host, share, auth, what="the demo and its API")
    except ExposureError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        served = open_served(path)
        model = served.load(progress=print)  # before serving: a model that cannot load is said here, once
    except FAILURES as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    i18n = build_i18n()
    with gr.Blocks(title=served.showcase.title) as page:
        build(FixedShowroom(served, model), i18n, page, api_hint=True)
    speak_the_page_language(page)
    page.queue(default_concurrency_limit=4)
    api = openai_api.router(served, lambda: model, login)
    print(f"Serving {served.name} ({served.kind}); OpenAI-compatible API at /v1 (models: "
          f"{', '.join(served.model_ids())}).")
    launch_safely(page, i18n, host=host, port=port, share=share, login=login, open_browser=open_browser,
                  extra_routes=api.routes)
    return 0
