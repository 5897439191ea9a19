"""The verbs that use finished runs: compare, chat, eval, predict and export."""

from __future__ import annotations

import argparse
import json

from core.cli.common import count, fail, to_stderr
from core.config import GGUF_TYPES, ChatSettings, ConfigError


def add_compare_arguments(verbs) -> None:
    """`launch.py compare`: its arguments, read by compare()."""
    parser = verbs.add_parser("compare", help="rank runs by their final held-out loss, with their time and the "
                              "settings that differ")
    parser.add_argument("runs", nargs="*", metavar="RUN", help="run names in the runs folder (or run folders)")
    parser.add_argument("--sweep", metavar="NAME", help="the runs of this sweep (their config.yaml says sweep_of: "
                        "NAME)")
    parser.add_argument("--runs-dir", default=argparse.SUPPRESS, help="where run folders are (default runs/)")
    parser.set_defaults(run=lambda args, usage_error: compare_runs(args.runs, args.sweep, args.runs_dir)
                        if args.runs or args.sweep else usage_error("compare needs RUN names or --sweep NAME"))


def compare_runs(names: list[str], sweep: str | None, runs_dir: str = "runs") -> int:
    from pathlib import Path

    from core.catalogue.message import message
    from core.results import compare
    from core.runs import Run, list_runs

    if sweep:
        runs = list(reversed(compare.of_sweep(list_runs(runs_dir), sweep)))  # oldest first: the order they ran
        if not runs:
            return fail(str(message("compare.no_runs", what=message("compare.no_sweep_runs", runs_dir=runs_dir,
                                                                             sweep=sweep))))
    else:
        runs = []
        for name in names:
            path = Path(name) if Path(name).is_dir() else Path(runs_dir) / name
            if not path.is_dir():
                return fail(str(message("compare.no_runs", what=message("compare.no_such_run", run=name,
                                                                                 runs_dir=runs_dir))))
            runs.append(Run(path))
    print_ranking(compare.ranked(runs))
    return 0


def print_ranking(rows) -> None:
    from core.results import compare

    print("\n".join(compare.table_lines(rows)))
    print(compare.verdict(rows))




def add_chat_arguments(verbs) -> None:
    """`launch.py chat`: its arguments, read by chat(); the defaults are ChatSettings'."""
    defaults = ChatSettings()
    parser = verbs.add_parser("chat", help="chat with a run's adapter, or its base model with --base")
    parser.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    parser.add_argument("--base", action="store_true", help="answer with the base model, adapter off")
    parser.add_argument("--prompt", help="answer this one prompt and print only the reply")
    parser.add_argument("--system", default="", help="system prompt")
    parser.add_argument("--temperature", type=float, default=defaults.temperature,
                        help=f"0 = greedy (default {defaults.temperature})")
    parser.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens,
                        help=f"longest answer in tokens (default {defaults.max_new_tokens})")
    parser.add_argument("--votes", type=count, default=defaults.votes, help="with --prompt: sample N answers and "
                        f"print the majority, vote counts on stderr (default {defaults.votes})")
    parser.add_argument("--pattern", help="regular expression whose first group is the final answer, for --votes")
    parser.set_defaults(run=lambda args, usage_error: chat(
        args.run_dir, base=args.base, prompt=args.prompt, temperature=args.temperature,
        max_new_tokens=args.max_new_tokens, system_prompt=args.system, votes=args.votes, pattern=args.pattern))


def chat(run_dir: str, base: bool = False, prompt: str | None = None, temperature: float = 0.7,
         max_new_tokens: int = 256, system_prompt: str = "", votes: int = 1, pattern: str | None = None) -> int:
    from core.models.load import ModelError
    from core.results.chat import ChatError, ChatModel

    settings = ChatSettings(system_prompt=system_prompt, temperature=temperature, max_new_tokens=max_new_tokens,
                            votes=votes)
    if pattern is not None:
        settings.answer_pattern = pattern
    quiet = to_stderr if prompt is not None else print  # one-shot mode prints only the reply on stdout
    try:
        model = ChatModel.from_run(run_dir, progress=quiet)
    except (ChatError, ModelError, ConfigError) as err:
        return fail(str(err))
    use_adapter = not base
    if prompt is not None and votes > 1:
        from core.data.answers import PatternError

        try:
            result = model.vote([{"role": "user", "content": prompt}], settings, use_adapter)
        except PatternError as err:
            return fail(str(err))
        print(result.text)
        to_stderr(f"Majority of {votes}: {result.answer!r} ({result.summary()})")
        return 0
    if prompt is not None:
        for piece in model.stream([{"role": "user", "content": prompt}], settings, use_adapter):
            print(piece, end="", flush=True)
        print()
        return 0
    print(f"Chatting with {'the base model' if base else model.label}. Empty line or Ctrl-D to quit.")
    history: list[dict] = []
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            return 0
        history.append({"role": "user", "content": text})
        print("model> ", end="", flush=True)
        answer = ""
        for piece in model.stream(history, settings, use_adapter):
            answer += piece
            print(piece, end="", flush=True)
        print()
        history.append({"role": "assistant", "content": answer.strip()})


