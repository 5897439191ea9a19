"""Export a run: merge its adapter into the base model and save a standalone folder that plain transformers loads,
pack the adapter (or the merged folder) as a zip, or write a GGUF file (core.results.gguf). Each carries a model
card; the merged folder and the GGUF also get an Ollama Modelfile.

The merged model keeps the precision the run trained in: bfloat16 or float16 where it trained in them (half the size
of float32), float32 where it trained in float32 (a CPU run). A QLoRA run is merged into its base dequantized from
4 bits (the weights the adapter learned against), in the run's compute precision. The export check proves the copy
is faithful: the exported model and the run's adapter, loaded the same way (same precision, same placement), answer
the probe prompts greedily, and any difference is reported, never hidden.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import re
import shutil
import zipfile
from pathlib import Path

from core.catalogue.message import Message, message
from core.config import Config
from core.models import load as models
from core.models import parent
from core.models.generate import chat_prompt, generate, stop_ids
from core.results import model_card
from core.results import ollama
from core.results.chat import ChatError, attach_adapter, open_trained_run, tuned_model
from core.runs import Run, write_json_atomic, write_text_atomic

CHECK_FILE = "export_check.json"
CHECK_TOKENS = 32
FALLBACK_PROBES = ["Who are you?", "What can you do?"]


def trained_dtype(run: Run, config: Config) -> str:
    """The precision the run computed in: as its status recorded it, else as configured, else what `auto` picks
    on this machine (runs from before the status recorded it)."""
    recorded = run.status().get("dtype")
    if recorded in ("float32", "bfloat16", "float16"):
        return recorded
    if config.model.dtype != "auto":
        return config.model.dtype
    return str(models.pick_dtype(config.model, models.will_use_gpu(config.model))).replace("torch.", "")


def merge(run: Run, config: Config, dtype: str, progress=print):
    """The base model with the run's adapter merged into its weights, on the CPU, in `dtype`; and a note saying
    how it was made (for the model card, and said as progress)."""
    import torch

    if run.has_model() and not run.has_adapter():  # full or freeze tuning: the run saved the whole model already
        whole = dataclasses.replace(config.model, source=str(run.model_dir), device_map="cpu", dtype=dtype,
                                    max_memory={})
        loaded = models.load(whole, progress=progress)
        loaded.model.generation_config.eos_token_id = stop_ids(loaded.model, loaded.tokenizer)
        return loaded.model, message("results.export.whole_model_note", tuning=config.train.tuning, dtype=dtype)
    place = quantized_base_place(config.model.quantization)
    base = dataclasses.replace(config.model, device_map=place, dtype=dtype, max_memory={})
    if place != "cpu":
        progress(message("results.export.dequantizing_on_gpu", quantization=base.quantization))
    loaded = models.load(base, progress=progress)
    model = loaded.model
    if base.quantization != "none":
        # The adapter learned against the quantized weights as they are dequantized for compute, not against the
        # original 16-bit ones: merge into exactly those, then save them unquantized (full size).
        model = model.dequantize(dtype=getattr(torch, dtype)).to("cpu")  # merged and saved on the CPU
        if place != "cpu":
            torch.cuda.empty_cache()
        note = message("results.export.quantized_note", quantization=base.quantization, dtype=dtype,
                       method="QLoRA" if base.quantization == "4bit" else "LoRA")
    else:
        note = message("results.export.merged_note", dtype=dtype)
    progress(message("results.export.merging"))
    merged = attach_adapter(model, run, config.model.source).merge_and_unload()
    # Plain transformers stops on generation_config.eos_token_id only: give it every stop id the studio uses
    # (a base Gemma's config lists <eos> but not the <end_of_turn> its answers end with).
    merged.generation_config.eos_token_id = stop_ids(merged, loaded.tokenizer)
    return merged, note


def quantized_base_place(quantization: str) -> str:
    """model.device_map for the base a run's adapter is merged into: a 4-bit or 8-bit base is quantized and
    dequantized on a GPU when there is one, as training did it (bitsandbytes' CUDA kernels), rather than quantized
    again on the CPU (slower, and not the weights the adapter trained against); a 16-bit base loads on the CPU."""
    import torch

    return "cuda:0" if quantization != "none" and torch.cuda.is_available() else "cpu"


def export_merged(run_dir: str | Path, out_dir: str | Path, progress=print, check: bool = True) -> Path:
    """Merge the run's adapter into its base model, in the precision it trained in, and save it to `out_dir` with a
    model card, an Ollama Modelfile and (unless check=False) the export check in export_check.json."""
    run, config = open_trained_run(run_dir)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ChatError("results.export.folder_not_empty", path=str(out))
    dtype = trained_dtype(run, config)
    merged, note = merge(run, config, dtype, progress)
    progress(note)
    with writing(out, _weights_bytes(merged), [out]):
        merged.save_pretrained(out)
        del merged  # its memory is free before the check loads the export
        _finish_merged(run, config, out, dtype, note, check, progress)
    progress(message("results.export.merged_saved", path=str(out)))
    return out


def _finish_merged(run: Run, config: Config, out: Path, dtype: str, note, check: bool, progress) -> None:
    """The merged folder's files beside the weights: tokenizer, Modelfile, demo settings, the export check, card."""
    tokenizer, _ = models.load_tokenizer(str(run.weights_dir))
    tokenizer.save_pretrained(out)  # writes chat_template.jinja (with the run's system prompt) beside it
    write_text_atomic(out / "Modelfile", ollama.modelfile(tokenizer, "."))
    write_text_atomic(out / "EXPORTED_FROM.txt", f"run: {run.path.resolve()}\nbase: {config.model.source}\n")
    from core.results.serving import DEMO_FILE, open_served

    write_json_atomic(out / DEMO_FILE, dataclasses.asdict(open_served(run.path).showcase))  # `launch.py demo OUT`
    results = None
    if check:
        progress(message("results.export.checking", dtype=dtype))
        results = check_export(run.path, out)
        write_json_atomic(out / CHECK_FILE, {"agree": all(r["agree"] for r in results), "dtype": dtype,
                                             "answers": results})
        for line in check_lines(results):
            progress(line)
    write_text_atomic(out / "README.md", model_card.card(run, config, "merged", results, [str(note)]))
    for path in out.iterdir():  # atomic writes create owner-only files; this folder is meant to be handed on
        path.chmod(0o644)


# errno values that mean "no room": the disk is full, a quota is used up, or the file is larger than the file system
# (FAT32: 4 GB) or a limit on file size allows. safetensors reports them inside its own error's text ("os error 27").
NO_ROOM = {errno.ENOSPC: "results.export.disk_full", errno.EDQUOT: "results.export.disk_full",
           errno.EFBIG: "results.export.file_too_large"}


@contextlib.contextmanager
def writing(target: Path, needed_bytes: int, partial: list[Path]):
    """Writes into `target`: where they fail for want of room, remove `partial` (a folder or file cut short must
    never look finished, nor be offered for download) and raise a ChatError naming the folder, the space needed and
    the space free, instead of safetensors' or zipfile's own words."""
    try:
        yield
    except Exception as err:
        code = _error_code(err)
        if code not in NO_ROOM:
            raise
        for path in partial:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        folder = target.parent if target.suffix else target
        raise ChatError("results.export.write_failed", path=str(folder), reason=Message(NO_ROOM[code]),
                        needed=_size(needed_bytes), free=_size(_free_bytes(folder))) from err


def _error_code(err: Exception) -> int | None:
    """The errno of a failed write: an OSError's own, or the 'os error N' in a safetensors error's text."""
    if isinstance(err, OSError):
        return err.errno
    found = re.search(r"(?:os error|code:)\s*(\d+)", str(err))
    return int(found.group(1)) if found and type(err).__name__ == "SafetensorError" else None


def _free_bytes(folder: Path) -> int:
    while not folder.exists() and folder != folder.parent:  # the export's own folder is gone by now
        folder = folder.parent
    return shutil.disk_usage(folder).free


def _size(count: int) -> str:
    return f"{count / 1e9:.2f} GB" if count >= 1e8 else f"{count / 1e6:.1f} MB"


def _weights_bytes(model) -> int:
    """What the model's weights take on disk, about: each tensor's elements times its bytes (ties counted once)."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def zip_folder(folder: str | Path, out_zip: str | Path) -> Path:
    """A folder as one zip to download (stored, not compressed: model weights barely compress)."""
    folder, out = Path(folder), Path(out_zip)
    if out.exists():
        raise ChatError("results.export.file_exists", path=str(out))
    temp = out.with_name(f".{out.name}.part")
    files = [path for path in sorted(folder.rglob("*")) if path.is_file()]
    with writing(out, sum(path.stat().st_size for path in files), [temp]):
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for path in files:
                archive.write(path, f"{folder.name}/{path.relative_to(folder)}")
    temp.replace(out)
    return out


def pack_merged(folder: str | Path, out_zip: str | Path) -> tuple[Path, dict | None]:
    """The merged folder as one zip to download, and its export check; the folder goes once packed, so a model of
    500 MB is kept once (the zip holds the same files), not twice. Unzipped, it is the folder again."""
    folder = Path(folder)
    check = read_check(folder)
    try:
        out = zip_folder(folder, out_zip)
    except Exception:
        Path(out_zip).with_name(f".{Path(out_zip).name}.part").unlink(missing_ok=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return out, check


def export_adapter_zip(run_dir: str | Path, out_zip: str | Path, progress=print) -> Path:
    """The run's adapter folder (weights, config, tokenizer with chat template) as a zip, with a model card and
    an Ollama Modelfile that applies the adapter to its base."""
    run, config = open_trained_run(run_dir)
    if not run.has_adapter():
        raise ChatError("results.export.no_adapter", run=run.name, tuning=config.train.tuning)
    out = Path(out_zip)
    if out.exists():
        raise ChatError("results.export.file_exists", path=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tokenizer, _ = models.load_tokenizer(str(run.adapter_dir))
    temp = out.with_name(f".{out.name}.part")  # a zip cut short by a full disk never looks finished
    files = [path for path in sorted(run.adapter_dir.iterdir())
             if path.is_file() and path.name != "README.md"]  # peft's placeholder card is replaced by ours
    with writing(out, sum(path.stat().st_size for path in files), [temp]):
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.name)
            archive.writestr("README.md", model_card.card(run, config, "adapter"))
            base = ollama_base(config)
            if base:
                archive.writestr("Modelfile", ollama.modelfile(tokenizer, base, adapter="."))
    temp.replace(out)
    progress(message("results.export.zip_saved", path=str(out)))
    if not base:
        progress(message("results.export.no_modelfile_stacked"))
    return out


def ollama_base(config: Config) -> str | None:
    """The model an Ollama Modelfile can put this run's adapter on: its base, or for a run started from runs the
    original base, as long as every run on the way continued the same adapter. None where a run built on another
    (model.start build_on): the adapter then belongs on that run's merged weights, which Ollama cannot rebuild."""
    origin, chain = model_card.lineage(config)
    configs = [config] + [parent_config for _, parent_config in chain]
    if any(parent.names_run(c.model.source) and c.model.start == "build_on" for c in configs):
        return None
    return origin


def check_prompts(run: Run, config) -> list[str]:
    """The probe prompts the run watched during training, else its configured ones, else a generic pair."""
    from core.training.probes import read_probes

    records = read_probes(run)
    return (records[0]["prompts"] if records else []) or list(config.train.probes) or FALLBACK_PROBES


def check_export(run_dir: str | Path, merged_dir: str | Path, prompts: list[str] | None = None,
                 max_new_tokens: int = CHECK_TOKENS) -> list[dict]:
    """Greedy answers of the merged folder (plain transformers) and of base + adapter, per prompt, both loaded in
    the merged model's precision and placed as the run is."""
    run, config = open_trained_run(run_dir)
    prompts = prompts or check_prompts(run, config)
    dtype = _saved_dtype(Path(merged_dir)) or trained_dtype(run, config)
    model, tokenizer = load_exported(merged_dir, config, dtype)
    exported = answers(model, tokenizer, prompts, max_new_tokens)
    del model
    return compare(prompts, exported, adapter_answers(run, config, dtype, prompts, max_new_tokens))


def load_exported(folder: str | Path, config: Config, dtype: str, gguf_file: str | None = None):
    """(model, tokenizer) of an export, loaded with plain transformers exactly as the adapter side is: the same
    precision and the same placement (a GGUF file through transformers' GGUF loader)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = dict(gguf_file=gguf_file) if gguf_file else {}
    kwargs = dict(dtype=getattr(torch, dtype), device_map=models.placement_argument(config.model,
                                                                                     torch.cuda.is_available()))
    if models.max_memory_argument(config.model):
        kwargs["max_memory"] = models.max_memory_argument(config.model)
    if not gguf_file:
        kwargs["use_safetensors"] = True
    tokenizer = AutoTokenizer.from_pretrained(str(folder), **source)
    model = AutoModelForCausalLM.from_pretrained(str(folder), **source, **kwargs)
    model.eval()
    return model, tokenizer


def adapter_answers(run: Run, config: Config, dtype: str, prompts: list[str], max_new_tokens: int) -> list[str]:
    """Greedy answers of the run's base + adapter, loaded as configured (quantized if it trained quantized, on its
    devices) in `dtype`."""
    base = dataclasses.replace(config.model, dtype=dtype)
    model = tuned_model(run, base, progress=lambda _: None, beside_base=False)
    model.eval()
    tokenizer, _ = models.load_tokenizer(str(run.weights_dir))
    return answers(model, tokenizer, prompts, max_new_tokens)


def answers(model, tokenizer, prompts: list[str], max_new_tokens: int) -> list[str]:
    return [generate(model, tokenizer, chat_prompt(tokenizer, p), max_new_tokens)[0] for p in prompts]


def compare(prompts: list[str], exported: list[str], adapter: list[str]) -> list[dict]:
    return [{"prompt": p, "exported": e, "adapter": a, "agree": e == a} for p, e, a in zip(prompts, exported, adapter)]


def _saved_dtype(folder: Path) -> str | None:
    try:
        saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    dtype = saved.get("dtype") or saved.get("torch_dtype")
    return dtype if dtype in ("float32", "bfloat16", "float16") else None


def check_lines(results: list[dict]) -> list[Message]:
    agree = sum(r["agree"] for r in results)
    lines = [message("results.export.check_result", agree=agree, total=len(results))]
    lines += [message("results.export.mismatch", prompt=r["prompt"], exported=r["exported"], adapter=r["adapter"])
              for r in results if not r["agree"]]
    return lines


def read_check(merged_dir: str | Path) -> dict | None:
    try:
        return json.loads((Path(merged_dir) / CHECK_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
