import pytest

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.models import devices
from core.models.devices import Gpu, Inventory

NO_GPU = Inventory(gpus=[], cpu_name="x86_64", cpu_cores=2, ram_total_gb=24, ram_available_gb=20)
ONE_GPU = Inventory(gpus=[Gpu(0, "NVIDIA H100", 80.0, 79.0, True)], cpu_cores=16, ram_total_gb=128)


def test_inventory_reads_this_machine():
    inv = devices.inventory()
    assert inv.ram_total_gb > 0 and inv.cpu_cores >= 1


def test_device_map_choices_without_gpu():
    choices = dict(devices.device_map_choices(NO_GPU))
    assert choices["auto"] is None and choices["cpu"] is None
    assert str(choices["balanced"]) == "needs two or more GPUs"
    assert str(choices["sequential"]) == "needs a GPU"
    with speaking("zh"):
        assert text_of(choices["balanced"]) == "需要两个或更多 GPU" and text_of(choices["sequential"]) == "需要 GPU"
    assert not any(name.startswith("cuda:") for name in choices)


def test_single_gpu_choices_offer_that_gpu():
    choices = dict(devices.device_map_choices(ONE_GPU))
    assert choices["cuda:0"] is None and choices["sequential"] is None
    assert "cuda:1" not in choices


@pytest.mark.parametrize("inv, device_map, expected", [
    (NO_GPU, "cuda:0", "this machine has none"),
    (ONE_GPU, "cuda:1", "asks for GPU 1, but this machine has 1 (cuda:0 to cuda:0)"),
    (ONE_GPU, "balanced", "this machine has 1. Use 'auto'"),
])
def test_impossible_placements_are_explained(inv, device_map, expected):
    problems = devices.check_model_choices("none", device_map, inv)
    assert len(problems) == 1 and expected in str(problems[0])


def test_quantization_without_bitsandbytes_is_explained(monkeypatch):
    monkeypatch.setattr(devices.importlib.util, "find_spec", lambda name: None)
    problems = devices.check_model_choices("4bit", "auto", NO_GPU)
    assert "bitsandbytes is not installed" in str(problems[0]) and "plain LoRA still works" in str(problems[0])
    with speaking("zh"):
        assert text_of(problems[0]) == "无法使用 model.quantization '4bit'：没有安装 bitsandbytes（pip install " \
            "bitsandbytes）；普通 LoRA 仍然可用。"


def test_sensible_choices_pass():
    assert devices.check_model_choices("4bit", "auto", NO_GPU) == []
    assert devices.check_model_choices("none", "cuda:0", ONE_GPU) == []


# ---- GPUs as nvidia-smi lists them, and what a run's process sees -------------------------------------------------

SMI = """0, GPU-aaaa1111, NVIDIA GeForce RTX 2080 Ti, 11264, 10900, 7.5
1, GPU-bbbb2222, NVIDIA A100-SXM4-80GB, 81920, 80000, 8.0
"""


def test_nvidia_smi_rows_become_gpus_with_real_bf16_only_from_ampere():
    turing, ampere = devices.parse_nvidia_smi(SMI)
    assert (turing.index, turing.name, turing.total_gb, turing.free_gb) == (0, "NVIDIA GeForce RTX 2080 Ti", 11.0, 10.6)
    assert (turing.capability, turing.bf16, turing.device_id) == ((7, 5), False, "GPU-aaaa1111")
    assert (ampere.capability, ampere.bf16) == ((8, 0), True)


def test_gpus_hidden_from_the_studio_are_left_out_and_renumbered():
    gpus = devices.parse_nvidia_smi(SMI)
    only_second = devices.visible_to_this_process(gpus, "1")
    assert [(g.index, g.name, g.device_id) for g in only_second] == [(0, "NVIDIA A100-SXM4-80GB", "GPU-bbbb2222")]
    assert [g.device_id for g in devices.visible_to_this_process(gpus, "GPU-bbbb,0")] == ["GPU-bbbb2222",
                                                                                          "GPU-aaaa1111"]
    assert devices.visible_to_this_process(gpus, "") == []


def test_run_process_numbers_map_the_studios_gpu_numbers(monkeypatch):
    from core.config import ModelConfig
    from core.models import load as models

    monkeypatch.setenv(devices.RUN_GPUS_ENV, "2,3")  # the run sees GPUs 2 and 3 of the machine as cuda:0 and 1
    assert (devices.local_gpu(3), devices.gpu_number(0)) == (1, 2)
    config = ModelConfig(device_map="cuda:3", max_memory={"cuda:2": "20GiB", 3: "22 GiB", 0: "9GiB", "cpu": "64GiB"})
    assert models.placement_argument(config, has_gpu=True) == {"": 1}
    assert models.max_memory_argument(config) == {0: "20GiB", 1: "22GiB", "cpu": "64GiB"}  # GPU 0: not this run's


