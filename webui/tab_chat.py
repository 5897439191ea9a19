"""Tab 5, Chat: talk to a finished run, switch its adapter off, or show base and tuned answers side by side."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from core.config import ConfigError
from core.models.load import ModelError
from core.results.chat import ChatError, ChatModel
from core.results.voting import PatternError
from webui.form import chat_settings_from
from webui.lang import lang_of, say

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


def connect(ui, form, studio, demo) -> None:
    model_fields = {k: w for k, w in form.fields.items() if k.startswith("model.")}
    chat_fields = {w for k, w in form.fields.items() if k.startswith("chat.")}
    model_widgets = set(model_fields.values())

    def run_choices(current, request: gr.Request):
        """The finished runs, newest first; a page that shows the base model moves to the newest finished run."""
        lang = lang_of(request)
        names = [r.name for r in studio.runs() if r.has_weights()]
        value = current if current in names else (names[0] if names else BASE_ONLY)
        return gr.update(choices=[(say(lang, "chat.base_only"), BASE_ONLY)] + names, value=value)

    def who_answers(choice, adapter_on, request: gr.Request):
        """The answer panel's label says which model answers, and the adapter switch is offered only with a run."""
        return chat_label(choice, adapter_on, lang_of(request)), gr.update(interactive=choice != BASE_ONLY)

    def respond(values, request: gr.Request):
        lang = lang_of(request)
        message = (values[ui.prompt] or "").strip()
        tuned_history = list(values[ui.tuned] or [])
        base_history = list(values[ui.base] or [])
        if not message:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        try:
            model = load_chat_model(values)
        except (ChatError, ModelError, ConfigError) as err:
            yield f"**{err}**", gr.skip(), gr.skip(), gr.skip()
            return
        settings = chat_settings_from(form, values)
        notice = sharing_notice(studio, lang)
        side = values[ui.side_by_side] and model.has_adapter
        tuned_history += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        if side:
            base_history += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        use_adapter = bool(values[ui.adapter_on])
        if settings.votes > 1:  # sampled all at once, so there is nothing to stream: show the winner and the counts
            try:
                tuned_vote = model.vote(chat_turns(tuned_history[:-1]), settings, use_adapter=use_adapter)
                tuned_history[-1]["content"] = tuned_vote.text
                counts = [vote_counts(tuned_vote, lang)]
                if side:
                    base_vote = model.vote(chat_turns(base_history[:-1]), settings, use_adapter=False)
                    base_history[-1]["content"] = base_vote.text
                    counts.append(say(lang, "chat.base_votes", counts=vote_counts(base_vote, lang)))
            except (ChatError, PatternError) as err:
                yield f"**{err}**", tuned_history, base_history, ""
                return
            yield "  \n".join(filter(None, [notice, *counts])), tuned_history, base_history, ""
            return
        try:
            for piece in model.stream(chat_turns(tuned_history[:-1]), settings, use_adapter=use_adapter):
                tuned_history[-1]["content"] += piece
                yield notice, tuned_history, base_history, ""
            if side:
                for piece in model.stream(chat_turns(base_history[:-1]), settings, use_adapter=False):
                    base_history[-1]["content"] += piece
                    yield notice, tuned_history, base_history, ""
        except ChatError as err:
            yield f"**{err}**", tuned_history, base_history, ""

    def load_chat_model(values):
        choice = values[ui.run]
        if choice and choice != BASE_ONLY:
            run = studio.run_named(choice)
            if run is None:
                raise ChatError(say("en", "chat.no_run", name=choice))
            return studio.chat_model(f"run:{run.path}", lambda: ChatModel.from_run(run.path, progress=lambda _: None))
        config = form.config_from({w: values[w] for w in model_widgets}).model
        return studio.chat_model(f"base:{config}", lambda: ChatModel.base(config, progress=lambda _: None))

    inputs = {ui.prompt, ui.tuned, ui.base, ui.run, ui.adapter_on, ui.side_by_side} | chat_fields | model_widgets
    answers = [trigger(respond, inputs, [ui.notice, ui.tuned, ui.base, ui.prompt], concurrency_id="chat",
                       concurrency_limit=1) for trigger in (ui.send.click, ui.prompt.submit)]
    ui.stop.click(None, None, None, cancels=answers)  # closes the stream: generation ends within a token
    ui.clear.click(lambda: ([], [], ""), None, [ui.tuned, ui.base, ui.notice])
    ui.side_by_side.change(lambda on: gr.update(visible=on), [ui.side_by_side], [ui.base])
    ui.refresh.click(run_choices, [ui.run], [ui.run])
    demo.load(run_choices, [ui.run], [ui.run]).then(who_answers, [ui.run, ui.adapter_on], [ui.tuned, ui.adapter_on],
                                                     show_progress="hidden")
    ui.tab.select(run_choices, [ui.run], [ui.run], show_progress="hidden")  # a run finished meanwhile: show it
    gr.on([ui.run.change, ui.adapter_on.change], who_answers, [ui.run, ui.adapter_on], [ui.tuned, ui.adapter_on],
          show_progress="hidden", queue=False)
    # The demo page is served by the studio itself (webui.demo at /demo), in a new browser tab.
    ui.run.change(lambda choice: gr.update(visible=bool(choice) and choice != BASE_ONLY), [ui.run], [ui.open_demo],
                  queue=False)
    ui.open_demo.click(None, [ui.run], None, js=OPEN_DEMO_JS)


def chat_label(choice: str, adapter_on: bool, lang: str = "en"):
    """The answer panel's label: the tuned run only when its adapter answers; the base model otherwise."""
    if choice and choice != BASE_ONLY and adapter_on:
        return gr.update(label=say(lang, "chat.tuned_label", run=choice))
    off = say(lang, "chat.adapter_off", run=choice) if choice and choice != BASE_ONLY else ""
    return gr.update(label=say(lang, "chat.base_label", adapter_off=off))


def vote_counts(vote, lang: str = "en") -> str:
    """'Votes: "B" 3, "C" 2' with the winner first, for the notice line above the chat."""
    listed = ", ".join(f"“{answer}” {count}" for answer, count in vote.counts.items())
    return say(lang, "chat.votes", total=sum(vote.counts.values()), listed=listed)


def sharing_notice(studio, lang: str = "en") -> str:
    """Say plainly when the chat and a training run share the machine."""
    if not studio.runner.busy:
        return ""
    import torch

    return say(lang, "chat.sharing_gpu" if torch.cuda.is_available() else "chat.sharing_cpu")


def chat_turns(history: list[dict]) -> list[dict]:
    """Chatbot messages back to plain role/content turns."""
    return [{"role": m["role"], "content": _text(m["content"])} for m in history]


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)
