"""KTO (train.method kto): answers marked desirable or undesirable one by one, no pairs needed; the model moves
towards the desirable ones and away from the undesirable ones, relative to the base model.

Labelled answers (pairs are split into a desirable and an undesirable one) -> base model -> prompt and answer
tokens (masked as the chat template writes them) -> LoRA added by trl, the reference being the adapter switched off
(full and freeze tuning: the reference's log-probabilities computed once before training) -> trl's KTOTrainer ->
train -> save.
"""

from __future__ import annotations

from core.training import steps
from core.training.errors import TrainingError
from core.training import token_sets
from core.training import tuning


def trainer_class():
    from trl import KTOTrainer

    class StudioKTOTrainer(KTOTrainer):
        """trl's KTOTrainer on answers the studio tokenized (core.data.pairs), so the prompt is masked as the chat
        template writes it. trl's own preparation also pairs each answer with another prompt's answer for its KL
        estimate; that step is kept as trl does it."""

        def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
            if not self.calculate_KL:
                return dataset

            # As trl: rotate the answers by one within each batch, (x1, y1) ... (xn, yn) -> (x1, yn), (x2, y1) ...
            def add_kl_completion_ids(examples):
                examples["KL_completion_ids"] = [examples["completion_ids"][-1]] + examples["completion_ids"][:-1]
                return examples

            return dataset.map(add_kl_completion_ids, batched=True, batch_size=args.per_device_train_batch_size)

    return StudioKTOTrainer


def train(session: steps.Session) -> str:
    config = session.config
    t = config.train
    train_rows, eval_rows = steps.read_rows(session)
    desirable = sum(row["label"] for row in train_rows)
    session.say(f"KTO: {desirable} desirable and {len(train_rows) - desirable} undesirable answers to train on.")
    if t.batch_size < 2:
        raise TrainingError("training.kto.batch_too_small")
    loaded, fast = steps.load_model(session)
    if session.stopped():
        return "stopped"

    train_set, eval_set = steps.datasets(session, token_sets.unpaired_set, loaded.tokenizer, train_rows, eval_rows)

    resolved = steps.settings(session, loaded, fast)
    model, lora = tuning.prepare(loaded.model, config, resolved.gradient_checkpointing, session.say, wrap=False)

    from trl import KTOConfig

    # The KL pairing needs the batches in their order: neither shuffled nor grouped by length.
    arguments = {**steps.arguments(session, resolved, len(train_set), eval_set is not None),
                 "train_sampling_strategy": "sequential"}
    args = KTOConfig(**arguments, beta=t.beta, desirable_weight=t.desirable_weight,
                     undesirable_weight=t.undesirable_weight, precompute_ref_log_probs=t.tuning != "lora")
    session.say(f"KTO: beta {t.beta}, desirable weight {t.desirable_weight}, undesirable weight "
                f"{t.undesirable_weight}; reference: " + steps.reference_text(config))
    trainer = trainer_class()(model=model, args=args, train_dataset=train_set, eval_dataset=eval_set,
                              processing_class=loaded.tokenizer, peft_config=lora)
    if lora:
        session.say(tuning.lora_line(trainer.model, config))
    return steps.train_and_save(session, trainer, loaded, len(train_set), eval_rows)
