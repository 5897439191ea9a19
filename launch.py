"""Finetune Studio.

    python launch.py                      open the studio in the browser (http://127.0.0.1:7860)
    python launch.py train CONFIG.yaml    train headless, with a progress bar
    python launch.py chat RUN_DIR         chat with a run's adapter (--prompt for one answer)
    python launch.py data FILE            check a dataset and show the first example as the model sees it
"""

from __future__ import annotations

import argparse
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

    chat = verbs.add_parser("chat", help="chat with a run's adapter, or its base model with --base")
    chat.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    chat.add_argument("--base", action="store_true", help="answer with the base model, adapter off")
    chat.add_argument("--prompt", help="answer this one prompt and print only the reply")
    chat.add_argument("--system", default="", help="system prompt")
    chat.add_argument("--temperature", type=float, default=0.7, help="0 = greedy (default 0.7)")
    chat.add_argument("--max-new-tokens", type=int, default=256, help="longest answer in tokens (default 256)")

    data = verbs.add_parser("data", help="check a dataset file")
    data.add_argument("file")
    data.add_argument("--format", default="auto",
                      choices=["auto", "alpaca", "sharegpt", "messages", "prompt_completion", "text"])
    data.add_argument("--model", default="default", help="whose chat template to render with (default: default)")

    export = verbs.add_parser("export", help="merge a run's adapter into its base model and save the result")
    export.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    export.add_argument("--merged", required=True, metavar="OUT_DIR", help="a new folder for the merged model")

    args = parser.parse_args(argv)
    from core import cli

    cli.quiet_libraries()
    if args.verb == "train":
        if bool(args.config) == bool(args.resume):
            parser.error("train needs a CONFIG file or --resume RUN_DIR (one of them)")
        return cli.train(args.config, args.runs_dir, resume=args.resume)
    if args.verb == "chat":
        return cli.chat(args.run_dir, base=args.base, prompt=args.prompt, temperature=args.temperature,
                        max_new_tokens=args.max_new_tokens, system_prompt=args.system)
    if args.verb == "export":
        return cli.export(args.run_dir, args.merged)
    if args.verb == "data":
        return cli.data(args.file, args.format, args.model)
    return open_studio(args)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive number of MB")
    return value


def open_studio(args) -> int:
    from webui.app import serve

    return serve(host=args.host, port=args.port, share=args.share, auth=args.auth, runs_dir=args.runs_dir,
                 open_browser=not args.no_browser, max_upload_mb=args.max_upload_mb)


if __name__ == "__main__":
    sys.exit(main())
