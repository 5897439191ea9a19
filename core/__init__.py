"""The engine, headless: shared config, run folders, jobs and verbs here; one package per stage below.

Stages in order: hub -> data -> models -> training -> results -> making; measure uses them all. A stage never
imports a later one.
"""

import logging as _logging


class _QuietKernelHint(_logging.Filter):
    """bitsandbytes logs, on every start on a CPU with AVX512-BF16, that an optional kernel package is missing and
    to `pip install kernels`: a developer's hint that users cannot act on (4-bit works without it)."""

    def filter(self, record: _logging.LogRecord) -> bool:
        return "gemm_4bit_forward" not in str(record.msg)


_logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(_QuietKernelHint())
