"""What hardware this machine has, and which placement and quantization choices can work on it."""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass, field

import psutil

from core.catalogue.message import Message, message

GIB = 1024 ** 3
AMPERE = (8, 0)  # the first compute capability with bfloat16 units and flash-attention 2 kernels


@dataclass
class Gpu:
    index: int                    # the number the studio shows and compute.gpus takes
    name: str
    total_gb: float
    free_gb: float
    bf16: bool                    # real bfloat16 units (Ampere or newer), not torch's slow emulation
    capability: tuple[int, int] | None = None
    device_id: str = ""           # what CUDA_VISIBLE_DEVICES needs to show a child process this GPU


@dataclass
class Inventory:
    gpus: list[Gpu] = field(default_factory=list)
    cpu_name: str = ""
    cpu_cores: int = 1
    ram_total_gb: float = 0.0
    ram_available_gb: float = 0.0


def inventory() -> Inventory:
    """GPUs (name, total and free memory) from nvidia-smi (or torch), CPU and RAM from psutil."""
    gpus = nvidia_smi_gpus()
    if gpus is None:
        gpus = torch_gpus()
    memory = psutil.virtual_memory()
    return Inventory(gpus=gpus, cpu_name=platform.processor() or platform.machine(),
                     cpu_cores=psutil.cpu_count(logical=False) or os.cpu_count() or 1,
                     ram_total_gb=round(memory.total / GIB, 1), ram_available_gb=round(memory.available / GIB, 1))


NVIDIA_SMI_FIELDS = "index,uuid,name,memory.total,memory.free,compute_cap"


def nvidia_smi_gpus() -> list[Gpu] | None:
    """The GPUs as the driver lists them, or None when nvidia-smi is not there.

    Asked of nvidia-smi, not torch: torch.cuda.mem_get_info would open a CUDA context (several hundred MB) on
    every GPU inside the studio's own process, memory the runs then lack.
    """
    if shutil.which("nvidia-smi") is None:
        return None
    for fields in (NVIDIA_SMI_FIELDS, NVIDIA_SMI_FIELDS.replace(",compute_cap", "")):  # old drivers lack compute_cap
        try:
            result = subprocess.run(["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
                                    capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if result.returncode == 0:
            rows, visible = parse_nvidia_smi(result.stdout), os.environ.get("CUDA_VISIBLE_DEVICES")
            if unmatched_entries(rows, visible):
                # A MIG slice (MIG-...) is no row of --query-gpu: only torch can see it; its entries pass through as
                # they are, so the run's processes are shown the same slices.
                return torch_gpus()
            return visible_to_this_process(rows, visible)
    return None


def unmatched_entries(gpus: list[Gpu], visible: str | None) -> list[str]:
    """CUDA_VISIBLE_DEVICES entries that name no nvidia-smi row by UUID (MIG slices: MIG-<uuid> or
    MIG-GPU-<uuid>/<gi>/<ci>). A number past the last GPU is not one: CUDA itself stops there."""
    entries = filter(None, (part.strip() for part in (visible or "").split(",")))
    return [entry for entry in entries
            if not entry.isdigit() and not any(g.device_id.startswith(entry) for g in gpus)]


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """Rows of `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.free[,compute_cap]` (MiB)."""
    gpus = []
    for line in text.strip().splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) < 5 or not parts[0].isdigit():
            continue
        capability = None
        if len(parts) > 5 and re.fullmatch(r"\d+\.\d+", parts[5]):
            major, minor = parts[5].split(".")
            capability = (int(major), int(minor))
        gpus.append(Gpu(int(parts[0]), parts[2], round(float(parts[3]) / 1024, 1), round(float(parts[4]) / 1024, 1),
                        bf16=capability is not None and capability >= AMPERE, capability=capability,
                        device_id=parts[1]))
    return gpus


def visible_to_this_process(gpus: list[Gpu], visible: str | None) -> list[Gpu]:
    """The GPUs CUDA_VISIBLE_DEVICES leaves this process, renumbered from 0 as CUDA numbers them.

    Each keeps its UUID as device_id, so a child process is shown exactly that GPU whatever the numbering.
    """
    if visible is None:
        return gpus
    chosen = []
    for entry in filter(None, (part.strip() for part in visible.split(","))):
        match = next((g for g in gpus if (entry.isdigit() and g.index == int(entry)) or
                      (not entry.isdigit() and g.device_id.startswith(entry))), None)
        if match is None:
            break  # CUDA stops at the first entry it cannot find, and so do we
        chosen.append(match)
    return [Gpu(i, g.name, g.total_gb, g.free_gb, g.bf16, g.capability, g.device_id) for i, g in enumerate(chosen)]


def torch_gpus() -> list[Gpu]:
    """The GPUs as torch sees them, where nvidia-smi is missing (this opens a CUDA context on each)."""
    import torch

    if not torch.cuda.is_available():
        return []
    visible = [part.strip() for part in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if part.strip()]
    gpus = []
    for i in range(torch.cuda.device_count()):
        free, total = torch.cuda.mem_get_info(i)
        capability = tuple(torch.cuda.get_device_capability(i))
        gpus.append(Gpu(i, torch.cuda.get_device_name(i), round(total / GIB, 1), round(free / GIB, 1),
                        capability >= AMPERE, capability, visible[i] if i < len(visible) else str(i)))
    return gpus


RUN_GPUS_ENV = "FINETUNE_STUDIO_GPUS"  # set for a run's process: the studio's numbers of the GPUs it sees, in order


def run_gpu_numbers() -> list[int] | None:
    """Inside a run's process, the studio's numbers of its GPUs (its cuda:0 is the first); None elsewhere."""
    value = os.environ.get(RUN_GPUS_ENV)
    if value is None:
        return None
    return [int(part) for part in value.split(",") if part.strip().isdigit()]


def local_gpu(number: int, missing=0):
    """This process's CUDA index of the studio's GPU `number` (`missing` when the run does not use it)."""
    numbers = run_gpu_numbers()
    if numbers is None:
        return number
    return numbers.index(number) if number in numbers else missing


def gpu_number(local_index: int) -> int:
    """The studio's number of this process's cuda:`local_index`, for labels the user recognises."""
    numbers = run_gpu_numbers()
    return numbers[local_index] if numbers and local_index < len(numbers) else local_index


def local_rank() -> int:
    """The process's rank on this machine under accelerate launch / torchrun (0 for a single process)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def capabilities() -> list[tuple[int, int]]:
    """Compute capability of each GPU this process sees (inside a run's process: exactly the run's GPUs)."""
    import torch

    if not torch.cuda.is_available():
        return []
    return [tuple(torch.cuda.get_device_capability(i)) for i in range(torch.cuda.device_count())]


def has_real_bf16(capability_list: list[tuple[int, int]]) -> bool:
    """bfloat16 units on every GPU. torch.cuda.is_bf16_supported() also says yes where bf16 is only emulated
    (T4, V100, RTX 20xx), which is several times slower than float16 there."""
    return bool(capability_list) and all(c >= AMPERE for c in capability_list)


# The highest CUDA allocation of each local device since start_gpu_peaks, in bytes. torch keeps one peak counter per
# device, and a run resets it at every metrics line (each point of the memory chart is its own interval's peak); the
# benchmark and the pre-flight check read the whole run's peak, so every reset goes through gpu_peaks_since_last()
# and folds the counter in here first. (On an H200 the benchmark once reported the last step's peak as the run's.)
_PEAKS: dict[int, int] = {}


def gpu_peaks_since_last(indices) -> dict[int, int]:
    """{local device: peak allocated bytes since the previous call (or start)}; torch's counters are reset."""
    import torch

    peaks = {}
    for index in indices:
        peaks[index] = torch.cuda.max_memory_allocated(index)
        _PEAKS[index] = max(_PEAKS.get(index, 0), peaks[index])
        torch.cuda.reset_peak_memory_stats(index)
    return peaks


def start_gpu_peaks() -> None:
    """Measure every local device's peak from now (gpu_peak_since_start)."""
    import torch

    _PEAKS.clear()
    for index in range(torch.cuda.device_count()):
        torch.cuda.reset_peak_memory_stats(index)


def gpu_peak_since_start(index: int) -> int:
    """The device's peak allocated bytes since start_gpu_peaks, across the resets a run makes for its chart."""
    import torch

    return max(_PEAKS.get(index, 0), torch.cuda.max_memory_allocated(index))


def release_memory() -> None:
    """Free Python garbage, CUDA's cache and glibc's free lists, so the next model (or measurement) has the room."""
    import ctypes
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows): freed memory may stay with the process
        pass


