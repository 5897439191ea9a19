"""Export a run: merge its adapter into the base model and save a standalone folder that plain transformers loads.

The merged folder holds safetensors weights, the tokenizer with the run's chat template, and the generation
config, so the model answers the same way outside the studio.
"""

from __future__ import annotations

from pathlib import Path

from core import models
from core.chat import ChatError, attach_adapter, open_trained_run
from core.runs import write_text_atomic


def export_merged(run_dir: str | Path, out_dir: str | Path, progress=print) -> Path:
    """Merge the run's adapter into a full-precision copy of its base model and save it to `out_dir`."""
    run, config = open_trained_run(run_dir)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ChatError(f"{out} already exists and is not empty; choose a new folder (nothing is overwritten).")
    base_config = config.model
    if base_config.quantization != "none":
        # Merging into 4-bit or 8-bit weights would round the adapter away: merge into a 16/32-bit base instead.
        progress(f"The adapter was trained on a {base_config.quantization} base; merging into the base loaded "
                 "without quantization, so the merged model is full size.")
        base_config.quantization = "none"
    base_config.device_map = "cpu"
    # float32 throughout: rounding the merged weights to 16 bits would make the export answer differently from
    # the adapter it came from. The folder is twice the size of a 16-bit one.
    base_config.dtype = "float32"
    loaded = models.load(base_config, progress=progress)
    progress("Merging the adapter into the base weights ...")
    merged = attach_adapter(loaded.model, run, config.model.source).merge_and_unload()
    merged.save_pretrained(out)
    tokenizer, _ = models.load_tokenizer(str(run.adapter_dir))
    tokenizer.save_pretrained(out)
    write_text_atomic(out / "EXPORTED_FROM.txt", f"run: {run.path.resolve()}\nbase: {config.model.source}\n")
    progress(f"Merged model saved to {out}")
    return out
