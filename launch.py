"""Finetune Studio.

    python launch.py                      open the studio in the browser (http://127.0.0.1:7860)
    python launch.py train CONFIG.yaml    train headless, with a progress bar
    python launch.py chat RUN_DIR         chat with a run's adapter (--prompt for one answer)
    python launch.py data FILE            check a dataset and show the first example as the model sees it
    python launch.py eval RUN_DIR --data FILE      base vs tuned: loss, perplexity, exact match
    python launch.py export RUN_DIR --merged OUT   a standalone merged model folder (and --adapter-zip, --gguf)
    python launch.py predict RUN --data FILE --out OUT.jsonl   answer a whole test file (--votes N, --csv)
    python launch.py demo RUN_DIR                  a page to show the model, with an OpenAI-compatible API
    python launch.py bench [--model tiny]          the studio's training engine against a plain trl script
    python launch.py doctor                        is this machine ready? torch, CUDA, GPUs, bitsandbytes, ...
    python launch.py download MODEL_ID             a model (or --dataset) from a hub or mirror, with progress
    python launch.py make-data CONFIG.yaml         make training data with a stronger model (a teacher)
    python launch.py install-shortcut              add the studio to the desktop's menu (remove-shortcut: take it away)
"""

from __future__ import annotations

import argparse
import os
import sys

from core.cli import common, measure, results, run_queue, sources, train
from webui import shortcut


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # GPU numbers as nvidia-smi shows them, in this process and in every run's process.
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    # CPU threads that sleep while they wait, in this process and in every run's (core/training/launch.py says why).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    common.quiet_libraries()
    if args.verb is None:
        return open_studio(args)
    return args.run(args, parser.error)


def build_parser() -> argparse.ArgumentParser:
    """The studio's own options, then each verb's arguments, defined beside the verb (core/cli/; demo here)."""
    parser = argparse.ArgumentParser(prog="launch.py", description="Finetune Studio: LoRA fine-tuning, locally.")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve the studio on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also create a public share link")
    parser.add_argument("--auth", metavar="USER:PASS", help="require this login (needed for a non-local --host)")
    parser.add_argument("--runs-dir", default="runs", help="where run folders go (default runs/)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    parser.add_argument("--max-upload-mb", type=positive_int, default=1024,
                        help="largest dataset upload (default 1024 MB)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--window", dest="window", action="store_true", default=None,
                       help="open the studio in its own window (the default where a display and pywebview are there)")
    shown.add_argument("--no-window", dest="window", action="store_false", help="open it in the browser instead")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    for add_arguments in (train.add_train_arguments, results.add_chat_arguments, sources.add_data_arguments,
                          results.add_eval_arguments, results.add_export_arguments, add_demo_arguments,
                          measure.add_bench_arguments, measure.add_doctor_arguments,
                          shortcut.add_shortcut_arguments, sources.add_make_data_arguments,
                          sources.add_download_arguments, results.add_predict_arguments,
                          run_queue.add_queue_arguments, results.add_compare_arguments):
        add_arguments(verbs)
    return parser


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive number of MB")
    return value


def add_demo_arguments(verbs) -> None:
    """`launch.py demo`: its arguments, read by demo(); the serving options default to the studio's own."""
    demo_parser = verbs.add_parser("demo", help="serve a page to show a run's model, and an OpenAI-compatible API "
                                   "at /v1")
    demo_parser.add_argument("source", metavar="RUN_OR_EXPORT", help="a run folder (runs/NAME) or a merged export "
                             "folder")
    demo_parser.add_argument("--host", default=argparse.SUPPRESS, help="address to serve on (default 127.0.0.1; "
                             "another needs --auth)")
    demo_parser.add_argument("--port", type=int, default=argparse.SUPPRESS, help="port (default 7860)")
    demo_parser.add_argument("--share", action="store_true", default=argparse.SUPPRESS,
                             help="also create a public share link (needs --auth)")
    demo_parser.add_argument("--auth", metavar="USER:PASS", default=argparse.SUPPRESS,
                             help="require this login, for the page and the API (api_key='USER:PASS')")
    demo_parser.add_argument("--no-browser", action="store_true", default=argparse.SUPPRESS,
                             help="do not open a browser window")
    demo_parser.set_defaults(run=demo)


def demo(args, usage_error) -> int:
    from webui.demo import serve

    return serve(args.source, host=args.host, port=args.port, share=args.share, auth=args.auth,
                 open_browser=not args.no_browser)


def open_studio(args) -> int:
    from webui.app import serve

    return serve(host=args.host, port=args.port, share=args.share, auth=args.auth, runs_dir=args.runs_dir,
                 open_browser=not args.no_browser, max_upload_mb=args.max_upload_mb, window=args.window)


if __name__ == "__main__":
    sys.exit(main())
