import pytest

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.config import Config, ConfigError


def test_defaults_round_trip_through_yaml():
    config = Config()
    again = Config.from_yaml_text(config.to_yaml())
    assert again == config
    assert config.model.source == "default"
    assert config.lora.target_modules == "all-linear"


def test_design_example_loads(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("""
name: identity-demo
model:
  source: default
  quantization: none
  device_map: auto
  max_memory: {0: 20GiB, cpu: 64GiB}
data:
  path: assets/datasets/identity.jsonl
  format: auto
  eval_fraction: 0.1
lora: {r: 16, alpha: 32, dropout: 0.05, target_modules: all-linear}
train:
  epochs: 3
  max_steps: -1
  learning_rate: 2.0e-4
  batch_size: 8
  grad_accum: 1
  max_length: 1024
  seed: 42
""")
    config = Config.from_yaml(path)
    assert config.train.learning_rate == 2e-4
    assert config.model.max_memory == {0: "20GiB", "cpu": "64GiB"}


def test_unknown_key_names_file_line_and_suggestion():
    with pytest.raises(ConfigError) as err:
        Config.from_yaml_text("name: x\nlora:\n  rank: 8\n", source="my.yaml")
    message = str(err.value)
    assert "my.yaml line 3" in message
    assert "'lora.rank'" in message
    assert "Did you mean 'lora.r'" in message


@pytest.mark.parametrize("yaml_text, expected", [
    ("train:\n  learning_rate: fast\n", "'train.learning_rate' should be 'auto' or a number"),
    ("train:\n  batch_size: 0\n", "'train.batch_size' is 0; it must be at least 1"),
    ("train:\n  batch_size: 8.5\n", "'train.batch_size' should be a whole number"),
    ("model:\n  quantization: 3bit\n", "choose one of: none, 8bit, 4bit"),
    ("model:\n  device_map: gpu\n", "'model.device_map' is 'gpu'"),
    ("lora:\n  use_dora: maybe\n", "'lora.use_dora' should be true or false"),
    ("name: ../escape\n", "'name' is '../escape'"),
    ("data:\n  eval_fraction: 0.9\n", "it must be at most 0.5"),
    ("model: default\n", "'model' should hold keys"),
])
def test_bad_values_name_the_key(yaml_text, expected):
    with pytest.raises(ConfigError) as err:
        Config.from_yaml_text(yaml_text, source="run.yaml")
    assert expected in str(err.value)
    assert "run.yaml line" in str(err.value)


def test_max_steps_zero_is_refused_not_read_as_one_step():
    """max_steps: 0 was accepted, planned the epochs' steps, trained one and reported 'completed'."""
    with pytest.raises(ConfigError) as err:
        Config.from_yaml_text("train:\n  max_steps: 0\n", source="run.yaml")
    assert str(err.value) == ("run.yaml line 2: 'train.max_steps' is 0, which would train no step; use -1 to train "
                              "the epochs, or 1 or more steps")
    assert Config.from_dict({"train": {"max_steps": -1}}).train.max_steps == -1
    assert Config.from_dict({"train": {"max_steps": 5}}).train.max_steps == 5


@pytest.mark.parametrize("values, key", [
    ({"name": "my-run\n"}, "'name'"),
    ({"model": {"device_map": "cuda:0\n"}}, "'model.device_map'"),
    ({"compute": {"gpus": "0,1\n"}}, "'compute.gpus'"),
    ({"model": {"max_memory": {"cpu\n": "20GiB"}}}, "'model.max_memory'"),
])
def test_a_trailing_newline_does_not_pass_a_pattern(values, key):
    """'$' matches before a final newline: a run name 'my-run\\n' passed and became a folder name with a newline."""
    with pytest.raises(ConfigError, match=key):
        Config.from_dict(values)


def test_accepted_spellings():
    config = Config.from_yaml_text(
        "model:\n  device_map: cuda:1\ntrain:\n  learning_rate: '3e-4'\nlora:\n  target_modules: [q_proj, v_proj]\n")
    assert config.model.device_map == "cuda:1"
    assert config.train.learning_rate == 3e-4
    assert config.lora.target_modules == ["q_proj", "v_proj"]
    assert Config.from_yaml_text("train: {learning_rate: auto}").train.learning_rate == "auto"
    # YAML reads a bare on/off as true/false; the options that take on/off read it as written
    train = Config.from_yaml_text("train:\n  gradient_checkpointing: on\n  padding_free: off\n").train
    assert (train.gradient_checkpointing, train.padding_free) == ("on", "off")
    with pytest.raises(ConfigError, match="should be text"):
        Config.from_yaml_text("model: {system_prompt: yes}")  # a text of its own: quotes keep it text


def test_invalid_yaml_names_the_line():
    with pytest.raises(ConfigError) as err:
        Config.from_yaml_text("name: x\ntrain:\n  epochs: [1\n", source="broken.yaml")
    assert "broken.yaml line" in str(err.value)
    assert "not valid YAML" in str(err.value)


def test_missing_file_message(tmp_path):
    with pytest.raises(ConfigError, match="No config file at"):
        Config.from_yaml(tmp_path / "nope.yaml")


def test_a_config_error_is_keyed_and_said_in_the_page_language():
    """Every option's label and help line: tests/catalogue/test_catalogue.py. Its errors are catalogue entries too."""
    with pytest.raises(ConfigError) as err:
        Config.from_yaml_text("train:\n  batch_size: 0\n", source="run.yaml")
    assert isinstance(err.value, ValueError) and err.value.key == "config.below_min"
    assert str(err.value) == "run.yaml line 2: 'train.batch_size' is 0; it must be at least 1"
    with speaking("zh"):
        assert text_of(err.value) == "run.yaml 第 2 行：'train.batch_size' 为 0；不能小于 1"


def test_save_is_atomic_and_replayable(tmp_path):
    config = Config.from_dict({"name": "demo", "train": {"epochs": 2}})
    config.save(tmp_path / "config.yaml")
    assert Config.from_yaml(tmp_path / "config.yaml") == config
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]  # no temp file left behind


def test_memory_caps_name_gpus_as_accelerate_understands_them():
    config = Config.from_yaml_text("model:\n  max_memory: {0: 20GiB, 'cuda:1': 22 GiB, cpu: 64GiB}\n")
    assert config.model.max_memory == {0: "20GiB", "cuda:1": "22 GiB", "cpu": "64GiB"}  # cuda:1 is read as GPU 1
    with pytest.raises(ConfigError, match="line 2: 'model.max_memory' has the key 'gpu0'; use a GPU number such as 0"):
        Config.from_yaml_text("model:\n  max_memory: {gpu0: 20GiB}\n")
    with pytest.raises(ConfigError, match="gives 'cpu' the size 'lots'; write it like 20GiB"):
        Config.from_yaml_text("model: {max_memory: {cpu: lots}}")


def test_training_methods_and_tunings_are_checked_together(tmp_path):
    config = Config.from_dict({"train": {"method": "dpo", "tuning": "full", "beta": 0.2, "dpo_loss": "ipo"}})
    assert (config.train.method, config.train.tuning, config.train.beta) == ("dpo", "full", 0.2)
    path = tmp_path / "run.yaml"
    path.write_text("model:\n  quantization: 4bit\ntrain:\n  tuning: full\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'train.tuning' is 'full'.*cannot be trained in 4bit"):
        Config.from_yaml(path)
    with pytest.raises(ConfigError, match="train.method"):
        Config.from_dict({"train": {"method": "ppo"}})
