"""Configs of well-known model shapes, built offline with no weights: for the benchmark on a GPU and for memory
estimates. The numbers are the published architectures (Llama 3 8B, Qwen2.5 0.5B and 7B); weights are random.
"""

from __future__ import annotations

from core.catalogue.message import message

SHAPES = {
    "llama-0.5b": dict(family="llama", hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                       num_attention_heads=16, num_key_value_heads=8, vocab_size=49152, tie_word_embeddings=True),
    "qwen-0.5b": dict(family="qwen2", hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                      num_attention_heads=14, num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "llama-8b": dict(family="llama", hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                     num_attention_heads=32, num_key_value_heads=8, vocab_size=128256, tie_word_embeddings=False,
                     rope_theta=500000.0),
    "qwen-7b": dict(family="qwen2", hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                    num_attention_heads=28, num_key_value_heads=4, vocab_size=152064, tie_word_embeddings=False),
}


def config_for(name: str, max_position_embeddings: int = 32768):
    """A transformers config of the named shape."""
    from transformers import LlamaConfig, Qwen2Config

    if name not in SHAPES:
        raise KeyError(f"No model shape '{name}'; known: {', '.join(SHAPES)}")
    values = dict(SHAPES[name])
    family = values.pop("family")
    kind = LlamaConfig if family == "llama" else Qwen2Config
    return kind(max_position_embeddings=max_position_embeddings, **values)


def build_random(name: str, folder, tokenizer_source: str, progress=print):
    """Write a random-init model of the named shape (bfloat16) with a real tokenizer, once; return the folder.

    Random weights train at the same speed as real ones, so a benchmark needs no download.
    """
    from pathlib import Path

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(folder)
    if (folder / "config.json").exists():
        return folder
    progress(message("models.shapes.building", name=name, folder=str(folder)))
    config = config_for(name)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
    config.eos_token_id = tokenizer.eos_token_id
    device = "cuda" if torch.cuda.is_available() else "cpu"  # initialising 8B on a GPU takes seconds, not minutes
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    return folder
