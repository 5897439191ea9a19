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

from core.catalogue.message import Message, StudioError, message
from core.config import ComputeConfig, ModelConfig
from core.models.devices import Inventory

FIT_SHARE = 0.9  # of a GPU's free memory a run may plan to use: the CUDA context and fragmentation take the rest


class ComputeError(StudioError, ValueError):
    """The compute settings cannot work on this machine; the message says what to change."""


@dataclass
class ComputePlan:
    gpus: list[int]          # GPU numbers as the studio shows them; empty: the CPU
    strategy: str            # single | model_parallel | ddp | fsdp | deepspeed_zero2 | deepspeed_zero3
    processes: int
    reason: Message | str    # why here: a Message from plan(); str() is its English, for the log
    device_ids: list[str] | None = None  # what CUDA_VISIBLE_DEVICES gets for those GPUs (UUIDs where known)

    @property
    def uses_gpu(self) -> bool:
        return bool(self.gpus)

    @property
    def visible_devices(self) -> str:
        """CUDA_VISIBLE_DEVICES for the run's processes: only its GPUs, or none at all for the CPU."""
        return ",".join(self.device_ids or [str(g) for g in self.gpus])

    def summary(self) -> Message:
        """Where and how, in a line: 'GPUs 0,1, ddp, 2 processes', 'CPU, single'."""
        where, strategy = self._where(), message(f"models.compute.strategy_{self.strategy}")
        if self.processes > 1:
            return message("models.compute.summary_processes", where=where, strategy=strategy,
                           processes=self.processes)
        return message("models.compute.summary", where=where, strategy=strategy)

    def _where(self) -> Message:
        gpus = ",".join(map(str, self.gpus))
        if not self.gpus:
            return message("models.compute.cpu")
        return message("models.compute.gpu", gpus=gpus) if len(self.gpus) == 1 else \
            message("models.compute.gpus", gpus=gpus)


def chosen_gpus(compute: ComputeConfig, model: ModelConfig, inv: Inventory) -> list[int]:
    """The GPU numbers the run may use, after model.device_map (cpu, or one cuda:N) has had its say."""
    numbers = [g.index for g in inv.gpus]
    named = [int(n) for n in compute.gpus.split(",")] if re.fullmatch(r"\d+(,\d+)*", compute.gpus) else None
    one = re.fullmatch(r"cuda:(\d+)", model.device_map)
    if model.device_map == "cpu":
        if named:
            raise ComputeError("models.compute.cpu_map_with_gpus", gpus=compute.gpus)
        return []
    if one:
        index = int(one.group(1))
        if named and named != [index]:
            raise ComputeError("models.compute.map_disagrees", device_map=model.device_map, gpus=compute.gpus)
        named = [index]
    if compute.gpus == "none":
        return []
    if named is None:
        if compute.gpus == "auto":  # skip a GPU that something else has nearly filled
            return [g.index for g in inv.gpus if g.free_gb >= max(1.0, 0.1 * g.total_gb)] or numbers
        return numbers
    missing = ", ".join(str(n) for n in named if n not in numbers)
    if missing and not numbers:
        raise ComputeError("models.compute.missing_gpus_none", missing=missing)
    if missing:
        raise ComputeError("models.compute.missing_gpus", missing=missing, numbers=", ".join(map(str, numbers)))
    return list(dict.fromkeys(named))


def plan(compute: ComputeConfig, model: ModelConfig, inv: Inventory, need_gb: float | None = None,
         weights_gb: float | None = None, label: str | Message | None = None) -> ComputePlan:
    """Decide where the run trains. `need_gb`: the memory one copy of the run needs (weights, adapter and
    optimizer, activations); `weights_gb`: the weights alone; `label`: how the log names the run ('8B bf16 LoRA';
    'this run' when None).
    """
    label = label or message("models.compute.this_run")
    gpus = chosen_gpus(compute, model, inv)
    free = {g.index: g.free_gb for g in inv.gpus}
    ids = {g.index: g.device_id for g in inv.gpus}
    processes = compute.processes
    strategy = compute.strategy

    if strategy == "auto":
        strategy, reason = _auto_strategy(gpus, free, need_gb, label)
    else:
        reason = message("models.compute.set_by_user")
    _check_quantization(strategy, model.quantization)

    if strategy in ("single", "model_parallel"):
        if processes not in ("auto", 1):
            raise ComputeError("models.compute.one_process_strategy", processes=processes, strategy=strategy)
        if strategy == "model_parallel" and not gpus:
            raise ComputeError("models.compute.model_parallel_cpu")
        if strategy == "single" and len(gpus) > 1:
            reason = message("models.compute.then", reason=reason, more=message("models.compute.first_gpu",
                                                                                   gpu=gpus[0]))
            gpus = gpus[:1]
        count = 1
    else:
        count = _process_count(strategy, gpus, processes)
        more = message("models.compute.per_gpu", count=count) if gpus else \
            message("models.compute.on_cpu_gloo", count=count)
        reason = message("models.compute.then", reason=reason, more=more)
    _check_weights_fit(strategy, gpus, free, weights_gb, label, model.quantization)
    _check_host_memory(strategy, count, weights_gb, inv.ram_available_gb, label)
    return ComputePlan(gpus, strategy, count, reason, [ids[g] for g in gpus] if all(ids.get(g) for g in gpus)
                       else None)


