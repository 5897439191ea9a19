"""The metrics line's GPU memory: each GPU apart, the peak since the previous line, labelled with the studio's GPU
numbers (checked with torch's CUDA memory counters standing in for two GPUs: this machine has none)."""

import torch

from core.models import devices
from core.training import callbacks


def test_gpu_memory_is_per_gpu_peak_since_the_last_line_and_reset(monkeypatch):
    peaks = {0: 3 * 1024 ** 3, 1: 5 * 1024 ** 3}
    resets = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda index: peaks[index])
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda index: resets.append(index))
    monkeypatch.setenv(devices.RUN_GPUS_ENV, "2,5")  # the run's cuda:0 and cuda:1 are the machine's GPUs 2 and 5

    callbacks.reset_gpu_peaks()  # a run starts: what loading (or an earlier run) reached does not count
    assert resets == [0, 1]
    memory = callbacks.gpu_memory_since_last_log()
    assert memory == {"2": 3.0, "5": 5.0} and resets == [0, 1, 0, 1]  # each line is the peak of its own interval
    assert callbacks.merge_gpu_memory([{"5": 5.0}, {"2": 3.0}]) == {"2": 3.0, "5": 5.0}  # ranks' GPUs, in order
