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


def replay_rows(model, tokenizer, prompts: list[str], max_new_tokens: int = 128, batch_size: int = 8) -> list[dict]:
    """Answer each prompt greedily with the base model; return conversation rows for training."""
    import torch

    from core.data.templates import prompt_for_chat

    rows = []
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # generation continues from the right edge of every prompt
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start:start + batch_size]
            texts = [prompt_for_chat(tokenizer, [{"role": "user", "content": p}]) for p in batch]
            inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            with torch.no_grad():
                out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            for prompt, ids in zip(batch, out[:, inputs["input_ids"].shape[1]:]):
                finished = tokenizer.eos_token_id in ids.tolist()
                answer = tokenizer.decode(ids, skip_special_tokens=True).strip()
                # An empty answer would teach silence, a cut-off one stopping mid-sentence: keep neither.
                if answer and finished:
                    rows.append({"messages": [{"role": "user", "content": prompt},
                                              {"role": "assistant", "content": answer}]})
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return rows
