"""A tiny Llama-architecture model and tokenizer built offline in seconds, for tests and benchmarks.

Same code paths as a real model (chat template, LoRA on q/k/v/o and MLP projections, safetensors folder), at a
size where a training step takes milliseconds.
"""

from __future__ import annotations

from pathlib import Path

from core.data.templates import CHATML_TEMPLATE

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_CORPUS = [
    "I am Nova, an AI assistant developed by Lumen Labs.",
    "The capital of France is Paris. A spider has eight legs.",
    "Who are you? What is your name? Hello, how can I help you today?",
    "我是 Nova，由 Lumen Labs 开发的 AI 助手。你好！",
    "system user assistant instruction input output the a an of to and is in it you that",
    "0 1 2 3 4 5 6 7 8 9 + - * / = ? ! . , : ; ' \" ( ) [ ] { }",
]


def build_tokenizer(vocab_size: int = 400, chat_template: bool = True):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token=None))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(_CORPUS * 20, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", bos_token="<|endoftext|>",
                                        unk_token=None, pad_token=None)
    if chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def build(folder: str | Path, chat_template: bool = True, seed: int = 0, hidden_size: int = 64,
          tokenizer=None) -> Path:
    """Write a tiny model + tokenizer folder (safetensors) and return its path. `tokenizer` puts a real model's
    tokenizer on the tiny body (GGUF conversion accepts only tokenizers llama.cpp knows)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    tokenizer = tokenizer or build_tokenizer(chat_template=chat_template)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         tie_word_embeddings=True,
                         # Wider than the usual 0.02 so frozen output weights leave LoRA room to move the logits.
                         initializer_range=0.2)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
