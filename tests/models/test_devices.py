import pytest

from core.models import devices
from core.models.devices import Gpu, Inventory

NO_GPU = Inventory(gpus=[], cpu_name="x86_64", cpu_cores=2, ram_total_gb=24, ram_available_gb=20)
ONE_GPU = Inventory(gpus=[Gpu(0, "NVIDIA H100", 80.0, 79.0, True)], cpu_cores=16, ram_total_gb=128)


def test_inventory_reads_this_machine():
    inv = devices.inventory()
    assert inv.ram_total_gb > 0 and inv.cpu_cores >= 1
    assert "RAM" in devices.describe(inv)


def test_device_map_choices_without_gpu():
    choices = dict(devices.device_map_choices(NO_GPU))
    assert choices["auto"] is None and choices["cpu"] is None
    assert choices["balanced"] == "needs two or more GPUs"
    assert choices["sequential"] == "needs a GPU"
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
    assert len(problems) == 1 and expected in problems[0]


def test_quantization_without_bitsandbytes_is_explained(monkeypatch):
    monkeypatch.setattr(devices.importlib.util, "find_spec", lambda name: None)
    problems = devices.check_model_choices("4bit", "auto", NO_GPU)
    assert "bitsandbytes is not installed" in problems[0] and "plain LoRA still works" in problems[0]


def test_sensible_choices_pass():
    assert devices.check_model_choices("4bit", "auto", NO_GPU) == []
    assert devices.check_model_choices("none", "cuda:0", ONE_GPU) == []
