"""The curated list the model picker shows: every entry has its config.json shipped, and each hub gets the id it
knows the model by."""

from core.hub.curated import CURATED, find
from core.hub.settings import official_address


def test_every_curated_model_has_its_config_shipped_and_a_value_model_source_takes():
    assert len(CURATED) == 26
    for entry in CURATED:
        assert (entry.config_dir() / "config.json").is_file(), entry.hub_id
    assert [entry.value for entry in CURATED[:2]] == ["default", "gemma-3-270m"]  # the built-ins, by their names


def test_modelscope_gets_its_own_name_where_it_differs():
    llama = find("meta-llama/Llama-3.1-8B-Instruct")
    assert llama.id_on("modelscope") == "LLM-Research/Meta-Llama-3.1-8B-Instruct"
    assert llama.id_on("huggingface") == "meta-llama/Llama-3.1-8B-Instruct"
    assert find("Qwen/Qwen3-8B").id_on("modelscope") == "Qwen/Qwen3-8B"  # the same name on both
    assert find("LLM-Research/gemma-3-1b-it").hub_id == "google/gemma-3-1b-it"  # a ModelScope download, recognised
    assert find("some/other-model") is None
    assert llama.gated and llama.license_page() == f"{official_address('huggingface')}/meta-llama/Llama-3.1-8B-Instruct"
