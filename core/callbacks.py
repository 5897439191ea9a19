"""The bridge between the trainer and the run folder: metrics lines, status updates and the stop flag."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from transformers import TrainerCallback
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling


@dataclass
class CountingCollator(DataCollatorForLanguageModeling):
    """trl's collator, counting the tokens it hands out: all of them and those that carry loss."""

    trained_tokens: int = 0
    all_tokens: int = 0

    def torch_call(self, examples):
        batch = super().torch_call(examples)
        self.trained_tokens += int((batch["labels"] != -100).sum())
        self.all_tokens += int(batch["input_ids"].numel())
        return batch


class RunCallback(TrainerCallback):
    """Appends one metrics.jsonl line per log event, keeps status.json current, and honours Stop."""

    def __init__(self, run, stop: threading.Event, collator: CountingCollator):
        self.run = run
        self.stop = stop
        self.collator = collator
        self._last = (time.time(), 0, 0)  # time, trained tokens, all tokens at the previous log

    def on_train_begin(self, args, state, control, **kwargs):
        self._last = (time.time(), self.collator.trained_tokens, self.collator.all_tokens)
        self.run.update_status(state="training", step=state.global_step, total_steps=state.max_steps,
                               message=f"Training: {state.max_steps} steps.")

    def on_step_end(self, args, state, control, **kwargs):
        changes = {"step": state.global_step, "total_steps": state.max_steps}
        if self.stop.is_set():
            control.should_training_stop = True
            control.should_save = True  # a checkpoint at the stop, so the run can be resumed from here
            changes.update(state="stopping", message=f"Stopping after step {state.global_step} ...")
        self.run.update_status(**changes)
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "train_runtime" in logs:  # the end-of-run summary, not a point on the curve
            return
        now, trained, every = time.time(), self.collator.trained_tokens, self.collator.all_tokens
        record = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), "time": round(now, 3)}
        for key in ("loss", "eval_loss", "learning_rate", "grad_norm"):
            if key in logs:
                record[key] = float(logs[key])
        if "loss" in logs:
            elapsed = max(now - self._last[0], 1e-9)
            record["tokens_per_second"] = round((trained - self._last[1]) / elapsed, 1)
            record["all_tokens_per_second"] = round((every - self._last[2]) / elapsed, 1)
            self._last = (now, trained, every)
        memory = gpu_memory_gb()
        if memory is not None:
            record["gpu_memory_gb"] = memory
        self.run.append_metric(record)


def gpu_memory_gb() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return round(sum(torch.cuda.max_memory_allocated(i) for i in range(torch.cuda.device_count())) / 1024 ** 3, 2)
