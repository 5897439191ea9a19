"""Continued pretraining (train.method cpt): the model reads raw text and learns its words and facts.

Text (other formats read as text) -> base model -> documents end to end in blocks of max_length tokens, every token
trained, nothing cut off -> LoRA (or full, or freeze) -> trl's SFTTrainer on the blocks -> train -> save.
Held-out loss (and perplexity, exp of it) is measured on held-out documents cut into blocks the same way.
"""

from __future__ import annotations

from core.training import lean_forward
from core.training import steps
from core.training import token_sets
from core.training import tuning


def train(session: steps.Session) -> str:
    config = session.config
    train_rows, eval_rows, loaded, fast = steps.begin(session)
    if session.stopped():
        return "stopped"

    train_set, eval_set = steps.datasets(session, token_sets.block_set, loaded.tokenizer, train_rows, eval_rows)

    resolved = steps.settings(session, loaded, fast)
    model, _ = tuning.prepare(loaded.model, config, resolved.gradient_checkpointing, session.say,
                              zero3=session.strategy == "deepspeed_zero3")

    from trl import SFTConfig, SFTTrainer

    from core.training.callbacks import CountingCollator

    args = SFTConfig(**steps.arguments(session, resolved, len(train_set), eval_set is not None))
    # Blocks are full rows already; padding only fills the last one of the text.
    collator = CountingCollator(pad_token_id=loaded.tokenizer.pad_token_id)
    trainer = SFTTrainer(model=model, args=args, data_collator=collator, train_dataset=train_set,
                         eval_dataset=eval_set, processing_class=loaded.tokenizer)
    if lean_forward.lean_forward(trainer):
        session.say(lean_forward.LOG_LINE)
    return steps.train_and_save(session, trainer, loaded, len(train_set), eval_rows)
