"""The hub choice is kept once for the machine, beside the model cache; tokens go where each hub's client keeps
them and nowhere else."""

from __future__ import annotations

import json
import stat

import pytest

from core.hub.settings import (HubError, HubSettings, has_token, load_settings, official_address, save_settings,
                               save_token)


def test_the_choice_is_kept_beside_the_cache_and_leaves_other_settings_alone(hub_home):
    (hub_home).mkdir(parents=True)
    (hub_home / "settings.json").write_text(json.dumps({"theme": "dark"}), encoding="utf-8")
    assert load_settings() == HubSettings("huggingface", None)

    path = save_settings(HubSettings("modelscope", "http://127.0.0.1:8000/"))

    assert path == hub_home / "settings.json"
    assert load_settings() == HubSettings("modelscope", "http://127.0.0.1:8000")
    assert json.loads(path.read_text(encoding="utf-8"))["theme"] == "dark"


def test_hf_endpoint_is_the_address_when_no_mirror_is_chosen(hub_home, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "https://mirror.example.org/")
    assert load_settings().address() == "https://mirror.example.org"
    assert HubSettings("huggingface", "http://127.0.0.1:9").address() == "http://127.0.0.1:9"
    monkeypatch.delenv("HF_ENDPOINT")
    assert load_settings().address() == official_address("huggingface")  # as huggingface_hub knows it


def test_a_bad_hub_or_address_is_refused_with_what_to_type():
    with pytest.raises(HubError, match="mirror.example.org"):
        HubSettings("huggingface", "mirror.example.org")
    with pytest.raises(HubError, match="huggingface, modelscope"):
        HubSettings("openmind")


def test_a_hugging_face_token_goes_to_huggingface_hubs_own_file_only(hub_home, tmp_path):
    from huggingface_hub import constants, get_token

    assert not has_token("huggingface")
    save_token(" hf_secret123 \n", "huggingface")

    assert get_token() == "hf_secret123"  # the client itself reads it
    assert has_token("huggingface")
    token_file = tmp_path / "hf" / "token"
    assert str(token_file) == constants.HF_TOKEN_PATH
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    save_settings(HubSettings())
    assert not any("hf_secret123" in p.read_text(errors="ignore") for p in hub_home.rglob("*") if p.is_file())

    save_token("", "huggingface")
    assert not has_token("huggingface")


def test_a_modelscope_token_goes_to_modelscopes_own_store(hub_home):
    from modelscope_hub.config import get_default_config

    save_token("ms-secret", "modelscope")

    assert get_default_config().load_token() == "ms-secret"
    assert has_token("modelscope") and not has_token("huggingface")
    save_token("", "modelscope")
    assert not has_token("modelscope")
