"""Tab 5, Chat: talk to a finished run, switch its adapter off, or show base and tuned answers side by side."""

from __future__ import annotations

import time
from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import say, text_of
from core.config import ConfigError
from core.models.load import ModelError
from core.results.chat import ChatError, ChatModel
from core.data.answers import PatternError
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
        asked = gr.State(False)  # Send put a question in the transcript: the queued answer step answers it
        listed = gr.State(None)  # the finished runs the list showed last: one more means a run has finished
    return SimpleNamespace(tab=tab, run=run, refresh=refresh, open_demo=open_demo, adapter_on=adapter_on,
                           side_by_side=side_by_side, notice=notice, tuned=tuned, base=base, prompt=prompt, send=send,
                           stop=stop, clear=clear, asked=asked, listed=listed)


class ChatHandlers:
    """The Chat tab's event handlers; each answers with {component: update} for what it changes."""

    def __init__(self, ui, form, studio):
        self.ui, self.form, self.studio = ui, form, studio
        self.model_widgets = {w for k, w in form.fields.items() if k.startswith("model.")}
        chat_fields = {w for k, w in form.fields.items() if k.startswith("chat.")}
        self.asking = {ui.prompt, ui.tuned, ui.base, ui.run, ui.adapter_on, ui.side_by_side}
        self.inputs = self.asking | {ui.asked} | chat_fields | self.model_widgets

    def run_choices(self, current, listed) -> dict:
        """The finished runs, newest first. A run that finished since the list was last shown is chosen (the newest
        of them); otherwise the choice stays, and a page that shows none moves to the newest finished run."""
        names = [r.name for r in self.studio.runs() if r.has_weights()]
        choices = [(say("chat.base_only"), BASE_ONLY)] + names
        finished = [name for name in names if listed is not None and name not in listed]
        if finished:
            return {self.ui.run: gr.update(choices=choices, value=finished[0]), self.ui.listed: names}
        if listed is not None and (current in names or current == BASE_ONLY):
            # No value sent: `current` is what the page showed when this was asked, and a pick made since (on a
            # busy machine, while this waited in the queue) must not be turned back.
            return {self.ui.run: gr.update(choices=choices), self.ui.listed: names}
        return {self.ui.run: gr.update(choices=choices, value=names[0] if names else BASE_ONLY), self.ui.listed: names}

    def who_answers(self, choice, adapter_on) -> dict:
        """The panel's label says which model answers next (each answer keeps its own label), and the adapter
        switch is offered only with a run."""
        return {self.ui.tuned: gr.update(label=say("chat.next_answer", who=answer_label(choice, adapter_on))),
                self.ui.adapter_on: gr.update(interactive=choice != BASE_ONLY)}

    def offer_demo(self, choice) -> dict:
        return {self.ui.open_demo: gr.update(visible=bool(choice) and choice != BASE_ONLY)}

    def show_base(self, on) -> dict:
        return {self.ui.base: gr.update(visible=on)}

    def clear(self) -> dict:
        return {self.ui.tuned: [], self.ui.base: [], self.ui.notice: ""}

    def stopped(self, tuned, base) -> dict:
        """Stop: the answer cut short keeps what it said, marked as stopped (no spinner left turning)."""
        return {self.ui.tuned: [stopped(m) for m in tuned or []], self.ui.base: [stopped(m) for m in base or []],
                self.ui.notice: ""}

    def ask(self, values: dict) -> dict:
        """Send, answered at once (not queued behind model loading or another answer): the question shows in the
        transcript with a pending answer labelled with the model that will give it, or the notice says why nothing
        was sent. `asked` tells the queued answer step that there is something to answer; a refused Send leaves it
        as it is, since the answer step of an earlier Send may still be waiting in the queue to read it."""
        ui = self.ui
        message = (values[ui.prompt] or "").strip()
        tuned, base = list(values[ui.tuned] or []), list(values[ui.base] or [])
        if not message:
            return {ui.notice: say("chat.type_first")}
        if any(is_pending(m) for m in tuned + base):
            return {ui.notice: say("chat.still_answering")}
        label = answer_label(values[ui.run], values[ui.adapter_on])
        tuned += [{"role": "user", "content": message}, pending_answer(label)]
        if values[ui.side_by_side] and values[ui.run] != BASE_ONLY:
            base += [{"role": "user", "content": message}, pending_answer(answer_label(BASE_ONLY, False))]
        return {ui.tuned: tuned, ui.base: base, ui.prompt: "", ui.asked: True,
                ui.notice: say("chat.answering", who=label)}

    def respond(self, values: dict):
        """Answer the question Send put in the transcript: streamed token by token, or, with votes, "k of N" while
        sampling and then the winner and the counts. The answer keeps the label it was asked under."""
        ui = self.ui
        tuned, base = list(values[ui.tuned] or []), list(values[ui.base] or [])
        if not values[ui.asked] or not tuned or not is_pending(tuned[-1]):
            yield gr.skip()
            return
        try:
            model = self.load_chat_model(values)
        except (ChatError, ModelError, ConfigError) as err:
            yield {ui.notice: f"**{text_of(err)}**", ui.tuned: unanswered(tuned), ui.base: unanswered(base)}
            return
        side = bool(base) and is_pending(base[-1]) and model.has_adapter
        tuned[-1] = pending_answer(answer_label(values[ui.run], values[ui.adapter_on]))
        if side:
            base[-1] = pending_answer(answer_label(BASE_ONLY, False))
        answer = Answer(model, chat_settings_from(self.form, values), bool(values[ui.adapter_on]), side,
                        sharing_notice(self.studio, model))
        began = time.monotonic()
        steps = answer.vote(tuned, base) if answer.settings.votes > 1 else answer.stream(tuned, base)
        for notice in steps:
            yield {ui.notice: notice, ui.tuned: tuned, ui.base: base}
        seconds = time.monotonic() - began
        yield {ui.tuned: [answered(m, seconds) for m in tuned], ui.base: [answered(m, seconds) for m in base]}

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
        """Samples are not streamed: "k of N" while they come in a few at a time, then the winner and the counts."""
        try:
            tuned_vote = yield from self.tally(tuned, self.use_adapter)
            counts = [vote_counts(tuned_vote)]
            if self.side:
                base_vote = yield from self.tally(base, False)
                counts.append(say("chat.base_votes", counts=vote_counts(base_vote)))
        except (ChatError, PatternError) as err:
            yield f"**{text_of(err)}**"
            return
        yield "  \n".join(filter(None, [self.notice, *counts]))

    def tally(self, history: list[dict], use_adapter: bool):
        """Yield the progress notice after each batch of samples; return the vote, its chosen answer written into
        the history's last message."""
        total = self.settings.votes
        yield "  \n".join(filter(None, [self.notice, say("chat.sampling", done=0, total=total)]))
        for tally in self.model.vote_in_steps(chat_turns(history[:-1]), self.settings, use_adapter=use_adapter):
            if tally.vote is None:
                yield "  \n".join(filter(None, [self.notice, say("chat.sampling", done=tally.done, total=total)]))
        history[-1]["content"] = tally.vote.text
        return tally.vote


