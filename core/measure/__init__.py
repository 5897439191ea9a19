"""Measure: how fast and how big — the benchmark, step timers, the pre-flight check and the memory estimate."""
