"""Which GPUs a run trains on, with which strategy and how many processes, and the one-line reason why.

`plan()` turns the `compute:` section (and model.device_map, which can name one GPU or the CPU) into a
ComputePlan for this machine's inventory. 'auto' decides from the memory one copy of the run needs (given by the
caller: core.measure.memory_estimate computes it from the model's config) against the free memory of the chosen
GPUs: a copy per GPU (ddp) when one fits on each, the layers spread over them (model_parallel) when only all of
them together hold it. Everything here is plain logic over an Inventory, so tests give it any machine.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass

from core.config import ComputeConfig, ModelConfig
from core.models.devices import Inventory

MULTI_PROCESS = ("ddp", "fsdp", "deepspeed_zero2", "deepspeed_zero3")
FIT_SHARE = 0.9  # of a GPU's free memory a run may plan to use: the CUDA context and fragmentation take the rest


class ComputeError(ValueError):
    """The compute settings cannot work on this machine; the message says what to change."""


@dataclass
class ComputePlan:
    gpus: list[int]          # GPU numbers as the studio shows them; empty: the CPU
    strategy: str            # single | model_parallel | ddp | fsdp | deepspeed_zero2 | deepspeed_zero3
    processes: int
    reason: str
    device_ids: list[str] | None = None  # what CUDA_VISIBLE_DEVICES gets for those GPUs (UUIDs where known)

    @property
    def uses_gpu(self) -> bool:
        return bool(self.gpus)

    @property
    def visible_devices(self) -> str:
        """CUDA_VISIBLE_DEVICES for the run's processes: only its GPUs, or none at all for the CPU."""
        return ",".join(self.device_ids or [str(g) for g in self.gpus])

    def summary(self) -> str:
        where = f"GPU{'s' if len(self.gpus) > 1 else ''} {','.join(map(str, self.gpus))}" if self.gpus else "CPU"
        processes = f", {self.processes} processes" if self.processes > 1 else ""
        return f"{where}, {self.strategy}{processes}"


def chosen_gpus(compute: ComputeConfig, model: ModelConfig, inv: Inventory) -> list[int]:
    """The GPU numbers the run may use, after model.device_map (cpu, or one cuda:N) has had its say."""
    numbers = [g.index for g in inv.gpus]
    named = [int(n) for n in compute.gpus.split(",")] if re.fullmatch(r"\d+(,\d+)*", compute.gpus) else None
    one = re.fullmatch(r"cuda:(\d+)", model.device_map)
    if model.device_map == "cpu":
        if named:
            raise ComputeError(f"model.device_map is 'cpu' but compute.gpus names GPUs ({compute.gpus}); set "
                               "compute.gpus to 'none' or the device map to 'auto'.")
        return []
    if one:
        index = int(one.group(1))
        if named and named != [index]:
            raise ComputeError(f"model.device_map '{model.device_map}' and compute.gpus '{compute.gpus}' disagree; "
                               "choose the GPUs with compute.gpus and leave the device map on 'auto'.")
        named = [index]
    if compute.gpus == "none":
        return []
    if named is None:
        if compute.gpus == "auto":  # skip a GPU that something else has nearly filled
            return [g.index for g in inv.gpus if g.free_gb >= max(1.0, 0.1 * g.total_gb)] or numbers
        return numbers
    missing = [n for n in named if n not in numbers]
    if missing:
        have = f"GPUs {', '.join(map(str, numbers))}" if numbers else "no GPU"
        raise ComputeError(f"compute.gpus names GPU {', '.join(map(str, missing))}, but this machine has {have}.")
    return list(dict.fromkeys(named))


def plan(compute: ComputeConfig, model: ModelConfig, inv: Inventory, need_gb: float | None = None,
         weights_gb: float | None = None, label: str = "this run") -> ComputePlan:
    """Decide where the run trains. `need_gb`: the memory one copy of the run needs (weights, adapter and
    optimizer, activations); `weights_gb`: the weights alone; `label`: how the log names the run ('8B bf16 LoRA').
    """
    gpus = chosen_gpus(compute, model, inv)
    free = {g.index: g.free_gb for g in inv.gpus}
    ids = {g.index: g.device_id for g in inv.gpus}
    processes = compute.processes
    strategy = compute.strategy

    if strategy == "auto":
        strategy, reason = _auto_strategy(gpus, free, need_gb, label)
    else:
        reason = "set in compute.strategy"
    _check_quantization(strategy, model.quantization)

    if strategy in ("single", "model_parallel"):
        if processes not in ("auto", 1):
            raise ComputeError(f"compute.processes is {processes}, but strategy {strategy} runs one process; "
                               "set processes to 'auto', or the strategy to ddp.")
        if strategy == "model_parallel" and not gpus:
            raise ComputeError("compute.strategy 'model_parallel' spreads the layers over GPUs, and this run has "
                               "none (compute.gpus or model.device_map chose the CPU); use 'single' or 'auto'.")
        if strategy == "single" and len(gpus) > 1:
            reason += f"; one GPU, the first chosen (GPU {gpus[0]})"
            gpus = gpus[:1]
        count = 1
    else:
        count = _process_count(strategy, gpus, processes)
        if gpus:
            reason += f"; {count} processes, one per GPU"
        else:
            reason += (f"; {count} processes on the CPU (gloo): they share its cores, so this is for checking the "
                       "multi-process path, not for speed")
    _check_weights_fit(strategy, gpus, free, weights_gb, label, model.quantization)
    return ComputePlan(gpus, strategy, count, reason, [ids[g] for g in gpus] if all(ids.get(g) for g in gpus)
                       else None)


