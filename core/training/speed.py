"""The speed options of a run: turn 'auto' into values for this model and hardware, with the reason for each.

The rules below come from measuring the studio's engine on a 2-core CPU (README, "Benchmark"): a packed
row costs attention work that grows with the square of the whole row's length unless the attention kernel
reads sequence boundaries (flash_attention_2), so padding-free is automatic only there; sdpa beats eager
attention; torch.compile and Liger only pay off on a GPU. Each choice comes with a sentence for the run log.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from core.catalogue.message import StudioError
from core.config import TrainConfig
from core.models import devices

# Attention implementations whose kernels keep packed examples apart: flash attention reads the sequence
# boundaries, sdpa and eager get a block-diagonal mask that transformers builds from position_ids.
PACKING_SAFE_ATTENTION = ("sdpa", "eager", "flash_attention_2")


class SpeedOptionError(StudioError, ValueError):
    """A speed option cannot work on this machine; the message says what to change."""


@dataclass(frozen=True)
class SpeedChoice:
    """The speed options of a run with every 'auto' decided (resolve), read by the model loader and the trainer."""

    attention: str
    """The attention implementation the model is loaded with: flash_attention_2, sdpa or eager."""
    padding_free: bool
    """Whether batches go end to end without padding (trl's padding-free collator)."""
    liger_kernel: bool
    """Whether the trainer swaps in Liger's Triton kernels for the loss and MLP."""
    group_by_length: bool
    """Whether the sampler batches rows of similar length together (train.group_by_length, as set)."""
    torch_compile: bool
    """Whether the model is compiled with torch.compile (train.torch_compile, as set)."""
    uses_gpu: bool
    """Whether the model is to be loaded on a GPU of this machine: the choices above were made for it."""
    reasons: tuple[str, ...] = ()
    """One sentence per choice made for the user (each 'auto', and torch.compile's slow first step), for the log."""


def installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def flash_attn_error() -> str | None:
    """Why the installed flash-attn cannot run, or None when it can (or is not installed at all). A wheel built for
    another torch is found like a good one and fails only when its compiled module loads ('undefined symbol'), at
    the first forward: importing that module here shows it before the model is loaded."""
    if not installed("flash_attn"):
        return None
    try:
        importlib.import_module("flash_attn.flash_attn_interface")  # loads flash_attn_2_cuda, the compiled part
    except Exception as err:  # ImportError, OSError: a broken wheel says it in many ways
        return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
    return None


def resolve(train: TrainConfig, uses_gpu: bool, capabilities: list[tuple[int, int]] | None = None,
            model_dtype: str = "auto") -> SpeedChoice:
    """The run's speed options for a model loaded on a GPU (`uses_gpu`) or not; raises SpeedOptionError when one
    set by hand cannot work here.

    `capabilities`: the compute capability of each GPU of the run (read from torch when not given); `model_dtype`:
    model.dtype ('auto' computes in bfloat16 or float16 on a GPU).
    """
    if uses_gpu and capabilities is None:
        capabilities = devices.capabilities()
    old_gpu = next((c for c in capabilities or () if c < devices.AMPERE), None)
    attention, why_attention = _attention(train, uses_gpu, old_gpu, model_dtype == "float32")
    padding_free, why_padding = _padding_free(train, attention)
    liger, why_liger = _liger(train, uses_gpu)
    compiling = "torch.compile on: the first step is slow while the model compiles." if train.torch_compile else None
    return SpeedChoice(attention=attention, padding_free=padding_free, liger_kernel=liger,
                       group_by_length=train.group_by_length, torch_compile=train.torch_compile, uses_gpu=uses_gpu,
                       reasons=tuple(filter(None, (why_attention, why_padding, why_liger, compiling))))


def _attention(train: TrainConfig, uses_gpu: bool, old_gpu: tuple[int, int] | None,
               float32: bool) -> tuple[str, str | None]:
    """(the attention implementation, why, when 'auto' chose it). Flash attention computes in float16 and
    bfloat16 only: a float32 model fails at its first forward ('FlashAttention only support fp16 and bf16')."""
    attention = train.attention
    if attention == "flash_attention_2" and not (uses_gpu and installed("flash_attn")):
        raise SpeedOptionError("training.speed.flash_attention_needs_gpu")
    if attention == "flash_attention_2" and old_gpu:
        raise SpeedOptionError("training.speed.flash_attention_needs_ampere", capability=f"{old_gpu[0]}.{old_gpu[1]}")
    broken = flash_attn_error() if uses_gpu else None
    if attention == "flash_attention_2" and broken:
        raise SpeedOptionError("training.speed.flash_attention_broken", error=broken)
    if attention == "flash_attention_2" and float32:
        raise SpeedOptionError("training.speed.flash_attention_needs_half")
    if attention != "auto":
        return attention, None
    if uses_gpu and installed("flash_attn") and not old_gpu and not broken and not float32:
        return "flash_attention_2", "Attention flash_attention_2 (auto): installed, and fastest on a GPU."
    why = (" (flash-attn needs a GPU)." if not uses_gpu else
           f"; flash-attention 2 needs compute capability 8.0+, this GPU has {old_gpu[0]}.{old_gpu[1]}."
           if old_gpu else "; flash-attn is not installed." if not installed("flash_attn") else
           f"; flash-attn is installed but does not load ({broken}): reinstall it for this torch "
           "(pip install flash-attn --no-build-isolation)." if broken else
           "; model.dtype is float32, and flash-attention computes only in float16 and bfloat16.")
    return "sdpa", ("Attention sdpa (auto): PyTorch's fused attention; measured faster than eager on this kind of "
                    "machine" + why)


def _padding_free(train: TrainConfig, attention: str) -> tuple[bool, str | None]:
    """(whether batches are padding-free, why, when 'auto' chose it)."""
    padding_free = train.padding_free
    if train.packing and padding_free == "off":
        raise SpeedOptionError("training.speed.packing_needs_padding_free")
    if padding_free == "on" and attention not in PACKING_SAFE_ATTENTION:
        raise SpeedOptionError("training.speed.padding_free_needs_attention",
                               safe=", ".join(PACKING_SAFE_ATTENTION), attention=attention)
    if padding_free != "auto":
        return padding_free == "on", None
    # Measured on the CPU with SmolLM2-135M and chats of 50-2000 tokens at batch 2: padding-free 15.6
    # trained tokens/s against 17.4 padded (less memory, more time), because sdpa and eager get one mask
    # over the whole row. Flash attention's varlen kernel skips the other examples instead.
    padding_free = "on" if attention == "flash_attention_2" or train.packing else "off"
    return padding_free == "on", (
        f"Padding-free batches {padding_free} (auto): "
        + ("examples go end to end with no padding; flash attention keeps each to itself."
           if attention == "flash_attention_2" else
           "packing needs it." if padding_free == "on" else
           f"with {attention} attention a packed row is attended as a whole (cost grows with the "
           "square of its length), so padded batches are faster."))


def _liger(train: TrainConfig, uses_gpu: bool) -> tuple[bool, str | None]:
    """(whether Liger's kernels are used, why, when 'auto' chose it)."""
    liger = train.liger_kernel
    if liger == "on" and not installed("liger_kernel"):
        raise SpeedOptionError("training.speed.liger_not_installed")
    if liger == "on" and not uses_gpu:
        raise SpeedOptionError("training.speed.liger_needs_gpu")
    if liger != "auto":
        return liger == "on", None
    liger = "on" if uses_gpu and installed("liger_kernel") else "off"
    return liger == "on", (f"Liger kernels {liger} (auto): "
                           + ("installed, and they save GPU memory on the loss and MLP." if liger == "on"
                              else "they need a GPU and the liger-kernel package."
                              if not uses_gpu else "the liger-kernel package is not installed."))