def test_placement_follows_the_strategy(monkeypatch):
    from core.config import ModelConfig
    from core.models import load as models

    monkeypatch.setenv("LOCAL_RANK", "1")
    assert models.placement_argument(ModelConfig(), has_gpu=True, strategy="ddp") == {"": 1}  # a copy per process
    assert models.placement_argument(ModelConfig(), has_gpu=True, strategy="fsdp") is None  # fsdp places it
    assert models.placement_argument(ModelConfig(device_map="balanced"), True, "model_parallel") == "balanced"
    assert models.placement_argument(ModelConfig(device_map="cpu"), has_gpu=True) == {"": "cpu"}


def test_layers_on_the_cpu_beside_gpu_layers_are_refused_for_training_with_the_way_out():
    from core.config import ModelConfig
    from core.models import load as models

    spilled = {"model.embed_tokens": 0, "model.layers.0": 0, "model.layers.1": "cpu", "model.layers.2": "cpu",
               "lm_head": "cpu"}
    with pytest.raises(models.PlacementError, match=r"3 of its parts would sit on the CPU \(model.layers.1-2, "
                                                    r"lm_head\).*Load it in 4-bit \(model.quantization: 4bit\)"):
        models.check_trainable_placement(spilled, ModelConfig())
    with pytest.raises(models.PlacementError) as err:
        models.check_trainable_placement(spilled, ModelConfig(quantization="4bit", max_memory={"0": "10GiB"}))
    assert str(err.value).endswith("where training cannot run them. Choose more GPUs (compute.gpus) with strategy "
                                   "model_parallel; raise the GPU sizes in model.max_memory.")
    with speaking("zh"):
        assert "3 个部分会被放到 CPU 上（model.layers.1-2, lm_head）" in err.value.text()
    models.check_trainable_placement({"": "cpu"}, ModelConfig())  # all on the CPU is a CPU run: fine
    models.check_trainable_placement({"model": 0, "lm_head": 1}, ModelConfig())


def fake_gpu(monkeypatch, capability):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=None: capability)


def test_precision_on_a_gpu_without_bfloat16_units_is_float16(monkeypatch):
    import torch

    from core.config import ModelConfig
    from core.models import load as models

    fake_gpu(monkeypatch, (7, 5))  # T4, RTX 20xx: torch.cuda.is_bf16_supported() would say yes (emulated)
    assert models.pick_dtype(ModelConfig(), uses_gpu=True) == torch.float16
    fake_gpu(monkeypatch, (8, 6))
    assert models.pick_dtype(ModelConfig(), uses_gpu=True) == torch.bfloat16
    assert models.pick_dtype(ModelConfig(), uses_gpu=False) == torch.float32


def test_flash_attention_is_not_picked_before_ampere(monkeypatch):
    from core.config import TrainConfig
    from core.training import speed

    monkeypatch.setattr(speed, "installed", lambda package: True)
    monkeypatch.setattr(speed, "flash_attn_error", lambda: None)  # a wheel that loads
    fake_gpu(monkeypatch, (7, 5))
    chosen = speed.resolve(TrainConfig(), uses_gpu=True)
    assert chosen.attention == "sdpa"
    assert "flash-attention 2 needs compute capability 8.0+, this GPU has 7.5" in chosen.reasons[0]
    with pytest.raises(speed.SpeedOptionError, match="needs an Ampere or newer GPU"):
        speed.resolve(TrainConfig(attention="flash_attention_2"), uses_gpu=True)
    fake_gpu(monkeypatch, (8, 0))
    assert speed.resolve(TrainConfig(), uses_gpu=True).attention == "flash_attention_2"


def test_a_mig_slice_is_found_through_torch_and_passed_on_unchanged(monkeypatch):
    """Stands for an A100/H100 MIG slice given to the studio by SLURM or Kubernetes: CUDA_VISIBLE_DEVICES names
    MIG-<uuid>, which no row of `nvidia-smi --query-gpu` carries (it lists the whole GPU, GPU-<uuid>). The studio
    used to find no GPU there and plan 'CPU, single' without a word."""
    import subprocess

    import torch

    from core.config import ComputeConfig, ModelConfig
    from core.models import compute

    mig = "MIG-0d5c2e2a-1b6e-5b0a-9d0f-2f1e3c4b5a69"
    row = "0, GPU-5f3c1a2b-aaaa-bbbb-cccc-111122223333, NVIDIA A100-SXM4-80GB, 81920, 81000, 8.0\n"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", mig)
    monkeypatch.setattr(devices.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(devices.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=row, stderr=""))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)  # the one slice CUDA shows this process
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (9 * devices.GIB, 10 * devices.GIB))  # a 1g.10gb slice
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i=None: (8, 0))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=None: "NVIDIA A100-SXM4-80GB MIG 1g.10gb")
    gpus = devices.nvidia_smi_gpus()
    assert [(g.index, g.device_id, g.total_gb, g.free_gb, g.bf16) for g in gpus] == [(0, mig, 10.0, 9.0, True)]
    plan = compute.plan(ComputeConfig(), ModelConfig(), Inventory(gpus=gpus))
    assert (plan.gpus, plan.strategy, plan.visible_devices) == ([0], "single", mig)
    assert str(plan.summary()).startswith("GPU 0")
