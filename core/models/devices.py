"""What hardware this machine has, and which placement and quantization choices can work on it."""

from __future__ import annotations

import importlib.util
import os
import platform
import re
from dataclasses import dataclass, field

import psutil

GIB = 1024 ** 3


@dataclass
class Gpu:
    index: int
    name: str
    total_gb: float
    free_gb: float
    bf16: bool


@dataclass
class Inventory:
    gpus: list[Gpu] = field(default_factory=list)
    cpu_name: str = ""
    cpu_cores: int = 1
    ram_total_gb: float = 0.0
    ram_available_gb: float = 0.0

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus)


def inventory() -> Inventory:
    """GPUs (name, total and free memory) from torch, CPU and RAM from psutil."""
    import torch

    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(i)
            gpus.append(Gpu(i, torch.cuda.get_device_name(i), round(total / GIB, 1), round(free / GIB, 1),
                            torch.cuda.is_bf16_supported()))
    memory = psutil.virtual_memory()
    return Inventory(gpus=gpus, cpu_name=platform.processor() or platform.machine(),
                     cpu_cores=psutil.cpu_count(logical=False) or os.cpu_count() or 1,
                     ram_total_gb=round(memory.total / GIB, 1), ram_available_gb=round(memory.available / GIB, 1))


def bitsandbytes_problem(inv: Inventory) -> str | None:
    """Why 8-bit/4-bit loading cannot work here, or None when it can."""
    if importlib.util.find_spec("bitsandbytes") is None:
        return "bitsandbytes is not installed (pip install bitsandbytes); plain LoRA still works."
    try:
        import bitsandbytes  # noqa: F401  (import fails on unsupported platforms)
    except Exception as err:  # its import raises many kinds of errors on broken installs
        return f"bitsandbytes is installed but does not load ({err}); plain LoRA still works."
    return None


def device_map_choices(inv: Inventory) -> list[tuple[str, str | None]]:
    """Each device_map value with None when it makes sense here, or the reason it does not."""
    gpus = len(inv.gpus)
    multi = None if gpus >= 2 else "needs two or more GPUs"
    choices = [
        ("auto", None),
        ("balanced", multi),
        ("balanced_low_0", multi),
        ("sequential", None if gpus else "needs a GPU"),
        ("cpu", None),
    ]
    choices += [(f"cuda:{g.index}", None) for g in inv.gpus]
    return choices


def check_model_choices(quantization: str, device_map: str, inv: Inventory) -> list[str]:
    """Plain messages for choices that cannot work on this machine (empty when all is well)."""
    problems = []
    if quantization != "none":
        reason = bitsandbytes_problem(inv)
        if reason:
            problems.append(f"model.quantization '{quantization}' cannot be used: {reason}")
    match = re.fullmatch(r"cuda:(\d+)", device_map)
    if match:
        index = int(match.group(1))
        if not inv.gpus:
            problems.append(f"model.device_map '{device_map}' asks for a GPU, but this machine has none; "
                            "use 'auto' or 'cpu'.")
        elif index >= len(inv.gpus):
            problems.append(f"model.device_map '{device_map}' asks for GPU {index}, but this machine has "
                            f"{len(inv.gpus)} (cuda:0 to cuda:{len(inv.gpus) - 1}).")
    elif device_map in ("balanced", "balanced_low_0") and len(inv.gpus) < 2:
        # accelerate would silently put everything on the one device; say so rather than pretend to balance.
        problems.append(f"model.device_map '{device_map}' spreads layers over several GPUs; this machine has "
                        f"{len(inv.gpus)}. Use 'auto'.")
    return problems


def describe(inv: Inventory) -> str:
    lines = [f"GPU {g.index}: {g.name}, {g.free_gb:.1f} of {g.total_gb:.1f} GiB free" for g in inv.gpus]
    if not lines:
        lines.append("No GPU found: training runs on the CPU (fine for the small default model).")
    lines.append(f"CPU: {inv.cpu_name}, {inv.cpu_cores} cores; RAM {inv.ram_available_gb:.1f} of "
                 f"{inv.ram_total_gb:.1f} GiB free")
    return "\n".join(lines)
