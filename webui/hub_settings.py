"""Where models come from, on tab 3: the hub (Hugging Face, a mirror of it, or ModelScope), kept for the machine
with core.hub.settings.save_settings, and a hub token stored where the hub's own client keeps it (save_token). The
token field is a password field that is emptied after each save and never filled from what is stored: the page only
says whether a token is there."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from core.catalogue.message import StudioError, say, text_of
from core.hub import settings

CHOICES = ("huggingface", "mirror", "modelscope")


def build(i18n) -> SimpleNamespace:
    with gr.Accordion(i18n("hub.settings_ui.title"), open=False, elem_id="hub-settings"):
        with gr.Row():
            hub = gr.Radio([(i18n(f"hub.settings_ui.{name}"), name) for name in CHOICES], value="huggingface",
                           label=i18n("hub.settings_ui.hub"), info=i18n("hub.settings_ui.hub_help"),
                           elem_id="hub-choice")
            endpoint = gr.Textbox(label=i18n("hub.settings_ui.endpoint"), info=i18n("hub.settings_ui.endpoint_help"),
                                  placeholder="https://mirror.example.org", elem_id="hub-endpoint")
        token = gr.Textbox(label=i18n("hub.settings_ui.token"), info=i18n("hub.settings_ui.token_help"),
                           type="password", elem_id="hub-token")
        with gr.Row():
            save = gr.Button(i18n("hub.settings_ui.save"), size="sm", variant="primary", elem_id="save-hub")
            forget = gr.Button(i18n("hub.settings_ui.forget"), size="sm", elem_id="forget-token")
        status = gr.Markdown(elem_id="hub-status")
    return SimpleNamespace(hub=hub, endpoint=endpoint, token=token, save=save, forget=forget, status=status)


def choice_of(kept: settings.HubSettings) -> str:
    return "mirror" if kept.hub == "huggingface" and kept.endpoint else kept.hub


def token_line(hub: str) -> str:
    key = "hub.settings_ui.token_stored" if settings.has_token(hub) else "hub.settings_ui.no_token"
    return say(key, hub=say(f"hub.settings_ui.{hub}"))


class HubSettingsHandlers:
    def __init__(self, ui, run_hub=None):
        self.ui, self.run_hub = ui, run_hub  # run_hub: the form's model.hub, set to what is kept

    def shown(self) -> dict:
        """The kept choice and whether a token is stored, in the page's language (never the token itself)."""
        ui, kept = self.ui, settings.load_settings()
        choices = [(say(f"hub.settings_ui.{name}"), name) for name in CHOICES]  # gr.I18n never reaches choices
        return {ui.hub: gr.update(choices=choices, value=choice_of(kept)), ui.endpoint: kept.endpoint or "",
                ui.token: "",
                ui.status: say("hub.settings_ui.saved", address=kept.address()) + " " + token_line(kept.hub)}

    def save(self, choice: str, endpoint: str, token: str) -> dict:
        ui = self.ui
        hub = "modelscope" if choice == "modelscope" else "huggingface"
        if choice == "mirror" and not (endpoint or "").strip():
            return {ui.status: f"**{say('hub.settings_ui.need_endpoint')}**", ui.token: ""}
        try:
            kept = settings.HubSettings(hub, endpoint if choice == "mirror" else None)
            settings.save_settings(kept)
            if (token or "").strip():
                settings.save_token(token, hub)
        except StudioError as err:
            return {ui.status: f"**{text_of(err)}**", ui.token: ""}
        said = {ui.status: say("hub.settings_ui.saved", address=kept.address()) + " " + token_line(hub), ui.token: ""}
        return said | ({self.run_hub: hub} if self.run_hub is not None else {})

    def forget(self, choice: str) -> dict:
        hub = "modelscope" if choice == "modelscope" else "huggingface"
        try:
            settings.save_token("", hub)
        except StudioError as err:
            return {self.ui.status: f"**{text_of(err)}**"}
        return {self.ui.status: token_line(hub)}


def connect(ui, demo, run_hub=None) -> None:
    handlers = HubSettingsHandlers(ui, run_hub)
    demo.load(handlers.shown, None, [ui.hub, ui.endpoint, ui.token, ui.status], show_progress="hidden")
    outputs = [ui.status, ui.token] + ([run_hub] if run_hub is not None else [])
    ui.save.click(handlers.save, [ui.hub, ui.endpoint, ui.token], outputs, show_progress="hidden")
    ui.forget.click(handlers.forget, [ui.hub], [ui.status], show_progress="hidden")
