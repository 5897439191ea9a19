"""Every option in core/config.py has a Simplified Chinese label and help text, and nothing else does."""

from __future__ import annotations

import dataclasses
import re

import pytest

from core.config import ChatSettings, ComputeConfig, DataConfig, LoraConfig, ModelConfig, TrainConfig
from webui.option_text_zh import OPTION_TEXT_ZH

SECTIONS = {"model": ModelConfig, "data": DataConfig, "lora": LoraConfig, "train": TrainConfig,
            "compute": ComputeConfig, "chat": ChatSettings}
CJK = re.compile(r"[\u4e00-\u9fff]")


def expected_keys() -> list[str]:
    keys = ["name"]
    for prefix, section in SECTIONS.items():
        keys += [f"{prefix}.{f.name}" for f in dataclasses.fields(section)]
    return keys


@pytest.mark.parametrize("key", expected_keys())
def test_every_option_has_chinese_text(key):
    assert key in OPTION_TEXT_ZH, f"missing Chinese text for {key}"
    entry = OPTION_TEXT_ZH[key]
    assert isinstance(entry, tuple) and len(entry) == 2
    label, help_text = entry
    assert isinstance(label, str) and label.strip(), f"{key}: empty label"
    assert isinstance(help_text, str) and help_text.strip(), f"{key}: empty help"
    assert CJK.search(help_text), f"{key}: help has no Chinese characters"


def test_no_extra_keys():
    extra = set(OPTION_TEXT_ZH) - set(expected_keys())
    assert not extra, f"Chinese text for options that do not exist: {sorted(extra)}"
