"""Chat templates for models that ship none (base models): their family's own turn format where the tokenizer has
that family's special tokens, ChatML otherwise.

A pretrained Gemma already knows <start_of_turn> and <end_of_turn> as single tokens, and a Llama 3 base model its
header and <|eot_id|> tokens: a fine-tune in that layout starts from embeddings the model has, and the result chats
like the family's instruction-tuned models. ChatML written onto a tokenizer without its tokens becomes plain text
pieces; the model can still learn it, with EOS ending each answer.
"""

from __future__ import annotations

from core.data.chat_layout import bos_before_text

# Gemma 3's turn format as its published template (google/gemma-3-*-it) writes it, for text: a system prompt goes in
# front of the first user turn.
GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)

# The Llama 3 turn format without the dated system header of the -Instruct templates.
LLAMA3_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages -%}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim"
    " + '<|eot_id|>' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif -%}"
)

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# (name, the special tokens that identify the family, template); the first whose tokens the tokenizer has wins.
FAMILIES = (
    ("Gemma", ("<start_of_turn>", "<end_of_turn>"), GEMMA_TEMPLATE),
    ("Llama 3", ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"), LLAMA3_TEMPLATE),
)


def template_for(tokenizer) -> tuple[str, str]:
    """(layout name, template) for a tokenizer without a chat template."""
    vocabulary = tokenizer.get_vocab()
    for name, tokens, template in FAMILIES:
        if all(token in vocabulary for token in tokens):
            return name, template
    # The tokenizer's own BOS first, as it puts it before plain text (a ChatML model's tokenizer adds none).
    return "ChatML", ("{{ bos_token }}" if bos_before_text(tokenizer) else "") + CHATML_TEMPLATE


def ensure_chat_template(tokenizer) -> str | None:
    """Give a tokenizer without a chat template its family's turn format (or ChatML); return a note saying which
    (for train.log, which speaks English; the Data tab says it with the no_template warning), else None."""
    if getattr(tokenizer, "chat_template", None):
        return None
    name, tokenizer.chat_template = template_for(tokenizer)
    tokenizer.studio_added_template = name  # the Data tab warns about it: a base model learns the layout from data
    if name == "ChatML":
        return ("This model has no chat template; using the ChatML layout (<|im_start|>role ... <|im_end|>). "
                "The chat tab and the exported adapter use the same one.")
    return (f"This model has no chat template; its tokenizer has the {name} turn tokens, so the {name} turn format "
            "is used. The chat tab and the exported adapter use the same one.")
