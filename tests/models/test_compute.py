"""Where a run trains: the GPUs, the strategy and the processes, decided for machines given as inventories."""

import pytest

from core.catalogue.language import speaking
from core.catalogue.message import text_of
from core.config import Config, ConfigError
from core.models import compute
from core.models.compute import ComputeError
from core.models.devices import Gpu, Inventory


def machine(*free: float, total: float = 24.0) -> Inventory:
    return Inventory(gpus=[Gpu(i, "RTX 4090", total, gb, True, (8, 9), f"GPU-uuid-{i}") for i, gb in enumerate(free)],
                     cpu_cores=16, ram_total_gb=128, ram_available_gb=100)


def plan(inv, need=None, weights=None, label="this run", **sections):
    config = Config.from_dict(sections)
    return compute.plan(config.compute, config.model, inv, need, weights, label)


def test_auto_picks_ddp_when_a_copy_fits_each_gpu_and_says_why():
    chosen = plan(machine(23.5, 23.5), need=19.0, weights=15.0, label="8B bf16 LoRA")
    assert (chosen.gpus, chosen.strategy, chosen.processes) == ([0, 1], "ddp", 2)
    assert "8B bf16 LoRA needs about 19 GiB; 2 × 24 GiB free: a full copy on each GPU" in str(chosen.reason)
    assert chosen.visible_devices == "GPU-uuid-0,GPU-uuid-1"  # by UUID: numbering cannot send it elsewhere


def test_auto_spreads_the_layers_when_only_all_gpus_together_hold_it():
    chosen = plan(machine(23.5, 23.5), need=40.0, weights=36.0, label="70B 4-bit QLoRA",
                  model={"quantization": "4bit"})
    assert (chosen.strategy, chosen.processes) == ("model_parallel", 1)
    reason = str(chosen.reason)
    assert "70B 4-bit QLoRA needs about 40 GiB" in reason and "spread over the GPUs" in reason


def test_weights_that_fit_nowhere_are_refused_before_loading_with_the_way_out():
    with pytest.raises(ComputeError, match=r"take about 140 GiB .* 47 GiB free together.*4-bit"):
        plan(machine(23.5, 23.5), need=150.0, weights=140.0, label="70B bf16 LoRA")
    with pytest.raises(ComputeError, match="on each GPU.*model_parallel"):
        plan(machine(12, 12), need=17, weights=15, compute={"strategy": "ddp"})


def test_one_gpu_and_no_gpu():
    assert str(plan(machine(20)).summary()) == "GPU 0, single"
    cpu = plan(Inventory())
    assert (cpu.gpus, cpu.strategy, cpu.visible_devices) == ([], "single", "")  # '' hides every GPU
    assert str(cpu.reason) == "auto: no GPU chosen, so one process on the CPU"
    assert str(cpu.summary()) == "CPU, single"


def test_the_plan_is_said_in_the_page_language_and_logged_in_english():
    chosen = plan(machine(23.5, 23.5), need=19.0, label="8B bf16 LoRA", compute={"strategy": "auto"})
    assert str(chosen.summary()) == "GPUs 0,1, ddp, 2 processes"
    assert str(chosen.reason).endswith("a full copy on each GPU; 2 processes, one per GPU")
    with speaking("zh"):
        assert text_of(chosen.summary()) == "GPU 0,1，数据并行（ddp），2 个进程"
        assert text_of(chosen.reason) == ("auto：8B bf16 LoRA 约需 19 GiB；2 × 24 GiB 空闲：每块 GPU 上放一份完整"
                                          "副本；2 个进程，每块 GPU 一个")
        assert text_of(plan(Inventory()).reason) == "auto：没有选择 GPU，因此在 CPU 上用一个进程"
        assert str(plan(Inventory()).reason) == "auto: no GPU chosen, so one process on the CPU"
        with pytest.raises(ComputeError) as err:
            plan(machine(20), compute={"strategy": "ddp"})
        assert "只有 GPU 0" in err.value.text() and "this run has GPU 0 only" in str(err.value)
    one = compute.one_process(chosen)
    assert str(one.reason).endswith("; here as one process on GPU 0, with the memory one ddp process needs (fsdp "
                                    "and DeepSpeed need less)")
    config = Config.from_dict({})
    unnamed = compute.plan(config.compute, config.model, machine(23.5, 23.5), need_gb=19.0)
    assert "auto: this run needs about 19 GiB" in str(unnamed.reason)


def test_picking_gpus_and_the_device_map_one_gpu():
    inv = machine(20, 20, 20)
    assert plan(inv, compute={"gpus": "2", "strategy": "single"}).gpus == [2]
    assert plan(inv, model={"device_map": "cuda:1"}).gpus == [1]  # one GPU of several: only that one is visible
    assert plan(inv, model={"device_map": "cpu"}).gpus == []
    assert plan(inv, compute={"gpus": "none"}).gpus == []
    assert plan(machine(20, 0.3)).gpus == [0]  # auto leaves out a GPU that something else has filled
    assert plan(machine(20, 0.3), compute={"gpus": "all", "strategy": "single"}).gpus == [0]
    with pytest.raises(ComputeError, match="names GPU 3, but this machine has GPUs 0, 1, 2"):
        plan(inv, compute={"gpus": "0,3"})
    with pytest.raises(ComputeError, match="disagree"):
        plan(inv, compute={"gpus": "0"}, model={"device_map": "cuda:1"})


