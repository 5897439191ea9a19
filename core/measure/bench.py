"""`python launch.py bench`: the studio's engine (A) against a plain trl SFTTrainer script (B), same fine-tune.

A is what the studio runs: a Config handed to core.jobs.JobRunner, which trains through core.training.train with its
callbacks and speed choices (in the process that runs A, so the timers can watch the trainer; the studio starts
a process for the same code). B is the reference script people write from trl's documentation: SFTTrainer given
the model's folder, a LoRA config and SFTConfig with trl's defaults (bf16 and gradient checkpointing on; on a
machine without a GPU trl refuses to start unless told use_cpu=True, which is all B adds). Both get the same
rows, model, LoRA settings, learning rate and schedule, batch size, max length, steps and seed; they run
interleaved (A B, then B A, ...) so drift in the machine's speed hits both, each run in a fresh process of its own:
a process's peak RSS never goes down, and memory that glibc kept after one side's run would otherwise count in the
next side's. On the CPU the peak is then the kernel's high-water mark of that process, which no sampling misses.
"""

from __future__ import annotations

import json
import math
import queue
import random
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.measure import timers

WORDS = ("the model learns to answer questions about data training steps tokens memory speed loss rate batch "
         "length attention layer weight adapter rank alpha cosine warm schedule gradient clip seed epoch").split()


@dataclass
class BenchSettings:
    model: str = "tiny"          # tiny | default | a shape from core.models.shapes | a model folder
    data: str = "synthetic"      # synthetic | bundled | a data file
    steps: int = 5
    batch_size: int = 4
    max_length: int = 2048
    rounds: int = 2
    seed: int = 42
    learning_rate: float = 1e-3
    reference_fp32: bool = False  # B in float32 without autocast: isolates what is not precision
    quantization: str = "none"    # none | 4bit | 8bit: both sides load the base this way (4bit = QLoRA, NF4)
    studio_options: dict = None   # train.* values for A (e.g. padding_free: off), to measure a speed option
    min_tokens: int = 50
    max_tokens: int = 2000


BUNDLED_DATA = Path(__file__).resolve().parents[2] / "assets" / "datasets" / "identity.jsonl"


# ---- inputs ----------------------------------------------------------------------------------------------------

def model_folder(name: str, work: Path, progress=print) -> str:
    from core.models import load as models
    from core.models import shapes
    from core.models import tiny

    if name == "tiny":
        return str(tiny.build(work / "tiny-model"))
    if name == "default":
        return models.resolve_source("default", progress)
    if name in shapes.SHAPES:
        from core.models.builtin import cache_dir

        return str(shapes.build_random(name, cache_dir() / "bench" / name,
                                             models.resolve_source("default", progress), progress))
    return models.resolve_source(name, progress)


