"""Tab 5, Chat: talk to a finished run, switch its adapter off, or show base and tuned answers side by side."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import say, text_of
from core.config import ConfigError
from core.models.load import ModelError
from core.results.chat import ChatError, ChatModel
from core.results.voting import PatternError
from webui.form import chat_settings_from

BASE_ONLY = "(base model only)"
OPEN_DEMO_JS = "(run) => { window.open('demo?run=' + encodeURIComponent(run), '_blank'); }"


def build(form, i18n) -> SimpleNamespace:
    with gr.Tab(i18n("tab.chat"), id="chat") as tab:
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                run = gr.Dropdown([BASE_ONLY], value=BASE_ONLY, label=i18n("chat.model"), elem_id="chat-run")
                refresh = gr.Button(i18n("chat.refresh"), size="sm", elem_id="chat-refresh")
                open_demo = gr.Button(i18n("chat.open_demo"), size="sm", visible=False, elem_id="chat-open-demo")
                adapter_on = gr.Checkbox(True, label=i18n("chat.adapter_on"), elem_id="chat-adapter-on")
                side_by_side = gr.Checkbox(False, label=i18n("chat.side_by_side"), elem_id="chat-side-by-side")
                form.add("chat.system_prompt", lines=2)
                form.add("chat.temperature")
                form.add("chat.top_p")
                form.add("chat.max_new_tokens")
                # Majority voting and its answer pattern (a regular expression) are for checking answers, not for
                # a first chat: one click away, closed.
                with gr.Accordion(i18n("chat.voting"), open=False, elem_id="chat-voting"):
                    form.add("chat.votes")
                    form.add("chat.answer_pattern")
            with gr.Column(scale=3):
                notice = gr.Markdown(elem_id="chat-notice")
                with gr.Row():
                    tuned = gr.Chatbot(label=i18n("chat.tuned"), height=420, elem_id="chat-tuned")
                    base = gr.Chatbot(label=i18n("chat.base"), height=420, visible=False, elem_id="chat-base")
                with gr.Row():
                    prompt = gr.Textbox(placeholder=i18n("chat.placeholder"), show_label=False, scale=5,
                                        elem_id="chat-input")
                    send = gr.Button(i18n("chat.send"), variant="primary", scale=1, elem_id="chat-send")
                    stop = gr.Button(i18n("demo.stop"), variant="stop", scale=1, elem_id="chat-stop")
                    clear = gr.Button(i18n("chat.clear"), scale=1, elem_id="chat-clear")
    return SimpleNamespace(tab=tab, run=run, refresh=refresh, open_demo=open_demo, adapter_on=adapter_on,
                           side_by_side=side_by_side, notice=notice, tuned=tuned, base=base, prompt=prompt, send=send,
                           stop=stop, clear=clear)


class ChatHandlers:
    """The Chat tab's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, form, studio):
        self.ui, self.form, self.studio = ui, form, studio
        self.model_widgets = {w for k, w in form.fields.items() if k.startswith("model.")}
        chat_fields = {w for k, w in form.fields.items() if k.startswith("chat.")}
        self.inputs = ({ui.prompt, ui.tuned, ui.base, ui.run, ui.adapter_on, ui.side_by_side} | chat_fields
                       | self.model_widgets)

    def run_choices(self, current) -> dict:
        """The finished runs, newest first; a page that shows the base model moves to the newest finished run."""
        names = [r.name for r in self.studio.runs() if r.has_weights()]
        value = current if current in names else (names[0] if names else BASE_ONLY)
        return {self.ui.run: gr.update(choices=[(say("chat.base_only"), BASE_ONLY)] + names, value=value)}

    def who_answers(self, choice, adapter_on) -> dict:
        """The answer panel's label says which model answers, and the adapter switch is offered only with a run."""
        return {self.ui.tuned: chat_label(choice, adapter_on),
                self.ui.adapter_on: gr.update(interactive=choice != BASE_ONLY)}

    def offer_demo(self, choice) -> dict:
        return {self.ui.open_demo: gr.update(visible=bool(choice) and choice != BASE_ONLY)}

    def show_base(self, on) -> dict:
        return {self.ui.base: gr.update(visible=on)}

    def clear(self) -> dict:
        return {self.ui.tuned: [], self.ui.base: [], self.ui.notice: ""}

    def respond(self, values: dict):
        """Answer the prompt: streamed token by token, or, with votes, the winner and the counts at once."""
        ui = self.ui
        message = (values[ui.prompt] or "").strip()
        if not message:
            yield gr.skip()
            return
        try:
            model = self.load_chat_model(values)
        except (ChatError, ModelError, ConfigError) as err:
            yield {ui.notice: f"**{text_of(err)}**"}
            return
        side = values[ui.side_by_side] and model.has_adapter
        turn = [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        tuned = list(values[ui.tuned] or []) + turn
        base = list(values[ui.base] or []) + ([dict(m) for m in turn] if side else [])
        answer = Answer(model, chat_settings_from(self.form, values), bool(values[ui.adapter_on]), side,
                        sharing_notice(self.studio, model))
        steps = answer.vote(tuned, base) if answer.settings.votes > 1 else answer.stream(tuned, base)
        for notice in steps:
            yield {ui.notice: notice, ui.tuned: tuned, ui.base: base, ui.prompt: ""}

    def load_chat_model(self, values):
        choice = values[self.ui.run]
        held = self.studio.runner.held_gpus  # a run's GPUs: the chat model is placed off them (and says where)
        if choice and choice != BASE_ONLY:
            run = self.studio.run_named(choice)
            if run is None:
                raise ChatError("chat.no_run", name=choice)
            return self.studio.chat_model(f"run:{run.path}:{held}", lambda: ChatModel.from_run(
                run.path, progress=lambda _: None, held_gpus=held))
        config = self.form.config_from({w: values[w] for w in self.model_widgets}).model
        return self.studio.chat_model(f"base:{config}:{held}", lambda: ChatModel.base(
            config, progress=lambda _: None, held_gpus=held))


class Answer:
    """One answer of the tuned model (and of the base model beside it): each step writes into the two histories'
    last message and yields the notice line to show with them."""

    def __init__(self, model, settings, use_adapter: bool, side: bool, notice: str):
        self.model, self.settings, self.use_adapter, self.side = model, settings, use_adapter, side
        self.notice = notice  # said while a run shares the machine

    def stream(self, tuned: list[dict], base: list[dict]):
        try:
            for piece in self.model.stream(chat_turns(tuned[:-1]), self.settings, use_adapter=self.use_adapter):
                tuned[-1]["content"] += piece
                yield self.notice
            if self.side:
                for piece in self.model.stream(chat_turns(base[:-1]), self.settings, use_adapter=False):
                    base[-1]["content"] += piece
                    yield self.notice
        except ChatError as err:
            yield f"**{text_of(err)}**"

    def vote(self, tuned: list[dict], base: list[dict]):
        """Sampled all at once, so there is nothing to stream: the winner and the counts."""
        try:
            tuned_vote = self.model.vote(chat_turns(tuned[:-1]), self.settings, use_adapter=self.use_adapter)
            tuned[-1]["content"] = tuned_vote.text
            counts = [vote_counts(tuned_vote)]
            if self.side:
                base_vote = self.model.vote(chat_turns(base[:-1]), self.settings, use_adapter=False)
                base[-1]["content"] = base_vote.text
                counts.append(say("chat.base_votes", counts=vote_counts(base_vote)))
        except (ChatError, PatternError) as err:
            yield f"**{text_of(err)}**"
            return
        yield "  \n".join(filter(None, [self.notice, *counts]))


def connect(ui, form, studio, demo) -> None:
    handlers = ChatHandlers(ui, form, studio)
    answers = [trigger(handlers.respond, handlers.inputs, [ui.notice, ui.tuned, ui.base, ui.prompt],
                       concurrency_id="chat", concurrency_limit=1) for trigger in (ui.send.click, ui.prompt.submit)]
    ui.stop.click(None, None, None, cancels=answers)  # closes the stream: generation ends within a token
    ui.clear.click(handlers.clear, None, [ui.tuned, ui.base, ui.notice])
    ui.side_by_side.change(handlers.show_base, [ui.side_by_side], [ui.base])
    ui.refresh.click(handlers.run_choices, [ui.run], [ui.run])
    demo.load(handlers.run_choices, [ui.run], [ui.run]).then(handlers.who_answers, [ui.run, ui.adapter_on],
                                                             [ui.tuned, ui.adapter_on], show_progress="hidden")
    ui.tab.select(handlers.run_choices, [ui.run], [ui.run], show_progress="hidden")  # a run finished meanwhile
    gr.on([ui.run.change, ui.adapter_on.change], handlers.who_answers, [ui.run, ui.adapter_on],
          [ui.tuned, ui.adapter_on], show_progress="hidden", queue=False)
    # The demo page is served by the studio itself (webui.demo at /demo), in a new browser tab.
    ui.run.change(handlers.offer_demo, [ui.run], [ui.open_demo], queue=False)
    ui.open_demo.click(None, [ui.run], None, js=OPEN_DEMO_JS)


def chat_label(choice: str, adapter_on: bool):
    """The answer panel's label: the tuned run only when its adapter answers; the base model otherwise."""
    if choice and choice != BASE_ONLY and adapter_on:
        return gr.update(label=say("chat.tuned_label", run=choice))
    off = say("chat.adapter_off", run=choice) if choice and choice != BASE_ONLY else ""
    return gr.update(label=say("chat.base_label", adapter_off=off))


def vote_counts(vote) -> str:
    """'Votes: "B" 3, "C" 2' with the winner first, for the notice line above the chat."""
    listed = ", ".join(f"“{answer}” {count}" for answer, count in vote.counts.items())
    return say("chat.votes", total=sum(vote.counts.values()), listed=listed)


def sharing_notice(studio, model=None) -> str:
    """Say plainly when the chat and a training run share the machine, and where the chat model went to keep off
    the run's GPUs."""
    if not studio.runner.busy:
        return ""
    if getattr(model, "placement_note", None) is not None:
        return text_of(model.placement_note)
    import torch

    return say("chat.sharing_gpu" if torch.cuda.is_available() else "chat.sharing_cpu")


def chat_turns(history: list[dict]) -> list[dict]:
    """Chatbot messages back to plain role/content turns."""
    return [{"role": m["role"], "content": _text(m["content"])} for m in history]


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)