def connect(ui, form, studio, demo) -> None:
    handlers = ChatHandlers(ui, form, studio)
    asked = [ui.notice, ui.tuned, ui.base, ui.prompt, ui.asked]
    # Two steps: the question shows at once (unqueued), then the answer comes from the queue (one at a time).
    # always_last: a Send while an earlier answer step still waits in the queue (a busy machine) gets its own step
    # once that one is done, reading the transcript as it is then; Gradio's default dropped it, and the question
    # stayed unanswered with its spinner turning.
    answers = [trigger(handlers.ask, handlers.asking, asked, queue=False, show_progress="hidden").then(
        handlers.respond, handlers.inputs, [ui.notice, ui.tuned, ui.base], concurrency_id="chat",
        concurrency_limit=1, show_progress="hidden", trigger_mode="always_last")
        for trigger in (ui.send.click, ui.prompt.submit)]
    # Stop and Clear end the answer in progress (generation ends within a token), so nothing writes over them.
    ui.stop.click(handlers.stopped, [ui.tuned, ui.base], [ui.tuned, ui.base, ui.notice], cancels=answers,
                  queue=False)
    ui.clear.click(handlers.clear, None, [ui.tuned, ui.base, ui.notice], cancels=answers, queue=False)
    ui.side_by_side.change(handlers.show_base, [ui.side_by_side], [ui.base])
    choices = dict(inputs=[ui.run, ui.listed], outputs=[ui.run, ui.listed], show_progress="hidden")
    ui.refresh.click(handlers.run_choices, **choices)
    demo.load(handlers.run_choices, **choices).then(handlers.who_answers, [ui.run, ui.adapter_on],
                                                    [ui.tuned, ui.adapter_on], show_progress="hidden")
    ui.tab.select(handlers.run_choices, **choices)  # a run finished meanwhile: it is the one to talk to
    gr.on([ui.run.change, ui.adapter_on.change], handlers.who_answers, [ui.run, ui.adapter_on],
          [ui.tuned, ui.adapter_on], show_progress="hidden", queue=False)
    # The demo page is served by the studio itself (webui.demo at /demo), in a new browser tab.
    ui.run.change(handlers.offer_demo, [ui.run], [ui.open_demo], queue=False)
    ui.open_demo.click(None, [ui.run], None, js=OPEN_DEMO_JS)


def answer_label(choice: str, adapter_on: bool) -> str:
    """Who gives an answer: the tuned run only when its adapter is on; the base model otherwise."""
    if choice and choice != BASE_ONLY and adapter_on:
        return say("chat.tuned_label", run=choice)
    off = say("chat.adapter_off", run=choice) if choice and choice != BASE_ONLY else ""
    return say("chat.base_label", adapter_off=off)


# An answer is a Chatbot message whose metadata title is its label, so the label travels with it (switching the
# adapter or the run later relabels nothing); "pending" shows a spinner until it is answered or stopped.
def pending_answer(label: str) -> dict:
    return {"role": "assistant", "content": "", "metadata": {"title": label, "status": "pending"}}


def is_pending(message: dict) -> bool:
    return (message.get("metadata") or {}).get("status") == "pending"


def answered(message: dict, seconds: float) -> dict:
    if not is_pending(message):
        return message
    # Gradio shows no time for a duration of 0 (a short answer of a small model), so it is never rounded down to 0.
    duration = max(round(seconds, 2), 0.01)
    return {**message, "metadata": {"title": message["metadata"].get("title", ""), "duration": duration}}


def stopped(message: dict) -> dict:
    if not is_pending(message):
        return message
    return {**message, "metadata": {"title": message["metadata"].get("title", ""), "log": say("chat.stopped")}}


def unanswered(history: list[dict]) -> list[dict]:
    """The transcript without the answer that could not be made (the notice says why); the question stays."""
    return [m for m in history if not is_pending(m)]


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
