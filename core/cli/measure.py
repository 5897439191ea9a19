"""The verbs of launch.py that measure: bench (the studio's engine against plain trl, and generation batched against
row by row) and doctor (is this machine ready?). Each returns the exit code; `add_<verb>_arguments` defines its
arguments beside it, as in the other verbs (core/cli/).
"""

from __future__ import annotations

from core.cli.common import count, fail, key_values, to_stderr
from core.config import QUANTIZATIONS, ConfigError


def add_bench_arguments(verbs) -> None:
    """`launch.py bench`: its arguments, read by bench()."""
    parser = verbs.add_parser("bench", help="time the studio's engine against a plain trl SFTTrainer script")
    parser.add_argument("--model", default=None, help="tiny | default | llama-0.5b | qwen-0.5b | llama-8b | "
                        "qwen-7b (random weights, built from the shape) | a model folder (default tiny; default "
                        "with --generate)")
    parser.add_argument("--steps", type=count, default=5, help="optimizer steps per run (default 5)")
    parser.add_argument("--data", default="synthetic", help="synthetic (chats of 50-2000 tokens) | bundled "
                        "(assets/datasets/identity.jsonl) | a data file (default synthetic)")
    parser.add_argument("--batch-size", type=count, default=4, help="examples per step (default 4)")
    parser.add_argument("--max-length", type=count, default=2048, help="longest example in tokens (default 2048)")
    parser.add_argument("--rounds", type=count, default=None, help="A/B pairs, interleaved (default 2; 3 with "
                        "--generate)")
    parser.add_argument("--reference-fp32", action="store_true", help="run B in float32 without bf16 autocast, "
                        "to compare everything but precision")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a train option for A "
                        "only, e.g. --option padding_free=on, to measure a speed option (repeatable)")
    parser.add_argument("--quantization", default="none", choices=QUANTIZATIONS,
                        help="load the base model quantized on both sides (4bit = QLoRA; needs a GPU)")
    parser.add_argument("--json", metavar="OUT", help="also save every figure as JSON")
    parser.add_argument("--generate", action="store_true", help="time generation instead: evaluation of a 64-row "
                        "test file batched vs row by row, replay's kept share, and the demo API with 8 clients at "
                        "once vs 1 (core.measure.bench_generate)")
    parser.set_defaults(run=lambda args, usage_error: bench_generate(
        args.model or "default", args.json, rounds=args.rounds or 3) if args.generate else bench(
        args.model or "tiny", args.steps, args.json, data=args.data, batch_size=args.batch_size,
        max_length=args.max_length, rounds=args.rounds or 2, reference_fp32=args.reference_fp32, options=args.option,
        quantization=args.quantization))


def _print_figures(text: str, report: dict, json_out: str | None) -> int:
    """A benchmark's figures printed, and saved as JSON when asked."""
    import json
    from pathlib import Path

    from core.runs import write_text_atomic

    print(text)
    if json_out:
        write_text_atomic(Path(json_out), json.dumps(report, indent=2) + "\n")
        print(f"Figures saved to {json_out}")
    return 0


def bench_generate(model: str = "default", json_out: str | None = None, rounds: int = 3) -> int:
    """Evaluation batched against row by row, replay's kept share, the API with 8 clients against 1; print the
    figures (and save them)."""
    from core.measure import bench_generate as benchmark
    from core.models.load import ModelError

    try:
        report = benchmark.run(model, rounds=rounds, progress=to_stderr)
    except (ModelError, ValueError, KeyError) as err:
        return fail(str(err))
    return _print_figures(benchmark.format_report(report), report, json_out)


def bench(model: str = "tiny", steps: int = 5, json_out: str | None = None, data: str = "synthetic",
          batch_size: int = 4, max_length: int = 2048, rounds: int = 2, reference_fp32: bool = False,
          options: list[str] = (), quantization: str = "none") -> int:
    """The studio's engine against a plain trl script, same fine-tune, interleaved; print the figures."""
    from core.measure import bench as benchmark
    from core.models.load import ModelError

    import yaml

    try:
        studio_options = {key: yaml.safe_load(value) for key, value in key_values(options, "--option").items()}
    except (ConfigError, yaml.YAMLError) as err:
        return fail(str(err))
    settings = benchmark.BenchSettings(model=model, data=data, steps=steps, batch_size=batch_size,
                                       max_length=max_length, rounds=rounds, reference_fp32=reference_fp32,
                                       studio_options=studio_options, quantization=quantization)
    try:
        report = benchmark.run(settings, progress=to_stderr)
    except (ModelError, ConfigError, ValueError, KeyError) as err:
        return fail(str(err))
    return _print_figures(benchmark.format_report(report), report, json_out)


def add_doctor_arguments(verbs) -> None:
    """`launch.py doctor`: its arguments, read by doctor()."""
    parser = verbs.add_parser("doctor", help="check this machine: torch, CUDA, each GPU, bfloat16, bitsandbytes, "
                              "flash-attention, a few LoRA and QLoRA steps on each GPU, a chat reply")
    parser.add_argument("--no-training", action="store_true", help="skip the training steps and the chat reply")
    parser.set_defaults(run=lambda args, usage_error: doctor(training=not args.no_training))


def doctor(training: bool = True) -> int:
    """Is this machine ready? One line per check as it completes; exit 1 when a check failed."""
    from core.measure import doctor as checks

    print("Checking this machine (the training steps and the chat take a minute) ...", flush=True)
    results = checks.run_checks(progress=lambda line: print(line, flush=True), training=training)
    counts = {status: sum(c.status == status for c in results) for status in ("ok", "failed", "skipped", "note")}
    print(f"{len(results)} checks: {counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped, "
          f"{counts['note']} notes.")
    return 1 if counts["failed"] else 0
