"""The make-data config: every option with its words in both languages, the YAML round trip with errors that name
the line, one teacher, and no field that could hold a key."""

from __future__ import annotations

import dataclasses

import pytest

from core.catalogue.message import entries
from core.config import ConfigError
from core.making.config import SECTIONS, MakeDataConfig, label_key

EXAMPLE = """\
teacher:
  base_url: http://127.0.0.1:8000/v1
  model: qwen2.5:7b
  api_key_env: TEACHER_KEY
recipe:
  kind: self_instruct
  input: seeds.jsonl
  count: 200
  seeds: ["写一首诗", "Name three colours"]
output: data/made.jsonl
"""


def test_every_option_has_a_label_and_a_help_line_in_both_languages():
    keys = [label_key(section, f.name, part) for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)
            for part in ("label", "help")] + [label_key("", "output", part) for part in ("label", "help")]
    missing = [key for key in keys if key not in entries()]
    assert not missing, missing


def test_yaml_round_trip():
    config = MakeDataConfig.from_yaml_text(EXAMPLE)
    assert (config.teacher.model, config.recipe.kind, config.recipe.count) == ("qwen2.5:7b", "self_instruct", 200)
    assert config.recipe.seeds == ["写一首诗", "Name three colours"]
    assert MakeDataConfig.from_yaml_text(config.to_yaml()) == config
    assert "写一首诗" in config.to_yaml()  # kept readable, not escaped


def test_bad_values_name_the_file_line_and_key():
    with pytest.raises(ConfigError, match=r"make\.yaml line 6: .*recipe\.kind.*answer, explain, self_instruct"):
        MakeDataConfig.from_yaml_text(EXAMPLE.replace("kind: self_instruct", "kind: magic"), source="make.yaml")
    with pytest.raises(ConfigError, match=r"teacher\.api_key\b.*api_key_env"):
        MakeDataConfig.from_yaml_text(EXAMPLE.replace("api_key_env: TEACHER_KEY", "api_key: sk-123"))


def test_exactly_one_teacher_and_a_model_name_for_an_endpoint():
    with pytest.raises(ConfigError, match="not both and not neither"):
        MakeDataConfig.from_dict({"teacher": {"base_url": "http://x/v1", "model": "m", "model_source": "default"}})
    with pytest.raises(ConfigError, match="not both and not neither"):
        MakeDataConfig.from_dict({})
    with pytest.raises(ConfigError, match="teacher.model is empty"):
        MakeDataConfig.from_dict({"teacher": {"base_url": "http://x/v1"}})
    assert MakeDataConfig.from_dict({"teacher": {"model_source": "run:nova"}}).teacher.model_source == "run:nova"


def test_no_field_can_hold_the_key_itself():
    names = [f.name for cls in SECTIONS.values() for f in dataclasses.fields(cls)]
    assert "api_key_env" in names and not [n for n in names if n in ("api_key", "key", "token", "secret")]


@pytest.mark.parametrize("example", ["make-data-answer.yaml", "distill-demo.yaml"])
def test_the_example_configs_are_valid_and_their_questions_exist(example):
    from pathlib import Path

    from core.config import Config
    from tests.conftest import ROOT

    config = MakeDataConfig.from_yaml(ROOT / "examples" / example)
    assert config.recipe.kind == "answer" and (ROOT / config.recipe.input).is_file()
    assert Path(config.output).suffix == ".jsonl"
    if example == "distill-demo.yaml":  # the README's student trains on what this teacher writes
        assert Config.from_yaml(ROOT / "examples" / "distill-student.yaml").data.path == config.output