def add_export_arguments(verbs) -> None:
    """`launch.py export`: its arguments, read by export()."""
    parser = verbs.add_parser("export", help="merge a run's adapter into its base model and save the result")
    parser.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    parser.add_argument("--merged", metavar="OUT_DIR", help="a new folder for the merged model (with a model card, "
                        "chat_template.jinja and an Ollama Modelfile)")
    parser.add_argument("--adapter-zip", metavar="OUT_ZIP", help="also (or only) pack the adapter as a zip")
    parser.add_argument("--gguf", metavar="OUT.gguf", help="also (or only) write one GGUF file for llama.cpp, "
                        "LM Studio and Ollama (with OUT.Modelfile and OUT.README.md beside it)")
    parser.add_argument("--gguf-type", default="auto", choices=GGUF_TYPES,
                        help="number format of the GGUF (default auto: bf16 for a model that trained in bf16, "
                        "f16 otherwise; q8_0 is half the size)")
    parser.add_argument("--no-check", action="store_true", help="skip comparing the exports' greedy answers "
                        "with the adapter's")
    parser.set_defaults(run=_export_from_arguments)


def _export_from_arguments(args, usage_error) -> int:
    if not (args.merged or args.adapter_zip or args.gguf):
        usage_error("export needs --merged OUT_DIR, --adapter-zip OUT_ZIP or --gguf OUT.gguf (or several)")
    return export(args.run_dir, args.merged, args.adapter_zip, check=not args.no_check, gguf=args.gguf,
                  gguf_type=args.gguf_type)


def export(run_dir: str, merged_dir: str | None, adapter_zip: str | None = None, check: bool = True,
           gguf: str | None = None, gguf_type: str = "auto") -> int:
    from core.models.load import ModelError
    from core.results.chat import ChatError
    from core.results.export import export_adapter_zip, export_merged, read_check
    from core.results.gguf import GGUFError, export_gguf, read_gguf_check

    try:
        if adapter_zip:
            export_adapter_zip(run_dir, adapter_zip, progress=print)
        if merged_dir:
            export_merged(run_dir, merged_dir, progress=print, check=check)
        if gguf:
            export_gguf(run_dir, gguf, gguf_type, progress=print, check=check)
    except (ChatError, ModelError, ConfigError, GGUFError) as err:
        return fail(str(err))
    # The files are saved either way, but a script must not take an export that answers differently for a faithful
    # copy: a difference found by the check is a failure.
    results = [(merged_dir, read_check(merged_dir) if merged_dir and check else None, "README.md"),
               (gguf, read_gguf_check(gguf) if gguf and check else None, "its .README.md")]
    for where, result, card in results:
        if result and result.get("agree") is False:
            return fail(f"export check: {where} answers differently from the adapter (see {card})")
    return 0


def add_eval_arguments(verbs) -> None:
    """`launch.py eval`: its arguments, read by evaluate()."""
    parser = verbs.add_parser("eval", help="score the base and the tuned model on a labelled test file")
    parser.add_argument("run_dir", help="a run folder, e.g. runs/identity-demo")
    parser.add_argument("--data", required=True, metavar="FILE", help="a test file in any format `data` reads")
    parser.add_argument("--pattern", help="regular expression whose first group is the final answer "
                        "(default: 'answer is: X' / '答案是：X'); '' compares whole answers")
    parser.add_argument("--votes", type=count, default=1,
                        help="sample this many answers per row and take the majority (default 1: greedy)")
    parser.add_argument("--max-new-tokens", type=count, default=64, help="longest answer (default 64)")
    parser.add_argument("--max-rows", type=int, default=0, help="score only the first N rows (default: all)")
    parser.add_argument("--json", metavar="OUT", help="also save the full report, every row, as JSON")
    parser.add_argument("--original-base", action="store_true",
                        help="for a run started from runs: compare with the base model at the start of the chain, "
                             "not with the run it started from (two models in memory)")
    parser.set_defaults(run=lambda args, usage_error: evaluate(
        args.run_dir, args.data, pattern=args.pattern, votes=args.votes, max_new_tokens=args.max_new_tokens,
        max_rows=args.max_rows, json_out=args.json, original_base=args.original_base))


