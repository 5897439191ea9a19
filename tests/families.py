"""The model families people fine-tune, as tiny tokenizers: each family's special tokens, BOS and EOS, its stop
tokens (generation_config.eos_token_id as the family ships it) and its published chat template, copied verbatim into
tests/fixtures/chat_templates/. The tokens' ids differ from the real models'; their roles do not."""

from __future__ import annotations

from pathlib import Path

from core.models.tiny import Spec

TEMPLATES = Path(__file__).parent / "fixtures" / "chat_templates"


def template(name: str) -> str:
    return (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")


LLAMA3_TOKENS = ("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                 "<|eom_id|>", "<|python_tag|>")
QWEN_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>")
MISTRAL_TOKENS = ("<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]",
                  "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]")
GEMMA_TOKENS = ("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>")
PHI3_TOKENS = ("<unk>", "<s>", "</s>", "<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>")
PHI4_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_sep|>", "<|dummy_87|>")
DEEPSEEK_TOKENS = ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>",
                   "<|EOT|>", "<｜tool▁calls▁begin｜>", "<｜tool▁outputs▁end｜>")

FAMILIES = {
    # Llama 3.1/3.3 Instruct: EOS <|end_of_text|>, turns end with <|eot_id|>; a dated system header in every chat.
    "llama-3.1": Spec(LLAMA3_TOKENS, bos="<|begin_of_text|>", eos="<|end_of_text|>", add_bos=True,
                      chat_template=template("llama-3.1"),
                      stop=("<|end_of_text|>", "<|eom_id|>", "<|eot_id|>")),
    # Llama 3.2: today's date in the system header (strftime_now).
    "llama-3.2": Spec(LLAMA3_TOKENS, bos="<|begin_of_text|>", eos="<|eot_id|>", add_bos=True,
                      chat_template=template("llama-3.2"),
                      stop=("<|end_of_text|>", "<|eom_id|>", "<|eot_id|>")),
    # Qwen2.5 Instruct: ChatML with its own default system prompt; no BOS.
    "qwen2.5": Spec(QWEN_TOKENS, bos=None, eos="<|im_end|>", pad="<|endoftext|>", chat_template=template("qwen2.5"),
                    stop=("<|im_end|>", "<|endoftext|>")),
    # Qwen3: an empty think block before the last answer only.
    "qwen3": Spec(QWEN_TOKENS, bos=None, eos="<|im_end|>", pad="<|endoftext|>", chat_template=template("qwen3"),
                  stop=("<|im_end|>", "<|endoftext|>"), extra=("<think>", "</think>")),
    # Mistral v0.3: the system prompt folded into the last user turn; answers as " " + content + </s>.
    # SentencePiece vocabulary (a "▁" in front of a text that starts mid-conversation).
    "mistral-v0.3": Spec(MISTRAL_TOKENS, bos="<s>", eos="</s>", add_bos=True, chat_template=template("mistral-v0.3"),
                         sentencepiece=True),
    "mistral-nemo": Spec(MISTRAL_TOKENS, bos="<s>", eos="</s>", add_bos=True, chat_template=template("mistral-nemo")),
    # Gemma 2 refuses a system message; Gemma 3 puts it in front of the first user turn. EOS <eos>, turns end with
    # <end_of_turn>.
    "gemma-2": Spec(GEMMA_TOKENS, bos="<bos>", eos="<eos>", pad="<pad>", add_bos=True,
                    chat_template=template("gemma-2"), stop=("<eos>", "<end_of_turn>")),
    "gemma-3": Spec(GEMMA_TOKENS, bos="<bos>", eos="<eos>", pad="<pad>", add_bos=True,
                    chat_template=template("gemma-3"), stop=("<eos>", "<end_of_turn>")),
    # Phi-3.5: turns end with <|end|>; a whole conversation ends with EOS <|endoftext|>.
    "phi-3.5": Spec(PHI3_TOKENS, bos="<s>", eos="<|endoftext|>", pad="<|endoftext|>",
                    chat_template=template("phi-3.5"), stop=("<|end|>", "<|assistant|>", "<|endoftext|>"),
                    sentencepiece=True),
    "phi-4": Spec(PHI4_TOKENS, bos="<|endoftext|>", eos="<|im_end|>", pad="<|dummy_87|>",
                  chat_template=template("phi-4")),
    # DeepSeek-R1 distilled into Qwen: the generation prompt forces "<think>\n"; the template drops the thinking
    # of earlier answers.
    "deepseek-r1-distill": Spec(DEEPSEEK_TOKENS, bos="<｜begin▁of▁sentence｜>", eos="<｜end▁of▁sentence｜>",
                                pad="<｜end▁of▁sentence｜>", add_bos=True,
                                chat_template=template("deepseek-r1-distill"), extra=("<think>", "</think>")),
}

# The token that ends an answer in each family's template.
END_OF_TURN = {"llama-3.1": "<|eot_id|>", "llama-3.2": "<|eot_id|>", "qwen2.5": "<|im_end|>", "qwen3": "<|im_end|>",
               "mistral-v0.3": "</s>", "mistral-nemo": "</s>", "gemma-2": "<end_of_turn>",
               "gemma-3": "<end_of_turn>", "phi-3.5": "<|end|>", "phi-4": "<|im_end|>",
               "deepseek-r1-distill": "<｜end▁of▁sentence｜>"}
