"""Which hub the studio downloads from (Hugging Face, a mirror of it, or ModelScope), kept once for the machine in
the studio's settings file beside the model cache, and the hub tokens, kept where each hub's own client keeps them.

Tokens never go into the settings file, a run folder, a config or a log: huggingface_hub reads its own token file
(`hf auth login` writes the same one) and modelscope its own credentials folder, so the command line tools and the
studio share one login.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from core.catalogue.message import StudioError

HUBS = ("huggingface", "modelscope")
SETTINGS_FILE = "settings.json"


class HubError(StudioError, RuntimeError):
    """A model or dataset could not be fetched from its hub; the message says what to do."""


@dataclass
class HubSettings:
    hub: str = "huggingface"
    endpoint: str | None = None  # a mirror's address; None: the hub's own (or HF_ENDPOINT / MODELSCOPE_ENDPOINT)

    def __post_init__(self):
        if self.hub not in HUBS:
            raise HubError("hub.settings.unknown_hub", hub=self.hub, hubs=", ".join(HUBS))
        self.endpoint = (self.endpoint or "").strip().rstrip("/") or None
        if self.endpoint and not self.endpoint.startswith(("http://", "https://")):
            raise HubError("hub.settings.bad_endpoint", endpoint=self.endpoint)

    def address(self) -> str:
        """The address downloads go to: the chosen endpoint, else the usual environment variable, else the hub's."""
        if self.endpoint:
            return self.endpoint
        variable = "HF_ENDPOINT" if self.hub == "huggingface" else "MODELSCOPE_ENDPOINT"
        return (os.environ.get(variable) or official_address(self.hub)).rstrip("/")


def official_address(hub: str) -> str:
    """The hub's own address, as its client library knows it (the studio names no hub host itself)."""
    if hub == "huggingface":
        from huggingface_hub import constants

        return constants.HUGGINGFACE_CO_URL_HOME.rstrip("/")
    try:
        from modelscope_hub import constants
    except ImportError:
        raise HubError("hub.download.modelscope_missing") from None
    return constants.DEFAULT_ENDPOINT.rstrip("/")


def studio_cache() -> Path:
    """The studio's cache (models, downloads, settings); FINETUNE_STUDIO_CACHE overrides it, as for the built-ins."""
    return Path(os.environ.get("FINETUNE_STUDIO_CACHE") or Path.home() / ".cache" / "finetune-studio")


def settings_path() -> Path:
    return studio_cache() / SETTINGS_FILE


def load_settings() -> HubSettings:
    """The kept choice; a missing or unreadable file is the default (Hugging Face, HF_ENDPOINT honoured)."""
    try:
        saved = json.loads(settings_path().read_text(encoding="utf-8")).get("hub_settings") or {}
        return HubSettings(hub=saved.get("hub", "huggingface"), endpoint=saved.get("endpoint"))
    except (OSError, ValueError, AttributeError, HubError):
        return HubSettings()


def save_settings(settings: HubSettings) -> Path:
    """Keep the choice in the settings file, leaving whatever else others keep there untouched."""
    path = settings_path()
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        kept = kept if isinstance(kept, dict) else {}
    except (OSError, ValueError):
        kept = {}
    kept["hub_settings"] = asdict(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(kept, indent=2), encoding="utf-8")
    temporary.replace(path)  # a crash mid-write never leaves half a settings file
    return path


def settings_for(hub: str, endpoint: str = "") -> HubSettings:
    """A run's settings from its config (model.hub, model.hub_endpoint): an empty endpoint takes the kept one when
    it was kept for the same hub."""
    if endpoint:
        return HubSettings(hub, endpoint)
    kept = load_settings()
    return HubSettings(hub, kept.endpoint if kept.hub == hub else None)


def _hf_token_path() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_TOKEN_PATH)


def save_token(token: str, hub: str = "huggingface") -> None:
    """Store `token` where the hub's own client reads it; an empty token removes the stored one."""
    token = token.strip()
    if hub == "huggingface":
        path = _hf_token_path()
        if not token:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # huggingface_hub's token file: what `hf auth login` writes, readable by this user only
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(token)
        return
    if hub == "modelscope":
        _modelscope_store().save_token(token) if token else _modelscope_store().clear_token()
        return
    raise HubError("hub.settings.unknown_hub", hub=hub, hubs=", ".join(HUBS))


def has_token(hub: str = "huggingface") -> bool:
    if hub == "huggingface":
        from huggingface_hub import get_token

        return bool(get_token())
    return bool(token_for(hub))


def token_for(hub: str) -> str | None:
    """The stored token the downloads send (None: anonymous)."""
    if hub == "huggingface":
        from huggingface_hub import get_token

        return get_token()
    return os.environ.get("MODELSCOPE_API_TOKEN") or _modelscope_store().load_token()


def _modelscope_store():
    """modelscope's own credentials store (~/.modelscope/credentials; what `modelscope login` keeps)."""
    try:
        from modelscope_hub.config import get_default_config
    except ImportError:
        raise HubError("hub.download.modelscope_missing") from None
    return get_default_config()