def test_settings_that_cannot_work_name_the_fix():
    with pytest.raises(ComputeError, match="shares the work between two or more GPUs; this run has GPU 0 only"):
        plan(machine(20), compute={"strategy": "ddp"})
    with pytest.raises(ComputeError, match="one process per GPU and compute.gpus gives 2; set processes to 'auto'"):
        plan(machine(20, 20), compute={"strategy": "ddp", "processes": 3})
    with pytest.raises(ComputeError, match="8-bit weights cannot be sharded by fsdp"):
        plan(machine(20, 20), compute={"strategy": "fsdp"}, model={"quantization": "8bit"})
    with pytest.raises(ComputeError, match="strategy single runs one process"):
        plan(machine(20), compute={"strategy": "single", "processes": 2})
    with pytest.raises(ComputeError, match="spreads the layers over GPUs, and this run has none"):
        plan(Inventory(), compute={"strategy": "model_parallel"})


def test_ddp_on_a_machine_without_gpu_runs_cpu_processes():
    chosen = plan(Inventory(), compute={"strategy": "ddp", "processes": 2})
    assert (chosen.gpus, chosen.strategy, chosen.processes) == ([], "ddp", 2)
    assert "gloo" in str(chosen.reason)
    with pytest.raises(ComputeError, match="needs CUDA GPUs"):
        plan(Inventory(), compute={"strategy": "fsdp"})
    with pytest.raises(ComputeError, match="1 process is one process"):
        plan(Inventory(), compute={"strategy": "ddp", "processes": 1})


def test_work_that_runs_as_one_process_measures_one_copy():
    one = compute.one_process(plan(machine(20, 20), need=10))
    assert (one.gpus, one.strategy, one.processes, one.visible_devices) == ([0], "single", 1, "GPU-uuid-0")


def test_compute_section_is_validated_with_the_key_named():
    config = Config.from_yaml_text("compute: {gpus: [0, 1], strategy: ddp, processes: 2}")
    assert (config.compute.gpus, config.compute.processes) == ("0,1", 2)
    assert Config.from_yaml_text("compute:\n  gpus: 1\n").compute.gpus == "1"
    with pytest.raises(ConfigError, match="line 2: 'compute.gpus' is 'gpu0'; use one of auto, all, none or GPU"):
        Config.from_yaml_text("compute:\n  gpus: gpu0\n")
    with pytest.raises(ConfigError, match="'compute.processes' should be 'auto' or a whole number"):
        Config.from_yaml_text("compute: {processes: many}")
    with pytest.raises(ConfigError, match="'compute.strategy' is 'zero'; choose one of: auto, single"):
        Config.from_yaml_text("compute: {strategy: zero}")


def test_the_plan_checks_the_host_ram_the_loading_processes_need(monkeypatch):
    """Stands for a machine with 8 GPUs of 80 GB and 256 GB of RAM (mocked; deepspeed counted as installed). ZeRO-2
    loads a whole copy per process on the CPU before sharding: 8 × 16 GiB of an 8B bf16 model. ZeRO-3 now
    partitions as it loads (zero3_init_flag on), so a 70B bf16 model needs one copy's worth, not 8 (1.1 TB)."""
    real_find_spec = compute.importlib.util.find_spec
    monkeypatch.setattr(compute.importlib.util, "find_spec",
                        lambda name, *a: object() if name == "deepspeed" else real_find_spec(name, *a))
    big = Inventory(gpus=[Gpu(i, "H100", 80.0, 79.0, True, (9, 0), f"GPU-{i}") for i in range(8)],
                    cpu_cores=64, ram_total_gb=256, ram_available_gb=100)
    with pytest.raises(ComputeError) as err:
        plan(big, need=30.0, weights=16.0, label="8B bf16 LoRA", compute={"strategy": "deepspeed_zero2"})
    assert str(err.value) == (
        "8B bf16 LoRA with deepspeed_zero2 holds 8 × 16 GiB of weights in this machine's RAM while it loads, before "
        "they are sharded (about 128 GiB), but 100 GiB is available. Use deepspeed_zero3 or fsdp, which load one "
        "copy between the processes.")
    with speaking("zh"):
        assert "本机内存" in err.value.text()
    chosen = plan(big, need=30.0, weights=16.0, label="8B bf16 LoRA", compute={"strategy": "deepspeed_zero3"})
    assert (chosen.strategy, chosen.processes) == ("deepspeed_zero3", 8)
    big.ram_available_gb = 250
    assert plan(big, need=150.0, weights=140.0, compute={"strategy": "deepspeed_zero3"}).processes == 8
    big.ram_available_gb = 120
    with pytest.raises(ComputeError, match=r"1 × 140 GiB .* Free memory on this machine"):
        plan(big, need=150.0, weights=140.0, compute={"strategy": "fsdp"})
