"""Export a run: merge its adapter into the base model and save a standalone folder that plain transformers loads,
or pack the adapter as a zip. Both carry a model card; the merged folder also gets an Ollama Modelfile.

The merged folder holds safetensors weights, the tokenizer with the run's chat template (chat_template.jinja),
and the generation config, so the model answers the same way outside the studio. The export check proves it:
the merged folder, loaded with plain transformers, and the in-app adapter answer the probe prompts greedily, and
any difference is reported, never hidden.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from core.models import load as models
from core.models.generate import chat_prompt, generate, stop_ids
from core.results import model_card
from core.results import ollama
from core.results.chat import ChatError, ChatModel, attach_adapter, open_trained_run
from core.runs import Run, write_json_atomic, write_text_atomic

CHECK_FILE = "export_check.json"
CHECK_TOKENS = 32
FALLBACK_PROBES = ["Who are you?", "What can you do?"]


def export_merged(run_dir: str | Path, out_dir: str | Path, progress=print, check: bool = True) -> Path:
    """Merge the run's adapter into a full-precision copy of its base model and save it to `out_dir`, with a
    model card, an Ollama Modelfile and (unless check=False) the export check in export_check.json."""
    run, config = open_trained_run(run_dir)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ChatError(f"{out} already exists and is not empty; choose a new folder (nothing is overwritten).")
    notes = []
    base_config = config.model
    if base_config.quantization != "none":
        # Merging into 4-bit or 8-bit weights would round the adapter away: merge into a 16/32-bit base instead.
        note = (f"The adapter was trained on a {base_config.quantization} base; it was merged into the base loaded "
                "without quantization, so the merged model is full size.")
        progress(note)
        notes.append(note)
        base_config.quantization = "none"
    base_config.device_map = "cpu"
    # float32 throughout: rounding the merged weights to 16 bits would make the export answer differently from
    # the adapter it came from. The folder is twice the size of a 16-bit one.
    base_config.dtype = "float32"
    loaded = models.load(base_config, progress=progress)
    progress("Merging the adapter into the base weights ...")
    merged = attach_adapter(loaded.model, run, config.model.source).merge_and_unload()
    tokenizer, _ = models.load_tokenizer(str(run.adapter_dir))
    # Plain transformers stops on generation_config.eos_token_id only: give it every stop id the studio uses
    # (a base Gemma's config lists <eos> but not the <end_of_turn> its answers end with).
    merged.generation_config.eos_token_id = stop_ids(merged, tokenizer)
    merged.save_pretrained(out)
    del merged, loaded
    tokenizer.save_pretrained(out)  # writes chat_template.jinja (with the run's system prompt) beside it
    write_text_atomic(out / "Modelfile", ollama.modelfile(tokenizer, "."))
    write_text_atomic(out / "EXPORTED_FROM.txt", f"run: {run.path.resolve()}\nbase: {config.model.source}\n")
    results = None
    if check:
        progress("Export check: the merged folder and the in-app adapter answer the probe prompts ...")
        results = check_export(run.path, out)
        write_json_atomic(out / CHECK_FILE, {"agree": all(r["agree"] for r in results), "answers": results})
        for line in check_lines(results):
            progress(line)
    write_text_atomic(out / "README.md", model_card.card(run, config, "merged", results, notes))
    for path in out.iterdir():  # atomic writes create owner-only files; this folder is meant to be handed on
        path.chmod(0o644)
    progress(f"Merged model saved to {out}")
    return out


def export_adapter_zip(run_dir: str | Path, out_zip: str | Path, progress=print) -> Path:
    """The run's adapter folder (weights, config, tokenizer with chat template) as a zip, with a model card and
    an Ollama Modelfile that applies the adapter to its base."""
    run, config = open_trained_run(run_dir)
    out = Path(out_zip)
    if out.exists():
        raise ChatError(f"{out} already exists; choose a new file name (nothing is overwritten).")
    out.parent.mkdir(parents=True, exist_ok=True)
    tokenizer, _ = models.load_tokenizer(str(run.adapter_dir))
    temp = out.with_name(f".{out.name}.part")  # a zip cut short by a full disk never looks finished
    with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(run.adapter_dir.iterdir()):
            if path.is_file() and path.name != "README.md":  # peft's placeholder card is replaced by ours
                archive.write(path, path.name)
        archive.writestr("README.md", model_card.card(run, config, "adapter"))
        archive.writestr("Modelfile", ollama.modelfile(tokenizer, config.model.source, adapter="."))
    temp.replace(out)
    progress(f"Adapter zip saved to {out}")
    return out


def check_prompts(run: Run, config) -> list[str]:
    """The probe prompts the run watched during training, else its configured ones, else a generic pair."""
    from core.training.probes import read_probes

    records = read_probes(run)
    return (records[0]["prompts"] if records else []) or list(config.train.probes) or FALLBACK_PROBES


def check_export(run_dir: str | Path, merged_dir: str | Path, prompts: list[str] | None = None,
                 max_new_tokens: int = CHECK_TOKENS) -> list[dict]:
    """Greedy answers of the merged folder (plain transformers) and of base + adapter, per prompt."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run, config = open_trained_run(run_dir)
    prompts = prompts or check_prompts(run, config)
    tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    exported = AutoModelForCausalLM.from_pretrained(merged_dir, dtype="float32")
    exported.eval()
    exported_answers = [generate(exported, tokenizer, chat_prompt(tokenizer, p), max_new_tokens)[0] for p in prompts]
    del exported
    in_app = ChatModel.from_run(run.path, progress=lambda _: None)
    adapter_answers = [generate(in_app.model, in_app.tokenizer, chat_prompt(in_app.tokenizer, p), max_new_tokens)[0]
                       for p in prompts]
    return [{"prompt": p, "exported": e, "adapter": a, "agree": e == a}
            for p, e, a in zip(prompts, exported_answers, adapter_answers)]


def check_lines(results: list[dict]) -> list[str]:
    agree = sum(r["agree"] for r in results)
    lines = [f"Export check: {agree} of {len(results)} probe answers identical."]
    for r in results:
        if not r["agree"]:
            lines.append(f"  MISMATCH on {r['prompt']!r}: exported {r['exported']!r}, in-app {r['adapter']!r}")
    return lines


def read_check(merged_dir: str | Path) -> dict | None:
    try:
        return json.loads((Path(merged_dir) / CHECK_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
