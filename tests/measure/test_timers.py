"""The benchmark's and the pre-flight check's peak memory on a GPU (torch's CUDA memory counters stand in for one:
this machine has none)."""

import torch

from core.measure import timers
from core.training import callbacks

GIB = 1024 ** 3


class FakeCuda:
    """One device's allocator as torch reports it: the peak since the last reset."""

    def __init__(self):
        self.allocated = self.peak = 0

    def use(self, gib: float):
        self.allocated = int(gib * GIB)
        self.peak = max(self.peak, self.allocated)

    def reset(self, index):
        self.peak = self.allocated


def test_a_runs_chart_resets_do_not_hide_its_peak_from_the_benchmark(monkeypatch):
    # On an H200 the benchmark reported an 8B LoRA run's last step as its peak: the run resets torch's counter at
    # every metrics line, so each point of its memory chart is its own interval's peak.
    cuda = FakeCuda()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda index: cuda.peak)
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", cuda.reset)

    cuda.use(16)  # the model, loaded before the measurement starts
    with timers.PeakMemory() as memory:
        callbacks.reset_gpu_peaks()  # the run's first step
        cuda.use(21)  # a long batch's activations, freed when its step ends
        cuda.use(16)
        assert callbacks.gpu_memory_since_last_log() == {"0": 21.0}
        cuda.use(17)  # a shorter batch after it
        cuda.use(16)
        assert callbacks.gpu_memory_since_last_log() == {"0": 17.0}
    assert memory.peak_gb == 21.0

    with timers.PeakMemory() as memory:  # the next measurement starts from what is held now
        cuda.use(18)
    assert memory.peak_gb == 18.0