def _auto_strategy(gpus, free, need_gb, label) -> tuple[str, str]:
    if not gpus:
        return "single", "auto: no GPU chosen, so one process on the CPU"
    if len(gpus) == 1:
        return "single", f"auto: one GPU chosen, GPU {gpus[0]} with {free[gpus[0]]:.0f} GiB free"
    smallest = min(free[g] for g in gpus)
    shape = f"{len(gpus)} × {smallest:.0f} GiB free" if len({round(free[g]) for g in gpus}) == 1 else \
        f"GPUs with {', '.join(f'{free[g]:.0f}' for g in gpus)} GiB free"
    if need_gb is None:
        return "model_parallel", (f"auto: the model's size could not be read, so its layers are spread over "
                                  f"{len(gpus)} GPUs in one process, which fits the most")
    if need_gb <= FIT_SHARE * smallest:
        return "ddp", f"auto: {label} needs about {need_gb:.0f} GiB; {shape}: a full copy on each GPU"
    reason = (f"auto: {label} needs about {need_gb:.0f} GiB, more than one GPU has free; {shape}: its layers "
              "spread over the GPUs in one process")
    if need_gb > FIT_SHARE * sum(free[g] for g in gpus):
        reason += "; that is more than all of them hold at this batch and length, so Check fit proposes a setting"
    return "model_parallel", reason


def _process_count(strategy: str, gpus: list[int], processes) -> int:
    if strategy != "ddp" and not gpus:
        raise ComputeError(f"compute.strategy '{strategy}' needs CUDA GPUs, and this run has none; use ddp (which "
                           "also runs on the CPU), single or auto.")
    if strategy.startswith("deepspeed") and importlib.util.find_spec("deepspeed") is None:
        raise ComputeError(f"compute.strategy '{strategy}' needs DeepSpeed (pip install deepspeed); or use fsdp, "
                           "which needs nothing more.")
    if gpus:
        if len(gpus) < 2:
            raise ComputeError(f"compute.strategy '{strategy}' shares the work between two or more GPUs; this run "
                               f"has GPU {gpus[0]} only. Use 'single' (or 'auto'), or choose more GPUs.")
        if processes not in ("auto", len(gpus)):
            raise ComputeError(f"compute.processes is {processes}, but {strategy} runs one process per GPU and "
                               f"compute.gpus gives {len(gpus)}; set processes to 'auto' or {len(gpus)}.")
        return len(gpus)
    count = 2 if processes == "auto" else processes
    if count < 2:
        raise ComputeError(f"compute.strategy 'ddp' with {count} process is one process; use 'single', or set "
                           "compute.processes to 2 or more.")
    return count


def _check_quantization(strategy: str, quantization: str) -> None:
    if quantization == "8bit" and strategy in ("fsdp", "deepspeed_zero3"):
        raise ComputeError(f"8-bit weights cannot be sharded by {strategy}; use 4-bit quantization, or ddp.")


def _check_weights_fit(strategy, gpus, free, weights_gb, label, quantization) -> None:
    """Refuse before loading for minutes what can only end on the CPU or disk (training cannot run there)."""
    if not gpus or weights_gb is None:
        return
    room = sum(free[g] for g in gpus) if strategy in ("model_parallel", "fsdp", "deepspeed_zero3") else \
        min(free[g] for g in gpus)
    if weights_gb <= FIT_SHARE * room:
        return
    where = "together" if strategy in ("model_parallel", "fsdp", "deepspeed_zero3") else "on each GPU"
    advice = ("load it in 4-bit (model.quantization: 4bit)" if quantization != "4bit"
              else "use a smaller model")
    more = " or choose more GPUs and strategy model_parallel" if strategy not in ("model_parallel", "fsdp",
                                                                                 "deepspeed_zero3") else ""
    raise ComputeError(f"The weights of {label} take about {weights_gb:.0f} GiB and the chosen GPUs have "
                       f"{room:.0f} GiB free {where}: layers would have to sit on the CPU, where training cannot "
                       f"run them. {advice[0].upper() + advice[1:]}{more}.")


def one_process(plan: ComputePlan) -> ComputePlan:
    """The plan for work that runs as one process (a run kept in the studio's process, a pre-flight attempt):
    several processes become one copy on the first GPU, which is what each of them would hold."""
    if plan.processes == 1:
        return plan
    where = f" on GPU {plan.gpus[0]}" if plan.gpus else ""
    note = f"{plan.reason}; here as one process{where}, with the memory one ddp process needs (fsdp and " \
        "DeepSpeed need less)"
    return ComputePlan(plan.gpus[:1], "single", 1, note, plan.device_ids[:1] if plan.device_ids else None)
