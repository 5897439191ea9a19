"""The bridge between the trainer and the run folder: metrics lines, status updates, the stop flag and the
probe answers at each evaluation."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from transformers import TrainerCallback
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

from core.catalogue.message import message
from core.runs import Run, write_json_atomic
from core.training import probes
from core.training import ranks
from core.training.stopping import StopRequested


# Metrics trl's preference trainers log, kept under trl's own names (their eval_ versions too).
GRPO_METRICS = ("reward", "reward_std", "completions/mean_length", "completions/clipped_ratio", "entropy")
GRPO_PREFIXES = ("rewards/", "share/")
PREFERENCE_METRICS = ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "kl", "nll_loss",
                      "log_odds_ratio")


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


class Counting:
    """Any trainer's collator, counting the tokens it hands out: those that carry loss (labels, or a completion mask:
    both answers of a preference pair) and all of them."""

    def __init__(self, collator):
        self.collator = collator
        self.trained_tokens = 0
        self.all_tokens = 0

    def __call__(self, examples):
        batch = self.collator(examples)
        if not isinstance(batch, dict):  # grpo's rows, handed through: its sampled tokens are counted as they come
            return batch
        for key, value in batch.items():
            if not hasattr(value, "numel"):
                continue
            if key.endswith("labels"):
                self.trained_tokens += int((value != -100).sum())
            elif key.endswith("completion_mask") and not key.startswith("KL_"):
                self.trained_tokens += int(value.sum())
            if key.endswith("input_ids") and not key.startswith(("KL_", "prompt_")):
                self.all_tokens += int(value.numel())
        return batch


def counting(trainer):
    """The trainer's token counter: its collator, made to count where it does not already."""
    if not isinstance(trainer.data_collator, (CountingCollator, Counting)):
        trainer.data_collator = Counting(trainer.data_collator)
    return trainer.data_collator


class RunCallback(TrainerCallback):
    """Appends one metrics.jsonl line per log event, keeps status.json current, and honours Stop.

    Every process of a run calls it at the same points; the collective steps (the stop decision, the token and
    memory totals) run on all of them, and rank 0 alone writes the run folder, so each step is logged once.
    """

    def __init__(self, run, stop: threading.Event, collator: CountingCollator):
        self.run = run
        self.stop = stop
        self.collator = collator
        self.main = ranks.is_main()
        self._last = (time.time(), 0, 0)  # time, trained tokens, all tokens at the previous log
        self._first_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._last = (time.time(), self.collator.trained_tokens, self.collator.all_tokens)
        self._first_step = state.global_step  # this attempt's first step (a resume's starts at its checkpoint)
        reset_gpu_peaks()  # this run's memory from here, not what loading or an earlier run left as the peak
        if self.main:
            self.run.update_status(state="training", step=state.global_step, total_steps=state.max_steps,
                                   message=message("training.callbacks.training", steps=state.max_steps))

    def on_step_begin(self, args, state, control, **kwargs):
        """A Stop heard before this attempt's first step (while the base model answered the probes) ends the run
        here: the trainer checks its stop flag only after a step, which on a large model is minutes away."""
        if state.global_step == self._first_step and ranks.any_rank(self.stop.is_set()):
            raise StopRequested

    def on_step_end(self, args, state, control, **kwargs):
        changes = {"step": state.global_step, "total_steps": state.max_steps}
        if ranks.any_rank(self.stop.is_set()):  # the same answer on every process, or they would part ways
            self.stop.set()
            control.should_training_stop = True
            control.should_save = True  # a checkpoint at the stop, so the run can be resumed from here
            control.should_evaluate = False  # Stop within seconds: no held-out pass and probe answers first
            changes.update(state="stopping", message=message("training.callbacks.stopping", step=state.global_step))
        if self.main:
            self.run.update_status(**changes)
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "train_runtime" in logs:  # the end-of-run summary, not a point on the curve
            return
        now = time.time()
        trained, every = ranks.total(self.collator.trained_tokens), ranks.total(self.collator.all_tokens)
        memory = merge_gpu_memory(ranks.gather(gpu_memory_since_last_log()))
        if not self.main:
            return
        record = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), "time": round(now, 3)}
        for key in ("loss", "eval_loss", "learning_rate", "grad_norm") + PREFERENCE_METRICS + tuple(
                f"eval_{name}" for name in PREFERENCE_METRICS):
            if key in logs:
                record[key] = float(logs[key])
        for key, value in logs.items():  # grpo's: rewards/<name>/mean and /std, the shares right and well-formed
            if key.removeprefix("eval_") in GRPO_METRICS or key.removeprefix("eval_").startswith(GRPO_PREFIXES):
                if value is not None:
                    record[key] = float(value)
        if "loss" in logs:
            elapsed = max(now - self._last[0], 1e-9)
            record["tokens_per_second"] = round((trained - self._last[1]) / elapsed, 1)
            record["all_tokens_per_second"] = round((every - self._last[2]) / elapsed, 1)
            self._last = (now, trained, every)
        if memory:
            record["gpu_memory_gb"] = round(sum(memory.values()), 2)
            record["gpu_memory_per_gpu"] = memory
        self.run.append_metric(record)


