"""`python launch.py bench --generate`: evaluation answered in batches against row by row, replay's kept share, and
the demo API with 8 clients at once against one (core.measure.bench_api).

Both evaluations score the same 64-row test file (built here from the bundled everyday questions) with the same
model, a fresh LoRA adapter on it (base and tuned then answer alike, as evaluation needs an adapter to switch off);
they alternate (batched, row by row, then row by row, batched, ...) so drift in the machine's speed hits both, and
the speed-up is the ratio of the two medians in the same run. Replay answers its usual 20 questions once, as a run
would before training.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

EVAL_ROWS = 64
REPLAY_QUESTIONS = 20  # the data.replay default


def eval_file(folder: Path, rows: int = EVAL_ROWS, seed: int = 42) -> Path:
    """A labelled test file of `rows` everyday questions (short and long prompts mixed, as real test files are)."""
    from core.training.replay import pick_prompts

    questions = pick_prompts(rows, seed)
    lines = []
    for i in range(rows):
        question = questions[i % len(questions)]
        if i % 4 == 3:  # a long prompt now and then: left padding is where batched answers could drift
            question = "Read this carefully. " * 20 + question
        lines.append({"messages": [{"role": "user", "content": question},
                                   {"role": "assistant", "content": "I do not know."}]})
    path = folder / "bench-eval.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def load_for_eval(folder: str):
    """(PeftModel with a fresh LoRA adapter, tokenizer) on the CPU in float32, or the GPU where there is one."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from core.models.load import load_tokenizer

    tokenizer, _notes = load_tokenizer(folder)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"))
    model.eval()
    return model, tokenizer


def time_evaluation(model, tokenizer, rows: list[dict], batch_size: int | None, max_new_tokens: int):
    """(rows per second, [(base answer, tuned answer) per row]) of one evaluate_model pass."""
    from core.results.evaluate import evaluate_model

    started = time.perf_counter()
    report = evaluate_model(model, tokenizer, rows, max_new_tokens=max_new_tokens, batch_size=batch_size,
                            progress=lambda _: None)
    seconds = time.perf_counter() - started
    return len(rows) / seconds, [(r.base_answer, r.tuned_answer) for r in report.results]


def measure_eval(model, tokenizer, rows: list[dict], rounds: int, max_new_tokens: int, progress=print) -> dict:
    """Batched (batch_rows' size) against one row per generate call, alternated `rounds` times; medians."""
    speeds = {"batched": [], "row_by_row": []}
    answers = {}
    for round_ in range(rounds):
        order = ("batched", "row_by_row") if round_ % 2 == 0 else ("row_by_row", "batched")
        for side in order:
            per_s, answers[side] = time_evaluation(model, tokenizer, rows, None if side == "batched" else 1,
                                                   max_new_tokens)
            speeds[side].append(per_s)
            progress(f"round {round_ + 1}/{rounds}: {side.replace('_', ' ')} {per_s:.2f} rows/s")
    batched, single = statistics.median(speeds["batched"]), statistics.median(speeds["row_by_row"])
    return {"eval_rows": len(rows), "eval_rounds": rounds, "eval_max_new_tokens": max_new_tokens,
            "eval_rows_per_s_batched": batched, "eval_rows_per_s_row_by_row": single,
            "eval_speedup": batched / single, "eval_answers_identical": answers["batched"] == answers["row_by_row"]}


def measure_replay(model, tokenizer, questions: int = REPLAY_QUESTIONS, seed: int = 42) -> dict:
    """Replay as a run asks it before training (the base model, its batch size and answer budget): kept share, time."""
    from core.training import replay

    prompts = replay.pick_prompts(questions, seed)
    started = time.perf_counter()
    with model.disable_adapter():
        rows = replay.replay_rows(model, tokenizer, prompts, replay.ANSWER_TOKENS, replay.BATCH_SIZE)
    return {"replay_asked": len(prompts), "replay_kept": len(rows), "replay_kept_share": len(rows) / len(prompts),
            "replay_seconds": time.perf_counter() - started}


def run(model: str = "default", rounds: int = 3, rows: int = EVAL_ROWS, max_new_tokens: int = 32,
        replay_questions: int = REPLAY_QUESTIONS, api_max_tokens: int = 32, progress=print) -> dict:
    """Every figure of `bench --generate`, for `model` (tiny | default | a shape | a model folder)."""
    from core.measure import bench_api
    from core.measure.bench import model_folder
    from core.data import load as datasets_io

    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        work = Path(tmp)
        folder = model_folder(model, work, progress)
        loaded_model, tokenizer = load_for_eval(folder)
        eval_rows = datasets_io.load(str(eval_file(work, rows)), "auto").rows
        progress(f"Evaluating {len(eval_rows)} rows, batched and row by row, {rounds} rounds ...")
        report = {"model": model, "device": str(loaded_model.device)}
        report.update(measure_eval(loaded_model, tokenizer, eval_rows, rounds, max_new_tokens, progress))
        progress(f"Replay: {replay_questions} questions ...")
        report.update(measure_replay(loaded_model, tokenizer, replay_questions))
        progress(f"The demo's API: 1 client, then {bench_api.CLIENTS} at once, {rounds} rounds ...")
        report.update(bench_api.measure_api(loaded_model, tokenizer, folder, rounds, api_max_tokens, progress))
    return report


def format_report(report: dict) -> str:
    from core.measure.bench_api import format_api

    identical = "identical" if report["eval_answers_identical"] else "DIFFERENT"
    return "\n".join([
        f"Generation bench: {report['model']} on {report['device']}",
        f"evaluation ({report['eval_rows']} rows, {report['eval_max_new_tokens']} new tokens, "
        f"median of {report['eval_rounds']}): batched {report['eval_rows_per_s_batched']:.2f} rows/s, "
        f"row by row {report['eval_rows_per_s_row_by_row']:.2f} rows/s: {report['eval_speedup']:.2f}x, "
        f"answers {identical}",
        f"replay: {report['replay_kept']} of {report['replay_asked']} answers kept "
        f"({100 * report['replay_kept_share']:.0f}%) in {report['replay_seconds']:.1f} s",
        format_api(report)])