def evaluate(run_dir: str, data_path: str, pattern: str | None = None, votes: int = 1, max_new_tokens: int = 64,
             max_rows: int = 0, json_out: str | None = None, original_base: bool = False) -> int:
    """Score base and tuned on a labelled file; print loss, perplexity, exact match and the rows that changed."""
    from pathlib import Path

    from core.models.load import ModelError
    from core.results.chat import ChatError
    from core.results.evaluate import EvalError
    from core.results.evaluate import evaluate as run_evaluation
    from core.data.answers import DEFAULT_ANSWER_PATTERN, PatternError

    try:
        report = run_evaluation(run_dir, data_path, pattern=DEFAULT_ANSWER_PATTERN if pattern is None else pattern,
                                votes=votes, max_new_tokens=max_new_tokens, max_rows=max_rows, progress=to_stderr,
                                original_base=original_base)
    except (ChatError, ModelError, ConfigError, EvalError, PatternError) as err:
        return fail(str(err))
    print(report.text())
    if json_out:
        from core.runs import write_text_atomic

        write_text_atomic(Path(json_out), json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
        print(f"Report saved to {json_out}")
    return 0


def add_predict_arguments(verbs) -> None:
    """`launch.py predict`: its arguments, read by predict()."""
    defaults = ChatSettings()
    parser = verbs.add_parser("predict", help="answer every row of a test file (no reference needed) with a run's "
                              "model, by a majority of sampled answers, into a JSON-lines file; run again to resume")
    parser.add_argument("run_name", metavar="RUN", help="a run folder (runs/NAME) or a run's name in the runs folder")
    parser.add_argument("--data", required=True, metavar="FILE", help="the test file: messages, prompts, "
                        "instructions or questions (contest shape: problem, question, options)")
    parser.add_argument("--out", required=True, metavar="OUT.jsonl", help="one JSON row per input row: row, id, "
                        "answer (null when the pattern found none), votes, texts")
    parser.add_argument("--votes", type=int, default=1,
                        help="sample this many answers per row and take the majority (default 1: greedy)")
    parser.add_argument("--pattern", default=None, help="regular expression whose first group is the answer "
                        "(default: 'answer is: X' / '答案是：X'); '' takes the whole answer")
    parser.add_argument("--base", action="store_true", help="answer with the base model, adapter off")
    parser.add_argument("--csv", metavar="OUT.csv", help="also write id,answer for a contest submission")
    parser.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens,
                        help=f"longest answer in tokens (default {defaults.max_new_tokens})")
    parser.add_argument("--temperature", type=float, default=defaults.temperature,
                        help=f"sampling temperature for --votes above 1 (default {defaults.temperature})")
    parser.add_argument("--seed", type=int, default=42, help="sampling seed; row N uses seed + N (default 42)")
    parser.set_defaults(run=lambda args, usage_error: predict(
        args.run_name, args.data, args.out, votes=args.votes, pattern=args.pattern, base=args.base, csv_path=args.csv,
        max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed, runs_dir=args.runs_dir))


def predict(run: str, data_path: str, out_path: str, *, votes: int = 1, pattern: str | None = None,
            base: bool = False, csv_path: str | None = None, max_new_tokens: int = 256, temperature: float = 0.7,
            seed: int = 42, runs_dir: str = "runs") -> int:
    """Answer the file; progress on stderr, the summary (and the rows with no answer) on stdout."""
    from core.models.load import ModelError
    from core.results.chat import ChatError
    from core.results.predict import PredictError, resolve_run
    from core.results.predict import predict as answer_file
    from core.data.answers import DEFAULT_ANSWER_PATTERN, PatternError

    try:
        report = answer_file(resolve_run(run, runs_dir), data_path, out_path, votes=votes,
                             pattern=DEFAULT_ANSWER_PATTERN if pattern is None else pattern, base=base,
                             csv_path=csv_path, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                             progress=to_stderr)
    except (ChatError, ModelError, ConfigError, PredictError, PatternError) as err:
        return fail(str(err))
    for note in report.notes():
        print(note)
    return 0
