"""ORPO (train.method orpo): supervised fine-tuning on the chosen answers plus an odds-ratio term that pushes away
from the rejected ones, in one step and without a reference model.

Pairs -> base model -> prompt, chosen and rejected tokens (masked as the chat template writes them) -> LoRA (or
full, or freeze) -> trl's ORPOTrainer (trl.experimental.orpo) -> train -> save.
"""

from __future__ import annotations

from core.data.templates import IGNORE
from core.training import steps
from core.training import token_sets
from core.training import tuning


def trainer_class():
    from trl.experimental.orpo import ORPOTrainer

    class StudioORPOTrainer(ORPOTrainer):
        """trl's ORPOTrainer on pairs the studio tokenized (core.data.pairs): each row becomes ORPO's fields from
        the studio's ids instead of trl re-tokenizing text (which appends EOS, not the template's end of turn)."""

        def tokenize_row(self, feature, model=None) -> dict:
            prompt = feature["prompt_ids"]
            room = max(0, self.max_length - len(prompt))  # as trl: the answer is cut, the prompt kept
            out = {"prompt_input_ids": prompt, "prompt_attention_mask": [1] * len(prompt)}
            for name in ("chosen", "rejected"):
                answer = feature[f"{name}_ids"][:room]
                out[f"{name}_input_ids"] = prompt + answer
                out[f"{name}_attention_mask"] = [1] * (len(prompt) + len(answer))
                out[f"{name}_labels"] = [IGNORE] * len(prompt) + answer
            return out

    return StudioORPOTrainer


def train(session: steps.Session) -> str:
    config = session.config
    t = config.train
    train_rows, eval_rows, loaded, fast = steps.begin(session)
    if session.stopped():
        return "stopped"

    train_set, eval_set = steps.datasets(session, token_sets.pair_set, loaded.tokenizer, train_rows, eval_rows)

    resolved = steps.settings(session, loaded, fast)
    model, _ = tuning.prepare(loaded.model, config, resolved.gradient_checkpointing, session.say,
                              zero3=session.strategy == "deepspeed_zero3")

    from trl.experimental.orpo import ORPOConfig

    # The rows keep the studio's ids beside ORPO's fields, which trl's collator needs unremoved.
    args = ORPOConfig(**steps.arguments(session, resolved, len(train_set), eval_set is not None), beta=t.beta,
                      remove_unused_columns=False)
    session.say(f"ORPO: beta {t.beta} (the weight of the preference term beside the supervised loss); no reference "
                "model.")
    trainer = trainer_class()(model=model, args=args, train_dataset=train_set, eval_dataset=eval_set,
                              processing_class=loaded.tokenizer)
    return steps.train_and_save(session, trainer, loaded, len(train_set), eval_rows)
