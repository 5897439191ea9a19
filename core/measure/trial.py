"""One pre-flight attempt in a clean process: `python -m core.measure.trial RUN_DIR [--strategy S]`.

core.measure.preflight writes a short trial run (two steps on the longest rows) into RUN_DIR and starts this on
the run's GPUs, as the real run would be started. Here it trains through core.training.train with a step timer,
measures the peak memory of this process alone (CUDA max allocated on its GPUs, or its peak RSS on the CPU), and
writes attempt.json: {"fits", "peak_gb", "step_seconds", "memory_kind", "trained_tokens_per_s", "load_seconds"}
or {"fits": false, "error", "error_message", "fatal", "placement"} (error_message: the error's key and values,
when it has them; error: its English).
Running out of memory, or a model that only fits with layers on the CPU, is a normal answer (it does not fit);
any other error is fatal (the data or the model is at fault, not the settings). A fresh process per attempt
means a failed attempt's memory is gone before the next one starts.
"""

from __future__ import annotations

import argparse
import faulthandler
import sys
import threading
from pathlib import Path

from core.catalogue.message import Message, message
from core.config import Config
from core.runs import Run, write_json_atomic

RESULT_FILE = "attempt.json"


def main(argv: list[str] | None = None) -> int:
    from core.training import worker

    parser = argparse.ArgumentParser(prog="python -m core.measure.trial")
    parser.add_argument("run_dir")
    parser.add_argument("--strategy", default="single", choices=("single", "model_parallel"))
    args = parser.parse_args(argv)
    worker.die_with_parent()
    faulthandler.enable()
    worker.quiet_libraries()
    run = Run(Path(args.run_dir))
    write_json_atomic(run.path / RESULT_FILE, measure(run, args.strategy))
    return 0


def measure(run: Run, strategy: str = "single") -> dict:
    from core.measure import timers
    from core.models.load import PlacementError
    from core.training import train as training
    from core.training.failures import explain_failure, is_out_of_memory

    config = Config.from_yaml(run.config_file)
    timer = timers.StepTimer()
    try:
        with timers.PeakMemory() as memory:
            training.train(config, run, threading.Event(), callbacks=[timer], strategy=strategy)
    except Exception as err:
        placement = isinstance(err, PlacementError)
        error = out_of_memory(err) if is_out_of_memory(err) else explain_failure(err)
        return {"fits": False, "fatal": not (placement or is_out_of_memory(err)), "placement": placement,
                "error": str(error), "error_message": error.to_json() if isinstance(error, Message) else None}
    summary = timer.summary()
    # Loading (model, data, the base model's probe answers) is what came before the first step: the whole run's
    # time counts it too (core.measure.duration).
    load = summary["time_to_first_step_s"] - timer.step_times[0] if timer.step_times else None
    return {"fits": True, "peak_gb": memory.peak_gb, "step_seconds": timer.step_times, "memory_kind": memory.kind,
            "trained_tokens_per_s": summary.get("trained_tokens_per_s"), "load_seconds": load}


def out_of_memory(err: BaseException) -> Message:
    """The first sentence of explain_failure's answer: the advice after it is what the next attempt tries."""
    on_gpu = "cuda" in str(err).lower() or type(err).__name__ == "OutOfMemoryError"
    return message("measure.trial.gpu_out_of_memory" if on_gpu else "measure.trial.machine_out_of_memory")


if __name__ == "__main__":
    sys.exit(main())