def synthetic_rows(tokenizer, count: int, seed: int, low: int, high: int, max_length: int) -> list[dict]:
    """Single-turn chats whose token lengths spread log-uniformly between `low` and `high` (real chat data is
    mostly short with a long tail; that spread is what makes padding expensive)."""
    from core.data import templates

    rng = random.Random(seed)
    rows = []
    for i in range(count):
        target = min(int(math.exp(rng.uniform(math.log(low), math.log(high)))), max_length)
        question = f"Question {i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 20))) + "?"
        words = max(1, target // 2)
        for _ in range(3):  # scale the answer until the whole chat has about `target` tokens
            answer = " ".join(WORDS[(i + k) % len(WORDS)] if k % 7 else rng.choice(WORDS) for k in range(words))
            row = {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}
            length = len(templates.tokenize_row(tokenizer, row, 10 ** 9)["input_ids"])
            words = max(1, round(words * target / length))
        rows.append(row)
    return rows


def bench_rows(settings: BenchSettings, tokenizer) -> tuple[list[dict], str]:
    """The rows both sides train on (one epoch: steps x batch size rows) and a description."""
    from core.data import load as datasets_io

    count = settings.steps * settings.batch_size
    if settings.data == "synthetic":
        rows = synthetic_rows(tokenizer, count, settings.seed, settings.min_tokens, settings.max_tokens,
                              settings.max_length)
        label = "synthetic chat"
    else:
        # The bundled file is the project's, wherever the command is run from; a named file is the user's path.
        path = str(BUNDLED_DATA) if settings.data == "bundled" else settings.data
        loaded = datasets_io.load(path)
        rows = [row for row in loaded.rows if row.get("messages") and row["messages"][-1]["role"] == "assistant"]
        if not rows:
            raise ValueError(f"{path} has no chat rows ending with an assistant answer to benchmark on.")
        rows = (rows * math.ceil(count / len(rows)))[:count]
        label = path
    return rows, label


# ---- the two sides ---------------------------------------------------------------------------------------------

def studio_config(settings: BenchSettings, folder: str, data_file: Path):
    """A's run config; built before any side runs, so a misspelt --option stops the benchmark at once."""
    from core.config import Config

    return Config.from_dict(source="bench --option", values={
        # The template's own system prompt, as B's plain trl script gets it: the same text on both sides.
        "name": "bench-a", "model": {"source": folder, "quantization": settings.quantization,
                                     "system_prompt": "template"},
        "data": {"path": str(data_file), "format": "messages", "replay": 0, "eval_fraction": 0},
        "train": {"max_steps": settings.steps, "batch_size": settings.batch_size, "max_length": settings.max_length,
                  "learning_rate": settings.learning_rate, "seed": settings.seed, "logging_every": 1,
                  **(settings.studio_options or {})},
    })


def run_studio(settings: BenchSettings, folder: str, data_file: Path, work: Path) -> tuple[dict, dict]:
    """A: the studio's engine path, exactly as the UI and `launch.py train` start it."""
    from core.jobs import JobRunner

    config = studio_config(settings, folder, data_file)
    timer = timers.StepTimer()
    runner = JobRunner(work / "runs", callbacks=[timer], in_process=True)
    with timers.PeakMemory() as memory:
        run = runner.start(config)
        runner.wait()
    status = run.status()
    if status.get("state") != "completed":
        raise RuntimeError(f"A (studio) run {run.path} ended {status.get('state')}: {status.get('message')}")
    chosen = [line[20:] for line in run.log_file.read_text(encoding="utf-8").splitlines()
              if "(auto)" in line or line[20:].startswith(("Model:", "Packing"))]
    return _figures(timer, memory), {"log": chosen}


def run_reference(settings: BenchSettings, folder: str, rows: list[dict], work: Path) -> tuple[dict, dict]:
    """B: a plain trl script with trl's defaults; only the shared hyperparameters are set."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    from core.config import LoraConfig as StudioLora

    lora = StudioLora()  # the studio's LoRA defaults, which A uses too
    timer = timers.StepTimer()
    with timers.PeakMemory() as memory:
        dataset = Dataset.from_list([{"prompt": row["messages"][:-1], "completion": row["messages"][-1:]}
                                     for row in rows])
        precision = {"bf16": False, "model_init_kwargs": {"dtype": torch.float32}} if settings.reference_fp32 else {}
        if settings.quantization != "none":  # the QLoRA recipe from trl's documentation
            from core.models.load import quantization_config

            precision["model_init_kwargs"] = {
                "dtype": torch.bfloat16,
                "quantization_config": quantization_config(settings.quantization, torch.bfloat16)}
        args = SFTConfig(
            output_dir=str(work / "reference"), max_steps=settings.steps,
            per_device_train_batch_size=settings.batch_size, learning_rate=settings.learning_rate,
            lr_scheduler_type="cosine", warmup_steps=round(0.05 * settings.steps), max_length=settings.max_length,
            seed=settings.seed, logging_steps=1, report_to="none", disable_tqdm=True, save_strategy="no",
            use_cpu=not torch.cuda.is_available(), **precision)
        trainer = SFTTrainer(
            model=folder, args=args, train_dataset=dataset,
            peft_config=LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                   target_modules=lora.target_modules, task_type="CAUSAL_LM"),
            callbacks=[timer])
        trainer.remove_callback(PrinterCallback)  # its log lines would drown the report; training is unchanged
        trainer.train()
        model_dtype = str(trainer.model.dtype).replace("torch.", "")
        del trainer
    notes = {"dtype": model_dtype, "bf16_autocast": args.bf16,
             "gradient_checkpointing": bool(getattr(args, "activation_checkpointing", False)),
             "padding_free": args.padding_free}
    return _figures(timer, memory), notes


def _figures(timer: timers.StepTimer, memory: timers.PeakMemory) -> dict:
    figures = timer.summary()
    figures["peak_memory_gb"] = memory.peak_gb
    return figures


# ---- the comparison --------------------------------------------------------------------------------------------

def run(settings: BenchSettings, progress=print) -> dict:
    """Both sides, interleaved over `rounds`; returns the report (medians across rounds)."""
    from core.data import templates
    from core.models import load as models

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        folder = model_folder(settings.model, work, progress)
        tokenizer, _ = models.load_tokenizer(folder)
        rows, data_label = bench_rows(settings, tokenizer)
        lengths = [len(templates.tokenize_row(tokenizer, row, settings.max_length)["input_ids"]) for row in rows]
        data_file = work / "bench.jsonl"
        data_file.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
        parameters = _parameters(folder)
        studio_config(settings, folder, data_file)

        results = {"A": [], "B": []}
        notes = {}
        for round_index in range(settings.rounds):
            order = ("A", "B") if round_index % 2 == 0 else ("B", "A")  # ABBA: neither side always goes first
            for side in order:
                progress(f"Round {round_index + 1}/{settings.rounds}: {side} ...")
                figures, side_notes = in_own_process(side, settings, folder, data_file, rows,
                                                     work / f"{side.lower()}{round_index}")
                results[side].append(figures)
                notes[side] = side_notes
    return _report(settings, data_label, lengths, parameters, results, notes)


def in_own_process(side: str, settings: BenchSettings, folder: str, data_file: Path, rows: list[dict],
                   work: Path) -> tuple[dict, dict]:
    """One side's run in a fresh process (spawned, so it starts from nothing this process holds): its figures."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    child = context.Process(target=_side, args=(side, settings, folder, str(data_file), rows, str(work), answers),
                            name=f"bench-{side}")
    child.start()
    try:
        while True:
            try:
                kind, value = answers.get(timeout=5)
                break
            except queue.Empty:
                if not child.is_alive():  # killed (out of memory) or crashed before it could say anything
                    raise RuntimeError(f"{side} ended without figures (exit code {child.exitcode}).") from None
    finally:
        child.join()
    if kind == "error":
        raise RuntimeError(f"{side} failed: {value}")
    return value


