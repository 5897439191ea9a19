"""Knowledge replay: the base model answers everyday questions before training, and we train on those answers too.

Measured on SmolLM2-135M with the bundled identity set at learning rate 1e-3: without replay the model learned
its new name but forgot ordinary facts ("As a Nova, I am equipped with a robotic appendage..." for a spider's
legs); with 20 self-answered questions mixed in it learned the name and still said "A spider has 8 legs."
Because the answers are the model's own, training on them pulls the adapter back towards what it already knew.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

PROMPTS_FILE = Path(__file__).resolve().parents[2] / "assets" / "datasets" / "general_prompts.json"


def bundled_prompts() -> list[str]:
    return json.loads(PROMPTS_FILE.read_text(encoding="utf-8"))


def pick_prompts(count: int, seed: int) -> list[str]:
    prompts = bundled_prompts()
    return random.Random(seed).sample(prompts, min(count, len(prompts)))


def replay_rows(model, tokenizer, prompts: list[str], max_new_tokens: int = 128, batch_size: int = 8,
                progress=None) -> list[dict]:
    """Answer each prompt greedily with the base model; return conversation rows for training.

    An answer is kept only when it ended on one of the model's stop ids (its EOS, any id of its generation
    config, its template's end-of-turn token): an empty one would teach silence, a cut-off one stopping mid-sentence.
    `progress(answered, asked, kept)` is called after each batch: on a CPU a batch takes minutes.
    """
    from core.models.generate import answer_batch, chat_prompt

    rows = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start:start + batch_size]
            answers = answer_batch(model, tokenizer, [chat_prompt(tokenizer, p) for p in batch], max_new_tokens)
            for prompt, (answer, done) in zip(batch, answers):
                if answer and done:
                    rows.append({"messages": [{"role": "user", "content": prompt},
                                              {"role": "assistant", "content": answer}]})
            if progress:
                progress(min(start + batch_size, len(prompts)), len(prompts), len(rows))
    finally:
        model.train(was_training)
    return rows


def kept_text(asked: int, kept: int, max_new_tokens: int = 128) -> str:
    """'20 asked, 13 kept: 7 unfinished answers dropped (...)': the one sentence the log, status and card share."""
    dropped = asked - kept
    text = f"{asked} asked, {kept} kept"
    if dropped:
        text += (f": {dropped} unfinished answer{'s' if dropped != 1 else ''} dropped (empty, or not ended within "
                 f"{max_new_tokens} tokens)")
    return text
