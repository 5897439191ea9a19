"""The model card (README.md) that goes with an exported adapter or merged model.

Whoever receives the files should see what they are without asking: the base model, the data it was tuned on,
the settings, and how it scored (final losses, the latest evaluation, the export check).
"""

from __future__ import annotations

import json

from pathlib import Path

from core.catalogue.message import StudioError
from core.config import Config
from core.models import builtin, parent
from core.runs import Run

EVALUATION_FILE = "evaluation.json"  # the latest `launch.py eval` / Evaluate tab report, kept in the run folder
# The Hugging Face id of each built-in model: a card's `base_model` must name a model others can find, not the
# studio's own short name for it ("default").
HUB_IDS = {"default": "HuggingFaceTB/SmolLM2-135M-Instruct", "gemma-3-270m": "google/gemma-3-270m"}


def base_model_id(source: str) -> str:
    """What the card's `base_model` names: a built-in model's hub id, else model.source as the run had it."""
    return HUB_IDS.get(source, source)


def lineage(config: Config) -> tuple[str, list[tuple[str, Config]]]:
    """(the original base model, the runs this run started from, oldest first, each with its config), following
    model.source run:... down the chain. A parent deleted since stops the walk: the card still gets written."""
    source, runs, seen = config.model.source, [], set()
    while parent.names_run(source) and source not in seen:
        seen.add(source)
        try:
            run, parent_config = parent.find(source)
        except (StudioError, OSError):
            break
        runs.append((run.name, parent_config))
        source = parent_config.model.source
    return source, runs[::-1]


def final_metrics(run: Run) -> dict:
    """Last train loss, last and best held-out loss, steps done."""
    records = run.read_metrics()[0]
    losses = [r for r in records if "loss" in r]
    evals = [r for r in records if "eval_loss" in r]
    out = {"steps": run.status().get("step", 0)}
    if losses:
        out["train_loss"] = losses[-1]["loss"]
    if evals:
        out["eval_loss"] = evals[-1]["eval_loss"]
        best = min(evals, key=lambda r: r["eval_loss"])
        out["best_eval_loss"], out["best_eval_step"] = best["eval_loss"], best["step"]
    return out


def data_summary(config: Config, run: Run | None = None) -> str:
    from core.data import load as datasets_io

    try:
        loaded = datasets_io.load(config.data.path, config.data.format)
    except Exception as err:  # the file may have moved since training; the card still gets written
        return f"`{Path(config.data.path).name}` (not readable now: {str(err).splitlines()[0][:120]})"
    # The file's own name: where it lies on this machine means nothing to whoever receives the card
    return (f"`{Path(config.data.path).name}`: {len(loaded.rows)} usable rows ({loaded.format} format), "
            f"{config.data.eval_fraction:.0%} held out for evaluation, {replay_summary(config, run)}")


def replay_summary(config: Config, run: Run | None) -> str:
    """What the run trained of knowledge replay: the rows it kept (replay.jsonl), not only the number asked for."""
    from core.training.replay import kept_text

    written = run.path / "replay.jsonl" if run else None
    if not config.data.replay or not written or not written.exists():
        return f"{config.data.replay} knowledge-replay rows asked for"
    kept = sum(1 for line in written.read_text(encoding="utf-8").splitlines() if line.strip())
    return f"knowledge replay: {kept_text(config.data.replay, kept)}"


def card(run: Run, config: Config, kind: str, check: list[dict] | None = None, notes: list | None = None,
         file_name: str = "") -> str:
    """README text. `kind` is 'adapter' (a PEFT adapter for the base), 'merged' (a standalone model) or 'gguf' (one
    GGUF file, `file_name`, for llama.cpp, LM Studio and Ollama)."""
    library = {"adapter": "peft", "merged": "transformers", "gguf": "gguf"}[kind]
    base_source, chain = lineage(config)  # a run started from runs: its base is the first run's
    lines = ["---", f"base_model: {json.dumps(base_model_id(base_source))}", f"library_name: {library}",
             "tags: [lora, finetune-studio]", "---", "", f"# {run.name}", ""]
    differ = sum(not c["agree"] for c in check or [])
    if differ:  # said first: whoever receives the files must not take them for a faithful copy
        lines += [f"> **⚠ Export check failed: {differ} of {len(check)} probe answers of this export differ from the "
                  "fine-tuned adapter's** (table below). It does not behave exactly like the model you tested.", ""]
    lines += _how_to_use(kind, config, file_name)
    built_in = builtin.BUILTINS.get(base_source)
    base = f"`{base_source}`" + (f": {built_in.name}, license {built_in.license}" if built_in else "")
    lines += ["", "## Base model", "", f"{base} (quantization while training: {config.model.quantization})"]
    if chain:
        lines += _chain_lines(run, config, chain)
        if kind == "adapter" and config.model.start == "build_on":  # its weights are the parent's, merged
            lines += ["", f"This adapter was trained on top of run {chain[-1][0]} merged into the base: load it on "
                      f"a merged export of {chain[-1][0]}, not on the base model alone."]
    lines += ["", "## Data", "", data_summary(config, run), "", "## Settings", "", "| setting | value |", "|---|---|"]
    t, lora = config.train, config.lora
    settings = {"method / tuning": f"{t.method} / {t.tuning}",
                "LoRA rank / alpha / dropout": f"{lora.r} / {lora.alpha} / {lora.dropout}",
                "target layers": lora.target_modules if isinstance(lora.target_modules, str)
                else ", ".join(lora.target_modules),
                "epochs / max steps": f"{t.epochs:g} / {t.max_steps}", "learning rate": str(t.learning_rate),
                "batch size x accumulation": f"{t.batch_size} x {t.grad_accum}", "max length": str(t.max_length),
                "schedule": t.scheduler, "seed": str(t.seed), "system prompt": config.model.system_prompt}
    lines += [f"| {key} | {value} |" for key, value in settings.items()]
    lines += _results(run)
    if check:
        agree = sum(c["agree"] for c in check)
        lines += ["", f"## Export check: {agree} of {len(check)} probe answers identical", "",
                  "Greedy answers of this export and of the base model with the adapter, loaded the same way (same "
                  "precision, same placement):", "",
                  "| prompt | exported | in-app adapter | same |", "|---|---|---|---|"]
        lines += [f"| {_cell(c['prompt'])} | {_cell(c['exported'])} | {_cell(c['adapter'])} | "
                  f"{'yes' if c['agree'] else '**NO**'} |" for c in check]
    for note in notes or []:
        lines += ["", str(note)]  # a card is a file: in English
    return "\n".join(lines) + "\n"


