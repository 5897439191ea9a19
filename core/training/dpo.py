"""Direct preference optimization (train.method dpo): for each prompt the model learns to give the chosen answer a
higher likelihood than the rejected one, relative to the base model, which keeps it close to what it was.

Pairs -> base model -> prompt, chosen and rejected tokens (masked as the chat template writes them) -> LoRA, added
by trl so that the reference is the same model with the adapter switched off (no second copy in memory); full and
freeze tuning compute the reference's log-probabilities once before training instead -> trl's DPOTrainer ->
train -> save.
"""

from __future__ import annotations

from core.training import steps
from core.training import token_sets
from core.training import tuning


def trainer_class():
    from trl import DPOTrainer

    class StudioDPOTrainer(DPOTrainer):
        """trl's DPOTrainer on pairs the studio tokenized (core.data.pairs): trl's own tokenization would render
        the chat template its way, and the prompt would not be masked as supervised fine-tuning masks it."""

        def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
            return dataset

    return StudioDPOTrainer


def train(session: steps.Session) -> str:
    config = session.config
    t = config.train
    train_rows, eval_rows, loaded, fast = steps.begin(session)
    if session.stopped():
        return "stopped"

    train_set, eval_set = steps.datasets(session, token_sets.pair_set, loaded.tokenizer, train_rows, eval_rows)

    resolved = steps.settings(session, loaded, fast)
    model, lora = tuning.prepare(loaded.model, config, resolved.gradient_checkpointing, session.say, wrap=False)

    from trl import DPOConfig

    losses, weights = [t.dpo_loss], None
    if t.sft_weight > 0:
        losses, weights = [t.dpo_loss, "sft"], [1.0, t.sft_weight]
    args = DPOConfig(**steps.arguments(session, resolved, len(train_set), eval_set is not None),
                     beta=t.beta, loss_type=losses, loss_weights=weights, truncation_mode="keep_start",
                     label_smoothing=0.1 if t.dpo_loss == "robust" else 0.0,
                     precompute_ref_log_probs=t.tuning != "lora")
    session.say(f"DPO: beta {t.beta}, loss {' + '.join(losses)}"
                + (f" (weights {weights})" if weights else "") + "; reference: " + steps.reference_text(config))
    trainer = trainer_class()(model=model, args=args, train_dataset=train_set, eval_dataset=eval_set,
                              processing_class=loaded.tokenizer, peft_config=lora)
    if lora:
        session.say(tuning.lora_line(trainer.model, config))
    return steps.train_and_save(session, trainer, loaded, len(train_set), eval_rows)
