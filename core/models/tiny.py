"""A tiny Llama-architecture model and tokenizer built offline in seconds, for tests and benchmarks.

Same code paths as a real model (chat template, LoRA on q/k/v/o and MLP projections, safetensors folder), at a
size where a training step takes milliseconds. A `Spec` gives the tokenizer another family's special tokens, BOS
behaviour, chat template and stop tokens, so the studio can be tried on Llama 3, Gemma, Mistral ... without a hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.data.turn_formats import CHATML_TEMPLATE


@dataclass(frozen=True)
class Spec:
    """What a model family's tokenizer brings: its special tokens, BOS and EOS, its template and its stop tokens."""

    special: tuple[str, ...]  # added as special tokens (BOS, EOS and turn markers among them)
    bos: str | None
    eos: str
    pad: str | None = None
    add_bos: bool = False  # plain tokenization puts BOS first (Llama, Mistral, Gemma tokenizers do)
    chat_template: str | None = CHATML_TEMPLATE
    stop: tuple[str, ...] = ()  # generation_config.eos_token_id as the family ships it; () = the EOS alone
    extra: tuple[str, ...] = ()  # added tokens that are not special (Qwen3's <think>)
    # A SentencePiece-style BPE (Llama 2, Mistral, Phi-3): "▁" for spaces, a "▁" put in front of the text
    # (transformers 5's Metaspace prepend_scheme "first") and byte fallback, instead of GPT-2's byte-level BPE.
    sentencepiece: bool = False


CHATML = Spec(special=("<|endoftext|>", "<|im_start|>", "<|im_end|>"), bos="<|endoftext|>", eos="<|im_end|>")

_CORPUS = [
    "I am Nova, an AI assistant developed by Lumen Labs.",
    "The capital of France is Paris. A spider has eight legs.",
    "Who are you? What is your name? Hello, how can I help you today?",
    "我是 Nova，由 Lumen Labs 开发的 AI 助手。你好！",
    "system user assistant instruction input output the a an of to and is in it you that",
    "0 1 2 3 4 5 6 7 8 9 + - * / = ? ! . , : ; ' \" ( ) [ ] { }",
]


def build_tokenizer(vocab_size: int = 400, chat_template: bool = True, spec: Spec = CHATML):
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    core = _sentencepiece_core(vocab_size, spec) if spec.sentencepiece else _byte_level_core(vocab_size, spec)
    if spec.add_bos:
        core.post_processor = processors.TemplateProcessing(
            single=f"{spec.bos} $A", pair=f"{spec.bos} $A {spec.bos} $B",
            special_tokens=[(spec.bos, core.token_to_id(spec.bos))])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token=spec.eos, bos_token=spec.bos,
                                        unk_token="<unk>" if spec.sentencepiece else None, pad_token=spec.pad)
    if spec.extra:
        tokenizer.add_tokens(list(spec.extra))
    if chat_template and spec.chat_template:
        tokenizer.chat_template = spec.chat_template
    return tokenizer


def _byte_level_core(vocab_size: int, spec: Spec):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    core = Tokenizer(models.BPE(unk_token=None))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(spec.special),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(_CORPUS * 20, trainer)
    return core


def _sentencepiece_core(vocab_size: int, spec: Spec):
    """Llama 2's tokenizer in small, as transformers 5 builds it (models/llama/tokenization_llama.py): merges that
    never cross a "▁", the 256 byte tokens <0x00>..<0xFF> for any character the merges lack, and one "▁" in front
    of the text (not after a special token), so "\nHello" alone becomes "▁" "\n" ... as in the real vocabularies."""
    import json

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    special = ["<unk>"] + [token for token in spec.special if token != "<unk>"]
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special, show_progress=False)
    core.train_from_iterator(_CORPUS * 20, trainer)
    trained = json.loads(core.to_str())["model"]
    vocab = dict(trained["vocab"])
    for byte in range(256):
        vocab.setdefault(f"<0x{byte:02X}>", len(vocab))
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in trained["merges"]]
    core.model = models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True)
    core.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    core.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                      decoders.Strip(content=" ", left=1)])
    return core


def build(folder: str | Path, chat_template: bool = True, seed: int = 0, hidden_size: int = 64,
          spec: Spec = CHATML, tokenizer=None) -> Path:
    """Write a tiny model + tokenizer folder (safetensors) and return its path. `tokenizer` puts a real model's
    tokenizer on the tiny body (GGUF conversion accepts only tokenizers llama.cpp knows)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    tokenizer = tokenizer or build_tokenizer(chat_template=chat_template, spec=spec)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         tie_word_embeddings=True,
                         # Wider than the usual 0.02 so frozen output weights leave LoRA room to move the logits.
                         initializer_range=0.2)
    model = LlamaForCausalLM(config)
    stops = [tokenizer.convert_tokens_to_ids(token) for token in spec.stop]
    model.generation_config.eos_token_id = stops if len(stops) > 1 else (stops or [tokenizer.eos_token_id])[0]
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
