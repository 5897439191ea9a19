"""A model built from its config alone, every tensor on the meta device: its layers and sizes without memory."""

from __future__ import annotations


def skeleton(hf_config, trust_remote_code: bool = False):
    """The model with every tensor on the meta device: shapes without memory."""
    import copy

    import torch
    from transformers import AutoModelForCausalLM

    # torch's device context holds for this thread only. accelerate's init_empty_weights patches every module's
    # register_parameter for the whole process, so a chat loading its model meanwhile got weights on meta.
    # dtype=None for the same reason: from_config otherwise sets torch's default dtype, which is process-wide, to
    # config.json's (bfloat16 for every curated model) while it builds, and the answer file's model, loading on
    # another thread as the page's fit estimates ran, came out with some layers in bfloat16 beside float32 ones
    # ("expected m1 and m2 to have the same dtype"). The skeleton is cast to that dtype afterwards instead, as the
    # sizes here count it; built from a copy, because from_config writes the dtype it used into the config.
    dtype = getattr(hf_config, "dtype", None)
    dtype = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(copy.deepcopy(hf_config), dtype=None,
                                                 trust_remote_code=trust_remote_code)
    if isinstance(dtype, torch.dtype) and dtype.is_floating_point:
        model.to(dtype)
    model.tie_weights()  # from_config leaves tied embeddings apart; from_pretrained ties them, so count them once
    return model
