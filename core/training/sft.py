"""Supervised fine-tuning (train.method sft): the model learns to write the answers in the data.

Rows -> base model -> knowledge replay (the base model's own answers, mixed in) -> tokens with loss on the answers
only -> LoRA (or full, or freeze) -> trl's SFTTrainer -> train -> save.
"""

from __future__ import annotations

from core.catalogue.message import message
from core.training import lean_forward
from core.training import replay
from core.training import steps
from core.training import token_sets
from core.training import tuning


def train(session: steps.Session) -> str:
    config = session.config
    train_rows, eval_rows, loaded, fast = steps.begin(session)
    if session.stopped():
        return "stopped"

    # The base model's own answers to everyday questions, mixed in, keep what it knew. A pretrained model without a
    # chat template of its own does not answer in turns yet, so it has nothing to replay.
    if config.data.replay and getattr(loaded.tokenizer, "studio_added_template", None):
        session.say("Knowledge replay skipped: this is a pretrained model without a chat template of its own, so it "
                    "has no chat answers of its own to keep.")
    elif config.data.replay:
        session.status(message=message("training.sft.writing_replay", count=config.data.replay),
                       replay_done=0, replay_asked=config.data.replay)
        train_rows = train_rows + replay.rows_for_run(session.run, loaded, config, session.say, session.status,
                                                      session.stop)
        if session.stopped():
            return "stopped"

    # Loss only on the assistant turns (and completions, and plain text), masked as the chat template writes them.
    train_set, eval_set = steps.datasets(session, token_sets.sft_set, loaded.tokenizer, train_rows, eval_rows)
    if config.train.packing:
        train_set = token_sets.pack(train_set, config.train.max_length, session.say)

    resolved = steps.settings(session, loaded, fast)
    model, _ = tuning.prepare(loaded.model, config, resolved.gradient_checkpointing, session.say,
                              zero3=session.strategy == "deepspeed_zero3")

    from trl import SFTConfig, SFTTrainer

    from core.training.callbacks import CountingCollator

    args = SFTConfig(**steps.arguments(session, resolved, len(train_set), eval_set is not None))
    # Padding-free goes to our collator, not to SFTConfig: trl refuses a custom collator when it is set there.
    collator = CountingCollator(pad_token_id=loaded.tokenizer.pad_token_id, padding_free=resolved.speed.padding_free)
    trainer = SFTTrainer(model=model, args=args, data_collator=collator, train_dataset=train_set,
                         eval_dataset=eval_set, processing_class=loaded.tokenizer)
    if lean_forward.lean_forward(trainer):
        session.say(lean_forward.LOG_LINE)
    return steps.train_and_save(session, trainer, loaded, len(train_set), eval_rows)