def _chain_lines(run: Run, config: Config, chain: list[tuple[str, Config]]) -> list[str]:
    """The runs this one started from, in order, each with its method and data: base -> run -> run -> this run."""
    steps = [(name, c) for name, c in chain] + [(f"{run.name} (this model)", config)]
    lines = ["", "## Training chain", "", "Each run started from the one before it (model.start: continue trains the "
             "same adapter further; build_on merges it and trains a new one on top):", ""]
    for number, (name, c) in enumerate(steps, start=1):
        start = f", {c.model.start}" if parent.names_run(c.model.source) else ""
        lines.append(f"{number}. {name}: {c.train.method} ({c.train.tuning}{start}) on `{Path(c.data.path).name}`")
    return lines


def _how_to_use(kind: str, config: Config, file_name: str) -> list[str]:
    """The card's opening: what the files are and the lines that load them."""
    lines = []
    if kind == "gguf":
        lines += [f"The base model below with the LoRA adapter merged in, as one GGUF file (`{file_name}`) for "
                  "llama.cpp, LM Studio and Ollama. Its chat template is inside the file.", "", "```sh",
                  f"llama-cli -m {file_name} -cnv", f"ollama create my-model -f {Path(file_name).stem}.Modelfile",
                  "```"]
    elif kind == "adapter":
        lines += ["A LoRA adapter for the base model below. Load it with peft:", "", "```python",
                  "from peft import AutoPeftModelForCausalLM",
                  "model = AutoPeftModelForCausalLM.from_pretrained(\"path/to/this/folder\")", "```"]
    else:
        made = ("with the LoRA adapter merged into its weights" if config.train.tuning == "lora" else
                f"with its weights trained directly ({config.train.tuning} tuning)")
        lines += [f"The base model below {made}: a standalone model that plain transformers loads.", "", "```python",
                  "from transformers import AutoModelForCausalLM, AutoTokenizer",
                  "model = AutoModelForCausalLM.from_pretrained(\"path/to/this/folder\")",
                  "tokenizer = AutoTokenizer.from_pretrained(\"path/to/this/folder\")  # chat template included",
                  "```", "", "`chat_template.jinja` holds the chat template; `Modelfile` runs it in Ollama "
                  "(`ollama create my-model -f Modelfile`)."]
    return lines


def _results(run: Run) -> list[str]:
    """The final losses, and the latest evaluation's base-vs-tuned table when there is one."""
    metrics = final_metrics(run)
    lines = []
    lines += ["", "## Results", "", "| measure | value |", "|---|---|"]
    names = {"steps": "steps trained", "train_loss": "final train loss", "eval_loss": "final held-out loss",
             "best_eval_loss": "best held-out loss", "best_eval_step": "best held-out step"}
    for key, name in names.items():
        if key in metrics:
            value = metrics[key]
            lines.append(f"| {name} | {value:.4f} |" if isinstance(value, float) else f"| {name} | {value} |")
    evaluation = _latest_evaluation(run)
    if evaluation:
        # The file's own name: the studio's upload lies in a temporary folder of Gradio's that means nothing to a reader
        lines += ["", f"Evaluation on `{Path(evaluation['data_path']).name}` ({evaluation['rows']} rows):", "",
                  "| | base | tuned |", "|---|---|---|"]
        measures = (("loss", "loss", 4), ("perplexity", "perplexity", 3), ("accuracy", "exact match", 3),
                    ("preference_accuracy", "preference accuracy", 3))
        for key, label, digits in measures:
            base, tuned = evaluation["base"].get(key), evaluation["tuned"].get(key)
            if base is not None and tuned is not None:
                lines.append(f"| {label} | {base:.{digits}f} | {tuned:.{digits}f} |")
    return lines


def _latest_evaluation(run: Run) -> dict | None:
    try:
        return json.loads((run.path / EVALUATION_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")[:120]