def _auto_strategy(gpus, free, need_gb, label) -> tuple[str, Message]:
    if not gpus:
        return "single", message("models.compute.auto_cpu")
    if len(gpus) == 1:
        return "single", message("models.compute.auto_one_gpu", gpu=gpus[0], free=free[gpus[0]])
    smallest = min(free[g] for g in gpus)
    shape = message("models.compute.equal_gpus", count=len(gpus), free=smallest) \
        if len({round(free[g]) for g in gpus}) == 1 else \
        message("models.compute.unequal_gpus", frees=", ".join(f"{free[g]:.0f}" for g in gpus))
    if need_gb is None:
        return "model_parallel", message("models.compute.auto_size_unknown", count=len(gpus))
    if need_gb <= FIT_SHARE * smallest:
        return "ddp", message("models.compute.auto_copies", label=label, need=need_gb, shape=shape)
    reason = message("models.compute.auto_spread", label=label, need=need_gb, shape=shape)
    if need_gb > FIT_SHARE * sum(free[g] for g in gpus):
        reason = message("models.compute.then", reason=reason, more=message("models.compute.more_than_all"))
    return "model_parallel", reason


def _process_count(strategy: str, gpus: list[int], processes) -> int:
    if strategy != "ddp" and not gpus:
        raise ComputeError("models.compute.needs_cuda", strategy=strategy)
    if strategy.startswith("deepspeed") and importlib.util.find_spec("deepspeed") is None:
        raise ComputeError("models.compute.needs_deepspeed", strategy=strategy)
    if gpus:
        if len(gpus) < 2:
            raise ComputeError("models.compute.needs_two_gpus", strategy=strategy, gpu=gpus[0])
        if processes not in ("auto", len(gpus)):
            raise ComputeError("models.compute.process_per_gpu", processes=processes, strategy=strategy,
                               count=len(gpus))
        return len(gpus)
    count = 2 if processes == "auto" else processes
    if count < 2:
        raise ComputeError("models.compute.ddp_one_process", count=count)
    return count


def _check_quantization(strategy: str, quantization: str) -> None:
    if quantization == "8bit" and strategy in ("fsdp", "deepspeed_zero3"):
        raise ComputeError("models.compute.eight_bit_sharded", strategy=strategy)


def _check_weights_fit(strategy, gpus, free, weights_gb, label, quantization) -> None:
    """Refuse before loading for minutes what can only end on the CPU or disk (training cannot run there)."""
    if not gpus or weights_gb is None:
        return
    spread = strategy in ("model_parallel", "fsdp", "deepspeed_zero3")  # the GPUs hold one copy between them
    room = sum(free[g] for g in gpus) if spread else min(free[g] for g in gpus)
    if weights_gb <= FIT_SHARE * room:
        return
    advice = message("models.compute.load_4bit") if quantization != "4bit" else \
        message("models.compute.smaller_model")
    if spread:
        raise ComputeError("models.compute.weights_too_big_together", label=label, weights=weights_gb, room=room,
                           advice=advice)
    raise ComputeError("models.compute.weights_too_big_each", label=label, weights=weights_gb, room=room,
                       advice=advice)


def host_copies(strategy: str, processes: int) -> int:
    """Whole copies of the weights the machine's RAM holds while the run loads, before they are sharded.

    deepspeed_zero2 loads the model on the CPU in every process before DeepSpeed moves it (8 ranks of a 70B
    bfloat16 model: about 1.1 TB). fsdp loads one copy in the first process (fsdp_cpu_ram_efficient_loading), the
    others on the meta device; ZeRO-3 partitions the weights as they load (zero3_init_flag, core.training.launch).
    The other strategies load straight onto their GPUs.
    """
    return {"deepspeed_zero2": processes, "deepspeed_zero3": 1, "fsdp": 1}.get(strategy, 0)


def _check_host_memory(strategy, processes, weights_gb, ram_available_gb, label) -> None:
    """Refuse a plan whose loading needs more RAM than the machine has (the kernel would kill a process)."""
    copies = host_copies(strategy, processes)
    if not copies or weights_gb is None or ram_available_gb <= 0 or copies * weights_gb <= ram_available_gb:
        return
    advice = message("models.compute.host_ram_zero3") if strategy == "deepspeed_zero2" else \
        message("models.compute.host_ram_more")
    raise ComputeError("models.compute.host_ram_too_small", label=label, strategy=strategy, copies=copies,
                       weights=weights_gb, need=copies * weights_gb, available=ram_available_gb, advice=advice)


def one_process(plan: ComputePlan) -> ComputePlan:
    """The plan for work that runs as one process (a run kept in the studio's process, a pre-flight attempt):
    several processes become one copy on the first GPU, which is what each of them would hold."""
    if plan.processes == 1:
        return plan
    here = message("models.compute.here_one_process_gpu", gpu=plan.gpus[0]) if plan.gpus else \
        message("models.compute.here_one_process")
    note = message("models.compute.then", reason=plan.reason, more=here)
    return ComputePlan(plan.gpus[:1], "single", 1, note, plan.device_ids[:1] if plan.device_ids else None)
