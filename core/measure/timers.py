"""Measuring a training run from the inside: peak memory, step times, tokens, and the hardware's peak FLOPs.

Shared by the benchmark (core.measure.bench) and the pre-flight check (core.measure.preflight), so both report the same
quantities the same way.
"""

from __future__ import annotations

import statistics
import threading
import time

import psutil
from transformers import TrainerCallback

from core.models import devices

GB = 1024 ** 3


class PeakMemory:
    """Peak memory while a block runs: CUDA max allocated on a GPU, otherwise the process's peak RSS.

    RSS is sampled by a thread every 5 ms (the kernel's own high-water mark never goes down, so it could not tell
    one measurement from the previous one in the same process). Freed memory is handed back to the system
    first, or the previous run's leftovers would count.
    """

    def __init__(self, interval: float = 0.005):
        import torch

        self.cuda = torch.cuda.is_available()
        self.kind = "CUDA max allocated" if self.cuda else "peak RSS of the process (CPU)"
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()

    def __enter__(self):
        release()
        if self.cuda:
            devices.start_gpu_peaks()
        else:
            self._process = psutil.Process()
            self.peak_bytes = self._process.memory_info().rss
            self._thread = threading.Thread(target=self._sample, daemon=True, name="rss-sampler")
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.peak_bytes = max(self.peak_bytes, self._process.memory_info().rss)

    def __exit__(self, *exc):
        import torch

        if self.cuda:
            # Not torch's counter alone: a run resets it at each metrics line (core.models.devices says more).
            self.peak_bytes = sum(devices.gpu_peak_since_start(i) for i in range(torch.cuda.device_count()))
        else:
            self._stop.set()
            self._thread.join()
            self.peak_bytes = max(self.peak_bytes, self._process.memory_info().rss)
        return False

    @property
    def peak_gb(self) -> float:
        return self.peak_bytes / GB


def release() -> None:
    """Free what earlier work left, so memory measured next is this run's."""
    from core.models.devices import release_memory

    release_memory()


class StepTimer(TrainerCallback):
    """Watches a Trainer without changing it: when each step ends, the loss, and the tokens each step fed.

    A step's time runs from the end of the previous step (or the start of training) to its own end, so data
    loading and collation count. Tokens are read from the model's inputs by a forward pre-hook: those that carry
    loss (label not -100), the real ones (not padding), and all of them, padding included.
    """

    def __init__(self, started: float | None = None):
        self.started = started or time.perf_counter()
        self.step_ends: list[float] = []
        self.train_began = None
        self.losses: list[float] = []
        self.tokens = {"trained": [], "real": [], "all": []}  # per forward pass
        self._steps_tokens = []   # per optimizer step: (trained, real, all)
        self._pending = [0, 0, 0]
        self._hook = None

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.train_began = time.perf_counter()
        if model is not None and self._hook is None:
            self._hook = model.register_forward_pre_hook(self._count, with_kwargs=True)

    def _count(self, module, args, kwargs):
        if not module.training:
            return
        input_ids, labels = kwargs.get("input_ids"), kwargs.get("labels")
        if input_ids is None and args:
            input_ids = args[0]
        if input_ids is None:
            return
        mask = kwargs.get("attention_mask")
        self._pending[0] += int((labels != -100).sum()) if labels is not None else input_ids.numel()
        self._pending[1] += int(mask.sum()) if mask is not None else input_ids.numel()
        self._pending[2] += input_ids.numel()

    def on_step_end(self, args, state, control, **kwargs):
        self.step_ends.append(time.perf_counter())
        self._steps_tokens.append(tuple(self._pending))
        self._pending = [0, 0, 0]

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(float(logs["loss"]))

    def on_train_end(self, args, state, control, **kwargs):
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    # ---- results ------------------------------------------------------------------------------------------

    @property
    def step_times(self) -> list[float]:
        starts = [self.train_began] + self.step_ends[:-1]
        return [end - start for start, end in zip(starts, self.step_ends)]

    def summary(self) -> dict:
        """Throughput over the steps after the first (the first warms caches up) when there are three or more."""
        times, tokens = self.step_times, self._steps_tokens
        if not times:
            return {"steps": 0}
        skip = 1 if len(times) >= 3 else 0
        seconds = sum(times[skip:])
        trained, real, every = (sum(t[i] for t in tokens[skip:]) for i in range(3))
        return {
            "steps": len(times),
            "trained_tokens_per_s": trained / seconds,
            "real_tokens_per_s": real / seconds,
            "all_tokens_per_s": every / seconds,
            "step_time_median_s": statistics.median(times),
            "time_to_first_step_s": self.step_ends[0] - self.started,
            "final_loss": self.losses[-1] if self.losses else None,
            "trained_tokens": sum(t[0] for t in tokens),
            "all_tokens": sum(t[2] for t in tokens),
            "longest_step_s": max(times),
        }


def peak_flops(dtype: str = "float32") -> tuple[float | None, str]:
    """The hardware's peak FLOP/s for MFU, and a sentence naming where the number comes from."""
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        # Dense (no sparsity) tensor-core peaks from the vendors' data sheets, bf16/fp16.
        table = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12, "L4": 121e12,
                 "4090": 165e12, "3090": 71e12}
        for key, flops in table.items():
            if key in name:
                count = torch.cuda.device_count()
                return flops * count, f"{count} x {name}: {flops / 1e12:.0f} TFLOP/s dense bf16 each (data sheet)"
        return None, f"{name}: peak unknown, MFU not computed"
    cores = torch.get_num_threads()  # the cores torch computes on, which is what the peak is for
    freq = psutil.cpu_freq()
    ghz = (freq.max or freq.current) / 1000 if freq else 0
    if not ghz:
        return None, "CPU clock unknown, MFU not computed"
    per_cycle = 32  # fp32 with AVX2: two 256-bit FMA units, 8 lanes x 2 FLOPs each
    return cores * ghz * 1e9 * per_cycle, (f"CPU estimate: {cores} cores x {ghz:.2f} GHz x {per_cycle} fp32 FLOP "
                                           "per cycle (AVX2 FMA)")
