"""The model picker's fit verdicts: the memory estimate of the curated models' shipped configs against mocked GPU
inventories (the machines a user has: 1 x 8 GB, 1 x 24 GB, 2 x 24 GB, 1 x 80 GB), with no download and no GPU."""

from __future__ import annotations

import pytest
from transformers import AutoConfig

from core.catalogue.language import speaking
from core.config import Config
from core.hub.curated import CURATED, find
from core.measure import memory_estimate, model_fit
from core.models.devices import Gpu, Inventory
from core.models.skeleton import skeleton


def machine(count: int, gb: float, ram: float = 120.0) -> Inventory:
    """Stands for a machine with `count` Ampere-class GPUs of `gb` GB, all free (nvidia-smi's view of it)."""
    return Inventory(gpus=[Gpu(i, f"{gb:.0f} GB GPU", gb, gb, True, (8, 6), f"GPU-{i}") for i in range(count)],
                     cpu_cores=16, ram_total_gb=ram + 8, ram_available_gb=ram)


def fit_of(hub_id: str, inventory: Inventory, **train) -> model_fit.ModelFit:
    config = Config.from_dict({"train": train})
    entry = find(hub_id)
    return model_fit.fit(AutoConfig.from_pretrained(entry.config_dir()), inventory, config.train, config.lora)


# Parameters of the published models (their model cards): a wrong hidden size or layer count in a shipped
# config.json would give a wrong verdict, so the skeleton each config builds is counted against them.
PUBLISHED = {"Qwen/Qwen2.5-7B-Instruct": 7.62e9, "Qwen/Qwen2.5-14B-Instruct": 14.77e9, "Qwen/Qwen3-8B": 8.19e9,
             "meta-llama/Llama-3.1-8B-Instruct": 8.03e9, "meta-llama/Llama-3.2-1B-Instruct": 1.24e9,
             "mistralai/Mistral-7B-Instruct-v0.3": 7.25e9, "mistralai/Mistral-Nemo-Instruct-2407": 12.25e9,
             "google/gemma-3-12b-it": 12.19e9, "microsoft/Phi-4-mini-instruct": 3.84e9,
             "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B": 1.78e9, "HuggingFaceTB/SmolLM2-1.7B-Instruct": 1.71e9}


@pytest.mark.slow
def test_every_curated_model_ships_a_config_that_builds_the_published_size():
    assert len({entry.value for entry in CURATED}) == len(CURATED)
    for entry in CURATED:
        hf_config = AutoConfig.from_pretrained(entry.config_dir())
        parameters = sum(p.numel() for p in skeleton(hf_config).parameters())
        if entry.hub_id in PUBLISHED:
            assert parameters == pytest.approx(PUBLISHED[entry.hub_id], rel=0.01), entry.hub_id
        if not entry.builtin:  # the size on disk is the bfloat16 weights
            assert entry.size_gb == pytest.approx(parameters * 2 / 1e9, abs=0.01), entry.hub_id


def test_the_verdict_on_each_machine_follows_the_estimate():
    """Qwen2.5-7B at the default batch 8 x 1,024: LoRA needs about 20 GB, QLoRA about 11 GB."""
    with speaking("en"):
        assert str(fit_of("Qwen/Qwen2.5-7B-Instruct", machine(1, 8)).verdict()) == "too big for this machine"
        assert str(fit_of("Qwen/Qwen2.5-7B-Instruct", machine(1, 24)).verdict()) == "fits on GPU 0"
        assert str(fit_of("Qwen/Qwen2.5-14B-Instruct", machine(1, 24)).verdict()) == "fits in 4-bit"
        assert str(fit_of("Qwen/Qwen2.5-14B-Instruct", machine(1, 80)).verdict()) == "fits on GPU 0"
        assert str(fit_of("Qwen/Qwen2.5-3B-Instruct", machine(1, 8)).verdict()) == "fits in 4-bit"
        # Rows of 4,096 tokens: one copy no longer fits one 24 GB GPU, and spreads over both.
        long_rows = fit_of("Qwen/Qwen2.5-7B-Instruct", machine(2, 24), max_length=4096)
        assert str(long_rows.verdict()) == "needs 2 GPUs (model_parallel)"
        assert str(fit_of("Qwen/Qwen2.5-14B-Instruct", machine(2, 24), max_length=4096).verdict()) == \
            "needs 2 GPUs in 4-bit (model_parallel)"
    with speaking("zh"):
        assert fit_of("Qwen/Qwen2.5-14B-Instruct", machine(1, 24)).verdict().text() == "4 位量化后放得下"


def test_the_figures_are_the_memory_estimates_own():
    config = Config()
    hf_config = AutoConfig.from_pretrained(find("meta-llama/Llama-3.1-8B-Instruct").config_dir())
    found = model_fit.fit(hf_config, machine(1, 24), config.train, config.lora)
    for method, quantization, tuning in (("lora", "none", "lora"), ("qlora", "4bit", "lora"), ("full", "none", "full")):
        expected = memory_estimate.estimate(
            hf_config, rank=config.lora.r, target_modules=config.lora.target_modules, batch_size=8, max_length=1024,
            dtype="bfloat16", quantization=quantization, gradient_checkpointing=True, attention="sdpa",
            tuning=tuning).total_gb
        assert found.methods[method].need_gb == pytest.approx(expected)
    assert found.methods["full"].gpus == 0  # full tuning of 8B needs over 100 GB
    assert str(found.methods["full"].cell()).startswith("✗")


def test_a_small_model_that_fits_only_with_checkpointing_says_so():
    """'auto' leaves gradient checkpointing off under 1B parameters; on an 8 GB GPU the default batch then only
    fits with it on, and the verdict says that rather than 'too big'."""
    found = fit_of("HuggingFaceTB/SmolLM2-360M-Instruct", machine(1, 8))
    with speaking("en"):
        assert str(found.verdict()) == "fits on GPU 0, with gradient checkpointing on"
    set_off = fit_of("HuggingFaceTB/SmolLM2-360M-Instruct", machine(1, 8), gradient_checkpointing="off")
    assert set_off.methods["lora"].gpus == 0 and not set_off.methods["lora"].checkpointing


def test_without_a_gpu_a_small_model_trains_on_the_cpu_and_4bit_needs_a_gpu():
    cpu = Inventory(cpu_cores=2, ram_total_gb=16.0, ram_available_gb=12.0)
    found = fit_of("HuggingFaceTB/SmolLM2-135M-Instruct", cpu, batch_size=2, max_length=256)
    with speaking("en"):
        assert str(found.verdict()) == "no GPU: trains on the CPU, slowly"
    assert found.methods["qlora"].gpus == 0
    assert str(fit_of("Qwen/Qwen2.5-14B-Instruct", cpu).verdict()) == "too big for this machine"


def test_gpus_needed_counts_the_largest_gpus_first():
    mixed = Inventory(gpus=[Gpu(0, "a", 8.0, 8.0, True), Gpu(1, "b", 24.0, 24.0, True), Gpu(2, "c", 24.0, 24.0, True)])
    assert model_fit.gpus_needed(7.0, mixed) == 1
    assert model_fit.gpus_needed(20.0, mixed) == 2  # GPU 0 is too small, one 24 GB GPU and another hold it
    assert model_fit.gpus_needed(50.0, mixed) == 3
    assert model_fit.gpus_needed(60.0, mixed) == 0
