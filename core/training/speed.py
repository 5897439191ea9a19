"""The speed options of a run: turn 'auto' into values for this model and hardware, with the reason for each.

The rules below come from measuring the studio's engine on a 2-core CPU (README, "Benchmark"): a packed
row costs attention work that grows with the square of the whole row's length unless the attention kernel
reads sequence boundaries (flash_attention_2), so padding-free is automatic only there; sdpa beats eager
attention; torch.compile and Liger only pay off on a GPU. Each choice comes with a sentence for the run log.
"""

from __future__ import annotations

import importlib.util

from core.config import TrainConfig
from core.models import devices

# Attention implementations whose kernels keep packed examples apart: flash attention reads the sequence
# boundaries, sdpa and eager get a block-diagonal mask that transformers builds from position_ids.
PACKING_SAFE_ATTENTION = ("sdpa", "eager", "flash_attention_2")


class SpeedOptionError(ValueError):
    """A speed option cannot work on this machine; the message says what to change."""


def installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def resolve(train: TrainConfig, uses_gpu: bool, capabilities: list[tuple[int, int]] | None = None) -> dict:
    """{'attention', 'padding_free', 'liger_kernel', 'group_by_length', 'torch_compile', 'reasons'}.

    `capabilities`: the compute capability of each GPU of the run (read from torch when not given).
    """
    reasons = []
    if uses_gpu and capabilities is None:
        capabilities = devices.capabilities()
    old_gpu = next((c for c in capabilities or () if c < devices.AMPERE), None)

    attention = train.attention
    if attention == "flash_attention_2" and not (uses_gpu and installed("flash_attn")):
        raise SpeedOptionError("train.attention 'flash_attention_2' needs a CUDA GPU and the flash-attn package "
                               "(pip install flash-attn); choose 'auto' or 'sdpa'.")
    if attention == "flash_attention_2" and old_gpu:
        raise SpeedOptionError(f"train.attention 'flash_attention_2' needs an Ampere or newer GPU (compute "
                               f"capability 8.0+); this run's GPU has {old_gpu[0]}.{old_gpu[1]}. Choose 'auto' or "
                               "'sdpa'.")
    if attention == "auto":
        if uses_gpu and installed("flash_attn") and not old_gpu:
            attention = "flash_attention_2"
            reasons.append("Attention flash_attention_2 (auto): installed, and fastest on a GPU.")
        else:
            attention = "sdpa"
            why = (" (flash-attn needs a GPU)." if not uses_gpu else
                   f"; flash-attention 2 needs compute capability 8.0+, this GPU has {old_gpu[0]}.{old_gpu[1]}."
                   if old_gpu else "; flash-attn is not installed.")
            reasons.append("Attention sdpa (auto): PyTorch's fused attention; measured faster than eager on this "
                           "kind of machine" + why)

    padding_free = train.padding_free
    if train.packing and padding_free == "off":
        raise SpeedOptionError("train.packing needs padding-free batches to keep packed examples apart; set "
                               "train.padding_free to 'auto' or 'on', or turn packing off.")
    if padding_free == "on" and attention not in PACKING_SAFE_ATTENTION:
        raise SpeedOptionError(f"train.padding_free 'on' needs an attention that keeps examples apart "
                               f"({', '.join(PACKING_SAFE_ATTENTION)}); train.attention is '{attention}'.")
    if padding_free == "auto":
        # Measured on the CPU with SmolLM2-135M and chats of 50-2000 tokens at batch 2: padding-free 15.6
        # trained tokens/s against 17.4 padded (less memory, more time), because sdpa and eager get one mask
        # over the whole row. Flash attention's varlen kernel skips the other examples instead.
        padding_free = "on" if attention == "flash_attention_2" or train.packing else "off"
        reasons.append(f"Padding-free batches {padding_free} (auto): "
                       + ("examples go end to end with no padding; flash attention keeps each to itself."
                          if attention == "flash_attention_2" else
                          "packing needs it." if padding_free == "on" else
                          f"with {attention} attention a packed row is attended as a whole (cost grows with the "
                          "square of its length), so padded batches are faster."))

    liger = train.liger_kernel
    if liger == "on" and not installed("liger_kernel"):
        raise SpeedOptionError("train.liger_kernel 'on' needs the liger-kernel package (pip install liger-kernel, "
                               "GPU only); set it to 'auto' or 'off'.")
    if liger == "on" and not uses_gpu:
        raise SpeedOptionError("train.liger_kernel 'on' needs a GPU (its kernels are written in Triton); set it "
                               "to 'auto' or 'off'.")
    if liger == "auto":
        liger = "on" if uses_gpu and installed("liger_kernel") else "off"
        reasons.append(f"Liger kernels {liger} (auto): "
                       + ("installed, and they save GPU memory on the loss and MLP." if liger == "on"
                          else "they need a GPU and the liger-kernel package."
                          if not uses_gpu else "the liger-kernel package is not installed."))

    if train.torch_compile:
        reasons.append("torch.compile on: the first step is slow while the model compiles.")
    return {"attention": attention, "padding_free": padding_free == "on", "liger_kernel": liger == "on",
            "group_by_length": train.group_by_length, "torch_compile": train.torch_compile, "reasons": reasons}