def _side(side, settings, folder, data_file, rows, work, answers) -> None:
    """The child process of in_own_process: imports what both sides use, then runs one side."""
    import traceback

    try:
        _import_both_sides()
        if side == "A":
            figures, notes = run_studio(settings, folder, Path(data_file), Path(work))
        else:
            figures, notes = run_reference(settings, folder, rows, Path(work))
        if not timers.PeakMemory().cuda:
            import resource
            import sys

            unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is in bytes on macOS, in KiB on Linux
            high_water = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / timers.GB
            figures["peak_memory_gb"] = max(figures["peak_memory_gb"], high_water)
        answers.put(("figures", (figures, notes)))
    except BaseException:  # the parent reports it; the child only has to say what went wrong
        answers.put(("error", traceback.format_exc(limit=8)))


def _import_both_sides() -> None:
    """Import what either side uses before measuring, so neither pays the other's import time and memory."""
    import datasets  # noqa: F401
    import peft  # noqa: F401
    import trl  # noqa: F401

    import core.training.callbacks  # noqa: F401
    import core.training.probes  # noqa: F401
    import core.training.train  # noqa: F401
    from trl import SFTTrainer  # noqa: F401


def _parameters(folder: str) -> int:
    from transformers import AutoConfig

    from core.models.skeleton import skeleton

    return sum(p.numel() for p in skeleton(AutoConfig.from_pretrained(folder)).parameters())


