from pathlib import Path

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
def test_hub_id_unreachable_says_so():
    # In a process of its own: huggingface_hub reads HF_HUB_OFFLINE when it is imported, so setting it here would
    # leave this process trying the network until it times out (46 s on this machine) instead of failing at once.
    import os
    import subprocess
    import sys

    code = ("from core.models import load as models\n"
            "try:\n    models.load_tokenizer('someone/no-such-model-xyz')\n"
            "except models.ModelError as err:\n    print(err)\n")
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=str(Path(__file__).resolve().parents[2]))
    assert "model hub could not be reached" in said.stdout, said.stderr[-2000:]


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


class _Loaded(Exception):
    """Raised by the stand-in for from_pretrained once it has seen the arguments a GPU load would get."""


def _capture_from_pretrained(monkeypatch) -> dict:
    """from_pretrained's arguments, for loads only a GPU could finish (the CPU has no CUDA device to put them on)."""
    from transformers import AutoModelForCausalLM

    seen = {}

    def stand_in(source, **kwargs):
        seen.update(kwargs)
        raise _Loaded

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", stand_in)
    return seen


def _fake_gpus(monkeypatch, capability, free_gib=(30.0,)):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(free_gib))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=None: capability)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda index=0: (int(free_gib[index] * 1024 ** 3),
                                                                     int(80 * 1024 ** 3)))


def tiny_gemma3(folder, tokenizer_folder):
    """A tiny random Gemma 3 text model (model_type gemma3_text) with the tiny model's tokenizer."""
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder)
    config = Gemma3TextConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2, head_dim=16, sliding_window=64)
    Gemma3ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_gemma_never_trains_in_float16_which_it_overflows(monkeypatch, tiny_model, tmp_path):
    """Stands for a T4, V100 or RTX 20xx (compute capability 7.x, no bfloat16 units), where 'auto' picks float16:
    Gemma 3 270M's activations reach about 1.0e5 there (float16 ends at 65504) and the loss is NaN from step 1."""
    import torch

    from core.measure.memory_estimate import run_dtype
    from core.models.devices import Gpu

    _fake_gpus(monkeypatch, (7, 5))
    assert models.pick_dtype(ModelConfig(), uses_gpu=True, model_type="gemma3_text") == torch.float32
    assert models.pick_dtype(ModelConfig(), uses_gpu=True, model_type="llama") == torch.float16  # fits float16
    t4 = [Gpu(0, "Tesla T4", 15.0, 14.5, False, (7, 5))]
    assert (run_dtype("auto", t4, "gemma3"), run_dtype("auto", t4, "llama")) == ("float32", "float16")
    _fake_gpus(monkeypatch, (8, 0))
    assert models.pick_dtype(ModelConfig(), uses_gpu=True, model_type="gemma2") == torch.bfloat16
    gemma = tiny_gemma3(tmp_path / "gemma", tiny_model)
    with pytest.raises(models.ModelError, match=r"float16 cannot train gemma3_text: .* NaN loss"):
        models.load(ModelConfig(source=str(gemma), dtype="float16"), progress=lambda _: None)


def test_float32_for_gemma_on_a_gpu_without_bfloat16_is_said_in_the_log(monkeypatch, tiny_model, tmp_path):
    """Stands for a T4 (compute capability 7.5) loading a Gemma 3 checkpoint with model.dtype auto."""
    seen = _capture_from_pretrained(monkeypatch)
    _fake_gpus(monkeypatch, (7, 5))
    gemma = tiny_gemma3(tmp_path / "gemma", tiny_model)
    lines = []
    with pytest.raises(_Loaded):
        models.load(ModelConfig(source=str(gemma)), progress=lines.append)
    assert str(seen["dtype"]) == "torch.float32"
    assert "(float32, quantization none)" in str(lines[-1])


def test_quantized_model_spilling_to_the_cpu_is_a_does_not_fit_verdict(monkeypatch, tiny_model):
    """Stands for a 4-bit or 8-bit model bigger than the GPU: accelerate places some layers on the CPU and
    bitsandbytes refuses inside from_pretrained (the real ValueError, raised here by transformers itself), advising
    llm_int8_enable_fp32_cpu_offload, with which training cannot run."""
    spilled = {"model.embed_tokens": 0, "model.layers": 0, "model.norm": "cpu", "model.rotary_emb": "cpu",
               "lm_head": "cpu"}
    monkeypatch.setattr(models, "placement_argument", lambda *a, **k: spilled)
    for quantization, advice in (("8bit", "Load it in 4-bit (model.quantization: 4bit); choose more GPUs"),
                                 ("4bit", "Choose more GPUs (compute.gpus) with strategy model_parallel")):
        with pytest.raises(models.PlacementError) as err:
            models.load(ModelConfig(source=str(tiny_model), quantization=quantization), progress=lambda _: None,
                        for_training=True)
        said = str(err.value)
        assert said.startswith(f"The model does not fit on the chosen GPUs in {quantization}") and advice in said
        assert "llm_int8_enable_fp32_cpu_offload" not in said
        with speaking("zh"):
            assert "装不下" in err.value.text()


def test_fsdp_four_bit_in_float16_stores_the_weights_as_the_upcast_rest(monkeypatch, tiny_model):
    """Stands for fsdp + 4-bit on pre-Ampere GPUs (float16): peft's k-bit recipe upcasts norms and embeddings to
    float32, and fsdp refused to wrap float16 4-bit storage beside them ('Must flatten tensors with uniform dtype
    but got torch.float16 and torch.float32'). The 4-bit load and the recipe run for real on the CPU here."""
    import torch

    from core.config import Config
    from core.training import tuning

    config = Config.from_dict({"model": {"source": str(tiny_model), "quantization": "4bit", "dtype": "float16"}})
    loaded = models.load(config.model, progress=lambda _: None, strategy="fsdp")
    model = tuning._ready_for_lora(loaded.model, config, gradient_checkpointing=False)
    assert {p.dtype for p in model.parameters()} == {torch.float32}  # one dtype: fsdp can flatten every block
    assert models.storage_dtype("fsdp", torch.bfloat16) == torch.bfloat16
    assert models.storage_dtype("ddp", torch.float16) is None


def test_max_memory_naming_some_gpus_leaves_the_others_their_free_memory(monkeypatch, tiny_model):
    """Stands for a run on GPUs 0 and 1 with model.max_memory {0: 10GiB}: accelerate uses only the devices
    max_memory lists, so GPU 1 stayed empty and the load spilled to the CPU although the plan counted both."""
    from core.models import devices

    seen = _capture_from_pretrained(monkeypatch)
    _fake_gpus(monkeypatch, (8, 0), free_gib=(20.0, 30.0))
    monkeypatch.setenv(devices.RUN_GPUS_ENV, "0,1")
    config = ModelConfig(source=str(tiny_model), device_map="auto", max_memory={"0": "10GiB", "cpu": "64GiB"})
    with pytest.raises(_Loaded):
        models.load(config, progress=lambda _: None, strategy="model_parallel")
    assert seen["max_memory"] == {0: "10GiB", 1: "30.0GiB", "cpu": "64GiB"}