def bitsandbytes_problem(inv: Inventory) -> Message | None:
    """Why 8-bit/4-bit loading cannot work here, or None when it can."""
    if importlib.util.find_spec("bitsandbytes") is None:
        return message("models.devices.no_bitsandbytes")
    try:
        import bitsandbytes  # noqa: F401  (import fails on unsupported platforms)
    except Exception as err:  # its import raises many kinds of errors on broken installs
        return message("models.devices.bitsandbytes_broken", error=str(err))
    return None


def device_map_choices(inv: Inventory) -> list[tuple[str, Message | None]]:
    """Each device_map value with None when it makes sense here, or the reason it does not."""
    gpus = len(inv.gpus)
    multi = None if gpus >= 2 else message("models.devices.needs_two_gpus")
    choices = [
        ("auto", None),
        ("balanced", multi),
        ("balanced_low_0", multi),
        ("sequential", None if gpus else message("models.devices.needs_gpu")),
        ("cpu", None),
    ]
    choices += [(f"cuda:{g.index}", None) for g in inv.gpus]
    return choices


def check_model_choices(quantization: str, device_map: str, inv: Inventory) -> list[Message]:
    """What is wrong with choices that cannot work on this machine (empty when all is well)."""
    problems = []
    if quantization != "none":
        reason = bitsandbytes_problem(inv)
        if reason:
            problems.append(message("models.devices.quantization_unusable", quantization=quantization, reason=reason))
    match = re.fullmatch(r"cuda:(\d+)", device_map)
    if match:
        index = int(match.group(1))
        if not inv.gpus:
            problems.append(message("models.devices.map_needs_gpu", device_map=device_map))
        elif index >= len(inv.gpus):
            problems.append(message("models.devices.no_such_gpu", device_map=device_map, index=index,
                                    count=len(inv.gpus), last=len(inv.gpus) - 1))
    elif device_map in ("balanced", "balanced_low_0") and len(inv.gpus) < 2:
        # accelerate would silently put everything on the one device; say so rather than pretend to balance.
        problems.append(message("models.devices.cannot_balance", device_map=device_map, count=len(inv.gpus)))
    return problems