def _report(settings, data_label, lengths, parameters, results, notes) -> dict:
    flops, peak_name = timers.peak_flops()
    per_token = 4 * parameters  # LoRA: forward 2N, backward through the activations 2N, no gradient for frozen N
    # 6N is the usual full-training count (weight gradients too); quoted beside 4N so figures compare with others'.
    report = {"settings": vars(settings).copy(), "data": data_label, "rows": len(lengths),
              "row_tokens": {"min": min(lengths), "median": statistics.median(lengths), "max": max(lengths)},
              "parameters": parameters, "flops_per_token": per_token,
              "mfu_formula": "4N per real token (LoRA), N = all parameters; attention FLOPs not counted",
              "mfu_6n_formula": "6N per real token (as for full training), for comparison with published MFU",
              "peak_flops": flops, "peak_flops_source": peak_name,
              "memory_kind": timers.PeakMemory().kind + ", each side in a fresh process"}
    for side in ("A", "B"):
        rounds = results[side]
        summary = {key: statistics.median(r[key] for r in rounds)
                   for key in ("trained_tokens_per_s", "real_tokens_per_s", "all_tokens_per_s", "step_time_median_s",
                               "time_to_first_step_s")}
        summary["peak_memory_gb"] = max(r["peak_memory_gb"] for r in rounds)
        summary["final_loss"] = rounds[-1]["final_loss"]
        summary["final_losses"] = [r["final_loss"] for r in rounds]
        summary["trained_tokens"] = rounds[-1]["trained_tokens"]
        summary["mfu"] = per_token * summary["real_tokens_per_s"] / flops if flops else None
        summary["mfu_6n"] = 6 * parameters * summary["real_tokens_per_s"] / flops if flops else None
        summary["rounds"] = rounds
        summary["notes"] = notes.get(side, {})
        report[side] = summary
    a, b = report["A"], report["B"]
    report["ratio_trained_tokens_per_s"] = a["trained_tokens_per_s"] / b["trained_tokens_per_s"]
    report["ratio_peak_memory"] = a["peak_memory_gb"] / b["peak_memory_gb"]
    report["ratio_step_time"] = a["step_time_median_s"] / b["step_time_median_s"]
    report["final_loss_difference"] = abs(a["final_loss"] - b["final_loss"])
    return report


def format_report(report: dict) -> str:
    s = report["settings"]
    a, b = report["A"], report["B"]
    rt = report["row_tokens"]
    b_notes = b["notes"]
    lines = [
        f"Model {s['model']} ({report['parameters'] / 1e6:.1f}M parameters); data {report['data']}: "
        f"{report['rows']} rows, {rt['min']}-{rt['max']} tokens (median {rt['median']:.0f}); {s['steps']} steps x "
        f"batch {s['batch_size']}, max length {s['max_length']}, learning rate {s['learning_rate']:g}, seed "
        f"{s['seed']}; {s['rounds']} rounds interleaved (A B, B A, ...); base quantization {s['quantization']}.",
        "A = studio engine (Config -> JobRunner -> core.training.train): " + "; ".join(a["notes"].get("log", [])),
        f"B = trl SFTTrainer script, trl defaults: weights {b_notes.get('dtype')}, bf16 autocast "
        f"{'on' if b_notes.get('bf16_autocast') else 'off'}, gradient checkpointing "
        f"{'on' if b_notes.get('gradient_checkpointing') else 'off'}, padded batches"
        + (" (run with --reference-fp32)" if s["reference_fp32"] else "") + ".",
        "",
        f"{'':34}{'A':>12}{'B':>12}{'A/B':>8}",
    ]

    def row(label, key, fmt="{:.1f}", ratio=True):
        av, bv = a[key], b[key]
        if av is None or bv is None:
            lines.append(f"{label:34}{'n/a':>12}{'n/a':>12}")
            return
        r = f"{av / bv:.2f}" if ratio and bv else ""
        lines.append(f"{label:34}{fmt.format(av):>12}{fmt.format(bv):>12}{r:>8}")

    row("trained tokens/s (carry loss)", "trained_tokens_per_s")
    row("all tokens/s (padding included)", "all_tokens_per_s")
    row("step time, median (s)", "step_time_median_s", "{:.3f}")
    row(f"peak memory (GB, {'CUDA' if report['memory_kind'].startswith('CUDA') else 'RSS'})", "peak_memory_gb",
        "{:.2f}")
    row("time to first step (s)", "time_to_first_step_s", "{:.2f}")
    row("final loss", "final_loss", "{:.4f}", ratio=False)
    if report["peak_flops"]:
        row("MFU (4N)", "mfu", "{:.3%}")
        row("MFU (6N)", "mfu_6n", "{:.3%}")
    lines += ["",
              f"Peak memory is {report['memory_kind']}. MFU: {report['mfu_formula']}; "
              f"peak {report['peak_flops_source']}.",
              f"Trained tokens per run: A {a['trained_tokens']}, B {b['trained_tokens']}; final losses per round: "
              f"A {', '.join(f'{x:.4f}' for x in a['final_losses'])}; "
              f"B {', '.join(f'{x:.4f}' for x in b['final_losses'])}.",
              f"A/B trained tokens/s {report['ratio_trained_tokens_per_s']:.2f}, peak memory "
              f"{report['ratio_peak_memory']:.2f}."]
    return "\n".join(lines)
