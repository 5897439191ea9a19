"""GRPO (train.method grpo): for each question the model samples several answers, the rewards check them (the
right answer, the right format, a sensible length), and the answers that scored above their group's mean become
more likely; the DeepSeek-R1 recipe, on questions whose answers can be checked.

Questions with reference answers -> the rewards, checked against the data before loading -> base model -> each
question's prompt written with the chat template (as the chat tab asks it) -> LoRA added by trl, the KL reference
being the adapter switched off -> trl's GRPOTrainer, which samples, scores and learns -> train -> save. The sampled
answers and their rewards go to samples.jsonl for the Train tab, the shares of right and well-formed answers to
metrics.jsonl beside trl's reward metrics.
"""

from __future__ import annotations

import random

from core.models.generate import prompt_of, stop_ids
from core.training import probes
from core.training import rewards
from core.training import steps
from core.training import tuning
from core.training.callbacks import Counting

SAMPLES_PER_STEP = 2  # sampled answers kept per step for the Train tab: enough to watch, little to write


def trainer_class():
    from trl import GRPOTrainer

    class StudioGRPOTrainer(GRPOTrainer):
        """trl's GRPOTrainer on prompts the studio wrote with the chat template (core.models.generate.prompt_of,
        as the chat tab asks): trl's own tokenizer call would add a second BOS to templates that write one."""

        def _tokenize_prompts(self, prompts: list):
            return self.processing_class(text=prompts, add_special_tokens=False)["input_ids"], None, {}

    return StudioGRPOTrainer


def prompt_set(tokenizer, rows: list[dict]):
    """The rows as trl's prompt dataset: the prompt text and the reference answer the rewards check against."""
    from datasets import Dataset

    asked = [prompt_of(tokenizer, row) for row in rows]
    return Dataset.from_list([{"prompt": prompt, "reference": reference, "question": question_of(row)}
                              for (prompt, reference), row in zip(asked, rows)])


def question_of(row: dict) -> str:
    """What the row asks, as the Train tab shows it beside the sampled answers: the last user turn, or the prompt."""
    if "messages" in row:
        return next((m["content"] for m in reversed(row["messages"]) if m["role"] == "user"), "")
    return row["prompt"]


def train(session: steps.Session) -> str:
    config = session.config
    t = config.train
    train_rows, eval_rows = steps.read_rows(session)
    rewards.check(t, train_rows, config.data.path)  # before minutes of loading: a pattern that can never match
    sampled = random.Random(t.seed)

    def keep_samples(batch: rewards.Batch):
        counter.trained_tokens += sum(batch.lengths)  # trl hands the rows through; the sampled tokens are counted
        counter.all_tokens += sum(batch.lengths)
        if not session.main:
            return
        shown = sampled.sample(range(len(batch.texts)), min(SAMPLES_PER_STEP, len(batch.texts)))
        probes.write_samples(session.run, batch.step, [
            {"prompt": batch.questions[i], "answer": batch.texts[i], "reference": batch.references[i],
             "reward": scorer.total(batch.scored, i), "correct": batch.scored.correct[i],
             "well_formed": batch.scored.well_formed[i]} for i in shown])

    scorer = rewards.Rewards(t, on_scored=keep_samples)
    session.say(f"GRPO: {t.num_generations} answers per question, up to {t.completion_length} tokens each, "
                f"temperature {t.temperature}; rewards "
                + ", ".join(f"{name} (weight {w:g})" for name, w in zip(scorer.names, scorer.weights))
                + f"; answer pattern {t.answer_pattern!r}; format {t.format_pattern!r}; beta {t.beta}.")
    loaded, fast = steps.load_model(session)
    if session.stopped():
        return "stopped"

    train_set = prompt_set(loaded.tokenizer, train_rows)
    eval_set = prompt_set(loaded.tokenizer, eval_rows) if eval_rows else None
    resolved = steps.settings(session, loaded, fast)
    model, lora = tuning.prepare(loaded.model, config, resolved.gradient_checkpointing, session.say, wrap=False)
    # An answer ends at the template's end of turn as in the chat tab, not only at the tokenizer's EOS.
    model.generation_config.eos_token_id = stop_ids(model, loaded.tokenizer)

    from trl import GRPOConfig

    # Each step samples num_generations answers for each of batch x accumulation / num_generations questions; an
    # epoch is the whole groups of questions that fit, each asked num_generations times (trl's RepeatSampler).
    asked = t.batch_size * t.grad_accum // t.num_generations
    rows = len(train_set) // asked * asked * t.num_generations
    arguments = steps.arguments(session, resolved, rows, eval_set is not None)
    arguments.pop("max_length")  # grpo's lengths are the prompt's and completion_length
    arguments["per_device_eval_batch_size"] = t.num_generations * max(1, t.batch_size // t.num_generations)
    args = GRPOConfig(**arguments, num_generations=t.num_generations, max_completion_length=t.completion_length,
                      temperature=t.temperature, top_p=1.0, beta=t.beta, reward_weights=scorer.weights,
                      log_completions=False)
    trainer = trainer_class()(model=model, reward_funcs=scorer.functions(), args=args, train_dataset=train_set,
                              eval_dataset=eval_set, processing_class=loaded.tokenizer, peft_config=lora)
    trainer.data_collator = counter = Counting(trainer.data_collator)  # counted by keep_samples
    scorer.training = lambda: trainer.model.training
    if lora:
        session.say(tuning.lora_line(trainer.model, config))
    return steps.train_and_save(session, trainer, loaded, rows, eval_rows)

