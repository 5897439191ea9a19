"""The bridge between the trainer and the run folder: metrics lines, status updates, the stop flag and the
probe answers at each evaluation."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from transformers import TrainerCallback
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

from core.runs import Run, write_json_atomic
from core.training import probes


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


class ProbeCallback(TrainerCallback):
    """Answers the probes with the base model at the start and with the adapter after each evaluation."""

    def __init__(self, run: Run, tokenizer, prompts: list[str]):
        self.run, self.tokenizer, self.prompts = run, tokenizer, prompts
        self.best = None

    def _answer(self, model, use_adapter: bool) -> list[str]:
        from core.models.generate import chat_prompt, generate_batch

        was_training = model.training
        model.eval()  # dropout off: the answers are the ones the model would give in the chat
        try:
            return generate_batch(model, self.tokenizer, [chat_prompt(self.tokenizer, p) for p in self.prompts],
                                  probes.PROBE_TOKENS, use_adapter=use_adapter)
        finally:
            model.train(was_training)

    def _append(self, record: dict) -> None:
        with open(self.run.path / probes.PROBES_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if args.world_size > 1:  # several processes hold shards of the model; generating in one would hang
            return
        if self.prompts and model is not None and not (self.run.path / probes.PROBES_FILE).exists():
            self._append({"step": state.global_step, "model": "base", "prompts": self.prompts,
                          "answers": self._answer(model, use_adapter=False)})

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
        if model is None or args.world_size > 1:
            return
        loss = (metrics or {}).get("eval_loss")
        if self.prompts:
            self._append({"step": state.global_step, "model": "tuned", "eval_loss": loss, "prompts": self.prompts,
                          "answers": self._answer(model, use_adapter=True)})
        if loss is not None and (self.best is None or loss < self.best):
            self.best = loss
            model.save_pretrained(self.run.path / probes.BEST_DIR)
            write_json_atomic(self.run.path / probes.BEST_DIR / "best.json",
                              {"step": state.global_step, "eval_loss": loss})
