"""Finetune Studio.

    python launch.py                      open the studio in the browser (http://127.0.0.1:7860)
    python launch.py train CONFIG.yaml    train headless, with a progress bar
    python launch.py chat RUN_DIR         chat with a run's adapter (--prompt for one answer)
    python launch.py data FILE            check a dataset and show the first example as the model sees it
    python launch.py eval RUN_DIR --data FILE      base vs tuned: loss, perplexity, exact match
    python launch.py export RUN_DIR --merged OUT   a standalone merged model folder (and --adapter-zip, --gguf)
    python launch.py demo RUN_DIR                  a page to show the model, with an OpenAI-compatible API
    python launch.py bench [--model tiny]          the studio's training engine against a plain trl script
    python launch.py doctor                        is this machine ready? torch, CUDA, GPUs, bitsandbytes, ...
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="launch.py", description="Finetune Studio: LoRA fine-tuning, locally.")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve the studio on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also create a public share link")
    parser.add_argument("--auth", metavar="USER:PASS", help="require this login (needed for a non-local --host)")
    parser.add_argument("--runs-dir", default="runs", help="where run folders go (default runs/)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    parser.add_argument("--max-upload-mb", type=positive_int, default=1024,
                        help="largest dataset upload (default 1024 MB)")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    train = verbs.add_parser("train", help="train headless from a YAML config")
    train.add_argument("config", nargs="?", help="a config file, e.g. runs/<name>/config.yaml of an earlier run")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped, failed or interrupted run from its "
                       "last complete checkpoint")
    train.add_argument("--runs-dir", default=argparse.SUPPRESS, help="where run folders go (default runs/)")
    train.add_argument("--dry-run", action="store_true", help="check the fit instead of training: memory estimate, "
                       "two real steps on the longest rows, peak memory and projected time")

    chat = verbs.add_parser("chat", help="chat with a run's adapter, or its base model with --base")
    chat.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    chat.add_argument("--base", action="store_true", help="answer with the base model, adapter off")
    chat.add_argument("--prompt", help="answer this one prompt and print only the reply")
    chat.add_argument("--system", default="", help="system prompt")
    chat.add_argument("--temperature", type=float, default=0.7, help="0 = greedy (default 0.7)")
    chat.add_argument("--max-new-tokens", type=int, default=256, help="longest answer in tokens (default 256)")
    chat.add_argument("--votes", type=count, default=1, help="with --prompt: sample N answers and print the "
                      "majority, vote counts on stderr (default 1)")
    chat.add_argument("--pattern", help="regular expression whose first group is the final answer, for --votes")

    data = verbs.add_parser("data", help="check a dataset file (or folder, or a run config's data)")
    data.add_argument("file", help="a data file or folder, or a config .yaml whose data section to check")
    data.add_argument("--format", default=None,
                      choices=["auto", "alpaca", "sharegpt", "messages", "prompt_completion", "text", "preference"])
    data.add_argument("--model", default=None, help="whose chat template to render with (default: default)")
    data.add_argument("--max-length", type=int, default=None, help="max length in tokens (default 1024)")
    data.add_argument("--map", action="append", default=[], metavar="OURS=THEIRS",
                      help="column mapping, e.g. --map completion=answer (repeatable)")
    data.add_argument("--role", action="append", default=[], metavar="TAG=ROLE",
                      help="role mapping, e.g. --role customer=user (repeatable)")
    data.add_argument("--fill", action="append", default=[], metavar="NAME=VALUE",
                      help="placeholder value, e.g. --fill name=Nova (repeatable)")
    data.add_argument("--row", type=int, default=1, help="which example to show (default 1, the first)")
    data.add_argument("--json", action="store_true", help="print the report as JSON: format, rows, problems, "
                      "warnings, and the example's tokens as {id, text, trained}")
    data.add_argument("--runs-dir", default=argparse.SUPPRESS,
                      help="past runs, whose measured speed gives the time per epoch (default runs/)")

    evaluate = verbs.add_parser("eval", help="score the base and the tuned model on a labelled test file")
    evaluate.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    evaluate.add_argument("--data", required=True, metavar="FILE", help="a test file in any format `data` reads")
    evaluate.add_argument("--pattern", help="regular expression whose first group is the final answer "
                          "(default: 'answer is: X' / '答案是：X'); '' compares whole answers")
    evaluate.add_argument("--votes", type=count, default=1,
                          help="sample this many answers per row and take the majority (default 1: greedy)")
    evaluate.add_argument("--max-new-tokens", type=count, default=64, help="longest answer (default 64)")
    evaluate.add_argument("--max-rows", type=int, default=0, help="score only the first N rows (default: all)")
    evaluate.add_argument("--json", metavar="OUT", help="also save the full report, every row, as JSON")

    export = verbs.add_parser("export", help="merge a run's adapter into its base model and save the result")
    export.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    export.add_argument("--merged", metavar="OUT_DIR", help="a new folder for the merged model (with a model card, "
                        "chat_template.jinja and an Ollama Modelfile)")
    export.add_argument("--adapter-zip", metavar="OUT_ZIP", help="also (or only) pack the adapter as a zip")
    export.add_argument("--gguf", metavar="OUT.gguf", help="also (or only) write one GGUF file for llama.cpp, "
                        "LM Studio and Ollama (with OUT.Modelfile and OUT.README.md beside it)")
    export.add_argument("--gguf-type", default="auto", choices=("auto", "f16", "bf16", "q8_0", "f32"),
                        help="number format of the GGUF (default auto: bf16 for a model that trained in bf16, "
                        "f16 otherwise; q8_0 is half the size)")
    export.add_argument("--no-check", action="store_true", help="skip comparing the exports' greedy answers "
                        "with the adapter's")

    demo = verbs.add_parser("demo", help="serve a page to show a run's model, and an OpenAI-compatible API at /v1")
    demo.add_argument("source", metavar="RUN_OR_EXPORT", help="a run folder (runs/NAME) or a merged export folder")
    demo.add_argument("--host", default=argparse.SUPPRESS, help="address to serve on (default 127.0.0.1; another "
                      "needs --auth)")
    demo.add_argument("--port", type=int, default=argparse.SUPPRESS, help="port (default 7860)")
    demo.add_argument("--share", action="store_true", default=argparse.SUPPRESS,
                      help="also create a public share link (needs --auth)")
    demo.add_argument("--auth", metavar="USER:PASS", default=argparse.SUPPRESS,
                      help="require this login, for the page and the API (api_key='USER:PASS')")
    demo.add_argument("--no-browser", action="store_true", default=argparse.SUPPRESS,
                      help="do not open a browser window")

    bench = verbs.add_parser("bench", help="time the studio's engine against a plain trl SFTTrainer script")
    bench.add_argument("--model", default="tiny", help="tiny | default | llama-0.5b | qwen-0.5b | llama-8b | "
                       "qwen-7b (random weights, built from the shape) | a model folder (default tiny)")
    bench.add_argument("--steps", type=count, default=5, help="optimizer steps per run (default 5)")
    bench.add_argument("--data", default="synthetic", help="synthetic (chats of 50-2000 tokens) | bundled "
                       "(assets/datasets/identity.jsonl) | a data file (default synthetic)")
    bench.add_argument("--batch-size", type=count, default=4, help="examples per step (default 4)")
    bench.add_argument("--max-length", type=count, default=2048, help="longest example in tokens (default 2048)")
    bench.add_argument("--rounds", type=count, default=2, help="A/B pairs, interleaved (default 2)")
    bench.add_argument("--reference-fp32", action="store_true", help="run B in float32 without bf16 autocast, "
                       "to compare everything but precision")
    bench.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a train option for A "
                       "only, e.g. --option padding_free=on, to measure a speed option (repeatable)")
    bench.add_argument("--quantization", default="none", choices=("none", "4bit", "8bit"),
                       help="load the base model quantized on both sides (4bit = QLoRA; needs a GPU)")
    bench.add_argument("--json", metavar="OUT", help="also save every figure as JSON")

    doctor = verbs.add_parser("doctor", help="check this machine: torch, CUDA, each GPU, bfloat16, bitsandbytes, "
                              "flash-attention, a few LoRA and QLoRA steps on each GPU, a chat reply")
    doctor.add_argument("--no-training", action="store_true", help="skip the training steps and the chat reply")

    args = parser.parse_args(argv)
    # GPU numbers as nvidia-smi shows them, in this process and in every run's process.
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    from core import cli

    cli.quiet_libraries()
    if args.verb == "train":
        if bool(args.config) == bool(args.resume):
            parser.error("train needs a CONFIG file or --resume RUN_DIR (one of them)")
        return cli.train(args.config, args.runs_dir, resume=args.resume, dry_run=args.dry_run)
    if args.verb == "chat":
        return cli.chat(args.run_dir, base=args.base, prompt=args.prompt, temperature=args.temperature,
                        max_new_tokens=args.max_new_tokens, system_prompt=args.system, votes=args.votes,
                        pattern=args.pattern)
    if args.verb == "eval":
        return cli.evaluate(args.run_dir, args.data, pattern=args.pattern, votes=args.votes,
                            max_new_tokens=args.max_new_tokens, max_rows=args.max_rows, json_out=args.json)
    if args.verb == "export":
        if not (args.merged or args.adapter_zip or args.gguf):
            parser.error("export needs --merged OUT_DIR, --adapter-zip OUT_ZIP or --gguf OUT.gguf (or several)")
        return cli.export(args.run_dir, args.merged, args.adapter_zip, check=not args.no_check, gguf=args.gguf,
                          gguf_type=args.gguf_type)
    if args.verb == "demo":
        from webui.demo import serve

        return serve(args.source, host=args.host, port=args.port, share=args.share, auth=args.auth,
                     open_browser=not args.no_browser)
    if args.verb == "bench":
        return cli.bench(args.model, args.steps, args.json, data=args.data, batch_size=args.batch_size,
                         max_length=args.max_length, rounds=args.rounds, reference_fp32=args.reference_fp32,
                         options=args.option, quantization=args.quantization)
    if args.verb == "doctor":
        return cli.doctor(training=not args.no_training)
    if args.verb == "data":
        return cli.data(args.file, args.format, args.model, max_length=args.max_length, columns=args.map,
                        roles=args.role, fills=args.fill, row=args.row, runs_dir=args.runs_dir, as_json=args.json)
    return open_studio(args)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive number of MB")
    return value


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def open_studio(args) -> int:
    from webui.app import serve

    return serve(host=args.host, port=args.port, share=args.share, auth=args.auth, runs_dir=args.runs_dir,
                 open_browser=not args.no_browser, max_upload_mb=args.max_upload_mb)


if __name__ == "__main__":
    sys.exit(main())
