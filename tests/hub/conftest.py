"""A loopback hub serving a tiny model, and a studio cache and hub logins of the test's own."""

from __future__ import annotations

import pytest

from tests.hub.mirror import Mirror


@pytest.fixture
def hub_home(tmp_path, monkeypatch):
    """The studio's cache, huggingface_hub's token file and modelscope's credentials under tmp_path, so no test
    reads or writes the user's own (the clients' settings, pointed elsewhere; nothing of theirs is replaced)."""
    from huggingface_hub import constants
    from modelscope_hub import config as modelscope_config

    monkeypatch.setenv("FINETUNE_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("MODELSCOPE_API_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf" / "token"))
    monkeypatch.setenv(modelscope_config.ENV_HOME, str(tmp_path / "modelscope"))
    modelscope_config.set_default_config(None)
    yield tmp_path / "cache"
    modelscope_config.set_default_config(None)


@pytest.fixture
def mirror(tiny_model):
    """A hub on 127.0.0.1 holding the tiny model as tiny/llama."""
    hub = Mirror().start()
    hub.add("tiny/llama", tiny_model)
    yield hub
    hub.close()
