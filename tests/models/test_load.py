import pytest

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.config import ModelConfig
from core.models import load as models


def test_local_folder_loads_on_cpu_in_float32(tiny_model):
    lines = []
    loaded = models.load(ModelConfig(source=str(tiny_model)), progress=lines.append)
    assert loaded.dtype == "float32"  # CPUs without bfloat16 units are ~25x slower in bfloat16
    assert str(models.describe_placement(loaded.placement)) == "cpu: the whole model"
    assert loaded.tokenizer.pad_token == "<|im_end|>"
    assert any("padding token" in str(note) for note in loaded.notes)
    assert [str(line) for line in lines] == [f"Loading {tiny_model} (float32, quantization none) ..."]
    with speaking("zh"):
        assert text_of(lines[0]) == f"正在加载 {tiny_model}（float32，量化 none）……"
    assert 50_000 < loaded.parameters < 200_000


def test_four_bit_load_reports_real_parameter_count(tiny_model):
    plain = models.load(ModelConfig(source=str(tiny_model)), progress=lambda _: None)
    quantized = models.load(ModelConfig(source=str(tiny_model), quantization="4bit"), progress=lambda _: None)
    assert type(quantized.model.model.layers[0].self_attn.q_proj).__name__ == "Linear4bit"
    assert quantized.parameters == plain.parameters


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(models.ModelError, match="has no config.json"):
        models.resolve_source(str(tmp_path))


def test_missing_path_is_refused_with_advice(tmp_path):
    with pytest.raises(models.ModelError, match="No model folder at") as err:
        models.resolve_source(str(tmp_path / "nowhere" / "model"))
    assert str(err.value).endswith("or a built-in model: default, gemma-3-270m.")
    with speaking("zh"):
        assert err.value.text().startswith(f"{tmp_path / 'nowhere' / 'model'} 处没有模型文件夹。")


@pytest.mark.slow
def test_hub_id_unreachable_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(models.ModelError) as err:
        models.load_tokenizer("someone/no-such-model-xyz")
    assert "model hub could not be reached" in str(err.value)


def test_pickle_only_model_is_not_loaded(tiny_model, tmp_path):
    import shutil

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model, folder)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")  # any .bin: must never be unpickled
    with pytest.raises(models.ModelError, match="Could not load the model"):
        models.load(ModelConfig(source=str(folder)), progress=lambda _: None)


def test_placement_is_summarised_per_device():
    placement = {"model.embed_tokens": 0, **{f"model.layers.{i}": 0 for i in range(16)},
                 **{f"model.layers.{i}": 1 for i in range(16, 32)}, "model.norm": 1, "lm_head": "cpu"}
    assert models.describe_placement(placement) == (
        "cuda:0: model.embed_tokens, model.layers.0-15; cuda:1: model.layers.16-31, model.norm; cpu: lm_head")


def test_device_map_argument():
    assert models.placement_argument(ModelConfig(device_map="auto"), has_gpu=False) == {"": "cpu"}
    assert models.placement_argument(ModelConfig(device_map="cuda:1"), has_gpu=True) == {"": 1}
    assert models.placement_argument(ModelConfig(device_map="balanced"), has_gpu=True) == "balanced"
    assert models.max_memory_argument(ModelConfig(max_memory={"0": "20GiB", "cpu": "64GiB"})) == {
        0: "20GiB", "cpu": "64GiB"}


def test_target_layers_are_found_without_loading_weights(tiny_model):
    assert models.target_layer_choices(str(tiny_model), progress=lambda _: None) == [
        "down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
