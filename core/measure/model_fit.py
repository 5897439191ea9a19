"""What a model needs on this machine, before anything is downloaded: for LoRA in bfloat16, QLoRA in 4 bits and
full tuning at the run's batch and length, the memory estimate (core.measure.memory_estimate, from the model's
config.json alone) against the GPUs of an inventory, and one verdict the model picker shows: fits on GPU 0, fits in
4-bit, needs N GPUs, or too big for this machine.

A run that does not fit on one GPU spreads one copy of the model over several (core.models.compute picks
model_parallel for LoRA, and full tuning shards with fsdp), so a multi-GPU verdict counts the GPUs whose free
memory together holds one copy; the same share of each GPU as the compute planner (FIT_SHARE) is counted usable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from core.catalogue.message import Message, message
from core.measure import memory_estimate
from core.models.compute import FIT_SHARE
from core.models.devices import Inventory
from core.models.skeleton import skeleton

# (label key, train.tuning, model.quantization) of the three ways the picker weighs
METHODS = {"lora": ("lora", "none"), "qlora": ("lora", "4bit"), "full": ("full", "none")}
SPREAD_STRATEGY = {"lora": "model_parallel", "qlora": "model_parallel", "full": "fsdp"}


@dataclass
class MethodFit:
    method: str              # lora | qlora | full
    need_gb: float           # one copy of the run, as the estimate counts it
    gpus: int                # how many GPUs hold it (1: GPU 0 alone); 0: it does not fit; -1: on the CPU
    checkpointing: bool = False  # it fits only with train.gradient_checkpointing on (auto leaves it off here)

    def cell(self) -> Message:
        """The picker's cell for this method: where it fits and the estimate."""
        if self.gpus == 1:
            cell = message("measure.model_fit.cell_gpu0", need=self.need_gb)
        elif self.gpus > 1:
            cell = message("measure.model_fit.cell_gpus", need=self.need_gb, count=self.gpus)
        elif self.gpus == -1:
            cell = message("measure.model_fit.cell_cpu", need=self.need_gb)
        else:
            return message("measure.model_fit.cell_too_big", need=self.need_gb)
        return message("measure.model_fit.with_checkpointing", fit=cell) if self.checkpointing else cell


@dataclass
class ModelFit:
    methods: dict[str, MethodFit] = field(default_factory=dict)

    def verdict(self) -> Message:
        """The one line: the cheapest way the model trains here."""
        lora, qlora = self.methods["lora"], self.methods["qlora"]
        if lora.gpus == 1:
            verdict, way = message("measure.model_fit.gpu0"), lora
        elif qlora.gpus == 1:
            verdict, way = message("measure.model_fit.four_bit"), qlora
        elif lora.gpus > 1:
            verdict, way = message("measure.model_fit.gpus", count=lora.gpus, strategy=SPREAD_STRATEGY["lora"]), lora
        elif qlora.gpus > 1:
            verdict, way = message("measure.model_fit.gpus_four_bit", count=qlora.gpus,
                                   strategy=SPREAD_STRATEGY["qlora"]), qlora
        elif lora.gpus == -1:
            return message("measure.model_fit.cpu")
        else:
            return message("measure.model_fit.too_big")
        return message("measure.model_fit.with_checkpointing", fit=verdict) if way.checkpointing else verdict


def gpus_needed(need_gb: float, inventory: Inventory) -> int:
    """1 when GPU 0 holds `need_gb`, else the fewest GPUs whose free memory together holds it (largest first),
    else 0."""
    if not inventory.gpus:
        return 0
    if need_gb <= FIT_SHARE * inventory.gpus[0].free_gb:
        return 1
    room = 0.0
    for count, free in enumerate(sorted((g.free_gb for g in inventory.gpus), reverse=True), start=1):
        room += free
        if count > 1 and need_gb <= FIT_SHARE * room:
            return count
    return 0


def fit(hf_config, inventory: Inventory, train, lora, model=None) -> ModelFit:
    """The three methods' estimates and where each fits, at train.batch_size rows of train.max_length tokens."""
    from core.training.steps import SMALL_MODEL

    model = model or skeleton(hf_config)
    gpus = inventory.gpus
    large = sum(p.numel() for p in model.parameters()) >= SMALL_MODEL
    checkpointing = train.gradient_checkpointing == "on" or (
        train.gradient_checkpointing == "auto" and bool(gpus) and large)
    dtype = memory_estimate.run_dtype("auto", gpus, getattr(hf_config, "model_type", None))
    attention = _attention(train, gpus, dtype)

    def method_fit(name: str, checkpointing: bool) -> MethodFit:
        tuning, quantization = METHODS[name]
        need = memory_estimate.estimate(
            hf_config, rank=lora.r, target_modules=lora.target_modules, batch_size=train.batch_size,
            max_length=train.max_length, dtype=dtype, quantization=quantization,
            gradient_checkpointing=checkpointing, attention=attention, uses_gpu=bool(gpus), model=model,
            tuning=tuning, method=train.method).total_gb
        where = gpus_needed(need, inventory) if gpus else (-1 if need <= inventory.ram_available_gb else 0)
        return MethodFit(name, need, where)

    result = ModelFit()
    for name, (_, quantization) in METHODS.items():
        if not gpus and quantization != "none":
            result.methods[name] = MethodFit(name, 0.0, 0)  # bitsandbytes' 4-bit layers need a GPU
            continue
        found = method_fit(name, checkpointing)
        if found.gpus != 1 and gpus and not checkpointing and train.gradient_checkpointing == "auto":
            # 'auto' leaves checkpointing off for a small model; with it on, the same run may fit after all.
            saved = method_fit(name, True)
            if saved.gpus == 1 or 1 < saved.gpus < found.gpus or (saved.gpus > 1 and found.gpus == 0):
                found = MethodFit(name, saved.need_gb, saved.gpus, checkpointing=True)
        result.methods[name] = found
    return result


def _attention(train, gpus, dtype: str) -> str:
    """The attention kernel the run would use (what the estimate's activations depend on)."""
    from core.training import speed

    try:
        return speed.resolve(train, bool(gpus), capabilities=[g.capability for g in gpus if g.capability],
                             model_dtype=dtype).attention
    except speed.SpeedOptionError:  # a kernel set by hand that these GPUs lack: the run would refuse to start
        return "sdpa"


@lru_cache(maxsize=64)
def _config_and_skeleton(folder: str):
    from transformers import AutoConfig

    hf_config = AutoConfig.from_pretrained(folder)
    return hf_config, skeleton(hf_config)


def curated_fits(inventory: Inventory, train, lora) -> list[tuple[object, ModelFit]]:
    """Every curated model with its fit on `inventory`, from the config.json files shipped in assets/models."""
    from core.hub.curated import CURATED

    found = []
    for entry in CURATED:
        hf_config, model = _config_and_skeleton(str(entry.config_dir()))
        found.append((entry, fit(hf_config, inventory, train, lora, model=model)))
    return found