def reset_gpu_peaks() -> None:
    import torch

    from core.models import devices

    if torch.cuda.is_available():
        devices.gpu_peaks_since_last(range(torch.cuda.device_count()))


def gpu_memory_since_last_log() -> dict[str, float]:
    """Peak allocated GiB of each GPU this process uses since the previous log, keyed by the studio's GPU number;
    the peaks are reset, so each point of the chart is the peak of its own interval."""
    import torch

    from core.models import devices

    if not torch.cuda.is_available():
        return {}
    used = [torch.cuda.current_device()] if ranks.world_size() > 1 else range(torch.cuda.device_count())
    return {str(devices.gpu_number(index)): round(peak / 1024 ** 3, 2)
            for index, peak in devices.gpu_peaks_since_last(used).items()}


def merge_gpu_memory(per_process: list[dict]) -> dict[str, float]:
    merged = {}
    for memory in per_process:
        merged.update(memory or {})
    return dict(sorted(merged.items(), key=lambda item: int(item[0])))


class ProbeCallback(TrainerCallback):
    """Answers the probes with the base model at the start and with the adapter after each evaluation."""

    def __init__(self, run: Run, tokenizer, prompts: list[str], keep_best: bool = True,
                 stop: threading.Event | None = None):
        self.run, self.tokenizer, self.prompts = run, tokenizer, prompts
        self.stop = stop or threading.Event()  # a Stop cuts the answers short; cut answers are not recorded
        self.best = probes.best_loss(run)  # a resumed run keeps its best so far: a worse step must not replace it
        # The best step's adapter is a few megabytes; a whole model (full and freeze tuning) is not kept twice.
        self.keep_best = keep_best

    def _answer(self, model, use_adapter: bool) -> list[str] | None:
        """The probe answers, or None when a Stop cut them short (probes.jsonl then keeps no half answers)."""
        from core.models.generate import chat_prompt, generate_batch

        was_training = model.training
        model.eval()  # dropout off: the answers are the ones the model would give in the chat
        try:
            answers = generate_batch(model, self.tokenizer, [chat_prompt(self.tokenizer, p) for p in self.prompts],
                                     probes.PROBE_TOKENS, use_adapter=use_adapter, should_stop=self.stop.is_set)
        finally:
            model.train(was_training)
        return None if self.stop.is_set() else answers

    def _append(self, record: dict) -> None:
        if record["answers"] is None:
            return
        with open(self.run.path / probes.PROBES_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if not state.is_world_process_zero:  # rank 0 answers with its whole copy; the others go on training
            return
        if self.prompts and model is not None and not (self.run.path / probes.PROBES_FILE).exists():
            self._append({"step": state.global_step, "model": "base", "prompts": self.prompts,
                          "answers": self._answer(model, use_adapter=False)})

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
        if model is None or not state.is_world_process_zero:
            return
        loss = (metrics or {}).get("eval_loss")
        if self.prompts:
            self._append({"step": state.global_step, "model": "tuned", "eval_loss": loss, "prompts": self.prompts,
                          "answers": self._answer(model, use_adapter=True)})
        if self.keep_best and loss is not None and (self.best is None or loss < self.best):
            self.best = loss
            model.save_pretrained(self.run.path / probes.BEST_DIR)
            write_json_atomic(self.run.path / probes.BEST_DIR / "best.json",
                              {"step": state.global_step, "eval_loss": loss})
