"""The headless verbs of launch.py that use a trained run on files: predict (answer a whole test file, with voting,
written out and resumable). Each returns the exit code; `add_<verb>_arguments` defines its arguments beside it, as in
core/cli.py.
"""

from __future__ import annotations

from core.cli import _fail, _to_stderr
from core.config import ChatSettings, ConfigError


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
    from core.results.voting import DEFAULT_ANSWER_PATTERN, PatternError

    try:
        report = answer_file(resolve_run(run, runs_dir), data_path, out_path, votes=votes,
                             pattern=DEFAULT_ANSWER_PATTERN if pattern is None else pattern, base=base,
                             csv_path=csv_path, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                             progress=_to_stderr)
    except (ChatError, ModelError, ConfigError, PredictError, PatternError) as err:
        return _fail(str(err))
    for note in report.notes():
        print(note)
    return 0
